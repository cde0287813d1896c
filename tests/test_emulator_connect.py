"""The emulator's Connect resources: accounts, the hosted onboarding page, transfers, balances."""

from __future__ import annotations

import pytest
import stripe

from django_skillswap_payments.testing.emulator import StripeEmulator
from tests.test_emulator_http import call_wsgi

RETURN_URL = "https://site.test/get-paid?returned=1"
REFRESH_URL = "https://site.test/get-paid?expired=1"


@pytest.fixture
def emulator():
    emulator = StripeEmulator(webhook_delivery="sync")
    yield emulator
    emulator.webhooks.stop()


@pytest.fixture
def client(emulator):
    return emulator.stripe_client("sk_test_connect", max_network_retries=0)


def _account(client):
    return client.v1.accounts.create({"type": "express"})


def _link(client, account_id):
    return client.v1.account_links.create(
        {"account": account_id, "type": "account_onboarding", "refresh_url": REFRESH_URL, "return_url": RETURN_URL}
    )


def test_a_new_express_account_cannot_be_paid(client):
    account = _account(client)
    assert account.id.startswith("acct_") and account.type == "express"
    assert (account.charges_enabled, account.payouts_enabled, account.details_submitted) == (False, False, False)
    assert "external_account" in account.requirements.currently_due
    assert client.v1.accounts.retrieve(account.id).id == account.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.accounts.create({"type": "standard"})


def test_onboarding_page_submits_once_and_then_sends_to_refresh(emulator, client):
    account = _account(client)
    app = emulator.wsgi_app()
    path = "/" + _link(client, account.id).url.split("/", 3)[3]

    status, _, html = call_wsgi(app, "GET", path)
    assert status == 200 and b'id="submit-onboarding"' in html and b'id="leave-incomplete"' in html
    status, headers, _ = call_wsgi(app, "POST", path, body=b"outcome=submit",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, headers["Location"]) == (303, RETURN_URL)
    updated = client.v1.accounts.retrieve(account.id)
    assert updated.charges_enabled and updated.payouts_enabled and updated.details_submitted
    (event,) = emulator.events("account.updated")
    assert event["account"] == account.id and event["data"]["previous_attributes"]["charges_enabled"] is False

    # An Account Link is single use: a second visit goes to refresh_url.
    status, headers, _ = call_wsgi(app, "GET", path)
    assert (status, headers["Location"]) == (303, REFRESH_URL)
    assert call_wsgi(app, "GET", "/connect/onboard/no-such-link")[0] == 404


def test_leaving_incomplete_changes_nothing_and_links_expire(emulator, client):
    account = _account(client)
    app = emulator.wsgi_app()
    path = "/" + _link(client, account.id).url.split("/", 3)[3]
    status, headers, _ = call_wsgi(app, "POST", path, body=b"outcome=incomplete",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert (status, headers["Location"]) == (303, RETURN_URL)
    assert client.v1.accounts.retrieve(account.id).charges_enabled is False
    assert emulator.events("account.updated") == []

    stale = "/" + _link(client, account.id).url.split("/", 3)[3]
    emulator.advance_time(301)
    assert call_wsgi(app, "GET", stale)[1]["Location"] == REFRESH_URL


def test_transfers_need_an_onboarded_account_and_funds(emulator, client):
    account = _account(client)
    with pytest.raises(stripe.InvalidRequestError, match="capabilities"):
        client.v1.transfers.create({"amount": 100, "currency": "usd", "destination": account.id})
    emulator.complete_onboarding(account.id)
    with pytest.raises(stripe.InvalidRequestError, match="insufficient available funds"):
        client.v1.transfers.create({"amount": 100, "currency": "usd", "destination": account.id})
    with pytest.raises(stripe.InvalidRequestError, match="No such destination"):
        client.v1.transfers.create({"amount": 100, "currency": "usd", "destination": "acct_missing"})


def test_destination_charge_transfer_fee_reversal_and_balances(emulator, client):
    account = _account(client)
    emulator.complete_onboarding(account.id)
    session = client.v1.checkout.sessions.create({
        "mode": "payment",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 2000, "product_data": {"name": "Tip"}},
                        "quantity": 1}],
        "success_url": "https://site.test/ok", "cancel_url": "https://site.test/no",
        "payment_intent_data": {"transfer_data": {"destination": account.id}, "application_fee_amount": 300},
    })
    intent_id = emulator.submit_payment(session.id).payment_intent
    charge = client.v1.payment_intents.retrieve(intent_id, {"expand": ["latest_charge"]}).latest_charge
    transfer = client.v1.transfers.retrieve(charge.transfer)
    assert (transfer.amount, transfer.destination) == (2000, account.id)
    assert charge.application_fee_amount == 300
    assert emulator.balance() == {"usd": 300} and emulator.balance(account.id) == {"usd": 1700}
    balance = client.v1.balance.retrieve(options={"stripe_account": account.id})
    assert balance.available[0].amount == 1700

    refund = client.v1.refunds.create(
        {"payment_intent": intent_id, "amount": 1000, "reverse_transfer": True, "refund_application_fee": True}
    )

    assert refund.transfer_reversal is not None
    assert client.v1.transfers.retrieve(charge.transfer).amount_reversed == 1000
    assert emulator.balance() == {"usd": 150} and emulator.balance(account.id) == {"usd": 850}


def test_a_fee_above_the_amount_or_an_unknown_destination_is_refused(emulator, client):
    account = _account(client)
    emulator.complete_onboarding(account.id)
    base = {
        "mode": "payment",
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500, "product_data": {"name": "Tip"}},
                        "quantity": 1}],
        "success_url": "https://site.test/ok", "cancel_url": "https://site.test/no",
    }
    for intent_data in (
        {"transfer_data": {"destination": account.id}, "application_fee_amount": 501},
        {"transfer_data": {"destination": "acct_unknown"}},
        {"application_fee_amount": 10},
    ):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.checkout.sessions.create({**base, "payment_intent_data": intent_data})
