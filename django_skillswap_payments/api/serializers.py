"""Request validation and response shapes of the payment endpoints.

Input serializers check the shape of a request: JSON types (an amount is a
JSON number or a plain decimal string such as ``"12.50"``, ``true`` and
``"1e2"`` are refused; ids and URLs must be strings), ids, dates and redirect
URLs. The payment rules (tip limits, message
rules, who may tip whom) are checked once, by the services; their errors are
worded per field like the serializer's own (:meth:`RequestSerializer.field_errors_of_service`).
When a field is invalid, :meth:`RequestSerializer.validated` raises the
matching :class:`~django_skillswap_payments.errors.PaymentError`, so the
client gets the same ``{"error", "message"}`` shape as for any rule violation.

Output serializers render payments the way the legacy API does: ids as
strings, ``amount`` as an exact JSON number in major units, ISO datetimes.
The OpenAPI schema documents them as they are.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, ClassVar

from rest_framework import serializers

from ..conf import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from ..documents import PAYMENT_STATUSES, TRANSACTION_TYPES, as_aware
from ..errors import (
    InvalidAmount,
    InvalidMessage,
    InvalidRecipientId,
    InvalidRedirectUrl,
    PaymentError,
    UnsupportedCurrency,
)
from .connect_serializers import PayoutAmountField
from .currency_serializers import CurrencyCodeField, CurrencyTotalsSerializer
from .date_bounds import DateBoundField, is_date_only
from .fields import (
    AmountField,
    ObjectIdStringField,
    OptionalTextField,
    RedirectURLField,
)
from .schema import field_type

# Stripe ids are short ASCII tokens; anything else cannot be a session of ours.
SESSION_ID_PATTERN = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")


class InvalidRequest(PaymentError):
    """The request body or query string is not what the endpoint expects."""

    code = "invalid_request"
    default_error = "Invalid request"


# -- request serializers -------------------------------------------------------


class RequestSerializer(serializers.Serializer):
    """Base for input serializers: failures become ``PaymentError`` subclasses."""

    # field name -> (error class, error title) raised when that field is invalid
    field_errors: ClassVar[dict[str, tuple[type[PaymentError], str | None]]] = {}
    default_error: ClassVar[str] = "Invalid request"

    # fields whose values the service checks; its errors for them are worded like ours
    service_checked: ClassVar[tuple[str, ...]] = ()

    def validated(self) -> dict[str, Any]:
        if not isinstance(self.initial_data, Mapping):
            # DRF would answer "non_field_errors is required" for null and similar for [] or 42.
            raise InvalidRequest(self.default_error, message="Request body must be a JSON object")
        if self.is_valid():
            return dict(self.validated_data)
        field, detail = next(iter(self.errors.items()))
        error_class, title = self.field_errors.get(field, (InvalidRequest, self.default_error))
        raise error_class(title, message=_describe(field, detail))

    @classmethod
    @contextlib.contextmanager
    def field_errors_of_service(cls) -> Iterator[None]:
        """Word a service's rejection of a field's value the way a rejected field is worded."""
        try:
            yield
        except PaymentError as exc:
            for field in cls.service_checked:
                error_class, title = cls.field_errors[field]
                if type(exc) is error_class:
                    raise error_class(title, message=f"{field}: {exc.error}") from exc
            raise


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
_CURRENCY_ERRORS: dict[str, tuple[type[PaymentError], str | None]] = {
    "currency": (UnsupportedCurrency, "Unsupported currency"),
}


class PremiumCheckoutSerializer(RequestSerializer):
    """Body of ``premium/create-checkout/``: where Stripe sends the user afterwards, in which currency."""

    success_url = RedirectURLField()
    cancel_url = RedirectURLField()
    currency = CurrencyCodeField()

    field_errors = {**_REDIRECT_ERRORS, **_CURRENCY_ERRORS}
    service_checked = ("currency",)
    default_error = "Invalid request body"


class TipCheckoutSerializer(RequestSerializer):
    """Body of ``tip/create/``: recipient, amount, optional message, redirect URLs, optional currency."""

    to_user_id = ObjectIdStringField()
    amount = AmountField()
    message = OptionalTextField()
    success_url = RedirectURLField()
    cancel_url = RedirectURLField()
    currency = CurrencyCodeField()

    field_errors = {
        **_REDIRECT_ERRORS,
        **_CURRENCY_ERRORS,
        "to_user_id": (InvalidRecipientId, None),
        "amount": (InvalidAmount, "Invalid tip amount"),
        "message": (InvalidMessage, None),
    }
    service_checked = ("amount", "message", "currency")
    default_error = "Invalid request body"


class ConnectOnboardSerializer(RequestSerializer):
    """Body of ``connect/onboard/``: where Stripe's onboarding sends the user back to.

    ``return_url`` when the user leaves onboarding (finished or not),
    ``refresh_url`` when the link expired or was used: the page there should
    ask for a new link.
    """

    refresh_url = RedirectURLField()
    return_url = RedirectURLField()

    field_errors = {
        "refresh_url": (InvalidRedirectUrl, None),
        "return_url": (InvalidRedirectUrl, None),
    }
    default_error = "Invalid request body"


class PageQuerySerializer(RequestSerializer):
    """``?limit=&before=``: page size and the id of the last item already shown."""

    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
    )
    before = ObjectIdStringField(required=False)

    default_error = "Invalid query parameter"


class PaymentHistoryQuerySerializer(PageQuerySerializer):
    """Filters of ``payments/history/``.

    ``created_to`` is exclusive as a datetime; as a date it includes that whole
    day, so ``created_from=created_to=<day>`` lists the payments of that day.
    """

    type = serializers.ChoiceField(choices=TRANSACTION_TYPES, required=False, source="transaction_type")
    status = serializers.ChoiceField(choices=PAYMENT_STATUSES, required=False)
    created_from = DateBoundField(required=False)
    created_to = DateBoundField(required=False, date_is_whole_day=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("created_from"), attrs.get("created_to")
        if start is None or end is None:
            return attrs
        # An end given as a date is the next midnight: created_from on that midnight
        # (from=30th, to=29th) is as inverted as any start after the end.
        end_is_day = is_date_only(self.initial_data.get("created_to"))
        if start > end or (end_is_day and start == end):
            raise serializers.ValidationError("created_from must not be after created_to")
        return attrs


def validate_session_id(session_id: str) -> str:
    if not SESSION_ID_PATTERN.match(session_id):
        raise InvalidRequest("Invalid checkout session id")
    return session_id


# -- response serializers ----------------------------------------------------------


@field_type("string")
class IdStringField(serializers.Field):
    """An ``ObjectId`` as its hex string (``None`` stays ``null``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> str | None:
        return str(value) if value else None


@field_type("string")
class TextField(serializers.Field):
    """Optional text, rendered as ``""`` when absent (as the legacy API did)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance: Any) -> str:
        return super().get_attribute(instance) or ""

    def to_representation(self, value: Any) -> str:
        return value


@field_type("number")
class ExactAmountField(serializers.Field):
    """A payment's exact major-unit amount (``10.00``), derived from its minor units."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="exact_amount", **kwargs)

    def to_representation(self, value: Decimal) -> Decimal:
        return value


@field_type("datetime")
class AwareDateTimeField(serializers.Field):
    """A stored datetime, in UTC, rendered as ISO 8601."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: dt.datetime) -> dt.datetime | None:
        return as_aware(value)


PAYOUT_FIELDS = ("application_fee", "payout_amount", "payout_status")


class TipSerializer(serializers.Serializer):
    """A tip in the legacy ``tip/history`` item shape."""

    _id = IdStringField(source="id")
    from_user_id = IdStringField()
    to_user_id = IdStringField(allow_null=True)
    amount = ExactAmountField()
    currency = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    message = TextField()
    created_at = AwareDateTimeField()
    # When the checkout stops taking payments: a pending item past it will not be paid.
    expires_at = AwareDateTimeField(source="checkout_expiry", allow_null=True)
    # Stripe Connect: what the recipient gets of the tip. Present only on tips Connect
    # routed, so items without Connect keep their exact shape.
    application_fee = PayoutAmountField(required=False, help_text="The platform's fee (Connect only)")
    payout_amount = PayoutAmountField(required=False, help_text="What the recipient receives (Connect only)")
    payout_status = serializers.CharField(
        read_only=True, required=False, help_text="destination, held, paid_out or reversed (Connect only)"
    )

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        if not getattr(instance, "payout_status", None):
            for name in PAYOUT_FIELDS:
                data.pop(name, None)
        return data


class PaymentSerializer(TipSerializer):
    """Any payment of the caller, for ``payments/history``."""

    transaction_type = serializers.CharField(read_only=True)
    failure_reason = serializers.CharField(read_only=True, allow_null=True)
    stripe_session_id = serializers.CharField(read_only=True, allow_null=True)
    completed_at = AwareDateTimeField(allow_null=True)
    # What went back to the payer so far (partial refunds keep the payment completed).
    amount_refunded = serializers.SerializerMethodField()

    @field_type("number")
    def get_amount_refunded(self, payment: Any) -> Decimal:
        from ..services.refunds import refunded_amount

        return refunded_amount(payment)


class CheckoutStatusSerializer(serializers.Serializer):
    """Where a Checkout Session's payment stands, for the success page."""

    session_id = serializers.CharField(read_only=True, source="stripe_session_id")
    status = serializers.CharField(read_only=True)
    transaction_type = serializers.CharField(read_only=True)
    amount = ExactAmountField()
    currency = serializers.CharField(read_only=True)


class TipHistorySerializer(serializers.Serializer):
    tips_sent = TipSerializer(many=True, read_only=True)
    tips_received = TipSerializer(many=True, read_only=True)
    # Counted on the first page only (no ``before``); later pages carry null.
    total_sent = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="All tips sent; null on pages after the first."
    )
    total_received = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="All paid tips received; null on pages after the first."
    )
    totals_by_currency = CurrencyTotalsSerializer(
        many=True, read_only=True, allow_null=True, help_text="Per currency; null on pages after the first."
    )


class PaymentPageSerializer(serializers.Serializer):
    results = PaymentSerializer(many=True, read_only=True)
    next_before = serializers.CharField(read_only=True, allow_null=True)


def payment_page(payments: list[Any], *, limit: int) -> dict[str, Any]:
    # A full page may have a successor; its last id is the cursor for the next request.
    next_before = str(payments[-1].id) if payments and len(payments) >= limit else None
    return PaymentPageSerializer({"results": payments, "next_before": next_before}).data
