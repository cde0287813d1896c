"""POST premium/create-checkout/: the legacy contract and its error cases."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_skillswap_payments.documents import Payment, PaymentProfile
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, client_for
from tests.support.config import payments_config
from tests.support.database import assert_nothing_written, pending_payment, profile_of, snapshot
from tests.support.stripe_objects import line_items, session_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db

BODY = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
STRIPE_HINT = "Please check your Stripe configuration"


def _start(client, body=BODY):
    return client.post(PREMIUM_URL, body, format="json")


def test_creates_a_checkout_session_with_exact_parameters(emulated_stripe, alice, alice_client):
    response = _start(alice_client)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"session_id", "url", "reused", "success_url", "cancel_url"}
    assert body["reused"] is False
    assert (body["success_url"], body["cancel_url"]) == (SUCCESS_URL + "?session_id={CHECKOUT_SESSION_ID}", CANCEL_URL)
    assert body["session_id"].startswith("cs_test_")
    assert body["url"].endswith(f"/c/pay/{body['session_id']}")

    payment = Payment.objects.get(stripe_session_id=body["session_id"])
    profile = PaymentProfile.objects.get(django_user_id=str(alice.pk))
    assert payment.status == "pending"
    assert payment.transaction_type == "premium"
    assert payment.from_user_id == profile.id
    assert payment.to_user_id is None
    assert payment.amount_minor == 999
    assert payment.currency == "usd"

    assert emulated_stripe.requests_to("POST", "/v1/customers") == []
    (session_call,) = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert session_call.idempotency_key == f"skillswap-checkout-{payment.id}"
    tags = {"payment_id": str(payment.id), "type": "premium", "from_user_id": str(profile.id)}
    assert session_call.params == {
        "mode": "payment",
        "line_items": line_items(),
        "client_reference_id": str(payment.id),
        "metadata": tags,
        "payment_intent_data": {"metadata": tags},
        "success_url": SUCCESS_URL + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": CANCEL_URL,
        "customer_creation": "always",
        "adaptive_pricing": {"enabled": False},
    }


def test_placeholder_in_success_url_is_passed_through(emulated_stripe, alice_client):
    success = "http://testserver/done?sid={CHECKOUT_SESSION_ID}&from=premium"
    response = _start(alice_client, {"success_url": success, "cancel_url": CANCEL_URL})

    assert response.status_code == 200
    (call,) = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert call.params["success_url"] == success


def test_repeated_start_returns_the_open_session(emulated_stripe, alice_client):
    first = _start(alice_client).json()
    second = _start(alice_client).json()

    assert (first["reused"], second["reused"]) == (False, True)
    assert {**first, "reused": True} == second
    assert len(emulated_stripe.requests_to("POST", "/v1/checkout/sessions")) == 1
    assert Payment.objects.count() == 1


def test_user_with_premium_gets_400_and_nothing_happens(emulated_stripe, alice, alice_client, mongo_database):
    payment = pending_payment(profile_of(alice))
    deliver(alice_client, "checkout.session.completed", session_object(payment))
    before = snapshot(mongo_database)

    response = _start(alice_client)

    assert response.status_code == 400
    assert response.json() == {"error": "User already has premium access"}
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)


def test_missing_profile_gives_the_legacy_404_when_profiles_are_not_created(
    emulated_stripe, alice_client, mongo_database
):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(CREATE_PROFILES=False)):
        response = _start(alice_client)

    assert response.status_code == 404
    assert response.json() == {
        "error": "User not found in MongoDB",
        "message": "Please ensure your profile is properly set up",
    }
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        ({"status": 401, "error_type": "invalid_request_error", "message": "Invalid API Key provided"}, 500),
        ({"status": 500, "error_type": "api_error", "message": "Something went wrong"}, 502),
        ({"network": True, "message": "connection reset"}, 503),
    ],
)
def test_stripe_failures_give_the_legacy_error_shape(emulated_stripe, alice_client, mongo_database, failure, status):
    emulated_stripe.inject_failure("POST", "/v1/checkout/sessions", **failure)

    response = _start(alice_client)

    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "message"}
    assert body["error"].startswith("Stripe error: ")
    if status != 503:
        assert body["message"] == STRIPE_HINT
        assert failure["message"] in body["error"]
    # The pending payment is removed again, so the user can simply retry.
    assert mongo_database["payments"].count_documents({}) == 0


def test_stripe_rejecting_the_request_is_a_client_error(emulated_stripe, alice_client):
    emulated_stripe.inject_failure(
        "POST", "/v1/checkout/sessions", status=400, error_type="invalid_request_error", message="Not a valid URL"
    )
    response = _start(alice_client)

    assert response.status_code == 400
    assert response.json() == {"error": "Stripe error: Not a valid URL", "message": STRIPE_HINT}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"cancel_url": CANCEL_URL}, "success_url is required"),
        ({"success_url": SUCCESS_URL}, "cancel_url is required"),
        ({"success_url": None, "cancel_url": CANCEL_URL}, "success_url is required"),
        ({"success_url": 5, "cancel_url": CANCEL_URL}, "success_url: Redirect URL must be a non-empty string"),
    ],
)
def test_missing_or_wrongly_typed_urls(emulated_stripe, alice_client, mongo_database, body, message):
    response = _start(alice_client, body)

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid redirect URL", "message": message}
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize("raw", [b"{", b'{"success_url": ', b"null", b"[]", b'"text"', b"\xff"])
def test_malformed_or_non_object_json_is_a_400_json_error(emulated_stripe, alice_client, mongo_database, raw):
    response = alice_client.post(PREMIUM_URL, data=raw, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] in {"Malformed request body", "Invalid request body"}
    assert_nothing_written(mongo_database)


def test_non_json_content_type_is_refused(emulated_stripe, alice_client, mongo_database):
    response = alice_client.post(PREMIUM_URL, BODY)  # multipart form

    assert response.status_code == 415
    assert response.json()["error"] == "Unsupported media type"
    assert_nothing_written(mongo_database)


def test_oversized_body_is_refused(emulated_stripe, alice_client, mongo_database):
    body = {**BODY, "padding": "x" * 70_000}
    response = _start(alice_client, body)

    assert response.status_code == 413
    assert response.json()["error"] == "Request body too large"
    assert_nothing_written(mongo_database)


def test_checkout_creation_is_throttled_per_user(emulated_stripe, alice_client, make_user):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(
        CHECKOUT_THROTTLE_RATE="2/min",
    )):
        assert [_start(alice_client).status_code for _ in range(2)] == [200, 200]
        throttled = _start(alice_client)
        other_user = _start(client_for(make_user()))

    assert throttled.status_code == 429
    assert throttled.json()["error"] == "Too many requests"
    assert int(throttled["Retry-After"]) > 0
    assert other_user.status_code == 200


def test_throttle_rate_none_turns_the_limit_off(emulated_stripe, alice_client):
    # The documented way to disable throttling; it used to fall back to the 20/min default.
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(CHECKOUT_THROTTLE_RATE=None)):
        statuses = {_start(alice_client).status_code for _ in range(25)}

    assert statuses == {200}


def test_get_is_not_allowed(alice_client):
    response = alice_client.get(PREMIUM_URL)
    assert response.status_code == 405
    assert response.json()["error"] == "Method not allowed"
