"""A recipient's connected account that Stripe no longer has never leaves them stuck.

The profile keeps the account id Stripe gave it. When Stripe does not have it
any more (deleted, rejected and removed, or made with test keys on a site now
running live keys), every onboarding link, every tip routed to it and every
payout to it used to fail the same way, forever. Now the account is forgotten
as a disconnected one is: onboarding creates a new one, a tip is refused as to
any recipient who cannot be paid yet (or held), a held tip waits.
"""

from __future__ import annotations

import pytest

from django_skillswap_payments.documents import Payment, PaymentProfile
from django_skillswap_payments.services import connect
from tests.support.api import client_for
from tests.support.database import profile_of
from tests.test_connect import STATUS_URL, _onboard, _onboarded, _paid_tip, _tip, _with_connect

pytestmark = pytest.mark.django_db

# An id Stripe never had in this mode, or one it had and lost (deleted at Stripe).
LOSSES = ["made-with-the-other-modes-keys", "deleted-at-stripe"]
SESSION_CREATE = ("POST", "/v1/checkout/sessions")


@pytest.fixture
def connect_on(emulated_stripe, emulator_webhooks):
    with _with_connect():
        yield emulated_stripe


@pytest.fixture
def bob_client(bob):
    return client_for(bob)


@pytest.fixture
def holding(emulated_stripe, emulator_webhooks):
    with _with_connect(REQUIRE_ONBOARDED_RECIPIENT=False):
        yield emulated_stripe


def _lose_account(emulator, profile, how: str, *, onboarded: bool) -> str:
    """Leave ``profile`` naming an account Stripe does not have; its id."""
    if how == "made-with-the-other-modes-keys":
        account_id = "acct_1MadeWithTheTestKeys"
        PaymentProfile.objects(id=profile.id).update_one(
            set__connect_account_id=account_id, set__connect_details_submitted=onboarded,
            set__connect_charges_enabled=onboarded, set__connect_payouts_enabled=onboarded,
        )
        return account_id
    account_id = _onboard_via_api(emulator, profile, onboarded)
    with emulator._lock:
        del emulator._objects[account_id]
        emulator._by_type["account"].remove(account_id)
    return account_id


def _onboard_via_api(emulator, profile, onboarded: bool) -> str:
    onboarding = connect.start_onboarding(profile, refresh_url="https://testserver/r", return_url="https://testserver/d")
    if onboarded:
        emulator.complete_onboarding(onboarding.account_id)
    return onboarding.account_id


def _stored(profile) -> PaymentProfile:
    return PaymentProfile.objects.get(id=profile.id)


# -- onboarding and status ----------------------------------------------------------------


@pytest.mark.parametrize("onboarded", [False, True], ids=["while-onboarding", "after-onboarding"])
@pytest.mark.parametrize("how", LOSSES)
def test_onboarding_replaces_an_account_stripe_does_not_have(connect_on, bob, bob_client, how, onboarded):
    profile = profile_of(bob)
    lost = _lose_account(connect_on, profile, how, onboarded=onboarded)

    response = _onboard(bob_client)

    assert response.status_code == 200, response.content
    new = response.json()["account_id"]
    assert new != lost and connect_on.get(new)["object"] == "account"
    stored = _stored(profile)
    assert stored.connect_account_id == new and stored.connect_charges_enabled is False
    # a new account of its own generation: not the idempotent replay of the lost one
    keys = [call.idempotency_key for call in connect_on.requests_to("POST", "/v1/accounts")]
    assert keys[-1] == f"skillswap-connect-account-{profile.id}-{stored.connect_generation}"
    assert stored.connect_generation >= 1
    # and onboarding goes on with it
    assert _onboard(bob_client).json()["account_id"] == new


@pytest.mark.parametrize("how", LOSSES)
def test_the_status_forgets_an_account_stripe_does_not_have(connect_on, bob, bob_client, how):
    profile = profile_of(bob)
    _lose_account(connect_on, profile, how, onboarded=False)

    response = bob_client.get(STATUS_URL)

    assert response.status_code == 200
    assert response.json() == {
        "account_id": None, "details_submitted": False, "charges_enabled": False,
        "payouts_enabled": False, "requirements_due": [],
    }
    assert _stored(profile).connect_account_id is None


def test_a_status_stripe_cannot_be_asked_about_keeps_the_account(connect_on, bob, bob_client):
    account_id = _onboard(bob_client).json()["account_id"]
    connect_on.inject_failure("GET", f"/v1/accounts/{account_id}", network=True)

    assert bob_client.get(STATUS_URL).json()["account_id"] == account_id
    assert _stored(profile_of(bob)).connect_account_id == account_id


# -- tips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", LOSSES)
def test_a_tip_to_an_account_stripe_does_not_have_is_refused_until_the_recipient_onboards_again(
    connect_on, alice_client, bob, bob_client, how
):
    recipient = profile_of(bob)
    _lose_account(connect_on, recipient, how, onboarded=True)

    response = _tip(alice_client, recipient)

    assert response.status_code == 400, response.content
    assert response.json()["error"] == "Recipient cannot receive tips yet"
    assert Payment.objects.count() == 0
    assert _stored(recipient).connect_account_id is None
    # the next tip is refused without asking Stripe; onboarding again makes tips work
    before = len(connect_on.requests_to(*SESSION_CREATE))
    assert _tip(alice_client, recipient).status_code == 400
    assert len(connect_on.requests_to(*SESSION_CREATE)) == before
    account_id = _onboarded(connect_on, bob_client, recipient)
    payment = _paid_tip(connect_on, alice_client, recipient)
    assert Payment.objects.get(id=payment.id).destination_account_id == account_id


@pytest.mark.parametrize("how", LOSSES)
def test_a_tip_to_an_account_stripe_does_not_have_is_held_when_tips_may_be_held(
    holding, alice_client, bob, how
):
    recipient = profile_of(bob)
    _lose_account(holding, recipient, how, onboarded=True)

    payment = _paid_tip(holding, alice_client, recipient)

    stored = Payment.objects.get(id=payment.id)
    assert (stored.status, stored.payout_status, stored.destination_account_id) == ("completed", "held", None)
    refused, sent = holding.requests_to(*SESSION_CREATE)
    assert "transfer_data" in refused.params["payment_intent_data"] and refused.status == 400
    assert "transfer_data" not in sent.params["payment_intent_data"] and sent.status == 200
    assert refused.idempotency_key != sent.idempotency_key
    assert Payment.objects.count() == 1


def test_other_refusals_of_a_tip_are_not_retried(connect_on, alice_client, bob, bob_client):
    recipient = profile_of(bob)
    account_id = _onboarded(connect_on, bob_client, recipient)
    connect_on.inject_failure("POST", "/v1/checkout/sessions", status=400, error_type="invalid_request_error",
                              message="Refused", code="resource_missing")

    response = _tip(alice_client, recipient)

    assert response.status_code == 400 and response.json()["error"] == "Stripe error: Refused"
    assert _stored(recipient).connect_account_id == account_id
    assert Payment.objects.count() == 0


# -- payouts of held tips --------------------------------------------------------------------


@pytest.mark.parametrize("how", LOSSES)
def test_a_held_tip_waits_for_a_new_account_when_stripe_does_not_have_the_old_one(
    holding, alice_client, bob, bob_client, how
):
    recipient = profile_of(bob)
    payment = _paid_tip(holding, alice_client, recipient)
    _lose_account(holding, recipient, how, onboarded=True)

    run = connect.pay_out_held_tips()

    assert run.failed == [] and run.waiting == [payment.id]
    stored = Payment.objects.get(id=payment.id)
    assert (stored.payout_status, stored.payout_claimed_at) == ("held", None)
    assert _stored(recipient).connect_account_id is None
    assert connect.pay_out_held_tips().waiting == [payment.id]

    account_id = _onboarded(holding, bob_client, recipient)
    final = connect.pay_out_held_tips()
    assert final.paid_out == [payment.id], final
    assert Payment.objects.get(id=payment.id).destination_account_id == account_id
    # the new account's transfer is a new request, not a replay of the refused one
    generation = _stored(recipient).connect_generation
    keys = [call.idempotency_key for call in holding.requests_to("POST", "/v1/transfers")]
    assert keys == [f"skillswap-payout-{payment.id}" + (f"-{generation - 1}" if generation > 1 else ""),
                    f"skillswap-payout-{payment.id}-{generation}"]
