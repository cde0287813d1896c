"""Judging a completion report against the stored payment, and keeping what it said storable."""

from __future__ import annotations

from typing import Any

from ..documents import Payment
from ..errors import InvalidAmount
from ..money import is_minor_amount, normalize_currency
from ..stripe_currency_facts import ChargedFacts


def storable(value: Any, limit: int = 200) -> Any:
    """A value reported by Stripe, reduced to a scalar that is always safe to store.

    Anything but ``None``/bool/int/str is kept as its (shortened) ``repr``, so a
    malformed report cannot smuggle unstorable keys into ``Payment.metadata``.
    """
    # BSON integers are 64-bit; a bigger one is kept as text.
    if value is None or isinstance(value, bool) or (isinstance(value, int) and -(2**63) <= value < 2**63):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text[:limit]


def mismatched_fields(
    payment: Payment, amount_fields: dict[str, Any] | None, currency: Any, livemode: bool
) -> list[str]:
    """What a completion report disagrees on with the stored payment: amount, currency, livemode."""
    problems = []
    if amount_fields is None:
        problems.append("amount")
    try:
        if normalize_currency(currency) != payment.currency:
            problems.append("currency")
    except InvalidAmount:
        problems.append("currency")
    if bool(livemode) != bool(payment.livemode):
        problems.append("livemode")
    return problems


def charged_fields(site_currency: str, charged: ChargedFacts | None) -> dict[str, Any] | None:
    """The fields recording what the buyer was charged in another currency (Adaptive Pricing).

    Empty when Stripe reports no conversion, or one to ``site_currency`` (the
    payment's own); ``None`` when it reports one whose amount or currency is
    unusable, which is judged a mismatch: a payment charged in another currency
    is never stored without what was charged.
    """
    if charged is None:
        return {}
    amount = charged.amount_minor
    try:
        currency = normalize_currency(charged.currency)
    except InvalidAmount:
        return None
    if not is_minor_amount(amount):
        return None
    if currency == site_currency:
        return {}
    return {"charged_amount_minor": amount, "charged_currency": currency}
