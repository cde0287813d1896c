"""Charge events: refunds of a charge, made through the API or at Stripe (e.g. from its Dashboard)."""

from __future__ import annotations

from collections.abc import Callable

from .. import stripe_facts
from ..services import refunds
from ..stripe_facts import StripeEvent
from .lookups import intent_payment
from .outcome import Outcome, ignored, processed


def on_charge_refunded(event: StripeEvent) -> Outcome:
    """A refund of the charge, full or partial: its refunds are recorded like any other."""
    charge = stripe_facts.charge(event.object)
    payment = intent_payment(charge.intent_id, charge.payment_id)
    if payment is None:
        return ignored("No payment for this charge")
    before = (payment.status, int(payment.amount_refunded_minor or 0))
    after = refunds.reconcile_charge(payment, charge)
    if (after.status, int(after.amount_refunded_minor or 0)) == before:
        return processed(f"refunds of payment {payment.id} already recorded")
    return processed(None)


HANDLERS: dict[str, Callable[[StripeEvent], Outcome]] = {
    "charge.refunded": on_charge_refunded,
}
