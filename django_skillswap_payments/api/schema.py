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
    from drf_spectacular.utils import extend_schema, extend_schema_field
except ImportError:  # pragma: no cover - exercised only without the extra
    AVAILABLE = False
else:
    AVAILABLE = True


# A request amount: a JSON number, or a plain decimal string (see api.serializers.PLAIN_DECIMAL).
AMOUNT_SCHEMA = {
    "oneOf": [
        {"type": "number"},
        {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$", "example": "12.50"},
    ]
}


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
    types: dict[str, Any] = {
        "amount": AMOUNT_SCHEMA,
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


def only_payments_endpoints(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """Preprocessing hook: the schema route describes this app's views only, with their full paths.

    Each route is described once, in its canonical spelling (with the trailing slash);
    the schema view itself is left out, and so are the Connect endpoints while Connect is off.
    """
    from ..connect_settings import connect_enabled
    from .views import ConnectAPIView, PaymentsAPIView  # the views import this module

    with_connect = connect_enabled()

    def is_payments_view(callback: Any) -> bool:
        view_class = getattr(callback, "cls", None)
        if not isinstance(view_class, type) or not issubclass(view_class, PaymentsAPIView):
            return False
        return with_connect or not issubclass(view_class, ConnectAPIView)

    return [endpoint for endpoint in endpoints if is_payments_view(endpoint[3]) and endpoint[0].endswith("/")]


# -- the webhook ------------------------------------------------------------------------

# The webhook is a plain Django view, which drf-spectacular does not discover;
# its operation is described here and added by :func:`add_webhook_operation`.
WEBHOOK_ROUTE = "webhook/"
WEBHOOK_EVENT_COMPONENT = {
    "type": "object",
    "description": "The body Stripe sends: an event object (only the fields the app reads are listed).",
    "properties": {
        "id": {"type": "string", "maxLength": 255},
        "type": {"type": "string"},
        "data": {
            "type": "object",
            "properties": {
                "object": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "The Stripe object the event is about.",
                }
            },
            "required": ["object"],
        },
        "created": {"type": "integer"},
        "livemode": {"type": "boolean"},
        "api_version": {"type": "string", "nullable": True},
    },
    "required": ["id", "type", "data"],
}


def _error_responses(*statuses: int) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/ErrorSchema"}
    return {str(code): {"content": {"application/json": {"schema": ref}}, "description": ""} for code in statuses}


def add_webhook_operation(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: document ``POST webhook/`` beside the app's other endpoints."""
    from ..urls import urlpatterns

    prefix = None
    routes = [str(pattern.pattern).replace("<str:", "{").replace(">", "}") for pattern in urlpatterns
              if getattr(pattern, "name", None)]
    for path in result.get("paths", {}):
        prefix = next((path[: -len(route)] for route in routes if path.endswith(route)), None)
        if prefix is not None:
            break
    if prefix is None:
        return result
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["WebhookEventSchema"] = WEBHOOK_EVENT_COMPONENT
    components.setdefault("WebhookAckSchema", {
        "type": "object", "properties": {"status": {"type": "string"}}, "required": ["status"],
    })
    result["paths"][prefix + WEBHOOK_ROUTE] = {
        "post": {
            "operationId": "webhook_create",
            "description": "Stripe's signed event notifications. The signature is the only credential.",
            "tags": ["webhook"],
            "parameters": [{
                "in": "header",
                "name": "Stripe-Signature",
                "schema": {"type": "string"},
                "description": "Stripe's signature of the raw body (t=...,v1=...)",
                "required": True,
            }],
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookEventSchema"}}},
                "required": True,
            },
            "security": [],
            "responses": {
                "200": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookAckSchema"}}},
                    "description": "",
                },
                **_error_responses(400, 405, 413, 500, 503),
            },
        }
    }
    result["paths"] = dict(sorted(result["paths"].items()))
    return result


# -- documentation-only response shapes ----------------------------------------------


class ErrorSchema(serializers.Serializer):
    error = serializers.CharField()
    message = serializers.CharField(required=False)


class CheckoutStartSchema(serializers.Serializer):
    session_id = serializers.CharField()
    url = serializers.URLField()
    reused = serializers.BooleanField(help_text="An open checkout of the user was returned again")
    # Plain strings: the success URL carries Stripe's {CHECKOUT_SESSION_ID} placeholder.
    success_url = serializers.CharField(allow_null=True, help_text="The redirect URL the session uses")
    cancel_url = serializers.CharField(allow_null=True, help_text="The cancel URL the session uses")


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


class ConnectOnboardingSchema(serializers.Serializer):
    account_id = serializers.CharField(help_text="The caller's Express account (acct_...)")
    url = serializers.URLField(help_text="Stripe's onboarding page; single use, expires soon")
    expires_at = serializers.DateTimeField(allow_null=True)


class ConnectStatusSchema(serializers.Serializer):
    account_id = serializers.CharField(allow_null=True)
    details_submitted = serializers.BooleanField()
    charges_enabled = serializers.BooleanField()
    payouts_enabled = serializers.BooleanField()
    requirements_due = serializers.ListField(child=serializers.CharField())


def errors(*statuses: int) -> dict[int, type[serializers.Serializer]]:
    return dict.fromkeys(statuses, ErrorSchema)
