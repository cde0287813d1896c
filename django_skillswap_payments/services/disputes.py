"""Disputes: recording what Stripe reports about them, their signals, and the staff list.

A dispute does not change a payment's status: a disputed payment stays
``completed`` whatever the outcome, and the dispute is recorded beside it
(``disputes``, ``dispute_status``). A dispute closed as ``lost`` takes back
the premium the payment granted when ``LOST_DISPUTE_REVOKES_PREMIUM`` is on
(the default): the payment gives up its ``premium_holder`` key and no longer
counts for premium status (``premium_revoked_at``), in the same write that
closes the dispute (:mod:`~django_skillswap_payments.repository.disputes`).
A tip's dispute revokes nothing here; ``dispute_closed`` tells the host site.

``payment_disputed`` is sent once per dispute, by whichever report records it
first (a ``charge.dispute.updated`` delivered before its ``created`` does);
``dispute_closed`` once, by the report that closes it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .. import signals, stripe_dispute_facts, stripe_facts
from ..conf import SETTINGS_NAME, payments_settings
from ..dispute_records import LOST, WON_STATUSES
from ..documents import Payment, as_aware, utcnow
from ..errors import PaymentNotFound
from ..gateway import disputes as dispute_gateway
from ..repository import disputes as dispute_store
from . import premium

logger = logging.getLogger("django_skillswap_payments.services")


def lost_dispute_revokes_premium() -> bool:
    """``LOST_DISPUTE_REVOKES_PREMIUM``; raises ``ImproperlyConfigured`` unless it is a bool."""
    value = payments_settings.LOST_DISPUTE_REVOKES_PREMIUM
    if not isinstance(value, bool):
        raise ImproperlyConfigured(f"{SETTINGS_NAME}['LOST_DISPUTE_REVOKES_PREMIUM'] must be True or False")
    return value


@dataclass(frozen=True)
class DisputeOutcome:
    """What a report of a dispute did to its payment (``changed`` false: the record was ahead)."""

    payment: Payment
    changed: bool
    recorded: bool = False
    closed: bool = False
    premium_revoked: bool = False


def intent_facts(intent_id: str) -> stripe_facts.PaymentIntentFacts:
    """The disputed charge's PaymentIntent as Stripe has it (its metadata names our payment)."""
    return stripe_facts.payment_intent(dispute_gateway.retrieve_payment_intent(intent_id))


def _report(dispute: stripe_dispute_facts.DisputeFacts, event_created: int | None) -> dispute_store.DisputeReport:
    event_at = stripe_facts.timestamp(event_created) or dispute.created or utcnow()
    return dispute_store.DisputeReport(
        dispute_id=dispute.id or "",
        status=dispute.status or "",
        amount_minor=dispute.amount_minor,
        currency=dispute.currency,
        reason=dispute.reason,
        evidence_due_by=dispute.evidence_due_by,
        created_at=dispute.created or event_at,
        event_at=event_at,
    )


def record_dispute(
    payment: Payment, dispute: stripe_dispute_facts.DisputeFacts, *, event_created: int | None = None
) -> DisputeOutcome:
    """Apply one report of ``dispute`` (with an id and a status) to ``payment``; send its signals once.

    ``event_created`` is the Unix time of the Stripe event carrying the
    report: of two reports of the same status, the older one never
    overwrites the newer. Raises ``PaymentNotFound`` if the payment is gone.
    """
    revoke = lost_dispute_revokes_premium() and payment.is_premium
    report = _report(dispute, event_created)
    change = dispute_store.record_dispute(payment.id, report, revoke_premium=revoke)
    if change is None:
        raise PaymentNotFound()
    if not change.changed:
        return DisputeOutcome(change.payment, changed=False)
    revoked = change.closed and revoke and report.status == LOST
    if revoked:
        premium.forget_premium_status(change.payment.from_user_id)
        logger.info("Payment %s: dispute %s lost; premium revoked", payment.id, report.dispute_id)
    record = change.dispute(report.dispute_id)
    if change.recorded:
        signals.dispatch_dispute(signals.payment_disputed, change.payment, record)
    if change.closed:
        signals.dispatch_dispute(
            signals.dispute_closed, change.payment, record, won=report.status in WON_STATUSES
        )
    return DisputeOutcome(
        change.payment, changed=True, recorded=change.recorded, closed=change.closed, premium_revoked=revoked
    )


def latest_dispute(payment: Payment) -> Any:
    """The payment's latest dispute (by Stripe's creation time), if any."""
    disputes = list(payment.disputes or [])
    if not disputes:
        return None
    floor = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return max(disputes, key=lambda d: as_aware(d.created_at) or floor)


def list_disputes(*, status: str | None = None, limit: int, before: Any = None) -> list[Payment]:
    """Disputed payments for the staff list, latest dispute first (see :func:`~..repository.disputes.disputed_payments`)."""
    return dispute_store.disputed_payments(status=status, limit=limit, before=before)
