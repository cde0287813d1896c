"""Receipt bookkeeping on the payment: who was mailed, and which sends failed.

Each receipt (one per payment and role: ``payer``, ``recipient``) is claimed
with a conditional update before the mail is sent, then confirmed. Of several
processes dispatching the same signal, one claim succeeds; a claim whose
sender died is taken over only after :data:`CLAIM_LEASE`, so a send still in
progress is never repeated.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from bson import ObjectId

from ..documents import Payment, utcnow

# Longer than any mail server takes to accept one message; shorter than an operator waits.
CLAIM_LEASE = dt.timedelta(minutes=10)

ROLES = ("payer", "recipient")


def _field(role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"Unknown receipt role {role!r}")
    return f"receipts_sent.{role}"


def claim_receipt(payment_id: ObjectId, role: str, to: str) -> str | None:
    """Claim the receipt of ``role`` for sending; the claim token, or ``None`` if not ours to send.

    ``None`` when it was sent already or another sender holds a fresh claim
    (tell the two apart with :func:`receipt_state`).
    """
    field = _field(role)
    now = utcnow()
    token = uuid.uuid4().hex
    result = Payment._get_collection().update_one(
        {
            "_id": payment_id,
            "$or": [
                {field: {"$exists": False}},
                {f"{field}.sent_at": None, f"{field}.claimed_at": {"$lt": now - CLAIM_LEASE}},
            ],
        },
        {"$set": {field: {"to": to, "claim": token, "claimed_at": now, "sent_at": None}}},
    )
    return token if result.modified_count == 1 else None


def confirm_receipt(payment_id: ObjectId, role: str, token: str) -> None:
    """Record that the claimed receipt was handed to the mail server."""
    field = _field(role)
    Payment._get_collection().update_one(
        {"_id": payment_id, f"{field}.claim": token},
        {"$set": {f"{field}.sent_at": utcnow()}},
    )


def release_receipt(payment_id: ObjectId, role: str, token: str, *, to: str, error: str) -> None:
    """Give a claim back after a failed send, noting the failure, so a re-dispatch sends it."""
    field = _field(role)
    Payment._get_collection().update_one(
        {"_id": payment_id, f"{field}.claim": token},
        {
            "$unset": {field: ""},
            "$push": {"receipt_failures": {"role": role, "to": to, "error": error, "at": utcnow()}},
        },
    )


def receipt_state(payment_id: ObjectId, role: str) -> dict[str, Any] | None:
    """The stored entry of one receipt (``to``, ``claimed_at``, ``sent_at``), or ``None``."""
    document = Payment._get_collection().find_one(
        {"_id": payment_id}, {"receipts_sent": 1}
    )
    return ((document or {}).get("receipts_sent") or {}).get(role)
