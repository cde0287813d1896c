"""Charge events: refunds made at Stripe (for example from the Dashboard)."""

from __future__ import annotations

from collections.abc import Callable

from .. import stripe_facts
from ..services import transitions
from ..stripe_facts import StripeEvent
from .lookups import intent_payment, transition_note
from .outcome import Outcome, ignored, processed


def on_charge_refunded(event: StripeEvent) -> Outcome:
    """A full refund revokes what the payment granted; partial refunds are only recorded."""
    charge = stripe_facts.charge(event.object)
    payment = intent_payment(charge.intent_id, charge.payment_id)
    if payment is None:
        return ignored("No payment for this charge")
    if not charge.fully_refunded:
        return ignored(f"Partial refund of payment {payment.id}; status unchanged")
    return processed(
        transition_note(transitions.mark_payment_refunded(payment, refund_id=charge.refund_id))
    )


HANDLERS: dict[str, Callable[[StripeEvent], Outcome]] = {
    "charge.refunded": on_charge_refunded,
}
