"""Request validation and response shapes of the payment endpoints.

Input serializers are strict about JSON types: an amount must be a JSON
number (``"10"`` and ``true`` are refused), ids and URLs must be strings.
When a field is invalid, :meth:`RequestSerializer.validated` raises the
matching :class:`~django_skillswap_payments.errors.PaymentError`, so the
client gets the same ``{"error", "message"}`` shape as for any rule violation.

Output serializers render payments the way the reference API does: ids as
strings, ``amount`` as an exact JSON number in major units, ISO datetimes.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import DisallowedHost
from django.http.request import split_domain_port
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from .. import services
from ..conf import payments_settings
from ..documents import PAYMENT_STATUSES, TRANSACTION_TYPES, as_aware
from ..errors import (
    InvalidAmount,
    InvalidMessage,
    InvalidRecipientId,
    InvalidRedirectUrl,
    PaymentError,
)
from ..money import from_minor_units, parse_amount
from ..repository import MAX_PAGE_SIZE
from .schema import field_type

OBJECT_ID_PATTERN = re.compile(r"^[0-9a-fA-F]{24}$")
# Stripe ids are short ASCII tokens; anything else cannot be a session of ours.
SESSION_ID_PATTERN = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")


class InvalidRequest(PaymentError):
    """The request body or query string is not what the endpoint expects."""

    code = "invalid_request"
    default_error = "Invalid request"


# -- redirect URLs -------------------------------------------------------------


def _request_host(request: Any) -> str | None:
    """The host the request came to (without port), if Django accepts it."""
    if request is None:
        return None
    try:
        domain, _port = split_domain_port(request.get_host())
    except DisallowedHost:
        return None
    return domain or None


@field_type("uri")
class RedirectURLField(serializers.Field):
    def to_internal_value(self, data: Any) -> str:
        try:
            return services.validate_redirect_url(
                data, request_host=_request_host(self.context.get("request"))
            )
        except InvalidRedirectUrl as exc:
            raise serializers.ValidationError(exc.error) from None


# -- strict scalar fields ----------------------------------------------------


class StrictStringField(serializers.CharField):
    """A ``CharField`` that refuses numbers and booleans instead of stringifying them."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string")
        return super().to_internal_value(data)


@field_type("string")
class ObjectIdStringField(serializers.Field):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or not OBJECT_ID_PATTERN.match(data.strip()):
            raise serializers.ValidationError("Must be a 24-character hexadecimal ObjectId")
        return data.strip().lower()


@field_type("number")
class TipAmountField(serializers.Field):
    """A JSON number within ``TIP_MIN``..``TIP_MAX`` with at most the currency's decimals."""

    def to_internal_value(self, data: Any) -> Decimal:
        # Strings are refused so "10" and 10 cannot mean different things to different clients.
        if isinstance(data, bool) or not isinstance(data, (int, float, Decimal)):
            raise serializers.ValidationError("Amount must be a number")
        try:
            return parse_amount(
                data,
                currency=payments_settings.currency,
                minimum=payments_settings.tip_min,
                maximum=payments_settings.tip_max,
            )
        except InvalidAmount as exc:
            raise serializers.ValidationError(exc.error) from None


@field_type("string")
class TipMessageField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str | None:
        try:
            return services.clean_tip_message(data)
        except InvalidMessage as exc:
            raise serializers.ValidationError(exc.error) from None


@field_type("datetime")
class DateBoundField(serializers.Field):
    """An ISO 8601 datetime, or a date meaning the start of that day (UTC)."""

    def to_internal_value(self, data: Any) -> dt.datetime:
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be an ISO 8601 date or datetime")
        try:
            value = parse_datetime(data)
            if value is None:
                day = parse_date(data)
                if day is not None:
                    value = dt.datetime.combine(day, dt.time.min)
        except ValueError:
            value = None
        if value is None:
            raise serializers.ValidationError("Must be an ISO 8601 date or datetime")
        if timezone.is_naive(value):
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


# -- request serializers -------------------------------------------------------


class RequestSerializer(serializers.Serializer):
    """Base for input serializers: failures become ``PaymentError`` subclasses."""

    # field name -> (error class, error title) raised when that field is invalid
    field_errors: ClassVar[dict[str, tuple[type[PaymentError], str | None]]] = {}
    default_error: ClassVar[str] = "Invalid request"

    def validated(self) -> dict[str, Any]:
        if self.is_valid():
            return dict(self.validated_data)
        field, detail = next(iter(self.errors.items()))
        error_class, title = self.field_errors.get(field, (InvalidRequest, self.default_error))
        raise error_class(title, message=_describe(field, detail))


def _describe(field: str, detail: Any) -> str:
    item = detail[0] if isinstance(detail, list) and detail else detail
    if getattr(item, "code", None) in ("required", "null", "blank"):
        return f"{field} is required"
    if field in ("non_field_errors", "detail"):
        return str(item)
    return f"{field}: {item}"


_REDIRECT_ERRORS: dict[str, tuple[type[PaymentError], str | None]] = {
    "success_url": (InvalidRedirectUrl, None),
    "cancel_url": (InvalidRedirectUrl, None),
}


class PremiumCheckoutSerializer(RequestSerializer):
    """Body of ``premium/create-checkout/``: where Stripe sends the user afterwards."""

    success_url = RedirectURLField()
    cancel_url = RedirectURLField()

    field_errors = _REDIRECT_ERRORS
    default_error = "Invalid request body"


class TipCheckoutSerializer(RequestSerializer):
    """Body of ``tip/create/``: recipient, amount (a JSON number), optional message, redirect URLs."""

    to_user_id = ObjectIdStringField()
    amount = TipAmountField()
    message = TipMessageField()
    success_url = RedirectURLField()
    cancel_url = RedirectURLField()

    field_errors = {
        **_REDIRECT_ERRORS,
        "to_user_id": (InvalidRecipientId, None),
        "amount": (InvalidAmount, "Invalid tip amount"),
        "message": (InvalidMessage, None),
    }
    default_error = "Invalid request body"


class PageQuerySerializer(RequestSerializer):
    """``?limit=&before=``: page size and the id of the last item already shown."""

    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=50)
    before = ObjectIdStringField(required=False)

    default_error = "Invalid query parameter"


class PaymentHistoryQuerySerializer(PageQuerySerializer):
    """Filters of ``payments/history/``; ``created_to`` is exclusive."""

    type = serializers.ChoiceField(choices=TRANSACTION_TYPES, required=False)
    status = serializers.ChoiceField(choices=PAYMENT_STATUSES, required=False)
    created_from = DateBoundField(required=False)
    created_to = DateBoundField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("created_from"), attrs.get("created_to")
        if start is not None and end is not None and start > end:
            raise serializers.ValidationError("created_from must not be after created_to")
        return attrs


def validate_session_id(session_id: str) -> str:
    if not SESSION_ID_PATTERN.match(session_id):
        raise InvalidRequest("Invalid checkout session id")
    return session_id


# -- response serializers ----------------------------------------------------------


def money(payment: Any) -> Decimal:
    """Exact major-unit amount (``Decimal("10.00")``) from the minor-unit source of truth."""
    return from_minor_units(payment.amount_minor, payment.currency)


def _oid(value: Any) -> str | None:
    return str(value) if value else None


class TipSerializer(serializers.BaseSerializer):
    """A tip in the reference's ``tip/history`` item shape."""

    def to_representation(self, payment: Any) -> dict[str, Any]:
        return {
            "_id": str(payment.id),
            "from_user_id": _oid(payment.from_user_id),
            "to_user_id": _oid(payment.to_user_id),
            "amount": money(payment),
            "currency": payment.currency,
            "status": payment.status,
            "message": payment.message or "",
            "created_at": as_aware(payment.created_at),
        }


class PaymentSerializer(serializers.BaseSerializer):
    """Any payment of the caller, for ``payments/history``."""

    def to_representation(self, payment: Any) -> dict[str, Any]:
        return {
            "_id": str(payment.id),
            "transaction_type": payment.transaction_type,
            "from_user_id": _oid(payment.from_user_id),
            "to_user_id": _oid(payment.to_user_id),
            "amount": money(payment),
            "currency": payment.currency,
            "status": payment.status,
            "message": payment.message or "",
            "failure_reason": payment.failure_reason,
            "stripe_session_id": payment.stripe_session_id,
            "created_at": as_aware(payment.created_at),
            "completed_at": as_aware(payment.completed_at),
        }


class CheckoutStatusSerializer(serializers.BaseSerializer):
    """Where a Checkout Session's payment stands, for the success page."""

    def to_representation(self, payment: Any) -> dict[str, Any]:
        return {
            "session_id": payment.stripe_session_id,
            "status": payment.status,
            "transaction_type": payment.transaction_type,
            "amount": money(payment),
            "currency": payment.currency,
        }


def tip_history(history: dict[str, Any]) -> dict[str, Any]:
    return {
        "tips_sent": TipSerializer(history["tips_sent"], many=True).data,
        "tips_received": TipSerializer(history["tips_received"], many=True).data,
        "total_sent": history["total_sent"],
        "total_received": history["total_received"],
    }


def payment_page(payments: list[Any], *, limit: int) -> dict[str, Any]:
    # A full page may have a successor; its last id is the cursor for the next request.
    next_before = str(payments[-1].id) if payments and len(payments) >= limit else None
    return {"results": PaymentSerializer(payments, many=True).data, "next_before": next_before}


EMPTY_PREMIUM_STATUS: dict[str, Any] = {"is_premium": False, "status": "none", "subscription": None}
EMPTY_TIP_HISTORY: dict[str, Any] = {"tips_sent": [], "tips_received": [], "total_sent": 0, "total_received": 0}
