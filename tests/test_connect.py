"""Stripe Connect: onboarding, destination-charge tips, held tips paid out once, refunds, history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_skillswap_payments import signals
from django_skillswap_payments.connect_settings import ConnectSettings
from django_skillswap_payments.documents import Payment, PaymentProfile
from django_skillswap_payments.services import connect, transitions
from tests.support.api import BASE, CANCEL_URL, SUCCESS_URL, TIP_HISTORY_URL, TIP_URL, client_for
from tests.support.database import assert_nothing_written, profile_of, snapshot
from tests.support.threads import run_together

pytestmark = pytest.mark.django_db

ONBOARD_URL = BASE + "connect/onboard/"
STATUS_URL = BASE + "connect/status/"
RETURN_URL = "http://testserver/dashboard/get-paid?onboarding=done"
REFRESH_URL = "http://testserver/dashboard/get-paid?onboarding=expired"
CONNECT_ON = {"ENABLED": True, "PLATFORM_FEE_PERCENT": "10", "MINIMUM_FEE_MINOR": 30}


def _with_connect(**connect_settings):
    from django.conf import settings

    return override_settings(
        SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, "CONNECT": {**CONNECT_ON, **connect_settings}}
    )


@pytest.fixture
def connect_on(emulated_stripe, emulator_webhooks):
    with _with_connect():
        yield emulated_stripe


@pytest.fixture
def holding(emulated_stripe, emulator_webhooks):
    with _with_connect(REQUIRE_ONBOARDED_RECIPIENT=False):
        yield emulated_stripe


@pytest.fixture
def paid_out():
    """Every tip_paid_out sent, as (payment id, transfer id)."""
    sent = []

    def receiver(sender, payment, transfer_id, **kwargs):
        sent.append((str(payment.id), transfer_id))

    signals.tip_paid_out.connect(receiver, weak=False)
    yield sent
    signals.tip_paid_out.disconnect(receiver)


@pytest.fixture
def sender(alice):
    return profile_of(alice)


@pytest.fixture
def bob_client(bob):
    return client_for(bob)


def _onboard(client):
    return client.post(ONBOARD_URL, {"refresh_url": REFRESH_URL, "return_url": RETURN_URL}, format="json")


def _onboarded(emulator, client, profile):
    response = _onboard(client)
    assert response.status_code == 200, response.json()
    emulator.complete_onboarding(response.json()["account_id"])
    return PaymentProfile.objects.get(id=profile.id).connect_account_id


def _tip(client, recipient, amount="10.00"):
    return client.post(
        TIP_URL,
        {"to_user_id": str(recipient.id), "amount": amount, "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL},
        format="json",
    )


def _paid_tip(emulator, client, recipient, amount="10.00"):
    response = _tip(client, recipient, amount)
    assert response.status_code == 200, response.json()
    assert emulator.submit_payment(response.json()["session_id"]).succeeded
    return Payment.objects.get(stripe_session_id=response.json()["session_id"])


# -- onboarding -----------------------------------------------------------------------


def test_onboarding_creates_one_account_and_a_link_each_time(connect_on, bob, bob_client):
    first, second = _onboard(bob_client), _onboard(bob_client)

    assert first.status_code == second.status_code == 200
    assert first.json()["account_id"] == second.json()["account_id"]
    assert first.json()["url"] != second.json()["url"]
    assert "/connect/onboard/" in first.json()["url"]
    profile = profile_of(bob)
    assert profile.connect_account_id == first.json()["account_id"]
    (created,) = connect_on.requests_to("POST", "/v1/accounts")
    assert created.idempotency_key == f"skillswap-connect-account-{profile.id}"
    assert created.params["type"] == "express"
    links = connect_on.requests_to("POST", "/v1/account_links")
    assert [link.params["return_url"] for link in links] == [RETURN_URL, RETURN_URL]
    assert links[0].params["refresh_url"] == REFRESH_URL


def test_concurrent_onboarding_gives_one_account(connect_on, bob):
    profile = profile_of(bob)

    race = run_together(
        [lambda: connect.start_onboarding(profile, refresh_url=REFRESH_URL, return_url=RETURN_URL)] * 8
    )

    assert race.errors == []
    assert len({onboarding.account_id for onboarding in race.results}) == 1
    assert len(connect_on.all("account")) == 1
    assert PaymentProfile.objects.get(id=profile.id).connect_account_id == race.results[0].account_id


@pytest.mark.parametrize(
    ("field", "url"),
    [
        ("return_url", "https://evil.example/steal"),
        ("return_url", "javascript:alert(1)"),
        ("refresh_url", "//evil.example/"),
        ("refresh_url", "https://testserver@evil.example/"),
        ("return_url", 42),
        ("refresh_url", None),
    ],
)
def test_onboarding_redirects_are_checked_and_nothing_is_written(connect_on, bob, bob_client, mongo_database, field, url):
    profile_of(bob)
    before = snapshot(mongo_database)
    body = {"refresh_url": REFRESH_URL, "return_url": RETURN_URL, field: url}

    response = bob_client.post(ONBOARD_URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid redirect URL"
    assert_nothing_written(mongo_database, before)
    assert connect_on.requests_to("POST", "/v1/accounts") == []


def test_status_follows_onboarding_through_the_webhook(connect_on, bob, bob_client):
    assert bob_client.get(STATUS_URL).json() == {
        "account_id": None, "details_submitted": False, "charges_enabled": False,
        "payouts_enabled": False, "requirements_due": [],
    }
    account_id = _onboard(bob_client).json()["account_id"]
    pending = bob_client.get(STATUS_URL).json()
    assert pending["account_id"] == account_id
    assert pending["charges_enabled"] is False and "external_account" in pending["requirements_due"]

    connect_on.complete_onboarding(account_id)

    stored = profile_of(bob)
    assert stored.connect_charges_enabled is True and stored.connect_requirements_due == []
    assert bob_client.get(STATUS_URL).json() == {
        "account_id": account_id, "details_submitted": True, "charges_enabled": True,
        "payouts_enabled": True, "requirements_due": [],
    }


def test_an_older_account_report_never_overwrites_a_newer_one(connect_on, bob, bob_client, signed_webhook):
    account_id = _onboard(bob_client).json()["account_id"]
    connect_on.complete_onboarding(account_id)
    synced = profile_of(bob).connect_synced_at
    stale = {**connect_on.get(account_id), "charges_enabled": False, "details_submitted": False}

    response = signed_webhook("account.updated", stale, created=synced - 10)

    assert response.status_code == 200
    assert profile_of(bob).connect_charges_enabled is True


def test_deauthorized_account_is_forgotten_and_onboarding_starts_afresh(connect_on, bob, bob_client):
    first = _onboarded(connect_on, bob_client, profile_of(bob))

    connect_on.deauthorize_account(first)

    assert profile_of(bob).connect_account_id is None
    assert bob_client.get(STATUS_URL).json()["account_id"] is None
    second = _onboard(bob_client).json()["account_id"]
    assert second != first
    keys = [call.idempotency_key for call in connect_on.requests_to("POST", "/v1/accounts")]
    assert keys == [f"skillswap-connect-account-{profile_of(bob).id}", f"skillswap-connect-account-{profile_of(bob).id}-1"]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", [ONBOARD_URL, STATUS_URL, ONBOARD_URL.rstrip("/")])
def test_connect_off_answers_like_any_unknown_path(emulated_stripe, bob_client, anon_client, method, url):
    unknown = getattr(anon_client, method)(BASE + "no/such/endpoint/")
    for client in (bob_client, anon_client):
        response = getattr(client, method)(url)
        assert response.status_code == 404
        assert response.content == unknown.content
    assert emulated_stripe.requests == []


# -- fees -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount_minor", "percent", "minimum", "fee"),
    [
        (1000, "10", 0, 100),
        (1005, "10", 0, 101),   # 100.5 rounds half up
        (1004, "10", 0, 100),   # 100.4 rounds down
        (1015, "2.5", 0, 25),   # 25.375
        (1020, "2.5", 0, 26),   # 25.5 rounds half up
        (100, "2.9", 30, 30),   # the minimum wins over 2.9
        (1100, "2.9", 30, 32),  # 31.9 beats the minimum
        (50, "10", 100, 50),    # never more than the tip: the fee equals it
        (700, "100", 0, 700),
        (700, "0", 0, 0),
        (500, "2.5", 0, 13),    # 500 yen: 12.5 -> 13 (zero-decimal currencies are minor units too)
        (1, "0.1", 0, 0),
    ],
)
def test_platform_fee_rounding(amount_minor, percent, minimum, fee):
    settings = ConnectSettings(enabled=True, fee_percent=Decimal(percent), minimum_fee_minor=minimum)
    assert connect.platform_fee_minor(amount_minor, settings) == fee


def test_fee_in_a_zero_decimal_currency_reaches_stripe(emulated_stripe, emulator_webhooks, alice_client, sender, bob, bob_client):
    from django.conf import settings

    jpy = {
        **settings.SKILLSWAP_PAYMENTS, "CURRENCY": "jpy", "PREMIUM_PRICE": "1500", "TIP_MIN": "100", "TIP_MAX": "100000",
        "CONNECT": {"ENABLED": True, "PLATFORM_FEE_PERCENT": "2.5"},
    }
    with override_settings(SKILLSWAP_PAYMENTS=jpy):
        _onboarded(emulated_stripe, bob_client, profile_of(bob))
        payment = _paid_tip(emulated_stripe, alice_client, profile_of(bob), amount="500")

    (call,) = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert call.params["line_items"][0]["price_data"]["unit_amount"] == 500
    assert call.params["payment_intent_data"]["application_fee_amount"] == 13
    assert payment.application_fee_minor == 13
    assert emulated_stripe.balance(payment.destination_account_id) == {"jpy": 487}


# -- destination charges ------------------------------------------------------------------


def test_tip_to_onboarded_recipient_is_a_destination_charge(connect_on, alice_client, sender, bob, bob_client, paid_out):
    account_id = _onboarded(connect_on, bob_client, profile_of(bob))

    payment = _paid_tip(connect_on, alice_client, profile_of(bob), amount="12.50")

    (call,) = connect_on.requests_to("POST", "/v1/checkout/sessions")
    assert call.params["payment_intent_data"]["transfer_data"] == {"destination": account_id}
    assert call.params["payment_intent_data"]["application_fee_amount"] == 125
    payment.reload()
    assert payment.status == "completed"
    assert payment.destination_account_id == account_id
    assert payment.application_fee_minor == 125
    (charge,) = connect_on.all("charge")
    assert payment.transfer_id == charge["transfer"]
    assert payment.payout_status == "paid_out"
    assert paid_out == [(str(payment.id), charge["transfer"])]
    assert connect_on.balance(account_id) == {"usd": 1125}
    assert connect_on.balance() == {"usd": 125}


def test_transfer_reported_before_completion_is_announced_once(connect_on, alice_client, sender, bob, bob_client, paid_out, signed_webhook):
    _onboarded(connect_on, bob_client, profile_of(bob))
    payment = _paid_tip(connect_on, alice_client, profile_of(bob))
    (charge,) = connect_on.all("charge")

    for _ in range(3):  # redelivered and replayed reports change nothing
        assert signed_webhook("charge.succeeded", charge).status_code == 200
        connect.after_completion(Payment.objects.get(id=payment.id))

    assert paid_out == [(str(payment.id), charge["transfer"])]


def test_tip_to_recipient_not_onboarded_is_refused_and_writes_nothing(connect_on, alice_client, sender, recipient, mongo_database, bob_client):
    _onboard(bob_client)  # an account exists but cannot be paid yet
    before = snapshot(mongo_database)

    response = _tip(alice_client, recipient)

    assert response.status_code == 400
    assert response.json()["error"] == "Recipient cannot receive tips yet"
    assert_nothing_written(mongo_database, before)
    assert connect_on.requests_to("POST", "/v1/checkout/sessions") == []


def test_refund_of_destination_charge_reverses_transfer_and_fee(connect_on, alice_client, sender, bob, bob_client):
    account_id = _onboarded(connect_on, bob_client, profile_of(bob))
    payment = _paid_tip(connect_on, alice_client, profile_of(bob))

    result = transitions.refund_payment(Payment.objects.get(id=payment.id))

    assert result.payment.status == "refunded"
    (refund,) = connect_on.requests_to("POST", "/v1/refunds")
    assert refund.params["reverse_transfer"] is True
    assert refund.params["refund_application_fee"] is True
    assert Payment.objects.get(id=payment.id).payout_status == "reversed"
    assert connect_on.balance(account_id) == {"usd": 0}
    assert connect_on.balance() == {"usd": 0}


# -- held tips ----------------------------------------------------------------------------


def test_held_tip_is_paid_out_exactly_once_by_concurrent_runs(holding, alice_client, sender, bob, bob_client, paid_out):
    payments = [_paid_tip(holding, alice_client, profile_of(bob), amount) for amount in ("10.00", "3.00")]
    for payment in payments:
        payment.reload()
        assert payment.payout_status == "held" and payment.destination_account_id is None
    (call, _) = holding.requests_to("POST", "/v1/checkout/sessions")
    assert "transfer_data" not in call.params["payment_intent_data"]

    call_command("payments_pay_out_held_tips")  # the recipient cannot be paid yet: nothing moves
    assert holding.all("transfer") == [] and paid_out == []

    account_id = _onboarded(holding, bob_client, profile_of(bob))
    race = run_together([lambda: connect.pay_out_held_tips()] * 6)

    assert race.errors == []
    transfers = holding.all("transfer")
    assert sorted(t["amount"] for t in transfers) == [270, 900]  # 10.00 - 1.00 and 3.00 - 0.30 minimum
    assert sorted(paid_out) == sorted((str(p.id), Payment.objects.get(id=p.id).transfer_id) for p in payments)
    assert sum(len(run.paid_out) for run in race.results) == 2
    for payment in payments:
        stored = Payment.objects.get(id=payment.id)
        assert stored.payout_status == "paid_out"
        assert stored.destination_account_id == account_id
    assert holding.balance(account_id) == {"usd": 1170}
    call_command("payments_pay_out_held_tips")
    assert len(holding.all("transfer")) == 2 and len(paid_out) == 2


def test_a_failed_payout_is_released_and_retried(holding, alice_client, sender, bob, bob_client, paid_out):
    payment = _paid_tip(holding, alice_client, profile_of(bob))
    _onboarded(holding, bob_client, profile_of(bob))
    holding.inject_failure("POST", "/v1/transfers", status=500)

    first = connect.pay_out_held_tips()
    second = connect.pay_out_held_tips()

    assert [tip_id for tip_id, _ in first.failed] == [payment.id]
    assert second.paid_out == [payment.id]
    assert len(holding.all("transfer")) == 1 and len(paid_out) == 1


def test_refund_of_paid_out_held_tip_reverses_its_transfer(holding, alice_client, sender, bob, bob_client):
    payment = _paid_tip(holding, alice_client, profile_of(bob))
    account_id = _onboarded(holding, bob_client, profile_of(bob))
    connect.pay_out_held_tips()

    transitions.refund_payment(Payment.objects.get(id=payment.id))

    (refund,) = holding.requests_to("POST", "/v1/refunds")
    assert "reverse_transfer" not in refund.params
    (reversal,) = holding.all("transfer_reversal")
    assert reversal["amount"] == 900
    assert Payment.objects.get(id=payment.id).payout_status == "reversed"
    assert holding.balance(account_id) == {"usd": 0}


# -- history ------------------------------------------------------------------------------


def test_recipient_history_shows_fee_and_payout(connect_on, alice_client, sender, bob, bob_client):
    _onboarded(connect_on, bob_client, profile_of(bob))
    _paid_tip(connect_on, alice_client, profile_of(bob), amount="12.50")

    (received,) = bob_client.get(TIP_HISTORY_URL).json()["tips_received"]
    (sent,) = alice_client.get(TIP_HISTORY_URL).json()["tips_sent"]

    assert received["amount"] == 12.5
    assert received["application_fee"] == 1.25
    assert received["payout_amount"] == 11.25
    assert received["payout_status"] == "paid_out"
    assert sent["payout_status"] == "paid_out"


def test_history_without_connect_keeps_its_shape(emulated_stripe, emulator_webhooks, alice_client, sender, bob, bob_client):
    _paid_tip(emulated_stripe, alice_client, profile_of(bob))

    (received,) = bob_client.get(TIP_HISTORY_URL).json()["tips_received"]

    assert set(received) == {
        "_id", "from_user_id", "to_user_id", "amount", "currency", "status", "message", "created_at", "expires_at",
    }
    (call,) = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert "transfer_data" not in call.params["payment_intent_data"]
    stored = Payment.objects.get()
    assert stored.payout_status is None and stored.application_fee_minor is None


def test_a_transfer_left_by_a_dead_run_is_found_not_repeated(holding, alice_client, sender, bob, bob_client, paid_out):
    import datetime as dt

    from django_skillswap_payments.documents import utcnow
    from django_skillswap_payments.gateway import connect as stripe_connect
    from django_skillswap_payments.repository import connect as connect_store

    payment = _paid_tip(holding, alice_client, profile_of(bob))
    account_id = _onboarded(holding, bob_client, profile_of(bob))
    claimed = connect_store.claim_payout(payment.id, claimed_before=utcnow())
    stripe_connect.create_payout_transfer(claimed, destination=account_id, amount_minor=900)  # then the run dies
    holding.advance_time(25 * 3600)  # long enough for Stripe to forget the idempotency key
    Payment.objects(id=payment.id).update_one(set__payout_claimed_at=utcnow() - dt.timedelta(hours=1))

    run = connect.pay_out_held_tips()

    assert run.paid_out == [payment.id]
    (transfer,) = holding.all("transfer")
    assert Payment.objects.get(id=payment.id).transfer_id == transfer["id"]
    assert paid_out == [(str(payment.id), transfer["id"])]
