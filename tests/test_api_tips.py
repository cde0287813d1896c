"""POST tip/create/: amounts, recipients, messages; bad input never writes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bson import ObjectId
from django.test import override_settings

from django_skillswap_payments.documents import Payment
from tests.support.api import CANCEL_URL, SUCCESS_URL, TIP_URL
from tests.support.config import payments_config
from tests.support.database import assert_nothing_written, profile_of, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def sender(alice):
    # Created up front so the "nothing written" checks compare against a stable state.
    return profile_of(alice)


def _body(recipient, **overrides):
    body = {
        "to_user_id": str(recipient.id),
        "amount": 10.0,
        "message": "Thank you for the great session!",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not ...}


def _tip(client, body):
    return client.post(TIP_URL, body, format="json")


def _tip_raw(client, text: str):
    return client.post(TIP_URL, data=text.encode(), content_type="application/json")


def test_creates_tip_checkout(emulated_stripe, alice_client, sender, recipient):
    response = _tip(alice_client, _body(recipient, amount=12.5))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"session_id", "url", "reused", "success_url", "cancel_url"}
    assert body["reused"] is False
    payment = Payment.objects.get(stripe_session_id=body["session_id"])
    assert payment.transaction_type == "tip"
    assert payment.from_user_id == sender.id
    assert payment.to_user_id == recipient.id
    assert payment.amount_minor == 1250
    assert payment.amount == Decimal("12.50")
    assert payment.message == "Thank you for the great session!"
    (call,) = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert call.params["line_items"][0]["price_data"] == {
        "currency": "usd",
        "unit_amount": 1250,
        "product_data": {"name": "SkillSwap Tip"},
    }
    assert call.params["metadata"]["to_user_id"] == str(recipient.id)
    assert call.idempotency_key == f"skillswap-checkout-{payment.id}"


@pytest.mark.parametrize(("raw", "minor"), [("1", 100), ("1.00", 100), ("1000.00", 100000), ("10.10", 1010), ("0.1e2", 1000)])
def test_boundary_and_exact_amounts(emulated_stripe, alice_client, sender, recipient, raw, minor):
    text = (
        f'{{"to_user_id": "{recipient.id}", "amount": {raw}, '
        f'"success_url": "{SUCCESS_URL}", "cancel_url": "{CANCEL_URL}"}}'
    )
    response = _tip_raw(alice_client, text)

    assert response.status_code == 200, response.json()
    assert Payment.objects.get().amount_minor == minor


def test_message_is_optional(emulated_stripe, alice_client, sender, recipient):
    assert _tip(alice_client, _body(recipient, message=...)).status_code == 200
    assert _tip(alice_client, _body(recipient, message=None)).status_code == 200
    assert [p.message for p in Payment.objects] == [None, None]


@pytest.mark.parametrize(
    ("amount_json", "message"),
    [
        ("0.999", "amount: Amount must have at most 2 decimal places"),
        ("1000.001", "amount: Amount must have at most 2 decimal places"),
        ('"1e2"', "amount: Amount must be a number or a decimal string such as 12.50"),
        ("NaN", None),
        ("Infinity", None),
        ("-5", "amount: Amount must not be negative"),
        ("0", "amount: Amount must be greater than zero"),
        ("0.99", "amount: Amount must be between 1.00 USD and 1000.00 USD"),
        ("1000.01", "amount: Amount must be between 1.00 USD and 1000.00 USD"),
        ("1e400", "amount: Amount is too large"),
        ("1" + "0" * 400, "amount: Amount is too large"),
        ("1e-400", "amount: Amount must have at most 2 decimal places"),
        ("true", "amount: Amount must be a number"),
        ("null", "amount is required"),
        ("[10]", "amount: Amount must be a number"),
        ('{"value": 10}', "amount: Amount must be a number"),
    ],
)
def test_invalid_amounts_are_rejected_without_writes(
    emulated_stripe, alice_client, sender, recipient, mongo_database, amount_json, message
):
    before = snapshot(mongo_database)
    text = (
        f'{{"to_user_id": "{recipient.id}", "amount": {amount_json}, '
        f'"success_url": "{SUCCESS_URL}", "cancel_url": "{CANCEL_URL}"}}'
    )
    response = _tip_raw(alice_client, text)

    assert response.status_code == 400
    body = response.json()
    if message is None:  # NaN / Infinity are not JSON at all
        assert body["error"] == "Malformed request body"
    else:
        assert body == {"error": "Invalid tip amount", "message": message}
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)


def test_missing_amount(emulated_stripe, alice_client, sender, recipient, mongo_database):
    before = snapshot(mongo_database)
    response = _tip(alice_client, _body(recipient, amount=...))

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid tip amount", "message": "amount is required"}
    assert_nothing_written(mongo_database, before)


@pytest.mark.parametrize("to_user_id", ["65a1b2c3d4e5f6g7h8i9j0k1", "123", "", 12345, None, "z" * 24, ["a"]])
def test_invalid_recipient_id_format(emulated_stripe, alice_client, sender, recipient, mongo_database, to_user_id):
    before = snapshot(mongo_database)
    response = _tip(alice_client, _body(recipient, to_user_id=to_user_id))

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid user ID format"
    assert_nothing_written(mongo_database, before)


def test_unknown_recipient_is_404(emulated_stripe, alice_client, sender, mongo_database):
    before = snapshot(mongo_database)
    response = _tip(alice_client, _body(sender, to_user_id=str(ObjectId())))

    assert response.status_code == 404
    assert response.json() == {"error": "Recipient user not found"}
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)


def test_unknown_recipient_does_not_even_create_the_senders_profile(emulated_stripe, alice_client, mongo_database):
    response = _tip(alice_client, _body(profile_of_nobody(), to_user_id=str(ObjectId())))

    assert response.status_code == 404
    assert_nothing_written(mongo_database)


def profile_of_nobody():
    class Nobody:
        id = ObjectId()

    return Nobody()


def test_tipping_yourself_is_refused(emulated_stripe, alice_client, sender, mongo_database):
    before = snapshot(mongo_database)
    response = _tip(alice_client, _body(sender))

    assert response.status_code == 400
    assert response.json() == {"error": "You cannot tip yourself"}
    assert_nothing_written(mongo_database, before)


@pytest.mark.parametrize(
    ("message", "detail"),
    [
        ("x" * 501, "message: Message must be at most 500 characters"),
        (42, "message: Message must be text"),
        ("bad \u202e direction", "message: Message contains control characters"),
    ],
)
def test_invalid_messages(emulated_stripe, alice_client, sender, recipient, mongo_database, message, detail):
    before = snapshot(mongo_database)
    response = _tip(alice_client, _body(recipient, message=message))

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid tip message", "message": detail}
    assert_nothing_written(mongo_database, before)


def test_message_limit_follows_the_setting(emulated_stripe, alice_client, sender, recipient):
    config = payments_config(
        TIP_MESSAGE_MAX_LENGTH=5,
    )
    with override_settings(SKILLSWAP_PAYMENTS=config):
        assert _tip(alice_client, _body(recipient, message="12345")).status_code == 200
        assert _tip(alice_client, _body(recipient, message="123456")).status_code == 400


def test_malformed_json(emulated_stripe, alice_client, sender, mongo_database):
    before = snapshot(mongo_database)
    response = _tip_raw(alice_client, '{"to_user_id": ')

    assert response.status_code == 400
    assert response.json()["error"] == "Malformed request body"
    assert_nothing_written(mongo_database, before)


def test_bad_redirect_url_on_tip(emulated_stripe, alice_client, sender, recipient, mongo_database):
    before = snapshot(mongo_database)
    response = _tip(alice_client, _body(recipient, cancel_url="https://evil.example/cancel"))

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid redirect URL"
    assert_nothing_written(mongo_database, before)
