"""tip/create/: ``amount`` as a plain decimal string ("12.50") meets the same rules as a number."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from django_skillswap_payments.documents import Payment
from tests.support.api import CANCEL_URL, SUCCESS_URL, TIP_URL
from tests.support.database import assert_nothing_written, profile_of, snapshot

pytestmark = pytest.mark.django_db

FORMAT_ERROR = "amount: Amount must be a number or a decimal string such as 12.50"


@pytest.fixture
def sender(alice):
    return profile_of(alice)


def _tip(client, recipient, amount):
    body = {"to_user_id": str(recipient.id), "amount": amount, "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
    return client.post(TIP_URL, data=json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        ("12.50", 1250),
        ("12.5", 1250),
        ("1", 100),
        ("1.00", 100),
        ("1000", 100000),
        ("1000.00", 100000),
        ("0010.10", 1010),
        ("999.99", 99999),
        ("1.000", 100),
    ],
)
def test_plain_decimal_strings_are_accepted(emulated_stripe, alice_client, sender, recipient, amount, minor):
    response = _tip(alice_client, recipient, amount)

    assert response.status_code == 200, response.json()
    payment = Payment.objects.get()
    assert payment.amount_minor == minor
    assert payment.amount == Decimal(minor) / 100


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0.99", "amount: Amount must be between 1.00 USD and 1000.00 USD"),
        ("1000.01", "amount: Amount must be between 1.00 USD and 1000.00 USD"),
        ("0", "amount: Amount must be greater than zero"),
        ("0.00", "amount: Amount must be greater than zero"),
        ("1.001", "amount: Amount must have at most 2 decimal places"),
        ("10.999", "amount: Amount must have at most 2 decimal places"),
        ("1" + "0" * 400, "amount: Amount is too large"),
        ("9" * 20 + ".5", "amount: Amount is too large"),
    ],
)
def test_strings_meet_the_same_limits_as_numbers(
    emulated_stripe, alice_client, sender, recipient, mongo_database, amount, message
):
    before = snapshot(mongo_database)
    response = _tip(alice_client, recipient, amount)

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid tip amount", "message": message}
    number = _tip(alice_client, recipient, json.loads(amount) if len(amount) < 30 else int(amount.split(".")[0]))
    assert number.json() == response.json()
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)


@pytest.mark.parametrize(
    "amount",
    [
        "", " ", "1e2", "1E2", "1.5e1", "0x10", "NaN", "nan", "Infinity", "-Infinity", "inf",
        "1,000", "1,000.00", "10,50", "1_000", "1 000", "1'000", " 10", "10 ", "\t10", "10\n",
        "+5", "-5", "--5", "+-5", "-0", ".5", "10.", ".", "1.2.3", "1..2", "10.50.", "$10", "10$",
        "10 USD", "ten", "true", "null", "١٢", "۱۲", "１２", "१२", "12\u00a0", "1\u066b5", "12\u200b",
        "12.\u0665\u0660", "\U0001d7e3", "0b101", "0o17", "1/2",
    ],
)
def test_other_strings_are_refused(emulated_stripe, alice_client, sender, recipient, mongo_database, amount):
    before = snapshot(mongo_database)
    response = _tip(alice_client, recipient, amount)

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid tip amount", "message": FORMAT_ERROR}
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)


@pytest.mark.parametrize("amount", [True, False, None, [], ["10"], {"amount": "10"}])
def test_booleans_and_containers_are_still_refused(emulated_stripe, alice_client, sender, recipient, amount):
    response = _tip(alice_client, recipient, amount)

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid tip amount"
    assert emulated_stripe.requests == []

