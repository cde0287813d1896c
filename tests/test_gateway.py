"""The Stripe gateway: client construction, exact requests, idempotency and error mapping."""

import hashlib
import hmac
import json
import time
from decimal import Decimal

import pytest
import stripe
from bson import ObjectId

from django_skillswap_payments import gateway, repository
from django_skillswap_payments.errors import GatewayError, WebhookVerificationError
from tests.stripe_fake import use_fake_stripe


@pytest.fixture
def fake_stripe(settings):
    yield from use_fake_stripe(settings)


@pytest.fixture
def payment():
    return repository.create_pending_payment(
        transaction_type="tip",
        from_user_id=ObjectId(),
        to_user_id=ObjectId(),
        amount=Decimal("12.34"),
        currency="usd",
    )


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def test_client_uses_settings_never_the_global_key(fake_stripe, payment, settings):
    settings.SKILLSWAP_PAYMENTS = {
        **settings.SKILLSWAP_PAYMENTS,
        "STRIPE_API_BASE": "http://127.0.0.1:12111/",
    }
    session = gateway.create_checkout_session(
        payment, product_name="Tip", success_url="https://a.test/ok", cancel_url="https://a.test/no"
    )
    assert session.id.startswith("cs_test_")
    [call] = fake_stripe.requests
    assert call.url == "http://127.0.0.1:12111/v1/checkout/sessions"
    assert call.headers["Authorization"] == "Bearer sk_test_suite"
    assert call.headers["Stripe-Version"] == "2026-10-28.endive"
    assert stripe.api_key is None


def test_client_is_cached_per_configuration(fake_stripe, settings):
    first = gateway.get_client()
    assert gateway.get_client() is first
    settings.SKILLSWAP_PAYMENTS = {
        **settings.SKILLSWAP_PAYMENTS,
        "STRIPE_SECRET_KEY": "sk_test_other",
    }
    assert gateway.get_client() is not first


def test_missing_key_is_an_auth_error(settings):
    settings.SKILLSWAP_PAYMENTS = {**settings.SKILLSWAP_PAYMENTS, "STRIPE_SECRET_KEY": ""}
    with pytest.raises(GatewayError) as excinfo:
        gateway.get_client()
    assert excinfo.value.kind == "auth"
    assert excinfo.value.as_dict()["message"] == "Please check your Stripe configuration"


def test_checkout_session_parameters(fake_stripe, payment):
    expires = gateway.dt.datetime(2030, 1, 1, tzinfo=gateway.dt.timezone.utc)
    gateway.create_checkout_session(
        payment,
        product_name="A tip",
        success_url="https://a.test/ok",
        cancel_url="https://a.test/no",
        customer_id="cus_1",
        expires_at=expires,
    )
    [call] = fake_stripe.requests
    metadata = {
        "payment_id": str(payment.id),
        "type": "tip",
        "from_user_id": str(payment.from_user_id),
        "to_user_id": str(payment.to_user_id),
    }
    assert call.method == "POST" and call.path == "/v1/checkout/sessions"
    assert call.idempotency_key == f"skillswap-checkout-{payment.id}"
    assert call.params == {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": "1234",
                    "product_data": {"name": "A tip"},
                },
                "quantity": "1",
            }
        ],
        "client_reference_id": str(payment.id),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": "https://a.test/ok",
        "cancel_url": "https://a.test/no",
        "customer": "cus_1",
        "expires_at": str(int(expires.timestamp())),
    }


def test_repeated_create_is_idempotent(fake_stripe, payment):
    first = gateway.create_checkout_session(
        payment, product_name="t", success_url="https://a/", cancel_url="https://a/"
    )
    second = gateway.create_checkout_session(
        payment, product_name="t", success_url="https://a/", cancel_url="https://a/"
    )
    assert first.id == second.id
    assert len(fake_stripe.sessions) == 1


def test_customer_and_refund_and_reads(fake_stripe, payment):
    profile = type("Profile", (), {"id": ObjectId(), "django_user_id": "42"})()
    customer = gateway.create_customer(profile)
    assert customer.id.startswith("cus_")
    customer_call = fake_stripe.requests[-1]
    assert customer_call.idempotency_key == f"skillswap-customer-{profile.id}"
    assert customer_call.params == {
        "metadata": {"profile_id": str(profile.id), "django_user_id": "42"}
    }

    session = gateway.create_checkout_session(
        payment, product_name="t", success_url="https://a/", cancel_url="https://a/"
    )
    assert (
        gateway.retrieve_checkout_session(session.id, expand_payment_intent=True).id == session.id
    )
    assert fake_stripe.requests[-1].params == {"expand": ["payment_intent"]}
    assert gateway.expire_checkout_session(session.id).status == "expired"
    assert fake_stripe.requests[-1].idempotency_key == f"skillswap-expire-{session.id}"
    assert gateway.retrieve_payment_intent("pi_1").id == "pi_1"

    payment.stripe_payment_intent_id = "pi_1"
    gateway.create_refund(payment, reason="not-a-stripe-reason")
    refund_call = fake_stripe.requests[-1]
    assert refund_call.idempotency_key == f"skillswap-refund-{payment.id}"
    assert refund_call.params["payment_intent"] == "pi_1" and "reason" not in refund_call.params


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
def test_error_mapping(fake_stripe, status, error_type, kind, http_status):
    fake_stripe.fail_next(status, error_type, "Something specific")
    with pytest.raises(GatewayError) as excinfo:
        gateway.retrieve_payment_intent("pi_1")
    error = excinfo.value
    assert (error.kind, error.http_status, error.code) == (kind, http_status, f"gateway_{kind}")
    assert error.error == "Stripe error: Something specific"
    assert isinstance(error.__cause__, stripe.StripeError)


def test_network_error_mapping(fake_stripe):
    fake_stripe.fail_network_next()
    with pytest.raises(GatewayError) as excinfo:
        gateway.retrieve_payment_intent("pi_1")
    assert (excinfo.value.kind, excinfo.value.http_status) == ("network", 503)


def test_network_retries_follow_the_setting(fake_stripe, settings, monkeypatch):
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, *a, **k: 0)
    settings.SKILLSWAP_PAYMENTS = {**settings.SKILLSWAP_PAYMENTS, "STRIPE_MAX_NETWORK_RETRIES": 2}
    fake_stripe.fail_network_next(times=2)
    assert gateway.retrieve_payment_intent("pi_1").id == "pi_1"
    assert len(fake_stripe.requests) == 3


EVENT = json.dumps(
    {
        "id": "evt_1",
        "object": "event",
        "type": "checkout.session.completed",
        "data": {"object": {"id": "cs_1", "object": "checkout.session"}},
    }
)


def test_construct_event_tries_each_secret():
    event = gateway.construct_event(
        EVENT, sign(EVENT, "whsec_new"), secrets=["whsec_old", "whsec_new"]
    )
    assert (event.id, event.type) == ("evt_1", "checkout.session.completed")
    event = gateway.construct_event(EVENT.encode(), sign(EVENT, "whsec_test_suite"))
    assert event.id == "evt_1"


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
def test_construct_event_rejects(payload, header, secrets):
    with pytest.raises(WebhookVerificationError):
        gateway.construct_event(payload, header, secrets=secrets)


@pytest.mark.parametrize("body", ["[1, 2, 3]", '"evt_1"', "42", "null", "true", '{"a": NaN}'])
def test_construct_event_refuses_signed_json_that_is_not_an_object(body):
    with pytest.raises(WebhookVerificationError, match="Invalid webhook payload"):
        gateway.construct_event(body, sign(body, "whsec_test_suite"))
    with pytest.raises(WebhookVerificationError, match="Invalid webhook payload"):
        gateway.verify_webhook(body.encode(), sign(body, "whsec_test_suite"))


def test_signature_is_checked_before_the_body_is_parsed():
    # A wrong signature on a body that is not even JSON is reported as a signature problem.
    with pytest.raises(WebhookVerificationError, match="Invalid webhook signature"):
        gateway.construct_event("[not json", sign("[not json", "whsec_wrong"))


def test_verify_webhook_returns_plain_data_and_refuses_non_utf8():
    data = gateway.verify_webhook(EVENT.encode(), sign(EVENT, "whsec_test_suite"))
    assert type(data) is dict and data["id"] == "evt_1"
    body = b'{"id": "evt_\xff"}'
    with pytest.raises(WebhookVerificationError, match="not UTF-8"):
        gateway.verify_webhook(body, sign(body.decode("latin-1"), "whsec_test_suite"))
