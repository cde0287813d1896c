"""Stripe Connect events: connected accounts' state, and the transfers of destination charges.

Connect events about a connected account come from the platform's Connect
webhook endpoint; add its signing secret to ``STRIPE_WEBHOOK_SECRET`` (a
list) next to the account endpoint's.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import stripe_connect_facts
from ..connect_settings import connect_enabled
from ..services import connect
from ..stripe_facts import StripeEvent
from .lookups import intent_payment
from .outcome import Outcome, ignored, processed

Handler = Callable[[StripeEvent], Outcome]


def only_with_connect(handler: Handler) -> Handler:
    """With Connect off, the event is ignored exactly as an unhandled type always was."""

    def handle(event: StripeEvent) -> Outcome:
        if not connect_enabled():
            return ignored(f"Unhandled event type {event.type}")
        return handler(event)

    handle.__doc__ = handler.__doc__
    return handle


def on_account_updated(event: StripeEvent) -> Outcome:
    """Keep the onboarding state of the account's profile current (older reports never win)."""
    facts = stripe_connect_facts.account(event.object)
    if not facts.id:
        return ignored("Not an account")
    reported_at = event.created if event.created is not None else 0
    if connect.sync_account(facts, reported_at=reported_at) is None:
        return ignored(f"No profile with account {facts.id}, or a newer state is stored")
    return processed()


def on_account_deauthorized(event: StripeEvent) -> Outcome:
    """The account holder disconnected from the platform: forget the account."""
    account_id = stripe_connect_facts.event_account(event)
    if account_id is None:
        return ignored("No connected account named")
    if connect.disconnect_account(account_id) is None:
        return ignored(f"No profile with account {account_id}")
    return processed()


def on_charge_succeeded(event: StripeEvent) -> Outcome:
    """A destination charge names its transfer: the tip reached its recipient."""
    charge = stripe_connect_facts.destination_charge(event.object)
    if not charge.transfer_id or not charge.succeeded:
        return ignored("Not a destination charge")
    payment = intent_payment(charge.intent_id, charge.payment_id)
    if payment is None:
        return ignored("No payment for this charge")
    if not connect.record_destination_transfer(payment, charge):
        return ignored(f"Payment {payment.id} is not a destination charge to {charge.destination}")
    connect.settle_destination_payout(payment.id)
    return processed()


HANDLERS: dict[str, Handler] = {
    "account.updated": only_with_connect(on_account_updated),
    "account.application.deauthorized": only_with_connect(on_account_deauthorized),
    "charge.succeeded": only_with_connect(on_charge_succeeded),
}
