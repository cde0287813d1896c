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
        "/api/payments/payments/",
        "/api/payments/payments/history/",
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
