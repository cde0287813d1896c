"""Completing a paid Checkout Session in one write: find, check and transition together.

The webhook's usual report of a payment (``checkout.session.completed``) names
the session, and the session names the money. One conditional
``findAndModify`` keyed on the session id, whose filter also requires the
status the table allows (:data:`django_skillswap_payments.states.COMPLETE`)
and the stored amount, currency and livemode to equal the reported ones, does
what a read followed by :func:`.payments.transition` did in two commands.

Whenever it matches nothing — a different amount, an already completed
payment, a session stored under another id, a duplicate premium — the caller
takes the careful path (read the payment, tell these cases apart), so this
only makes the common case cheaper and never decides a rare one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ReturnDocument

from ..documents import STATUS_COMPLETED, TRANSACTION_PREMIUM, Payment, utcnow
from ..states import COMPLETE


def _literal(value: Any) -> dict[str, Any]:
    # In an update pipeline a string starting with "$" would be read as a field path.
    return {"$literal": value}


def complete_by_session(
    session_id: str,
    *,
    amount_minor: int,
    currency: str,
    livemode: bool,
    set_fields: Mapping[str, Any] | None = None,
    flag_signal: bool = True,
) -> Payment | None:
    """Complete the payment of ``session_id`` if it awaits exactly this money; ``None`` otherwise.

    The write is the one :func:`.payments.transition` makes for a completion
    (status, ``completed_at``, the checkout slot released, earlier failure
    notes cleared, ``signal_retry_needed`` when ``flag_signal``), and for a
    premium payment it claims the payer's unique ``premium_holder`` key in the
    same write (an update pipeline reads the type and payer from the document
    itself). Raises ``pymongo.errors.DuplicateKeyError`` when that key is
    already held (the payer has premium through another payment).
    """
    now = utcnow()
    assignments: dict[str, Any] = {
        "status": _literal(STATUS_COMPLETED),
        "updated_at": _literal(now),
        COMPLETE.timestamp_field: _literal(now),
        "premium_holder": {
            "$cond": [{"$eq": ["$transaction_type", TRANSACTION_PREMIUM]}, "$from_user_id", "$$REMOVE"]
        },
    }
    if flag_signal:
        assignments["signal_retry_needed"] = _literal(True)
    for field, value in (set_fields or {}).items():
        assignments[field] = _literal(value)
    pipeline = [
        {"$set": assignments},
        {"$unset": ["open_checkout_slot", "failure_reason", "failure_final", "metadata.mismatch"]},
    ]
    query = {
        "stripe_session_id": session_id,
        "status": {"$in": list(COMPLETE.sources)},
        "amount_minor": amount_minor,
        "currency": currency,
        "livemode": bool(livemode),
    }
    document = Payment._get_collection().find_one_and_update(
        query, pipeline, return_document=ReturnDocument.AFTER
    )
    return Payment._from_son(document) if document is not None else None
