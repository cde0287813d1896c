"""The Stripe gateway: client construction, exact requests, idempotency and error mapping.

Stripe is the testing toolkit's emulator; its recorded requests show exactly
what was sent (decoded parameters, idempotency key, API key and version).
"""

import datetime as dt
import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
import stripe
from bson import ObjectId
from django.test import override_settings

from django_skillswap_payments import gateway, repository
from django_skillswap_payments.errors import GatewayError, WebhookVerificationError
from tests.support.stripe_objects import line_items


@pytest.fixture
def payment():
    return repository.create_pending_payment(
        transaction_type="tip",
        from_user_id=ObjectId(),
        to_user_id=ObjectId(),
        amount=Decimal("12.34"),
        currency="usd",
    )


def tags(payment) -> dict[str, str]:
    return {
        "payment_id": str(payment.id),
        "type": "tip",
        "from_user_id": str(payment.from_user_id),
        "to_user_id": str(payment.to_user_id),
    }


def start_session(payment, **kwargs):
    return gateway.create_checkout_session(
        payment,
        product_name="t",
        success_url="https://a.test/ok",
        cancel_url="https://a.test/no",
        **kwargs,
    )


def paid_intent_id(emulator, payment) -> str:
    """Pay a checkout session for ``payment`` in the emulator; return its PaymentIntent id."""
    outcome = emulator.submit_payment(start_session(payment).id)
    assert outcome.succeeded
    return outcome.payment_intent


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def test_client_uses_settings_never_the_global_key(
    stripe_emulator, stripe_emulator_server, payments_settings, payment
):
    # Over real HTTP: the request can only arrive if the configured API base is
    # used (a trailing slash is tolerated), with the configured key and version.
    configured = {**payments_settings, "STRIPE_API_BASE": stripe_emulator_server.base_url + "/"}
    with override_settings(SKILLSWAP_PAYMENTS=configured):
        session = start_session(payment)
    assert session.id.startswith("cs_test_")
    [call] = stripe_emulator.requests
    assert (call.method, call.path, call.status) == ("POST", "/v1/checkout/sessions", 200)
    assert call.api_key == payments_settings["STRIPE_SECRET_KEY"]
    assert call.stripe_version == "2026-10-28.endive"
    assert stripe.api_key is None


def test_client_is_cached_per_configuration(emulated_stripe, payments_settings):
    first = gateway.get_client()
    assert gateway.get_client() is first
    with override_settings(
        SKILLSWAP_PAYMENTS={**payments_settings, "STRIPE_SECRET_KEY": "sk_test_other"}
    ):
        assert gateway.get_client() is not first


def test_missing_key_is_an_auth_error(settings):
    settings.SKILLSWAP_PAYMENTS = {**settings.SKILLSWAP_PAYMENTS, "STRIPE_SECRET_KEY": ""}
    with pytest.raises(GatewayError) as excinfo:
        gateway.get_client()
    assert excinfo.value.kind == "auth"
    assert excinfo.value.as_dict()["message"] == "Please check your Stripe configuration"


def test_checkout_session_parameters(emulated_stripe, payment):
    customer = emulated_stripe.create_customer({})
    expires = dt.datetime.fromtimestamp(emulated_stripe.now() + 2 * 3600, tz=dt.timezone.utc)
    gateway.create_checkout_session(
        payment,
        product_name="A tip",
        success_url="https://a.test/ok",
        cancel_url="https://a.test/no",
        customer_id=customer["id"],
        expires_at=expires,
    )
    [call] = emulated_stripe.requests
    assert (call.method, call.path, call.status) == ("POST", "/v1/checkout/sessions", 200)
    assert call.idempotency_key == f"skillswap-checkout-{payment.id}"
    assert call.params == {
        "mode": "payment",
        "line_items": line_items(1234, "A tip"),
        "client_reference_id": str(payment.id),
        "metadata": tags(payment),
        "payment_intent_data": {"metadata": tags(payment)},
        "success_url": "https://a.test/ok",
        "cancel_url": "https://a.test/no",
        "customer": customer["id"],
        "expires_at": int(expires.timestamp()),
    }
    session = emulated_stripe.all("checkout.session")[0]
    assert (session["amount_total"], session["currency"], session["customer"]) == (
        1234,
        "usd",
        customer["id"],
    )


def test_repeated_create_is_idempotent(emulated_stripe, payment):
    first = start_session(payment)
    second = start_session(payment)
    assert first.id == second.id
    assert len(emulated_stripe.all("checkout.session")) == 1
    calls = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert [(c.idempotency_key, c.replayed) for c in calls] == [
        (f"skillswap-checkout-{payment.id}", False),
        (f"skillswap-checkout-{payment.id}", True),
    ]


def test_customer_parameters(emulated_stripe):
    profile = type("Profile", (), {"id": ObjectId(), "django_user_id": "42"})()
    customer = gateway.create_customer(profile)
    assert customer.id.startswith("cus_")
    [call] = emulated_stripe.requests_to("POST", "/v1/customers")
    assert call.idempotency_key == f"skillswap-customer-{profile.id}"
    assert call.params == {"metadata": {"profile_id": str(profile.id), "django_user_id": "42"}}
    assert emulated_stripe.get(customer.id)["metadata"] == call.params["metadata"]


def test_retrieve_and_expire_session(emulated_stripe, payment):
    session = start_session(payment)
    assert (
        gateway.retrieve_checkout_session(session.id, expand_payment_intent=True).id == session.id
    )
    [retrieve_call] = emulated_stripe.requests_to("GET", f"/v1/checkout/sessions/{session.id}")
    assert retrieve_call.params == {"expand": ["payment_intent"]}
    assert gateway.expire_checkout_session(session.id).status == "expired"
    [expire_call] = emulated_stripe.requests_to(
        "POST", f"/v1/checkout/sessions/{session.id}/expire"
    )
    assert expire_call.idempotency_key == f"skillswap-expire-{session.id}"
    assert expire_call.params == {}
    assert emulated_stripe.get(session.id)["status"] == "expired"


def test_refund_parameters(emulated_stripe, payment):
    intent_id = paid_intent_id(emulated_stripe, payment)
    payment.stripe_payment_intent_id = intent_id
    refund = gateway.create_refund(payment, reason="not-a-stripe-reason")
    [refund_call] = emulated_stripe.requests_to("POST", "/v1/refunds")
    # The payment, what was refunded before, and the amount: a retry reuses the key, a second refund has its own.
    assert refund_call.idempotency_key == f"skillswap-refund-{payment.id}-0-1234"
    # A reason Stripe does not know is left out rather than sent.
    assert refund_call.params == {"payment_intent": intent_id, "amount": 1234, "metadata": tags(payment)}
    assert emulated_stripe.get(refund.id)["amount"] == 1234


def test_refund_reason_is_sent_when_stripe_knows_it(emulated_stripe, payment):
    payment.stripe_payment_intent_id = paid_intent_id(emulated_stripe, payment)
    gateway.create_refund(payment, reason="requested_by_customer")
    [refund_call] = emulated_stripe.requests_to("POST", "/v1/refunds")
    assert refund_call.params["reason"] == "requested_by_customer"


def test_refund_without_intent_is_refused(payment):
    with pytest.raises(GatewayError) as excinfo:
        gateway.create_refund(payment)
    assert excinfo.value.kind == "invalid_request"


@pytest.mark.parametrize(
    ("status", "error_type", "kind", "http_status"),
    [
        (402, "card_error", "card", 402),
        (400, "invalid_request_error", "invalid_request", 400),
        (404, "invalid_request_error", "invalid_request", 400),
        (401, "invalid_request_error", "auth", 500),
        (403, "invalid_request_error", "auth", 500),
        (429, "rate_limit_error", "api", 502),
        (500, "api_error", "api", 502),
        (400, "idempotency_error", "invalid_request", 400),
    ],
)
def test_error_mapping(emulated_stripe, status, error_type, kind, http_status):
    emulated_stripe.inject_failure(
        "GET",
        "/v1/checkout/sessions/",
        status=status,
        error_type=error_type,
        message="Something specific",
    )
    with pytest.raises(GatewayError) as excinfo:
        gateway.retrieve_checkout_session("cs_1")
    error = excinfo.value
    assert (error.kind, error.http_status, error.code) == (kind, http_status, f"gateway_{kind}")
    assert error.error == "Stripe error: Something specific"
    assert isinstance(error.__cause__, stripe.StripeError)
    assert [c.status for c in emulated_stripe.requests] == [status]


def test_unknown_object_is_an_invalid_request(emulated_stripe):
    with pytest.raises(GatewayError) as excinfo:
        gateway.retrieve_checkout_session("cs_missing")
    assert (excinfo.value.kind, excinfo.value.http_status) == ("invalid_request", 400)
    assert excinfo.value.error == "Stripe error: No such checkout.session: 'cs_missing'"


def test_network_error_mapping(emulated_stripe):
    emulated_stripe.inject_failure("GET", "/v1/checkout/sessions/", network=True)
    with pytest.raises(GatewayError) as excinfo:
        gateway.retrieve_checkout_session("cs_1")
    assert (excinfo.value.kind, excinfo.value.http_status) == ("network", 503)
    assert len(emulated_stripe.requests) == 1  # retries are off in these tests


def test_network_retries_follow_the_setting(
    emulated_stripe, payments_settings, payment, monkeypatch
):
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, *a, **k: 0)
    session_id = start_session(payment).id
    emulated_stripe.inject_failure("GET", "/v1/checkout/sessions/", network=True, times=2)
    with override_settings(
        SKILLSWAP_PAYMENTS={**payments_settings, "STRIPE_MAX_NETWORK_RETRIES": 2}
    ):
        assert gateway.retrieve_checkout_session(session_id).id == session_id
    assert len(emulated_stripe.requests_to("GET", f"/v1/checkout/sessions/{session_id}")) == 3


EVENT = json.dumps(
    {
        "id": "evt_1",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_1", "object": "checkout.session"}},
    }
)


def test_verify_webhook_tries_each_secret():
    event = gateway.verify_webhook(
        EVENT, sign(EVENT, "whsec_new"), secrets=["whsec_old", "whsec_new"]
    )
    assert (event["id"], event["type"]) == ("evt_1", "checkout.session.completed")
    event = gateway.verify_webhook(EVENT.encode(), sign(EVENT, "whsec_test_suite"))
    assert event["id"] == "evt_1"


@pytest.mark.parametrize(
    ("payload", "header", "secrets"),
    [
        (EVENT, sign(EVENT, "whsec_wrong"), None),
        (EVENT, None, None),
        (EVENT, sign(EVENT, "whsec_test_suite", timestamp=int(time.time()) - 3600), None),
        (EVENT, sign(EVENT, "whsec_test_suite"), []),
        ("not json", sign("not json", "whsec_test_suite"), None),
    ],
)
def test_verify_webhook_rejects(payload, header, secrets):
    with pytest.raises(WebhookVerificationError):
        gateway.verify_webhook(payload, header, secrets=secrets)


@pytest.mark.parametrize("body", ["[1, 2, 3]", '"evt_1"', "42", "null", "true", '{"a": NaN}'])
def test_verify_webhook_refuses_signed_json_that_is_not_an_object(body):
    with pytest.raises(WebhookVerificationError, match="Invalid webhook payload"):
        gateway.verify_webhook(body, sign(body, "whsec_test_suite"))
    with pytest.raises(WebhookVerificationError, match="Invalid webhook payload"):
        gateway.verify_webhook(body.encode(), sign(body, "whsec_test_suite"))


def test_signature_is_checked_before_the_body_is_parsed():
    # A wrong signature on a body that is not even JSON is reported as a signature problem.
    with pytest.raises(WebhookVerificationError, match="Invalid webhook signature"):
        gateway.verify_webhook("[not json", sign("[not json", "whsec_wrong"))


def test_verify_webhook_returns_plain_data_and_refuses_non_utf8():
    data = gateway.verify_webhook(EVENT.encode(), sign(EVENT, "whsec_test_suite"))
    assert type(data) is dict and data["id"] == "evt_1"
    body = b'{"id": "evt_\xff"}'
    with pytest.raises(WebhookVerificationError, match="not UTF-8"):
        gateway.verify_webhook(body, sign(body.decode("latin-1"), "whsec_test_suite"))
