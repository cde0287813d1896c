"""Stripe's objects, reduced to the facts this app acts on.

This is the only module that reads Stripe object fields. Each function takes
an object as Stripe sends it — the ``data.object`` dict of a webhook event,
or an object the gateway fetched — and returns a small frozen dataclass, so
webhook handlers and the success-page confirmation reach the same
conclusions from the same fields. Nothing here talks to Stripe or the
database, and nothing raises on a malformed object: a field of the wrong type
is read as absent, and the payment rules decide what an absent fact means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .errors import WebhookVerificationError
from .stripe_currency_facts import ChargedFacts, presentment, session_figures

MAX_EVENT_ID_LENGTH = 255
# An event's type and API version are short words; longer text is not Stripe's and would
# only inflate the event's record.
MAX_EVENT_TEXT_LENGTH = 255


def as_mapping(obj: Any) -> Mapping[str, Any]:
    """A Stripe object as a mapping: dicts as they are, library objects through ``to_dict()``."""
    if isinstance(obj, Mapping):
        return obj
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        data = to_dict()
        if isinstance(data, Mapping):
            return data
    return {}


def stripe_id(value: Any) -> str | None:
    """An id from a Stripe field that holds either the id or the expanded object."""
    if isinstance(value, str):
        return value or None
    if value is None:
        return None
    return stripe_id(as_mapping(value).get("id"))


def timestamp(value: Any) -> dt.datetime | None:
    """A Unix time from Stripe as an aware datetime; ``None`` if absent or out of range."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _short_text(value: Any) -> str | None:
    text = _text(value)
    return text if text is not None and len(text) <= MAX_EVENT_TEXT_LENGTH else None


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


# -- events ------------------------------------------------------------------------


@dataclass(frozen=True)
class StripeEvent:
    """The parts of a Stripe ``event`` the handlers use, plus the full payload."""

    id: str
    type: str
    livemode: bool
    api_version: str | None
    created: int | None
    payload: Mapping[str, Any]
    # The exact JSON text Stripe signed, stored verbatim so any key survives storage.
    body: str | None = None

    @property
    def object(self) -> dict[str, Any]:
        """``data.object``: the Stripe object the event is about."""
        return self.payload["data"]["object"]


def _invalid(message: str) -> WebhookVerificationError:
    return WebhookVerificationError("Invalid webhook payload", message=message)


def event_from_payload(payload: Any, *, body: str | None = None) -> StripeEvent:
    """Check that ``payload`` is shaped like a Stripe event; raise ``WebhookVerificationError`` if not."""
    if not isinstance(payload, dict):
        raise _invalid("The event must be a JSON object")
    event_id, event_type = payload.get("id"), payload.get("type")
    data = payload.get("data")
    if not isinstance(event_id, str) or not event_id or len(event_id) > MAX_EVENT_ID_LENGTH:
        raise _invalid("The event has no valid id")
    if not isinstance(event_type, str) or not event_type or len(event_type) > MAX_EVENT_TEXT_LENGTH:
        raise _invalid("The event has no type")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise _invalid("The event has no data.object")
    created = payload.get("created")
    return StripeEvent(
        id=event_id,
        type=event_type,
        livemode=payload.get("livemode") is True,
        api_version=_short_text(payload.get("api_version")),
        created=created if isinstance(created, int) and not isinstance(created, bool) else None,
        payload=payload,
        body=body,
    )


# -- money objects -----------------------------------------------------------------


@dataclass(frozen=True)
class DiscountFacts:
    """What a Checkout Session says about discounts, as reported (the payment rules judge it).

    ``subtotal_minor`` is ``amount_subtotal`` (the price before discounts) and
    ``discount_minor`` is ``total_details.amount_discount``; the promotion code
    and coupon are those of the first discount Stripe lists.
    """

    subtotal_minor: Any
    discount_minor: Any
    promotion_code_id: str | None
    coupon_id: str | None

    @property
    def reported(self) -> bool:
        """Whether the session names any discount at all (an amount, a code or a coupon)."""
        return self.discount_minor not in (None, 0) or bool(self.promotion_code_id or self.coupon_id)


def _applied_discounts(session: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The discounts applied to a session: the total's breakdown when expanded, else ``discounts``."""
    details = session.get("total_details")
    breakdown = details.get("breakdown") if isinstance(details, Mapping) else None
    listed = breakdown.get("discounts") if isinstance(breakdown, Mapping) else None
    if isinstance(listed, list) and listed:
        return [as_mapping(entry.get("discount")) for entry in listed if isinstance(entry, Mapping)]
    discounts = session.get("discounts")
    return [as_mapping(entry) for entry in discounts] if isinstance(discounts, list) else []


def _coupon_of(discount: Mapping[str, Any]) -> str | None:
    # Recent API versions name the coupon under ``source``; older ones on the discount itself.
    source = as_mapping(discount.get("source"))
    return stripe_id(source.get("coupon")) or stripe_id(discount.get("coupon"))


def session_discount(session: Mapping[str, Any]) -> DiscountFacts:
    details = session.get("total_details")
    applied = _applied_discounts(session)
    first = applied[0] if applied else {}
    return DiscountFacts(
        subtotal_minor=session.get("amount_subtotal"),
        discount_minor=details.get("amount_discount") if isinstance(details, Mapping) else None,
        promotion_code_id=stripe_id(first.get("promotion_code")),
        coupon_id=_coupon_of(first),
    )


@dataclass(frozen=True)
class CheckoutSessionFacts:
    """A Checkout Session. ``amount_minor`` and ``currency`` are as reported (checked later)."""

    id: str | None
    url: str | None
    payment_mode: bool
    # Paid, or nothing to pay (``no_payment_required``: a promotion code took the whole price).
    paid: bool
    # Exactly one of these three is true for a session Stripe reported a known status for.
    open: bool
    expired: bool
    # Checkout finished; unless ``paid``, a delayed payment method is still clearing or failed.
    complete: bool
    amount_minor: Any
    currency: Any
    livemode: bool
    intent_id: str | None
    customer_id: str | None
    # Our payment id, from the session metadata or client_reference_id.
    payment_id: str | None
    success_url: str | None = None
    cancel_url: str | None = None
    expires_at: dt.datetime | None = None
    # Only when the PaymentIntent was expanded: whether its payment is still clearing.
    intent_processing: bool = False
    discount: DiscountFacts = DiscountFacts(None, None, None, None)
    # The customer Checkout created for this session (``customer_creation="always"``), once paid.
    created_customer_id: str | None = None
    # What the buyer was charged when Adaptive Pricing converted the price (see stripe_currency_facts).
    charged: ChargedFacts | None = None


def checkout_session(obj: Any) -> CheckoutSessionFacts:
    session = as_mapping(obj)
    # ``amount_minor``/``currency`` are always the figures in the currency the session was created in.
    figures = session_figures(session)
    discount = session_discount(session)
    if figures.converted_before_2025:
        converted = figures.discount_minor if discount.discount_minor not in (None, 0) else discount.discount_minor
        discount = replace(discount, subtotal_minor=figures.amount_subtotal, discount_minor=converted)
    return CheckoutSessionFacts(
        id=stripe_id(session.get("id")),
        url=_text(session.get("url")),
        payment_mode=session.get("mode") == "payment",
        # A promotion code that takes the whole price completes the session with nothing to pay.
        paid=session.get("payment_status") in ("paid", "no_payment_required"),
        open=session.get("status") == "open",
        expired=session.get("status") == "expired",
        complete=session.get("status") == "complete",
        amount_minor=figures.amount_total,
        currency=figures.currency,
        livemode=session.get("livemode") is True,
        intent_id=stripe_id(session.get("payment_intent")),
        customer_id=stripe_id(session.get("customer")),
        payment_id=_text(_metadata(session).get("payment_id"))
        or _text(session.get("client_reference_id")),
        success_url=_text(session.get("success_url")),
        cancel_url=_text(session.get("cancel_url")),
        expires_at=timestamp(session.get("expires_at")),
        intent_processing=as_mapping(session.get("payment_intent")).get("status") == "processing",
        discount=discount,
        created_customer_id=stripe_id(session.get("customer"))
        if session.get("customer_creation") == "always"
        else None,
        charged=figures.charged,
    )


@dataclass(frozen=True)
class PaymentIntentFacts:
    """A PaymentIntent: what it received (or asked for) and why it last failed."""

    id: str | None
    amount_minor: Any
    currency: Any
    payment_id: str | None
    failure_message: str | None
    # The intent's customer: for a checkout that asked Checkout to create one, that new customer.
    customer_id: str | None = None
    # What the buyer was charged when Adaptive Pricing converted the price (``presentment_details``).
    charged: ChargedFacts | None = None


def payment_intent(obj: Any) -> PaymentIntentFacts:
    intent = as_mapping(obj)
    received = intent.get("amount_received")
    error = intent.get("last_payment_error")
    message = error.get("message") if isinstance(error, Mapping) else None
    return PaymentIntentFacts(
        id=stripe_id(intent.get("id")),
        amount_minor=received if received else intent.get("amount"),
        currency=intent.get("currency"),
        payment_id=_text(_metadata(intent).get("payment_id")),
        failure_message=_text(message),
        customer_id=stripe_id(intent.get("customer")),
        charged=presentment(intent),
    )


@dataclass(frozen=True)
class RefundFacts:
    """A Refund. ``amount_minor`` is ``None`` unless Stripe sent a positive integer."""

    id: str | None
    amount_minor: int | None
    currency: str | None
    # Stripe's: pending, requires_action, succeeded, failed or canceled.
    status: str | None
    reason: str | None
    failure_reason: str | None
    created: dt.datetime | None
    charge_id: str | None
    intent_id: str | None
    # Our payment id, from the metadata the app sends with its refunds.
    payment_id: str | None


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63 else None


def refund(obj: Any) -> RefundFacts:
    data = as_mapping(obj)
    return RefundFacts(
        id=stripe_id(data.get("id")),
        amount_minor=_positive_int(data.get("amount")),
        currency=_short_text(data.get("currency")),
        status=_short_text(data.get("status")),
        reason=_short_text(data.get("reason")),
        failure_reason=_short_text(data.get("failure_reason")),
        created=timestamp(data.get("created")),
        charge_id=stripe_id(data.get("charge")),
        intent_id=stripe_id(data.get("payment_intent")),
        payment_id=_text(_metadata(data).get("payment_id")),
    )


@dataclass(frozen=True)
class ChargeFacts:
    """A Charge, as far as refunds go."""

    id: str | None
    intent_id: str | None
    payment_id: str | None
    fully_refunded: bool
    # The first refund listed on the charge, if the list was included.
    refund_id: str | None
    # What Stripe counts as refunded on the charge (``None`` if not an integer).
    amount_refunded_minor: int | None = None
    # The refunds listed on the charge: included by API versions before 2022-11-15 only.
    refunds: tuple[RefundFacts, ...] = ()


def charge(obj: Any) -> ChargeFacts:
    data = as_mapping(obj)
    refunds = data.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, Mapping) else None
    listed = listed if isinstance(listed, list) else []
    refunded = data.get("amount_refunded")
    return ChargeFacts(
        id=stripe_id(data.get("id")),
        intent_id=stripe_id(data.get("payment_intent")),
        payment_id=_text(_metadata(data).get("payment_id")),
        fully_refunded=data.get("refunded") is True,
        refund_id=stripe_id(listed[0]) if listed else None,
        amount_refunded_minor=refunded if isinstance(refunded, int) and not isinstance(refunded, bool) else None,
        refunds=tuple(refund(item) for item in listed if isinstance(item, Mapping)),
    )


# -- legacy subscriptions -------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionFacts:
    """A (legacy) Stripe subscription, as the ``subscriptions`` collection mirrors it."""

    id: str | None
    status: str | None
    customer_id: str | None
    # The user named in the subscription's metadata, for subscriptions without a known customer.
    metadata_user_id: Any
    current_period_start: dt.datetime | None
    current_period_end: dt.datetime | None
    cancel_at_period_end: bool


def _billing_period(subscription: Mapping[str, Any], name: str) -> dt.datetime | None:
    # Recent API versions moved the billing period from the subscription to its items.
    value = timestamp(subscription.get(name))
    if value is None:
        items = subscription.get("items")
        data = items.get("data") if isinstance(items, Mapping) else None
        if isinstance(data, list) and data and isinstance(data[0], Mapping):
            value = timestamp(data[0].get(name))
    return value


def subscription(obj: Any, *, deleted: bool = False) -> SubscriptionFacts:
    """``deleted`` marks a ``customer.subscription.deleted`` event: the status is ``canceled``."""
    data = as_mapping(obj)
    return SubscriptionFacts(
        id=stripe_id(data.get("id")),
        status="canceled" if deleted else _text(data.get("status")),
        customer_id=stripe_id(data.get("customer")),
        metadata_user_id=_metadata(data).get("user_id"),
        current_period_start=_billing_period(data, "current_period_start"),
        current_period_end=_billing_period(data, "current_period_end"),
        cancel_at_period_end=data.get("cancel_at_period_end") is True,
    )
