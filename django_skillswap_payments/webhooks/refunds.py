"""Refund events: refunds made anywhere (the API, Stripe's Dashboard) and their later fate.

Every refund lands through :mod:`django_skillswap_payments.services.refunds`,
once per Stripe refund id: an event about a refund already recorded changes
nothing, unless it reports that the refund failed or was canceled.

Endpoints on API versions before 2024-10-28.acacia get ``refund.*`` events
only for refunds without a charge; a card refund's later fate (pending to
succeeded, or failed) reaches them as ``charge.refund.updated``, which carries
the same Refund object and is read the same way.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import stripe_facts
from ..services import refunds
from ..stripe_facts import StripeEvent
from .lookups import intent_payment
from .outcome import Outcome, ignored, processed


def _on_refund(event: StripeEvent, *, failed: bool = False) -> Outcome:
    refund = stripe_facts.refund(event.object)
    if not refund.id or not refund.amount_minor:
        return ignored("Refund without an id or amount")
    payment = intent_payment(refund.intent_id, refund.payment_id)
    if payment is None:
        return ignored("No payment for this refund")
    before = {r.refund_id: r.status for r in payment.refunds or []}
    outcome = refunds.record_reported_refund(payment, refund, failed=failed)
    stored = outcome.refund.status if outcome.refund is not None else None
    if before.get(refund.id) == stored:
        return processed(f"refund {refund.id} of payment {payment.id} already {stored}")
    return processed(None)


def on_refund_reported(event: StripeEvent) -> Outcome:
    return _on_refund(event)


def on_refund_failed(event: StripeEvent) -> Outcome:
    return _on_refund(event, failed=True)


HANDLERS: dict[str, Callable[[StripeEvent], Outcome]] = {
    "refund.created": on_refund_reported,
    "refund.updated": on_refund_reported,
    "refund.failed": on_refund_failed,
    "charge.refund.updated": on_refund_reported,
}
