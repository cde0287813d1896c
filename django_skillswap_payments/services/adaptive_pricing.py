"""Adaptive Pricing: whether Checkout may charge the buyer a converted price, and reading its reports.

Stripe's Adaptive Pricing lets Checkout show the price converted to the
buyer's local currency and charge that, with an exchange-rate fee the buyer
pays. Whether a Checkout Session uses it is the account's Dashboard setting
unless the session says otherwise (``adaptive_pricing[enabled]``, a parameter
of API versions from ``2024-11-20.acacia``). The app sells at exact prices in
the site's currencies, so every session it opens says so explicitly:
``ADAPTIVE_PRICING`` (default ``False``) is sent as ``adaptive_pricing[enabled]``,
and the Dashboard setting no longer decides what buyers are charged.

A site that turns it on keeps exact money all the same: completion compares
the figures Stripe reports in the site's currency with the stored payment,
and stores what the buyer was charged (``charged_amount_minor``,
``charged_currency``) beside them (:func:`.mismatch.charged_fields`). A
``payment_intent.succeeded`` that reports another currency than the payment's
(the shape of PaymentIntents of sessions converted before 2025-03-31, which say
nothing else about the conversion) cannot be judged from the intent: its
Checkout Session decides (:func:`judge_intent_by_session`).
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .. import stripe_facts
from ..conf import SETTINGS_NAME, payments_settings
from ..documents import STATUS_COMPLETED, Payment
from ..errors import InvalidAmount
from ..money import normalize_currency
from ..states import ALLOWED_PREVIOUS
from .cancellation import fetch_session
from .transitions import TransitionResult, complete_from_session

SETTING = "ADAPTIVE_PRICING"
# The first API version whose Checkout Sessions accept ``adaptive_pricing``.
PARAMETER_SINCE = "2024-11-20"
_VERSION_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class UndecidedCompletion(Exception):
    """A completion report that cannot be judged yet; its webhook fails so Stripe sends it again."""


def adaptive_pricing_enabled() -> bool:
    """``ADAPTIVE_PRICING``: ``True`` or ``False`` (anything else is a configuration error)."""
    value = getattr(payments_settings, SETTING)
    if not isinstance(value, bool):
        raise ImproperlyConfigured(f"{SETTINGS_NAME}[{SETTING!r}] must be True or False, got {value!r}")
    return value


def api_version_accepts_parameter(version: Any = None) -> bool:
    """Whether Checkout Sessions of ``version`` (default: ``STRIPE_API_VERSION``) take the parameter."""
    version = payments_settings.STRIPE_API_VERSION if version is None else version
    date = _VERSION_DATE.match(version) if isinstance(version, str) else None
    # A version that is not dated like Stripe's is not one the app can judge: Stripe answers for it.
    return date is None or date.group() >= PARAMETER_SINCE


def session_setting() -> bool | None:
    """``adaptive_pricing[enabled]`` for a new Checkout Session; ``None`` where the API version lacks it."""
    enabled = adaptive_pricing_enabled()
    return enabled if api_version_accepts_parameter() else None


def judge_intent_by_session(
    payment: Payment, intent: stripe_facts.PaymentIntentFacts, *, livemode: bool
) -> TransitionResult | None:
    """Complete ``payment`` from its Checkout Session when ``intent`` reports an unexplained currency.

    Returns ``None`` (the intent's own figures decide, as for any report) unless
    the payment awaits completion through a Checkout Session and the intent
    names another currency than the payment's. Such an intent may be a payment
    Adaptive Pricing converted, so the session, which reports the site's figures
    beside the converted ones, is asked. Raises
    :class:`UndecidedCompletion` while Stripe does not report the session paid,
    and ``GatewayError`` when Stripe cannot be asked: either way the webhook
    answers 5xx and the event comes again.
    """
    if not payment.stripe_session_id:
        return None
    if payment.status not in ALLOWED_PREVIOUS[STATUS_COMPLETED]:
        return None
    try:
        if normalize_currency(intent.currency) == payment.currency:
            return None
    except InvalidAmount:
        return None  # not a currency at all: a mismatch, not a conversion
    session = fetch_session(payment.stripe_session_id)
    if session is None:
        return None  # Stripe has no such session: nothing but the intent to judge by
    if not session.paid:
        raise UndecidedCompletion(
            f"PaymentIntent {intent.id} reports {intent.currency!r} for payment {payment.id} in "
            f"{payment.currency!r}, and its Checkout Session is not reported paid yet"
        )
    return complete_from_session(payment, session, livemode=livemode)


def check_adaptive_pricing_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``skillswap_payments.E100``: not a boolean; ``W100``: the API version cannot choose per session."""
    if not isinstance(getattr(settings, SETTINGS_NAME, None) or {}, dict):
        return []  # the settings are not a dict at all: E007 says so
    try:
        adaptive_pricing_enabled()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="Use True or False.", id="skillswap_payments.E100")]
    if api_version_accepts_parameter():
        return []
    return [
        checks.Warning(
            f"STRIPE_API_VERSION {payments_settings.STRIPE_API_VERSION!r} predates {PARAMETER_SINCE}: "
            f"Checkout Sessions cannot say whether Adaptive Pricing applies, so {SETTING} is not sent "
            "and the Stripe Dashboard's Adaptive Pricing setting decides what buyers are charged.",
            hint="Use STRIPE_API_VERSION 2024-11-20.acacia or later, or turn Adaptive Pricing off "
            "in the Dashboard (Settings > Payments > Adaptive Pricing).",
            id="skillswap_payments.W100",
        )
    ]
