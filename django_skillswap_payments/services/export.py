"""Paid payments as accounting rows: one flat record per payment, in a fixed column order.

Rows come one at a time from a cursor (see
:func:`django_skillswap_payments.repository.analytics.paid_payments`), so an export
of any size holds one batch of documents in memory. Amounts are exact: integer minor
units, and major units as decimal strings (``"9.99"``, ``"1000"`` for JPY). Refunds,
disputes and discounts are read with defaults, so payments stored before those were
recorded export as "none".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId

from ..documents import STATUS_COMPLETED, STATUS_REFUNDED
from ..money import from_minor_units
from ..repository import analytics as store

COLUMNS = (
    "payment_id",
    "created_at",
    "completed_at",
    "refunded_at",
    "transaction_type",
    "status",
    "currency",
    "amount",
    "amount_minor",
    "amount_refunded",
    "amount_refunded_minor",
    "net",
    "net_minor",
    "discount_minor",
    "from_user_id",
    "to_user_id",
    "stripe_session_id",
    "stripe_payment_intent_id",
    "dispute_status",
    "refunds",
    "disputes",
)


def refunded_minor(document: Mapping[str, Any]) -> int:
    """What of a payment was refunded: all of a ``refunded`` one, the recorded part of a
    ``completed`` one (never more than was paid); the rule of the analytics aggregation."""
    amount = int(document.get("amount_minor") or 0)
    if document.get("status") == STATUS_REFUNDED:
        return amount
    if document.get("status") == STATUS_COMPLETED:
        return min(amount, max(0, int(document.get("amount_refunded_minor") or 0)))
    return 0


def plain(value: Any) -> Any:
    """A stored value as JSON-ready data: ids and decimals as strings, datetimes in ISO 8601 UTC."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).isoformat()
    if isinstance(value, Decimal128):
        return str(value.to_decimal())
    if isinstance(value, (ObjectId, Decimal)):
        return str(value)
    return value


def _major(amount_minor: int, currency: str) -> str:
    return format(from_minor_units(amount_minor, currency), "f")


def export_row(document: Mapping[str, Any]) -> dict[str, Any]:
    """One payment document as a row with :data:`COLUMNS` as keys, in that order."""
    currency = str(document.get("currency") or "").lower()
    amount = int(document.get("amount_minor") or 0)
    refunded = refunded_minor(document)
    row = {
        "payment_id": str(document["_id"]),
        "created_at": plain(document.get("created_at")),
        "completed_at": plain(document.get("completed_at")),
        "refunded_at": plain(document.get("refunded_at")),
        "transaction_type": document.get("transaction_type"),
        "status": document.get("status"),
        "currency": currency,
        "amount": _major(amount, currency),
        "amount_minor": amount,
        "amount_refunded": _major(refunded, currency),
        "amount_refunded_minor": refunded,
        "net": _major(amount - refunded, currency),
        "net_minor": amount - refunded,
        "discount_minor": int(document.get("discount_minor") or 0),
        "from_user_id": plain(document.get("from_user_id")),
        "to_user_id": plain(document.get("to_user_id")),
        "stripe_session_id": document.get("stripe_session_id"),
        "stripe_payment_intent_id": document.get("stripe_payment_intent_id"),
        "dispute_status": document.get("dispute_status"),
        "refunds": plain(document.get("refunds") or []),
        "disputes": plain(document.get("disputes") or []),
    }
    return {column: row[column] for column in COLUMNS}


def export_rows(start: dt.datetime, end: dt.datetime) -> Iterator[dict[str, Any]]:
    """The paid payments created in ``[start, end)``, oldest first, as :func:`export_row` rows."""
    for document in store.paid_payments(start=start, end=end):
        yield export_row(document)
