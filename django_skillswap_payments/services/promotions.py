"""Promotion codes: which checkouts offer them, and when a discounted total is the price.

With ``ALLOW_PROMOTION_CODES`` on, a premium Checkout Session lets the buyer
enter a promotion code; tips never offer one. A pending payment's stored
``amount_minor`` is its list price, so completion judges Stripe's figures
against the payment itself, never against the current settings. A total
below the list price is accepted only when the session's own figures account
for the difference exactly: ``amount_subtotal`` equals the list price, the
discount (``total_details.amount_discount``) is positive and subtotal minus
discount equals the total. Every other difference — and any discount on a
tip — stays a mismatch that grants nothing.

A discounted payment, once completed, holds what was charged in
``amount_minor``/``amount`` and the list price, the discount and the
promotion code and coupon ids in ``list_amount_minor``, ``discount_minor``,
``promotion_code_id`` and ``coupon_id``. A code that takes the whole price
completes with ``payment_status == "no_payment_required"``: no PaymentIntent,
no charge, nothing to refund at Stripe.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .. import stripe_facts
from ..conf import SETTINGS_NAME, payments_settings
from ..documents import Payment
from ..money import from_minor_units, is_minor_amount

SETTING = "ALLOW_PROMOTION_CODES"


def promotion_codes_enabled() -> bool:
    """``ALLOW_PROMOTION_CODES``: ``True`` or ``False`` (anything else is a configuration error)."""
    value = getattr(payments_settings, SETTING)
    if not isinstance(value, bool):
        raise ImproperlyConfigured(f"{SETTINGS_NAME}[{SETTING!r}] must be True or False, got {value!r}")
    return value


def offers_promotion_codes(payment: Payment) -> bool:
    """Whether the Checkout Session of ``payment`` lets the buyer enter a code (premium only)."""
    return payment.is_premium and promotion_codes_enabled()


def list_price_minor(payment: Payment) -> int:
    """The price before any discount: ``amount_minor`` until a discounted completion moved it."""
    return payment.list_amount_minor if payment.list_amount_minor is not None else payment.amount_minor


def completion_fields(
    payment: Payment, amount_minor: Any, discount: stripe_facts.DiscountFacts | None
) -> dict[str, Any] | None:
    """The fields a completion with these figures stores, or ``None`` when the amount is a mismatch.

    ``{}`` for the list price paid in full. For a discount that accounts for
    the difference: what was charged, the list price, the discount and the
    code and coupon ids.
    """
    list_price = list_price_minor(payment)
    if discount is None or not discount.reported:
        return {} if is_minor_amount(amount_minor) and amount_minor == list_price else None
    if not payment.is_premium:
        return None  # tips never take codes: a discount on one is not ours
    discounted = discount.discount_minor
    if discounted == 0 and discount.subtotal_minor in (None, list_price):
        return {} if is_minor_amount(amount_minor) and amount_minor == list_price else None
    accounted = (
        is_minor_amount(amount_minor)
        and is_minor_amount(discounted)
        and discounted > 0
        and is_minor_amount(discount.subtotal_minor)
        and discount.subtotal_minor == list_price
        and list_price - discounted == amount_minor
    )
    if not accounted:
        return None
    return {
        "amount_minor": amount_minor,
        "amount": from_minor_units(amount_minor, payment.currency),
        "list_amount_minor": list_price,
        "discount_minor": discounted,
        "promotion_code_id": discount.promotion_code_id,
        "coupon_id": discount.coupon_id,
    }


def reported_figures(discount: stripe_facts.DiscountFacts | None) -> dict[str, Any]:
    """The discount figures of a report, for the note a mismatch leaves on the payment."""
    if discount is None or not discount.reported:
        return {}
    return {
        "amount_subtotal": discount.subtotal_minor,
        "amount_discount": discount.discount_minor,
        "promotion_code_id": discount.promotion_code_id,
        "coupon_id": discount.coupon_id,
    }


def nothing_charged(payment: Payment) -> bool:
    """A payment a promotion code made free: no PaymentIntent, no money to refund at Stripe."""
    return payment.amount_minor == 0 and not payment.stripe_payment_intent_id


def discount_for_intent(payment: Payment, amount_minor: Any) -> stripe_facts.DiscountFacts | None:
    """The session's discount, when a PaymentIntent reports less than the list price of a premium.

    A PaymentIntent knows only the amount it took; whether a promotion code
    explains a lower one is told by its Checkout Session, asked here. ``None``
    (judge the amount alone) for anything but a lower amount on a premium
    payment while codes are offered, and for sessions Stripe does not know.
    (A session that offered codes before they were turned off is still judged
    by its own ``checkout.session.completed``.) Raises ``GatewayError`` when
    Stripe cannot be asked, so the report is retried.
    """
    lower = is_minor_amount(amount_minor) and amount_minor < list_price_minor(payment)
    if not (lower and payment.stripe_session_id and offers_promotion_codes(payment)):
        return None
    from .cancellation import fetch_session  # cancellation → transitions → here

    session = fetch_session(payment.stripe_session_id)
    return session.discount if session is not None else None


def check_promotion_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``skillswap_payments.E050``: ``ALLOW_PROMOTION_CODES`` is not a boolean."""
    if not isinstance(getattr(settings, SETTINGS_NAME, None) or {}, dict):
        return []  # the settings are not a dict at all: E007 says so
    try:
        promotion_codes_enabled()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="Use True or False.", id="skillswap_payments.E050")]
    return []
