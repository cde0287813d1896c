"""Handing out an open premium checkout again: only while Stripe still has it open.

Before a stored session is returned, Stripe is asked about it; one it has
expired, completed or never heard of (an emulator restarted, a session
expired by hand) is settled first and a new one started. A reused session
keeps the redirect URLs it was created with, and the answer says so.
"""

from __future__ import annotations

import datetime as dt

import pytest

from django_skillswap_payments import gateway, repository, services, signals
from django_skillswap_payments.documents import Payment, PaymentProfile
from django_skillswap_payments.errors import AlreadyPremium, GatewayError, PaymentProcessing
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL
from tests.support.database import pending_payment

pytestmark = pytest.mark.django_db

URLS = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}


@pytest.fixture
def profile():
    return PaymentProfile(django_user_id="1").save()


@pytest.fixture
def failures():
    sent: list[tuple[str, bool]] = []

    def receiver(sender, payment, final, **kwargs):
        sent.append((str(payment.id), final))

    signals.payment_failed.connect(receiver, weak=False, dispatch_uid="test-reuse-failures")
    yield sent
    signals.payment_failed.disconnect(dispatch_uid="test-reuse-failures")


def _slot_holder(profile) -> Payment | None:
    return repository.find_open_checkout(repository.premium_slot(profile.id))


def test_a_session_expired_at_stripe_is_retired_and_replaced(emulated_stripe, profile, failures):
    first = services.start_premium_checkout(profile, **URLS)
    emulated_stripe.expire_checkout_session(first.session_id)  # by hand; its webhook never arrives

    second = services.start_premium_checkout(profile, **URLS)

    assert not second.reused and second.session_id != first.session_id
    retired = repository.get_payment(first.payment.id)
    assert (retired.status, retired.failure_reason, retired.open_checkout_slot) == (
        "expired", "checkout_expired", None,
    )
    assert _slot_holder(profile).id == second.payment.id
    assert failures == [(str(first.payment.id), True)]


def _forget(emulator, session_id: str) -> None:
    """Make the emulator lose a session, as a test-mode Stripe without persistence does on restart."""
    with emulator._lock:
        del emulator._objects[session_id]
        emulator._by_type["checkout.session"].remove(session_id)
        emulator._extras.pop(session_id, None)


@pytest.mark.parametrize("how", ["made-up session id", "forgotten by Stripe"])
def test_a_session_stripe_never_heard_of_is_retired_and_replaced(emulated_stripe, profile, how, failures):
    if how == "made-up session id":
        lost = pending_payment(profile, session_id="cs_test_not_at_stripe")
    else:
        lost = services.start_premium_checkout(profile, **URLS).payment
        _forget(emulated_stripe, lost.stripe_session_id)

    start = services.start_premium_checkout(profile, **URLS)

    assert not start.reused and start.session_id != lost.stripe_session_id
    assert emulated_stripe.get(start.session_id)["status"] == "open"
    retired = repository.get_payment(lost.id)
    assert (retired.status, retired.failure_reason) == ("expired", "checkout_not_found")
    assert failures == [(str(lost.id), True)]


def test_a_session_paid_meanwhile_is_completed_instead(emulated_stripe, profile, signal_log):
    first = services.start_premium_checkout(profile, **URLS)
    assert emulated_stripe.submit_payment(first.session_id).succeeded  # the webhook is late

    with pytest.raises(AlreadyPremium):
        services.start_premium_checkout(profile, **URLS)

    assert repository.get_payment(first.payment.id).status == "completed"
    assert signal_log == [("premium_payment_completed", str(first.payment.id))]
    assert len(emulated_stripe.all("checkout.session")) == 1


def _session_as_stripe_reports(monkeypatch, **fields):
    real = gateway.retrieve_checkout_session

    def retrieve(session_id, **kwargs):
        return {**real(session_id, **kwargs).to_dict(), **fields}

    monkeypatch.setattr(gateway, "retrieve_checkout_session", retrieve)


def test_a_delayed_payment_still_clearing_blocks_a_second_checkout(emulated_stripe, profile, monkeypatch):
    first = services.start_premium_checkout(profile, **URLS)
    _session_as_stripe_reports(
        monkeypatch, status="complete", payment_status="unpaid",
        payment_intent={"id": "pi_test_bank", "object": "payment_intent", "status": "processing"},
    )

    with pytest.raises(PaymentProcessing) as excinfo:
        services.start_premium_checkout(profile, **URLS)

    assert excinfo.value.http_status == 409
    assert repository.get_payment(first.payment.id).status == "pending"
    assert len(emulated_stripe.all("checkout.session")) == 1


def test_a_delayed_payment_that_failed_ends_the_checkout(emulated_stripe, profile, monkeypatch, failures):
    first = services.start_premium_checkout(profile, **URLS)
    _session_as_stripe_reports(
        monkeypatch, status="complete", payment_status="unpaid",
        payment_intent={"id": "pi_test_bank", "object": "payment_intent", "status": "requires_payment_method"},
    )

    second = services.start_premium_checkout(profile, **URLS)

    assert second.session_id != first.session_id
    failed = repository.get_payment(first.payment.id)
    assert (failed.status, failed.failure_reason, failed.failure_final) == ("failed", "async_payment_failed", True)
    assert failures == [(str(first.payment.id), True)]


def test_stripe_unreachable_while_checking_changes_nothing(emulated_stripe, profile):
    first = services.start_premium_checkout(profile, **URLS)
    emulated_stripe.inject_failure("GET", "/v1/checkout/sessions", network=True)

    with pytest.raises(GatewayError) as excinfo:
        services.start_premium_checkout(profile, **URLS)

    assert excinfo.value.kind == "network"
    assert _slot_holder(profile).id == first.payment.id
    assert repository.get_payment(first.payment.id).status == "pending"


def test_an_old_checkout_stripe_cannot_expire_now_is_kept(emulated_stripe, profile):
    first = services.start_premium_checkout(profile, **URLS)
    Payment.objects(id=first.payment.id).update_one(
        set__created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=24)
    )
    emulated_stripe.inject_failure("POST", f"/v1/checkout/sessions/{first.session_id}/expire", network=True)

    with pytest.raises(GatewayError):
        services.start_premium_checkout(profile, **URLS)

    # Not retired while it may still be paid: no second payable session.
    assert _slot_holder(profile).id == first.payment.id
    assert len(emulated_stripe.all("checkout.session")) == 1


# -- the redirect URLs of a reused session -------------------------------------------------


def test_a_reused_session_says_which_urls_it_keeps(emulated_stripe, alice_client):
    first = alice_client.post(PREMIUM_URL, URLS, format="json").json()
    other = {"success_url": "http://testserver/elsewhere/done", "cancel_url": "http://testserver/elsewhere/back"}

    response = alice_client.post(PREMIUM_URL, other, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "session_id": first["session_id"],
        "url": first["url"],
        "reused": True,
        "success_url": SUCCESS_URL + "?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": CANCEL_URL,
    }
    stored = Payment.objects.get(stripe_session_id=first["session_id"])
    assert (stored.success_url, stored.cancel_url) == (response.json()["success_url"], CANCEL_URL)
    session = emulated_stripe.get(first["session_id"])
    assert (session["success_url"], session["cancel_url"]) == (stored.success_url, stored.cancel_url)
