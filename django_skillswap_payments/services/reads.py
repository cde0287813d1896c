"""What a user may read about their payments: premium status and histories.

Reads never create anything. A user without a payment profile (``None``
here, see :func:`django_skillswap_payments.users.existing_profile`) simply has
no payments yet and gets the empty answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..documents import STATUS_COMPLETED, STATUS_REFUNDED, Payment, as_aware
from ..money import from_minor_units
from ..repository import history
from ..repository import premium_status as premium_store

EMPTY_PREMIUM_STATUS: dict[str, Any] = {"is_premium": False, "status": "none", "subscription": None}
EMPTY_TIP_HISTORY: dict[str, Any] = {
    "tips_sent": [],
    "tips_received": [],
    "total_sent": 0,
    "total_received": 0,
    "totals_by_currency": [],
}
# Received tips the recipient sees: unpaid checkouts never put text in front of them.
RECEIVED_TIP_STATUSES = (STATUS_COMPLETED, STATUS_REFUNDED)


def is_premium(profile: Any) -> bool:
    """Whether the profile has a completed premium payment or an active legacy subscription."""
    facts = premium_store.premium_facts(profile.id)
    return facts.payment is not None or facts.subscription is not None


def get_premium_status(profile: Any | None, *, with_receipt: bool = False) -> dict[str, Any]:
    """Premium status in the legacy shape ``{is_premium, status, subscription}``.

    With ``with_receipt``, a user who paid for premium also gets ``receipt``
    (``{amount, currency, completed_at}``, the amount an exact ``Decimal``),
    read with the same command; users who are premium through a legacy
    subscription have none. Datetimes are aware UTC ``datetime`` objects.
    """
    if profile is None:
        return dict(EMPTY_PREMIUM_STATUS)
    status = premium_status_from(premium_store.premium_facts(profile.id))
    if not with_receipt:
        status.pop("receipt", None)
    return status


def premium_status_from(facts: premium_store.PremiumFacts) -> dict[str, Any]:
    """The status (with ``receipt`` when paid) that the documents of :class:`PremiumFacts` make."""
    payment, legacy = facts.payment, facts.subscription
    if payment is not None:
        return {
            "is_premium": True,
            "status": "active",
            "subscription": {
                "plan_type": "premium",
                "current_period_end": None,
                "current_period_start": as_aware(payment.completed_at),
                "cancel_at_period_end": False,
            },
            "receipt": {
                "amount": payment.exact_amount,
                "currency": payment.currency,
                "completed_at": as_aware(payment.completed_at),
            },
        }
    if legacy is not None:
        return {
            "is_premium": True,
            "status": legacy.status,
            "subscription": {
                "plan_type": legacy.plan_type or "premium",
                "current_period_end": as_aware(legacy.current_period_end),
                "current_period_start": as_aware(legacy.current_period_start),
                "cancel_at_period_end": bool(legacy.cancel_at_period_end),
            },
        }
    return dict(EMPTY_PREMIUM_STATUS)


def get_tip_history(
    profile: Any | None, *, limit: int = history.DEFAULT_PAGE_SIZE, before: Any = None
) -> dict[str, Any]:
    """Tips sent and received, newest first, as ``{tips_sent, tips_received, total_sent,
    total_received, totals_by_currency}``.

    Sent tips include every status (the sender sees abandoned attempts);
    received tips include only completed and refunded ones. ``before`` is the
    id of the last tip of the previous page (applied to both lists). The first
    page carries the totals (all matching tips, not just this page), with
    ``totals_by_currency`` splitting them by currency
    (:func:`tip_totals_by_currency`); later pages carry ``None`` instead, so
    paging through a long history never counts it again. An unknown ``before``
    is ignored: the answer is the first page.
    """
    if profile is None:
        return {**EMPTY_TIP_HISTORY, "tips_sent": [], "tips_received": [], "totals_by_currency": []}
    anchor = history.page_anchor(before)
    totals = tip_totals_by_currency(profile.id) if anchor is None else None
    return {
        "tips_sent": history.tips_sent(profile.id, limit=limit, before=anchor),
        "tips_received": history.tips_received(
            profile.id, limit=limit, before=anchor, statuses=RECEIVED_TIP_STATUSES
        ),
        # Counts may be added across currencies; amounts never are.
        "total_sent": sum(entry["count_sent"] for entry in totals) if totals is not None else None,
        "total_received": (
            sum(entry["count_received"] for entry in totals) if totals is not None else None
        ),
        "totals_by_currency": totals,
    }


def tip_totals_by_currency(profile_id: Any) -> list[dict[str, Any]]:
    """One entry per currency the user tipped or was tipped in, sorted by code.

    ``count_sent`` counts the tips sent in every status, ``count_received``
    the completed and refunded tips received (as ``total_sent`` /
    ``total_received`` do); ``amount_sent`` / ``amount_received`` sum the
    completed ones only (the money that moved), as exact ``Decimal`` in that
    currency. Amounts in different currencies are never added together.
    """
    sent, received = history.tip_sums_by_currency(
        profile_id, RECEIVED_TIP_STATUSES, paid_status=STATUS_COMPLETED
    )
    totals = []
    for code in sorted(set(sent) | set(received)):
        count_sent, paid_sent = sent.get(code, (0, 0))
        count_received, paid_received = received.get(code, (0, 0))
        totals.append({
            "currency": code,
            "count_sent": count_sent,
            "amount_sent": from_minor_units(paid_sent, code),
            "count_received": count_received,
            "amount_received": from_minor_units(paid_received, code),
        })
    return totals


def get_payment_history(
    profile: Any | None,
    *,
    transaction_type: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    limit: int = history.DEFAULT_PAGE_SIZE,
    before: Any = None,
) -> list[Payment]:
    """Payments made by ``profile``, newest first, filtered and paginated."""
    if profile is None:
        return []
    return history.payment_history(
        profile.id,
        transaction_type=transaction_type,
        status=status,
        created_from=created_from,
        created_to=created_to,
        limit=limit,
        before=before,
    )
