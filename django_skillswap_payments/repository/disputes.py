"""Disputes on the ``payments`` collection: recording Stripe's reports, and the staff list.

Each report of a dispute is applied by one conditional ``findAndModify`` on
the payment, without reading first, so duplicate, concurrent and reordered
deliveries agree on one outcome:

- a dispute not recorded yet is pushed onto ``disputes`` by exactly one
  caller (the filter requires its id to be absent) — that caller announces it;
- a recorded dispute is updated only if the report is not behind it: its
  status ranks higher in :data:`~..dispute_records.OPEN_STATUS_ORDER`, or is
  the same status reported by a newer (or the same) event. A closed dispute
  is never updated again, so an old ``updated`` arriving after ``closed``
  cannot reopen it, and exactly one caller moves it to a closed status —
  that caller announces the outcome;
- ``dispute_status``/``disputed_at`` follow the latest dispute of the
  payment (by Stripe's creation time), set in the same write;
- a lost dispute that revokes premium unsets ``premium_holder`` and stamps
  ``premium_revoked_at`` in the closing write itself.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from mongoengine.queryset.visitor import Q
from pymongo import ReturnDocument

from ..conf import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from ..dispute_records import CLOSED_STATUSES, DISPUTE_STATUSES, LOST, OPEN_STATUS_ORDER
from ..documents import DISPUTED, Payment, utcnow
from .payments import get_payment


@dataclass(frozen=True)
class DisputeReport:
    """One report of a dispute, in the stored units (see :class:`~..dispute_records.DisputeRecord`)."""

    dispute_id: str
    status: str
    amount_minor: int | None
    currency: str | None
    reason: str | None
    evidence_due_by: dt.datetime | None
    created_at: dt.datetime
    event_at: dt.datetime


@dataclass(frozen=True)
class DisputeChange:
    """What recording a report did: ``recorded`` (first seen), ``closed`` (moved to a closed status)."""

    payment: Payment
    changed: bool
    recorded: bool = False
    closed: bool = False

    def dispute(self, dispute_id: str) -> Any:
        return next((d for d in self.payment.disputes if d.dispute_id == dispute_id), None)


def _report_applies(status: str, event_at: dt.datetime) -> list[dict[str, Any]]:
    """The conditions on a stored dispute under any of which ``status`` (reported at ``event_at``)
    replaces it: it is behind this report, or has the same status from an event not newer."""
    if status in CLOSED_STATUSES:
        return [{"status": {"$nin": list(CLOSED_STATUSES)}}]
    if status not in OPEN_STATUS_ORDER:
        # A status this code does not know ranks below every known one.
        return [{"status": {"$nin": list(DISPUTE_STATUSES)}, "event_at": {"$lte": event_at}}]
    not_behind = list(OPEN_STATUS_ORDER[OPEN_STATUS_ORDER.index(status):]) + list(CLOSED_STATUSES)
    return [{"status": {"$nin": not_behind}}, {"status": status, "event_at": {"$lte": event_at}}]


def _record_fields(report: DisputeReport) -> dict[str, Any]:
    return {
        "dispute_id": report.dispute_id,
        "amount_minor": report.amount_minor,
        "currency": report.currency,
        "reason": report.reason,
        "status": report.status,
        "evidence_due_by": report.evidence_due_by,
        "created_at": report.created_at,
        "event_at": report.event_at,
        "closed_at": report.event_at if report.status in CLOSED_STATUSES else None,
    }


PAYMENT_DISPUTED = "payment_disputed"
DISPUTE_CLOSED = "dispute_closed"


def _revocation(report: DisputeReport, revoke_premium: bool, now: dt.datetime) -> tuple[dict, dict]:
    if revoke_premium and report.status == LOST:
        return {"premium_revoked_at": now}, {"premium_holder": ""}
    return {}, {}


def _write(query: dict[str, Any], update: dict[str, Any]) -> Payment | None:
    document = Payment._get_collection().find_one_and_update(
        query, update, return_document=ReturnDocument.AFTER
    )
    return Payment._from_son(document) if document is not None else None


def record_dispute(payment_id: ObjectId, report: DisputeReport, *, revoke_premium: bool) -> DisputeChange | None:
    """Apply one report of a dispute to the payment (see the module docstring); ``None`` if it is gone.

    ``revoke_premium``: if this report closes the dispute as lost, the payment
    stops counting as premium in the same write.
    """
    now = utcnow()
    fields = _record_fields(report)
    revoked, unset = _revocation(report, revoke_premium, now)
    latest = {"dispute_status": report.status, "disputed_at": report.created_at}
    is_latest = {"$or": [{"disputed_at": {"$exists": False}}, {"disputed_at": {"$lte": report.created_at}}]}
    is_older = {"disputed_at": {"$gt": report.created_at}}
    # Separate writes rather than one $or inside $elemMatch, which not every server accepts.
    stored = [
        {"disputes": {"$elemMatch": {"dispute_id": report.dispute_id, **condition}}}
        for condition in _report_applies(report.status, report.event_at)
    ]
    absent = {"disputes.dispute_id": {"$ne": report.dispute_id}}
    entry = {f"disputes.$.{name}": value for name, value in fields.items() if name != "dispute_id"}
    closed = report.status in CLOSED_STATUSES

    def update_record() -> Payment | None:
        for match, (condition, extra) in itertools.product(stored, ((is_latest, latest), (is_older, {}))):
            update: dict[str, Any] = {"$set": {**entry, **extra, **revoked, "updated_at": now}}
            if unset:
                update["$unset"] = unset
            if closed:
                update["$addToSet"] = {"disputes.$.pending_signals": DISPUTE_CLOSED}
            payment = _write({"_id": payment_id, **match, **condition}, update)
            if payment is not None:
                return payment
        return None

    def push_record() -> Payment | None:
        for condition, extra in ((is_latest, latest), (is_older, {})):
            pending = [PAYMENT_DISPUTED, DISPUTE_CLOSED] if closed else [PAYMENT_DISPUTED]
            update = {
                "$push": {"disputes": {**fields, "pending_signals": pending}},
                "$set": {**extra, **revoked, "updated_at": now},
            }
            if unset:
                update["$unset"] = unset
            payment = _write({"_id": payment_id, **absent, **condition}, update)
            if payment is not None:
                return payment
        return None

    payment = update_record()
    if payment is not None:
        return DisputeChange(payment, changed=True, closed=closed)
    payment = push_record()
    if payment is not None:
        return DisputeChange(payment, changed=True, recorded=True, closed=closed)
    # The record exists now (a concurrent report pushed it after the first try, or it was there
    # all along); records are never removed, so this second try is conclusive.
    payment = update_record()
    if payment is not None:
        return DisputeChange(payment, changed=True, closed=closed)
    current = get_payment(payment_id)
    return DisputeChange(current, changed=False) if current is not None else None


def disputed_payments(
    *, status: str | None = None, limit: int = DEFAULT_PAGE_SIZE, before: Any = None
) -> list[Payment]:
    """Disputed payments, latest dispute first, optionally only those whose latest dispute is ``status``.

    Ordered by ``(-disputed_at, -_id)`` and continued from the payment id
    ``before`` like the history pages; served by the partial indexes declared
    on :class:`~..documents.Payment`.
    """
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    query = Payment.objects(__raw__=dict(DISPUTED))
    if status:
        query = query.filter(dispute_status=status)
    if before is not None:
        anchor = get_payment(before)
        if anchor is not None and anchor.disputed_at is not None:
            query = query.filter(
                Q(disputed_at__lt=anchor.disputed_at)
                | (Q(disputed_at=anchor.disputed_at) & Q(id__lt=anchor.id))
            )
    return list(query.order_by("-disputed_at", "-id").limit(limit))


def note_signal_failures(payment_id: ObjectId, failures: list[dict[str, Any]]) -> None:
    """Append dispute-signal receiver failures to ``signal_failures``, without the re-dispatch flag."""
    if failures:
        Payment.objects(id=payment_id).update_one(push_all__signal_failures=failures)


def signal_delivered(payment_id: ObjectId, dispute_id: str, signal_name: str) -> None:
    """Every receiver of ``signal_name`` ran for this dispute: it is no longer pending."""
    Payment._get_collection().update_one(
        {"_id": payment_id, "disputes": {"$elemMatch": {"dispute_id": dispute_id, "pending_signals": signal_name}}},
        {"$pull": {"disputes.$.pending_signals": signal_name}},
    )


def payments_with_pending_dispute_signals(limit: int = 100, *, settled_seconds: int = 0) -> list[Payment]:
    """Payments with a dispute signal not yet delivered to every receiver, least recently changed first.

    ``settled_seconds`` skips payments changed more recently than that, whose
    first dispatch may still be running.
    """
    # One query per signal, each an equality on the index's first key, so each reads
    # (pending_signals, updated_at) in order; merged by updated_at, duplicates dropped.
    found: dict[Any, Payment] = {}
    for signal_name in (PAYMENT_DISPUTED, DISPUTE_CLOSED):
        query: dict[str, Any] = {"disputes.pending_signals": signal_name}
        if settled_seconds:
            query["updated_at"] = {"$lt": utcnow() - dt.timedelta(seconds=settled_seconds)}
        for payment in Payment.objects(__raw__=query).order_by("updated_at").limit(limit):
            found.setdefault(payment.id, payment)
    return sorted(found.values(), key=lambda payment: payment.updated_at)[:limit]
