"""POST checkout/<session_id>/cancel/: the cancel page ends an unpaid checkout for good.

The session is expired at Stripe (so it can no longer be paid) and the
payment becomes ``expired``; a checkout Stripe already took the money for is
completed instead and answered 409. Owner only, like the confirmation.
"""

from __future__ import annotations

import pytest

from django_skillswap_payments import signals
from django_skillswap_payments.documents import Payment
from tests.support.api import (
    BASE,
    CANCEL_URL,
    HISTORY_URL,
    PREMIUM_URL,
    SUCCESS_URL,
    TIP_HISTORY_URL,
    TIP_URL,
    checkout_url,
    client_for,
)
from tests.support.database import pending_payment, profile_of, snapshot

pytestmark = pytest.mark.django_db

URLS = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
DECLINED = "4000 0000 0000 0002"


def cancel_url(session_id: str) -> str:
    return f"{BASE}checkout/{session_id}/cancel/"


@pytest.fixture
def failures():
    sent: list[tuple[str, str, bool]] = []

    def receiver(sender, payment, final, **kwargs):
        sent.append((str(payment.id), payment.failure_reason, final))

    signals.payment_failed.connect(receiver, weak=False, dispatch_uid="test-cancel-failures")
    yield sent
    signals.payment_failed.disconnect(dispatch_uid="test-cancel-failures")


def _start(client) -> str:
    response = client.post(PREMIUM_URL, URLS, format="json")
    assert response.status_code == 200, response.content
    return response.json()["session_id"]


def _expire_calls(emulator, session_id):
    return emulator.requests_to("POST", f"/v1/checkout/sessions/{session_id}/expire")


def test_cancel_expires_the_session_and_the_payment(emulated_stripe, alice, alice_client, failures):
    session_id = _start(alice_client)

    response = alice_client.post(cancel_url(session_id))

    assert response.status_code == 200
    assert response.json() == {
        "session_id": session_id,
        "status": "expired",
        "transaction_type": "premium",
        "amount": 9.99,
        "currency": "usd",
    }
    assert emulated_stripe.get(session_id)["status"] == "expired"
    [call] = _expire_calls(emulated_stripe, session_id)
    assert call.idempotency_key == f"skillswap-expire-{session_id}"
    payment = Payment.objects.get(stripe_session_id=session_id)
    assert (payment.status, payment.failure_reason, payment.open_checkout_slot) == (
        "expired", "checkout_canceled", None,
    )
    assert payment.expired_at is not None
    assert failures == [(str(payment.id), "checkout_canceled", True)]
    # The confirmation reads the same, and the user may start afresh.
    assert alice_client.get(checkout_url(session_id)).json()["status"] == "expired"
    assert _start(alice_client) != session_id


def test_cancel_is_idempotent_and_the_expiry_webhook_changes_nothing(
    emulated_stripe, emulator_webhooks, alice_client, failures
):
    session_id = _start(alice_client)

    first = alice_client.post(cancel_url(session_id))
    again = alice_client.post(cancel_url(session_id))

    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(_expire_calls(emulated_stripe, session_id)) == 1
    # checkout.session.expired was delivered too: one signal in all.
    assert [e["type"] for e in emulated_stripe.events("checkout.session.expired")] == ["checkout.session.expired"]
    assert len(failures) == 1


def test_cancel_after_a_declined_card_ends_the_retryable_checkout(
    emulated_stripe, emulator_webhooks, alice_client, failures
):
    session_id = _start(alice_client)
    assert not emulated_stripe.submit_payment(session_id, DECLINED).succeeded

    response = alice_client.post(cancel_url(session_id))

    assert response.status_code == 200 and response.json()["status"] == "expired"
    payment = Payment.objects.get(stripe_session_id=session_id)
    assert failures == [
        (str(payment.id), "Your card was declined.", False),
        (str(payment.id), "checkout_canceled", True),
    ]


def test_cancel_of_a_session_paid_meanwhile_completes_it_and_answers_409(
    emulated_stripe, alice_client, signal_log
):
    session_id = _start(alice_client)
    assert emulated_stripe.submit_payment(session_id).succeeded  # the webhook has not arrived

    response = alice_client.post(cancel_url(session_id))

    assert response.status_code == 409
    assert response.json() == {"error": "Checkout already completed"}
    payment = Payment.objects.get(stripe_session_id=session_id)
    assert payment.status == "completed"
    assert signal_log == [("premium_payment_completed", str(payment.id))]
    # Asking again does not call Stripe.
    calls = len(emulated_stripe.requests)
    assert alice_client.post(cancel_url(session_id)).status_code == 409
    assert len(emulated_stripe.requests) == calls


def test_cancel_of_a_session_stripe_does_not_know_expires_the_payment(emulated_stripe, alice, alice_client):
    payment = pending_payment(profile_of(alice), session_id="cs_test_unknown_at_stripe")

    response = alice_client.post(cancel_url(payment.stripe_session_id))

    assert response.status_code == 200 and response.json()["status"] == "expired"
    assert Payment.objects.get(id=payment.id).failure_reason == "checkout_not_found"


def test_stripe_unreachable_leaves_the_checkout_as_it_is(emulated_stripe, alice_client, mongo_database):
    session_id = _start(alice_client)
    before = snapshot(mongo_database)
    emulated_stripe.inject_failure("POST", f"/v1/checkout/sessions/{session_id}/expire", network=True)

    response = alice_client.post(cancel_url(session_id))

    assert response.status_code == 503
    assert response.json()["error"].startswith("Stripe error: ")
    assert snapshot(mongo_database) == before
    assert emulated_stripe.get(session_id)["status"] == "open"


def test_only_the_owner_can_cancel(emulated_stripe, alice_client, bob, mongo_database):
    session_id = _start(alice_client)
    before = snapshot(mongo_database)
    calls = len(emulated_stripe.requests)

    response = client_for(bob).post(cancel_url(session_id))

    assert response.status_code == 404
    assert response.json() == {"error": "Payment not found"}
    assert snapshot(mongo_database) == before
    assert len(emulated_stripe.requests) == calls
    assert client_for().post(cancel_url(session_id)).status_code == 401
    assert alice_client.post(cancel_url("cs_test_nobody")).status_code == 404


@pytest.mark.parametrize("session_id", ["pi_123", "cs_test_bad!", "cs_" + "a" * 300, "cs_", "CS_test_1"])
def test_malformed_session_id_is_400(emulated_stripe, alice_client, session_id):
    response = alice_client.post(cancel_url(session_id))
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid checkout session id"}


def test_get_is_not_allowed(emulated_stripe, alice_client):
    session_id = _start(alice_client)
    response = alice_client.get(cancel_url(session_id))
    assert response.status_code == 405
    assert Payment.objects.get(stripe_session_id=session_id).status == "pending"


# -- histories ------------------------------------------------------------------------


def test_histories_show_canceled_checkouts_as_expired_with_their_deadline(
    emulated_stripe, alice_client, bob
):
    premium_session = _start(alice_client)
    tip = alice_client.post(
        TIP_URL, {"to_user_id": str(profile_of(bob).id), "amount": 5, **URLS}, format="json"
    ).json()
    alice_client.post(cancel_url(tip["session_id"]))

    expired = alice_client.get(HISTORY_URL, {"status": "expired"}).json()["results"]
    assert [p["stripe_session_id"] for p in expired] == [tip["session_id"]]
    assert expired[0]["failure_reason"] == "checkout_canceled"
    pending = alice_client.get(HISTORY_URL, {"status": "pending"}).json()["results"]
    assert [p["stripe_session_id"] for p in pending] == [premium_session]
    deadline = emulated_stripe.get(premium_session)["expires_at"]
    assert pending[0]["expires_at"] == _iso(deadline)
    sent = alice_client.get(TIP_HISTORY_URL).json()
    assert [t["status"] for t in sent["tips_sent"]] == ["expired"]
    # The recipient never sees a tip that was not paid.
    assert client_for(bob).get(TIP_HISTORY_URL).json()["total_received"] == 0


def _iso(unix_time: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(unix_time, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
