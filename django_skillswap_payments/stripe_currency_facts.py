"""What Stripe reports about a price it converted to the buyer's currency (Adaptive Pricing).

With Adaptive Pricing, Checkout shows the buyer a price converted to their
local currency and charges that. Stripe reports it in two shapes:

* Checkout Sessions created since 2025-03-31: ``amount_total``/``currency``
  stay in the currency the session was created in (the site's), and
  ``presentment_details`` (``presentment_amount``, ``presentment_currency``)
  tells what the buyer was charged. PaymentIntents, Charges and Refunds carry
  ``presentment_details`` too (API versions from ``2025-03-31.basil``).
* Sessions created before that: ``amount_total``/``currency`` are the
  buyer's currency, and the site's figures are in ``currency_conversion``
  (``amount_total``, ``amount_subtotal``, ``source_currency``), a field API
  versions from ``2025-09-30.clover`` no longer send.

Only :mod:`.stripe_facts` calls this module; like it, nothing here raises on a
malformed object: values are passed on as reported and judged by the payment
rules (:mod:`.services.adaptive_pricing`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChargedFacts:
    """The amount and currency the buyer was charged, as reported (not checked yet)."""

    amount_minor: Any
    currency: Any


@dataclass(frozen=True)
class SessionFigures:
    """A Checkout Session's money in the currency it was created in, and what the buyer paid."""

    amount_total: Any
    currency: Any
    amount_subtotal: Any
    # ``None`` when the session does not say it was converted.
    charged: ChargedFacts | None
    # Before 2025-03-31 the session's ``total_details`` are in the buyer's currency; the
    # discount in the session's own currency is then its subtotal less its total.
    discount_minor: Any = None
    converted_before_2025: bool = False


def presentment(obj: Mapping[str, Any]) -> ChargedFacts | None:
    """``presentment_details`` of a Session, PaymentIntent, Charge or Refund, if reported."""
    details = obj.get("presentment_details")
    if not isinstance(details, Mapping):
        return None
    return ChargedFacts(details.get("presentment_amount"), details.get("presentment_currency"))


def session_figures(session: Mapping[str, Any]) -> SessionFigures:
    legacy = session.get("currency_conversion")
    if isinstance(legacy, Mapping) and legacy.get("source_currency") is not None:
        total, subtotal = legacy.get("amount_total"), legacy.get("amount_subtotal")
        discount = None
        if isinstance(total, int) and isinstance(subtotal, int) and not isinstance(total, bool) \
                and not isinstance(subtotal, bool):
            discount = subtotal - total
        return SessionFigures(
            amount_total=total,
            currency=legacy.get("source_currency"),
            amount_subtotal=subtotal,
            charged=ChargedFacts(session.get("amount_total"), session.get("currency")),
            discount_minor=discount,
            converted_before_2025=True,
        )
    return SessionFigures(
        amount_total=session.get("amount_total"),
        currency=session.get("currency"),
        amount_subtotal=session.get("amount_subtotal"),
        charged=presentment(session),
    )
