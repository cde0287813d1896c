"""Refunds on the ``payments`` collection: reserving an amount, recording refunds, undoing failed ones.

Every write here is one conditional single-document update, so it holds on
any MongoDB deployment without transactions:

- :func:`reserve` holds an amount for a refund request before Stripe is
  asked, only if ``amount_refunded_minor`` plus the amounts already held plus
  this one stay within ``amount_minor`` (checked by ``$expr`` in the filter).
  Concurrent requests can therefore never ask Stripe for more than was paid.
  A hold older than :data:`RESERVATION_TIMEOUT` no longer counts: the process
  that took it died before it could confirm or release it.
- :func:`add_refund` records a refund once per Stripe refund id (the filter
  requires the id to be absent), adds its amount when it counts, and drops the
  request's hold in the same write.
- :func:`undo_refund` marks a counted refund failed or canceled and takes its
  amount back off, once (the filter requires it to be still counted).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pymongo import ReturnDocument

from ..documents import Payment, utcnow
from ..refund_records import UNDONE_REFUND_STATUSES
from ..states import REFUNDABLE

# Longer than any refund request can take (Stripe's client retries included).
RESERVATION_TIMEOUT = dt.timedelta(minutes=10)


def _collection():
    return Payment._get_collection()


def _from_son(document: Mapping[str, Any] | None) -> Payment | None:
    return Payment._from_son(document) if document is not None else None


def _live_reservations(cutoff: dt.datetime) -> dict[str, Any]:
    return {
        "$filter": {
            "input": {"$ifNull": ["$refund_reservations", []]},
            "as": "held",
            "cond": {"$gte": ["$$held.created_at", cutoff]},
        }
    }


def _held_total(cutoff: dt.datetime) -> dict[str, Any]:
    return {"$sum": {"$map": {"input": _live_reservations(cutoff), "as": "held", "in": "$$held.amount_minor"}}}


def reserve(payment_id: Any, amount_minor: int, token: str) -> Payment | None:
    """Hold ``amount_minor`` of a refundable payment for the refund request ``token``.

    Returns the payment with the hold, or ``None`` when the payment is not
    refundable or the amount does not fit in what is left (the caller reads the
    payment again to tell which). Holds that timed out are dropped in the same
    write.
    """
    now = utcnow()
    cutoff = now - RESERVATION_TIMEOUT
    query = {
        "_id": payment_id,
        "status": {"$in": list(REFUNDABLE)},
        "$expr": {
            "$lte": [
                {"$add": [{"$ifNull": ["$amount_refunded_minor", 0]}, _held_total(cutoff), amount_minor]},
                "$amount_minor",
            ]
        },
    }
    hold = {"token": token, "amount_minor": amount_minor, "created_at": now}
    pipeline = [
        {"$set": {
            "refund_reservations": {
                "$concatArrays": [_live_reservations(cutoff), [{"$literal": hold}]]
            },
        }}
    ]
    return _from_son(_collection().find_one_and_update(query, pipeline, return_document=ReturnDocument.AFTER))


def held_by_others(payment: Payment, token: str | None = None) -> int:
    """The amounts held by live refund requests other than ``token``'s."""
    cutoff = utcnow() - RESERVATION_TIMEOUT
    held = 0
    for hold in payment.refund_reservations or []:
        created = hold.get("created_at")
        if created is not None and created.tzinfo is None:
            created = created.replace(tzinfo=dt.timezone.utc)
        if hold.get("token") != token and created is not None and created >= cutoff:
            held += int(hold.get("amount_minor") or 0)
    return held


def asked_before(payment: Payment, token: str) -> int:
    """Every refund recorded (failed ones too) and held for others when ``token``'s hold was taken.

    It only grows, so each refund of a payment gets an idempotency key of its
    own, even one that asks again for what a failed refund did not give back.
    """
    return sum(int(r.amount_minor) for r in payment.refunds or []) + held_by_others(payment, token)


def release(payment_id: Any, token: str) -> None:
    """Drop the hold of a refund request Stripe did not carry out."""
    _collection().update_one({"_id": payment_id}, {"$pull": {"refund_reservations": {"token": token}}})


def add_refund(payment_id: Any, record: Mapping[str, Any], *, counted: bool, token: str | None = None) -> Payment | None:
    """Record a refund on the payment, unless a refund with its id is recorded already.

    ``counted``: the refund is pending or succeeded, so its amount is added to
    ``amount_refunded_minor``. ``token``: the hold of the request that made
    it, dropped in the same write. Returns the updated payment for the one
    caller that recorded the refund, ``None`` for everyone else (whose hold,
    if any, the caller drops with :func:`release`).
    """
    update: dict[str, Any] = {
        "$push": {"refunds": dict(record)},
        "$set": {"updated_at": utcnow()},
    }
    if counted:
        update["$inc"] = {"amount_refunded_minor": int(record["amount_minor"])}
    if token is not None:
        update["$pull"] = {"refund_reservations": {"token": token}}
    query = {"_id": payment_id, "refunds.refund_id": {"$ne": record["refund_id"]}}
    return _from_son(_collection().find_one_and_update(query, update, return_document=ReturnDocument.AFTER))


def set_refund_status(payment_id: Any, refund_id: str, status: str) -> Payment | None:
    """Move a recorded, still counted refund to another counted status (``pending`` → ``succeeded``)."""
    query = {
        "_id": payment_id,
        "refunds": {"$elemMatch": {"refund_id": refund_id, "status": {"$nin": list(UNDONE_REFUND_STATUSES)}}},
    }
    update = {"$set": {"refunds.$.status": status, "updated_at": utcnow()}}
    return _from_son(_collection().find_one_and_update(query, update, return_document=ReturnDocument.AFTER))


def undo_refund(
    payment_id: Any, refund_id: str, amount_minor: int, *, status: str, failure_reason: str | None
) -> Payment | None:
    """Mark a counted refund ``failed``/``canceled`` and take its amount back off, once.

    Returns the updated payment for the one caller whose write matched.
    """
    query = {
        "_id": payment_id,
        "refunds": {"$elemMatch": {
            "refund_id": refund_id,
            "amount_minor": amount_minor,
            "status": {"$nin": list(UNDONE_REFUND_STATUSES)},
        }},
    }
    update = {
        "$set": {"refunds.$.status": status, "refunds.$.failure_reason": failure_reason, "updated_at": utcnow()},
        "$inc": {"amount_refunded_minor": -amount_minor},
    }
    return _from_son(_collection().find_one_and_update(query, update, return_document=ReturnDocument.AFTER))


def settle_in_full(payment_id: Any, refund_id: str | None, *, created_at: dt.datetime) -> Payment | None:
    """Count the whole amount as refunded, Stripe having said so without naming every refund.

    When ``refund_id`` is given and not yet recorded, the rest of the amount is
    recorded under it. Returns the updated payment (``None`` if absent).
    """
    remainder = {"$subtract": ["$amount_minor", {"$ifNull": ["$amount_refunded_minor", 0]}]}
    refunds = {"$ifNull": ["$refunds", []]}
    record = {
        "refund_id": {"$literal": refund_id},
        "amount_minor": remainder,
        "reason": None,
        "status": "succeeded",
        "created_at": {"$literal": created_at},
        "failure_reason": None,
    }
    add_record = {"$and": [
        {"$literal": refund_id is not None},
        {"$gt": [remainder, 0]},
        {"$eq": [{"$in": [{"$literal": refund_id}, {"$map": {"input": refunds, "as": "r", "in": "$$r.refund_id"}}]}, False]},
    ]}
    pipeline = [
        {"$set": {
            "refunds": {"$cond": [add_record, {"$concatArrays": [refunds, [record]]}, refunds]},
            "updated_at": {"$literal": utcnow()},
        }},
        {"$set": {"amount_refunded_minor": "$amount_minor"}},
    ]
    return _from_son(
        _collection().find_one_and_update({"_id": payment_id}, pipeline, return_document=ReturnDocument.AFTER)
    )


def note_signal_failure(payment_id: Any, entry: Mapping[str, Any]) -> None:
    """Append a failed receiver of a refund signal to ``signal_failures`` (no re-dispatch flag)."""
    _collection().update_one({"_id": payment_id}, {"$push": {"signal_failures": dict(entry)}})
