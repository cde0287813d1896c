"""Revenue figures and the accounting export, read straight from the ``payments`` collection.

Everything here works on raw documents through pymongo, not MongoEngine: refunds and
disputes are recorded by fields (``amount_refunded_minor``, ``refunds``, ``disputes``,
``dispute_status``) that older documents lack, and every one of them is read with a
default. Amounts stay integer minor units; the services turn them into ``Decimal``.

Each query filters on ``transaction_type`` and ``status`` by equality and on
``created_at`` by range, the order of the index declared for it in ``documents.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from pymongo.errors import OperationFailure

from ..documents import (
    PAYMENT_STATUSES,
    STATUS_COMPLETED,
    STATUS_REFUNDED,
    TRANSACTION_PREMIUM,
    TRANSACTION_TIP,
    TRANSACTION_TYPES,
    Payment,
    PaymentProfile,
)

PAID_STATUSES = (STATUS_COMPLETED, STATUS_REFUNDED)
# Stripe's inquiries and early warnings: not chargebacks, so they do not count as disputes.
WARNING_DISPUTE_STATUSES = ("warning_needs_response", "warning_under_review", "warning_closed")
# The whole answer of an aggregation comes in its first batch: one round trip, however many
# periods and currencies (a batch still stops at MongoDB's 16 MB, far above these answers).
WHOLE_ANSWER_BATCH = 1_000_000

_PAID = {"$in": ["$status", list(PAID_STATUSES)]}
_AMOUNT = {"$ifNull": ["$amount_minor", 0]}
# A refunded payment is refunded in full, whether or not it records amount_refunded_minor
# (payments refunded before partial refunds existed do not); a completed one may be refunded
# in part, never by more than was paid.
_REFUNDED = {
    "$switch": {
        "branches": [
            {"case": {"$eq": ["$status", STATUS_REFUNDED]}, "then": _AMOUNT},
            {
                "case": {"$eq": ["$status", STATUS_COMPLETED]},
                "then": {"$min": [_AMOUNT, {"$max": [0, {"$ifNull": ["$amount_refunded_minor", 0]}]}]},
            },
        ],
        "default": 0,
    }
}
_DISPUTES = {"$cond": [{"$isArray": "$disputes"}, "$disputes", []]}


def _not_warning(status: Any) -> dict[str, Any]:
    # {$eq: [..., false]} rather than $not, which some wire-compatible servers lack.
    return {"$eq": [{"$in": [status, list(WARNING_DISPUTE_STATUSES)]}, False]}



_DISPUTED = {
    "$or": [
        {"$gt": [{"$size": {"$filter": {
            "input": _DISPUTES,
            "as": "dispute",
            "cond": _not_warning("$$dispute.status"),
        }}}, 0]},
        {"$and": [
            {"$ne": [{"$ifNull": ["$dispute_status", None]}, None]},
            _not_warning("$dispute_status"),
        ]},
    ]
}


# MongoDB's code for a time zone name its own zone database does not hold.
UNRECOGNIZED_TIME_ZONE = 40485


class UnknownTimeZone(ValueError):
    """The database does not know a time zone name (its zone data is older than Python's)."""


def _count_if(condition: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _sum_if(condition: Any, value: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, value, 0]}}


def _match(types: Sequence[str], statuses: Sequence[str], start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    return {
        "transaction_type": {"$in": list(types)},
        "status": {"$in": list(statuses)},
        "created_at": {"$gte": start, "$lt": end},
    }


def period_figures_pipeline(
    *, start: dt.datetime, end: dt.datetime, period_format: str, timezone: str
) -> list[dict[str, Any]]:
    """The aggregation of :func:`period_figures` (exposed so its use of the index can be checked)."""
    is_tip = {"$eq": ["$transaction_type", TRANSACTION_TIP]}
    is_premium = {"$eq": ["$transaction_type", TRANSACTION_PREMIUM]}
    return [
        {"$match": _match((TRANSACTION_PREMIUM, TRANSACTION_TIP), PAYMENT_STATUSES, start, end)},
        {"$project": {
            "_id": 0,
            "transaction_type": 1,
            "period": {"$dateToString": {"date": "$created_at", "format": period_format, "timezone": timezone}},
            "currency": {"$toLower": "$currency"},
            "paid": _PAID,
            "amount": _AMOUNT,
            "refunded": _REFUNDED,
            "disputed": _DISPUTED,
        }},
        {"$group": {
            "_id": {"period": "$period", "currency": "$currency"},
            "checkouts_started": {"$sum": 1},
            "checkouts_completed": _count_if("$paid"),
            "gross_minor": _sum_if("$paid", "$amount"),
            "refunded_minor": {"$sum": "$refunded"},
            "refunded_count": _count_if({"$gt": ["$refunded", 0]}),
            "disputed_count": _count_if({"$and": ["$paid", "$disputed"]}),
            "premium_count": _count_if({"$and": ["$paid", is_premium]}),
            "tip_count": _count_if({"$and": ["$paid", is_tip]}),
            "tip_gross_minor": _sum_if({"$and": ["$paid", is_tip]}, "$amount"),
        }},
        {"$sort": {"_id.period": 1, "_id.currency": 1}},
    ]


def period_figures(
    *, start: dt.datetime, end: dt.datetime, period_format: str, timezone: str = "UTC"
) -> list[dict[str, Any]]:
    """Premium and tip figures of ``[start, end)`` per (period, currency), in one command.

    A payment counts in the period of its ``created_at`` (the key ``$dateToString`` gives
    with ``period_format`` in ``timezone``). Rows hold integer counts and minor-unit sums:
    ``period``, ``currency``, ``checkouts_started`` (every payment created),
    ``checkouts_completed``, ``gross_minor``, ``refunded_minor``, ``refunded_count``,
    ``disputed_count``, ``premium_count``, ``tip_count``, ``tip_gross_minor``; the
    counts other than ``checkouts_started`` are of paid (completed or refunded) payments.
    """
    pipeline = period_figures_pipeline(start=start, end=end, period_format=period_format, timezone=timezone)
    try:
        rows = list(Payment._get_collection().aggregate(pipeline, batchSize=WHOLE_ANSWER_BATCH))
    except OperationFailure as exc:
        if exc.code == UNRECOGNIZED_TIME_ZONE or "timezone" in str(exc).replace("time zone", "timezone"):
            raise UnknownTimeZone(timezone) from exc
        raise
    return [{**row.pop("_id"), **row} for row in rows]


def top_tip_recipients_pipeline(*, start: dt.datetime, end: dt.datetime, limit: int) -> list[dict[str, Any]]:
    """The aggregation of :func:`top_tip_recipients`."""
    return [
        {"$match": _match((TRANSACTION_TIP,), PAID_STATUSES, start, end)},
        {"$group": {
            "_id": {"currency": {"$toLower": "$currency"}, "user_id": "$to_user_id"},
            "gross_minor": {"$sum": _AMOUNT},
            "refunded_minor": {"$sum": _REFUNDED},
            "count": {"$sum": 1},
        }},
        {"$project": {
            "_id": 0,
            "currency": "$_id.currency",
            "user_id": "$_id.user_id",
            "gross_minor": 1,
            "refunded_minor": 1,
            "net_minor": {"$subtract": ["$gross_minor", "$refunded_minor"]},
            "count": 1,
        }},
        {"$group": {
            "_id": "$currency",
            "top": {"$topN": {
                "n": limit,
                "sortBy": {"net_minor": -1, "count": -1, "user_id": 1},
                "output": "$$ROOT",
            }},
        }},
        {"$unwind": {"path": "$top", "includeArrayIndex": "rank"}},
        {"$lookup": {
            "from": PaymentProfile._get_collection_name(),
            "localField": "top.user_id",
            "foreignField": "_id",
            "as": "profile",
        }},
        {"$replaceWith": {"$mergeObjects": [
            "$top",
            {"rank": "$rank", "django_user_id": {"$first": "$profile.django_user_id"}},
        ]}},
        {"$sort": {"currency": 1, "rank": 1}},
    ]


def top_tip_recipients(*, start: dt.datetime, end: dt.datetime, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` recipients of the most tip money of ``[start, end)`` per currency, in one command.

    Ranked by net amount (paid minus refunded), then number of tips, then id. Rows, by
    currency then rank: ``currency``, ``user_id`` (the recipient's payment profile id),
    ``django_user_id`` (``None`` if the profile is gone), ``gross_minor``,
    ``refunded_minor``, ``net_minor``, ``count`` (paid tips) and ``rank`` (from 0).
    Needs MongoDB 5.2 or newer (``$topN``).
    """
    pipeline = top_tip_recipients_pipeline(start=start, end=end, limit=limit)
    return list(Payment._get_collection().aggregate(pipeline, batchSize=WHOLE_ANSWER_BATCH))


# -- the accounting export ----------------------------------------------------------

EXPORT_BATCH_SIZE = 500


def paid_payments(*, start: dt.datetime, end: dt.datetime, batch_size: int | None = None) -> Iterator[dict[str, Any]]:
    """Paid (completed or refunded) payments of every type created in ``[start, end)``, oldest first.

    A generator over a cursor fetching ``batch_size`` documents per round trip, so an
    export of any length holds one batch in memory. Documents are as stored (raw dicts).
    """
    cursor = Payment._get_collection().find(
        _match(TRANSACTION_TYPES, PAID_STATUSES, start, end),
        sort=[("created_at", 1)],
        batch_size=batch_size or EXPORT_BATCH_SIZE,
    )
    with cursor:
        yield from cursor
