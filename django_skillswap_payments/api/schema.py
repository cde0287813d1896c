"""OpenAPI description of the payment endpoints, when drf-spectacular is installed.

Everything here degrades to no-ops without drf-spectacular (the optional
``openapi`` extra), so the API itself never depends on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers

try:
    from drf_spectacular.openapi import AutoSchema
    from drf_spectacular.types import OpenApiTypes
    from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
except ImportError:  # pragma: no cover - exercised only without the extra
    AVAILABLE = False
else:
    AVAILABLE = True


def view_schema() -> Any:
    """A schema object for the views: drf-spectacular's when present, DRF's default otherwise.

    Set on the views themselves so the schema works whatever the host's
    ``DEFAULT_SCHEMA_CLASS`` is.
    """
    if AVAILABLE:
        return AutoSchema()
    from rest_framework.schemas import DefaultSchema

    return DefaultSchema()


def field_type(kind: str) -> Callable[[Any], Any]:
    """Declare the OpenAPI type of a custom serializer field (``"number"``, ``"uri"``, ...)."""
    if not AVAILABLE:
        return lambda field_class: field_class
    types = {
        "number": OpenApiTypes.NUMBER,
        "uri": OpenApiTypes.URI,
        "string": OpenApiTypes.STR,
        "datetime": OpenApiTypes.DATETIME,
    }
    return extend_schema_field(types[kind])


def document(**kwargs: Any) -> Callable[[Any], Any]:
    """``extend_schema`` when available, otherwise leave the view method untouched."""
    if not AVAILABLE:
        return lambda method: method

    def decorate(method: Any) -> Any:
        # extend_schema builds on the host's DEFAULT_SCHEMA_CLASS unless the
        # method names a base; naming it keeps the schema independent of that setting.
        method.schema = AutoSchema
        return extend_schema(**kwargs)(method)

    return decorate


def query_parameters(serializer_class: type[serializers.Serializer]) -> list[Any]:
    """The query string of a GET endpoint, documented from its validating serializer."""
    return [serializer_class] if AVAILABLE else []


def header_parameter(name: str, description: str) -> list[Any]:
    """A required request header, documented (nothing without drf-spectacular)."""
    if not AVAILABLE:
        return []
    return [OpenApiParameter(name, str, OpenApiParameter.HEADER, required=True, description=description)]


def only_payments_endpoints(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Preprocessing hook: the schema route describes this app's views only, with their full paths."""
    return [
        endpoint
        for endpoint in endpoints
        if getattr(getattr(endpoint[3], "cls", None), "__module__", "").startswith("django_skillswap_payments.")
    ]


# -- documentation-only response shapes ----------------------------------------------


class ErrorSchema(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField(required=False)


class CheckoutStartSchema(serializers.Serializer):
    session_id = serializers.CharField()
    url = serializers.URLField()


class PremiumPeriodSchema(serializers.Serializer):
    plan_type = serializers.CharField()
    current_period_end = serializers.DateTimeField(allow_null=True)
    current_period_start = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()


class ReceiptSchema(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)
    currency = serializers.CharField()
    completed_at = serializers.DateTimeField(allow_null=True)


class PremiumStatusSchema(serializers.Serializer):
    is_premium = serializers.BooleanField()
    status = serializers.CharField()
    subscription = PremiumPeriodSchema(allow_null=True)
    receipt = ReceiptSchema(required=False)


class TipSchema(serializers.Serializer):
    _id = serializers.CharField()
    from_user_id = serializers.CharField()
    to_user_id = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)
    currency = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()


class TipHistorySchema(serializers.Serializer):
    tips_sent = TipSchema(many=True)
    tips_received = TipSchema(many=True)
    total_sent = serializers.IntegerField()
    total_received = serializers.IntegerField()


class PaymentSchema(TipSchema):
    transaction_type = serializers.CharField()
    to_user_id = serializers.CharField(allow_null=True)
    failure_reason = serializers.CharField(allow_null=True)
    stripe_session_id = serializers.CharField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)


class PaymentPageSchema(serializers.Serializer):
    results = PaymentSchema(many=True)
    next_before = serializers.CharField(allow_null=True)


class CheckoutStatusSchema(serializers.Serializer):
    session_id = serializers.CharField()
    status = serializers.CharField()
    transaction_type = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=False)
    currency = serializers.CharField()


class WebhookEventDataSchema(serializers.Serializer):
    object = serializers.DictField(help_text="The Stripe object the event is about.")


class WebhookEventSchema(serializers.Serializer):
    """The body Stripe sends: an ``event`` object (only the fields the app reads are listed)."""

    id = serializers.CharField(max_length=255)
    type = serializers.CharField()
    data = WebhookEventDataSchema()  # type: ignore[assignment]  # a declared field, not Serializer.data
    created = serializers.IntegerField(required=False)
    livemode = serializers.BooleanField(required=False)
    api_version = serializers.CharField(required=False, allow_null=True)


class WebhookAckSchema(serializers.Serializer):
    status = serializers.CharField()


def errors(*statuses: int) -> dict[int, type[serializers.Serializer]]:
    return dict.fromkeys(statuses, ErrorSchema)
