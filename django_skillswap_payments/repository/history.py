"""Payments read as newest-first pages: tips sent and received, payment history.

Pages are ordered by ``(-created_at, -_id)`` and continue from the id of the
last item already shown (``before``), so inserts never shift a page. They
decide nothing, so they are read with ``READ_PREFERENCE`` (see
:mod:`django_skillswap_payments.replication`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from mongoengine.queryset.visitor import Q

from ..conf import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from ..documents import TRANSACTION_TIP, Payment
from ..ids import to_object_id
from ..replication import history_read_preference


@dataclass(frozen=True)
class PageAnchor:
    """Where a page continues: just after the payment with this ``created_at`` and ``_id``."""

    created_at: dt.datetime
    id: ObjectId


def page_anchor(before: Any) -> PageAnchor | None:
    """The anchor of the payment id ``before`` (one lookup by ``_id``); ``None`` when unknown."""
    if before is None or isinstance(before, PageAnchor):
        return before
    oid = to_object_id(before)
    if oid is None:
        return None
    anchor = Payment.objects(id=oid).read_preference(history_read_preference()).only("created_at").first()
    return PageAnchor(anchor.created_at, anchor.id) if anchor is not None else None


def _page(queryset, *, limit: int, before: Any = None):
    """Newest-first page of ``queryset`` ending just before ``before`` (a payment id or its anchor)."""
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    anchor = page_anchor(before)
    if anchor is not None:
        # The bound outside the $or gives the index scan its start at the anchor by itself,
        # whether or not the server pushes the $or's branches into separate scans.
        queryset = queryset.filter(created_at__lte=anchor.created_at).filter(
            Q(created_at__lt=anchor.created_at)
            | (Q(created_at=anchor.created_at) & Q(id__lt=anchor.id))
        )
    queryset = queryset.read_preference(history_read_preference())
    return list(queryset.order_by("-created_at", "-id").limit(limit))


def _tips_sent_query(user_id: ObjectId, statuses: Iterable[str] | None = None):
    query = Payment.objects(from_user_id=user_id, transaction_type=TRANSACTION_TIP)
    return query.filter(status__in=list(statuses)) if statuses else query


def _tips_received_query(user_id: ObjectId, statuses: Iterable[str] | None = None):
    query = Payment.objects(to_user_id=user_id, transaction_type=TRANSACTION_TIP)
    return query.filter(status__in=list(statuses)) if statuses else query


def tips_sent(
    user_id: ObjectId,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    before: Any = None,
    statuses: Iterable[str] | None = None,
) -> list[Payment]:
    """Tips the user sent, newest first; ``before`` is the id of the last tip of the previous page."""
    return _page(_tips_sent_query(user_id, statuses), limit=limit, before=before)


def tips_received(
    user_id: ObjectId,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    before: Any = None,
    statuses: Iterable[str] | None = None,
) -> list[Payment]:
    """Tips the user received, newest first; paginated like :func:`tips_sent`."""
    return _page(_tips_received_query(user_id, statuses), limit=limit, before=before)


def count_tips_sent(user_id: ObjectId, statuses: Iterable[str] | None = None) -> int:
    """Number of tips the user sent (optionally only in ``statuses``)."""
    return _tips_sent_query(user_id, statuses).count()


def count_tips_received(user_id: ObjectId, statuses: Iterable[str] | None = None) -> int:
    """Number of tips the user received (optionally only in ``statuses``)."""
    return _tips_received_query(user_id, statuses).count()


def tip_sums_by_currency(
    user_id: ObjectId, received_statuses: Iterable[str], *, paid_status: str
) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """Per currency, for the tips the user sent (any status) and received (in ``received_statuses``):
    how many, and the sum in minor units of those in ``paid_status``.

    One aggregation: each side is a ``$match`` on the equality fields of an index
    (see ``documents.py``), then grouped by currency. That index also holds every
    field the group reads (``TIP_TOTALS_FIELDS``), so MongoDB counts from the index
    keys without loading a tip. Each currency is summed on its own, never
    converted or added to another.
    """
    sent = {"from_user_id": user_id, "transaction_type": TRANSACTION_TIP}
    received = {
        "to_user_id": user_id,
        "transaction_type": TRANSACTION_TIP,
        "status": {"$in": list(received_statuses)},
    }
    paid_minor = {"$cond": [{"$eq": ["$status", paid_status]}, {"$ifNull": ["$amount_minor", 0]}, 0]}

    def by_currency(side: str) -> list[dict[str, Any]]:
        return [
            {"$group": {"_id": "$currency", "count": {"$sum": 1}, "paid_minor": {"$sum": paid_minor}}},
            {"$set": {"side": side}},
        ]

    pipeline = [
        {"$match": sent},
        *by_currency("sent"),
        {"$unionWith": {
            "coll": Payment._get_collection_name(),
            "pipeline": [{"$match": received}, *by_currency("received")],
        }},
    ]
    totals: dict[str, dict[str, tuple[int, int]]] = {"sent": {}, "received": {}}
    collection = Payment._get_collection().with_options(read_preference=history_read_preference())
    for row in collection.aggregate(pipeline):
        totals[row["side"]][row["_id"]] = (int(row["count"]), int(row["paid_minor"]))
    return totals["sent"], totals["received"]


def payment_history(
    user_id: ObjectId | None,
    *,
    transaction_type: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    before: Any = None,
) -> list[Payment]:
    """Payments made by the user (every user's for ``None``), newest first, filtered and paginated.

    ``created_from`` is inclusive, ``created_to`` exclusive.
    """
    query = Payment.objects(from_user_id=user_id) if user_id is not None else Payment.objects()
    if transaction_type:
        query = query.filter(transaction_type=transaction_type)
    if status:
        query = query.filter(status=status)
    if created_from is not None:
        query = query.filter(created_at__gte=created_from)
    if created_to is not None:
        query = query.filter(created_at__lt=created_to)
    return _page(query, limit=limit, before=before)
