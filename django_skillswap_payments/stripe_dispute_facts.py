"""The Dispute object, read for the dispute events (see :mod:`.stripe_facts` for the rest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .stripe_facts import _metadata, _short_text, _text, as_mapping, stripe_id, timestamp


@dataclass(frozen=True)
class DisputeFacts:
    """A Dispute (``dp_...``) of a charge: how much, why, where it stands, and by when to answer."""

    id: str | None
    charge_id: str | None
    # The disputed charge's PaymentIntent: named on the dispute, or on the charge when expanded.
    intent_id: str | None
    # Our payment id, when the charge was expanded and carries the payment's metadata.
    payment_id: str | None
    amount_minor: int | None
    currency: str | None
    reason: str | None
    status: str | None
    evidence_due_by: dt.datetime | None
    created: dt.datetime | None


def _amount(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def dispute(obj: Any) -> DisputeFacts:
    data = as_mapping(obj)
    charge_obj = as_mapping(data.get("charge"))
    evidence = data.get("evidence_details")
    currency = _short_text(data.get("currency"))
    return DisputeFacts(
        id=stripe_id(data.get("id")),
        charge_id=stripe_id(data.get("charge")),
        intent_id=stripe_id(data.get("payment_intent")) or stripe_id(charge_obj.get("payment_intent")),
        payment_id=_text(_metadata(charge_obj).get("payment_id")),
        amount_minor=_amount(data.get("amount")),
        currency=currency.lower() if currency else None,
        reason=_short_text(data.get("reason")),
        status=_short_text(data.get("status")),
        evidence_due_by=timestamp(evidence.get("due_by")) if isinstance(evidence, Mapping) else None,
        created=timestamp(data.get("created")),
    )
