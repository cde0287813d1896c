"""Dispute events: ``charge.dispute.*`` recorded on the disputed payment.

Every one of these events carries the whole Dispute object, so each is
handled the same way: the report is applied if it is not behind what is
stored (see :mod:`~django_skillswap_payments.repository.disputes`), whatever
order the events arrive in. ``funds_withdrawn``/``funds_reinstated`` report
the money moving with the dispute's current status.
"""

from __future__ import annotations

from collections.abc import Callable

from .. import stripe_dispute_facts
from ..documents import Payment
from ..services import disputes
from ..stripe_facts import StripeEvent
from .lookups import intent_payment
from .outcome import Outcome, ignored, processed


def _disputed_payment(dispute: stripe_dispute_facts.DisputeFacts) -> Payment | None:
    payment = intent_payment(dispute.intent_id, dispute.payment_id)
    if payment is None and dispute.intent_id:
        # Not linked to the intent yet (its checkout.session.completed may still be on the
        # way): the intent's metadata names our payment, if it is ours at all.
        intent = disputes.intent_facts(dispute.intent_id)
        if intent.payment_id:
            payment = intent_payment(dispute.intent_id, intent.payment_id)
    return payment


def on_dispute_event(event: StripeEvent) -> Outcome:
    dispute = stripe_dispute_facts.dispute(event.object)
    if dispute.id is None or dispute.status is None:
        return ignored("Dispute without an id or a status")
    payment = _disputed_payment(dispute)
    if payment is None:
        return ignored(f"No payment for dispute {dispute.id}")
    outcome = disputes.record_dispute(payment, dispute, event_created=event.created)
    if not outcome.changed:
        return processed(f"dispute {dispute.id} of payment {payment.id}: a newer report is already recorded")
    return processed()


HANDLERS: dict[str, Callable[[StripeEvent], Outcome]] = {
    "charge.dispute.created": on_dispute_event,
    "charge.dispute.updated": on_dispute_event,
    "charge.dispute.closed": on_dispute_event,
    "charge.dispute.funds_withdrawn": on_dispute_event,
    "charge.dispute.funds_reinstated": on_dispute_event,
}
