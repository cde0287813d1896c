"""The optional OpenAPI schema route."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def test_schema_describes_exactly_the_payment_endpoints(anon_client):
    pytest.importorskip("drf_spectacular", reason="the schema route needs the 'openapi' extra")
    response = anon_client.get("/api/payments/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert sorted(schema["paths"]) == [
        "/api/payments/checkout/{session_id}/",
        "/api/payments/checkout/{session_id}/cancel/",
        "/api/payments/currencies/",
        "/api/payments/payments/",
        "/api/payments/payments/analytics/",
        "/api/payments/payments/disputes/",
        "/api/payments/payments/history/",
        "/api/payments/payments/{payment_id}/refund/",
        "/api/payments/premium/create-checkout/",
        "/api/payments/subscription/status/",
        "/api/payments/tip/create/",
        "/api/payments/tip/history/",
        "/api/payments/webhook/",
    ]
    tip = schema["components"]["schemas"]["TipCheckout"]
    # A JSON number or a plain decimal string ("12.50").
    assert tip["properties"]["amount"]["oneOf"] == [
        {"type": "number"},
        {"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$", "example": "12.50"},
    ]
    assert set(tip["required"]) == {"to_user_id", "amount", "success_url", "cancel_url"}


def test_urls_import_without_drf_spectacular():
    code = (
        "import sys; sys.modules['drf_spectacular'] = None\n"
        "import django; django.setup()\n"
        "from django_skillswap_payments import urls\n"
        "print(sorted(p.name for p in urls.urlpatterns if p.name))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "schema" not in result.stdout
    assert "tip-create" in result.stdout


@pytest.fixture
def anon_client():
    from rest_framework.test import APIClient

    return APIClient()


def test_schema_documents_the_webhook_body_and_signature_header(anon_client):
    pytest.importorskip("drf_spectacular", reason="the schema route needs the 'openapi' extra")
    schema = anon_client.get("/api/payments/schema/", HTTP_ACCEPT="application/json").json()

    webhook = schema["paths"]["/api/payments/webhook/"]["post"]
    assert webhook["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WebhookEventSchema"
    }
    assert {"in": "header", "name": "Stripe-Signature", "required": True}.items() <= webhook["parameters"][0].items()
    assert set(schema["components"]["schemas"]["WebhookEventSchema"]["required"]) == {"id", "type", "data"}
    for path in ("/api/payments/premium/create-checkout/", "/api/payments/tip/create/"):
        # CheckoutInProgress: another checkout of the same user is still being created.
        assert "409" in schema["paths"][path]["post"]["responses"]


def test_checkout_start_urls_are_documented_as_plain_strings(anon_client):
    # The success URL carries Stripe's {CHECKOUT_SESSION_ID} placeholder, which no URI format admits.
    pytest.importorskip("drf_spectacular", reason="the schema route needs the 'openapi' extra")
    schema = anon_client.get("/api/payments/schema/", HTTP_ACCEPT="application/json").json()
    properties = schema["components"]["schemas"]["CheckoutStartSchema"]["properties"]
    for name in ("success_url", "cancel_url"):
        assert properties[name]["type"] == "string" and "format" not in properties[name]


def test_schema_documents_the_connect_endpoints_when_connect_is_on(anon_client):
    pytest.importorskip("drf_spectacular", reason="the schema route needs the 'openapi' extra")
    from django.conf import settings
    from django.test import override_settings

    connect = {"ENABLED": True, "PLATFORM_FEE_PERCENT": "10"}
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, "CONNECT": connect}):
        schema = anon_client.get("/api/payments/schema/", HTTP_ACCEPT="application/json").json()

    onboard = schema["paths"]["/api/payments/connect/onboard/"]["post"]
    assert set(schema["components"]["schemas"]["ConnectOnboard"]["required"]) == {"refresh_url", "return_url"}
    assert "200" in onboard["responses"] and "400" in onboard["responses"]
    status = schema["paths"]["/api/payments/connect/status/"]["get"]["responses"]["200"]
    ref = status["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][ref]["properties"]) == {
        "account_id", "details_submitted", "charges_enabled", "payouts_enabled", "requirements_due",
    }
    received = schema["components"]["schemas"]["Tip"]["properties"]
    assert {"application_fee", "payout_amount", "payout_status"} <= set(received)


def test_schema_documents_the_analytics_report(anon_client):
    pytest.importorskip("drf_spectacular", reason="the schema route needs the 'openapi' extra")
    schema = anon_client.get("/api/payments/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/payments/payments/analytics/"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert set(parameters) == {"from", "to", "granularity", "tz", "top"}
    assert parameters["from"]["required"] and parameters["to"]["required"]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    components = schema["components"]["schemas"]
    report = components["AnalyticsReport"]["properties"]
    assert {"from", "to", "granularity", "timezone", "currencies", "periods", "top_tip_recipients"} == set(report)
    figures = components["CurrencyFigures"]["properties"]
    assert figures["gross"]["type"] == "number" and figures["conversion_rate"].get("nullable") is True


def test_schema_describes_the_refund_endpoint(anon_client):
    pytest.importorskip("drf_spectacular", reason="the schema route needs the 'openapi' extra")
    schema = anon_client.get("/api/payments/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/payments/payments/{payment_id}/refund/"]["post"]
    components = schema["components"]["schemas"]

    assert sorted(operation["responses"]) == ["200", "400", "401", "403", "404", "409", "415", "500", "502", "503"]
    request = components["RefundRequest"]
    assert "required" not in request  # both fields are optional
    assert request["properties"]["amount"]["oneOf"][0] == {"type": "number"}
    assert _enum(components, request["properties"]["reason"]) == ["requested_by_customer", "duplicate", "fraudulent"]
    payment = components["RefundedPayment"]["properties"]
    assert payment["amount_refunded"]["type"] == "number"
    assert payment["refunds"]["items"] == {"$ref": "#/components/schemas/Refund"}
    refund = components["Refund"]["properties"]
    assert _enum(components, refund["status"]) == ["pending", "succeeded", "failed", "canceled"]
    assert refund["amount"]["type"] == "number"


def _enum(components, prop):
    """The values of an enum property, inline or behind the component it refers to."""
    if "enum" in prop:
        return prop["enum"]
    refs = [item["$ref"] for item in prop.get("allOf", []) + prop.get("oneOf", []) if "$ref" in item]
    values = [value for ref in refs for value in components[ref.rsplit("/", 1)[1]]["enum"]]
    return [value for value in values if value is not None]  # NullEnum: the field is nullable


def test_schema_documents_the_staff_disputes_list(anon_client):
    pytest.importorskip("drf_spectacular", reason="the schema route needs the 'openapi' extra")
    schema = anon_client.get("/api/payments/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/payments/payments/disputes/"]["get"]
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert set(parameters) == {"status", "limit", "before"}
    status_schema = parameters["status"]["schema"]
    if "$ref" in status_schema:
        status_schema = schema["components"]["schemas"][status_schema["$ref"].rsplit("/", 1)[-1]]
    assert {"needs_response", "under_review", "won", "lost"} <= set(status_schema["enum"])
    item = schema["components"]["schemas"]["DisputeItem"]["properties"]
    assert {"payment_id", "transaction_type", "from_user_id", "to_user_id", "amount", "currency", "reason",
            "status", "evidence_due_by", "created_at", "closed_at"} <= set(item)
