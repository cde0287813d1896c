"""GET checkout/<session_id>/: the success page's confirmation, alone and racing the webhook."""

from __future__ import annotations

import pytest

from django_skillswap_payments.documents import Payment
from django_skillswap_payments.testing.webhooks import encode_event, sign_payload
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, checkout_url, client_for
from tests.support.threads import run_together
from tests.support.webhooks import configured_secret, post_webhook

pytestmark = pytest.mark.django_db


def _start_premium(client) -> str:
    response = client.post(PREMIUM_URL, {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}, format="json")
    assert response.status_code == 200
    return response.json()["session_id"]


def test_owner_confirms_a_paid_session(emulated_stripe, alice_client, signal_log):
    session_id = _start_premium(alice_client)
    assert emulated_stripe.submit_payment(session_id).succeeded

    response = alice_client.get(checkout_url(session_id))

    assert response.status_code == 200
    assert response.json() == {
        "session_id": session_id,
        "status": "completed",
        "transaction_type": "premium",
        "amount": 9.99,
        "currency": "usd",
    }
    payment = Payment.objects.get(stripe_session_id=session_id)
    assert payment.stripe_payment_intent_id
    assert signal_log == [("premium_payment_completed", str(payment.id))]

    again = alice_client.get(checkout_url(session_id))
    assert again.json()["status"] == "completed"
    assert len(signal_log) == 1
    assert alice_client.get("/api/payments/subscription/status/").json()["is_premium"] is True


def test_unpaid_session_stays_pending(emulated_stripe, alice_client, signal_log):
    session_id = _start_premium(alice_client)

    response = alice_client.get(checkout_url(session_id))

    assert response.status_code == 200
    assert response.json()["status"] == "pending"
    assert signal_log == []


def test_declined_card_then_confirmation_does_not_complete(emulated_stripe, alice_client, signal_log):
    session_id = _start_premium(alice_client)
    assert not emulated_stripe.submit_payment(session_id, "4000 0000 0000 0002").succeeded

    assert alice_client.get(checkout_url(session_id)).json()["status"] == "pending"
    assert signal_log == []


def test_only_the_owner_can_confirm(emulated_stripe, alice_client, bob, signal_log):
    session_id = _start_premium(alice_client)
    emulated_stripe.submit_payment(session_id)
    calls_before = len(emulated_stripe.requests)

    response = client_for(bob).get(checkout_url(session_id))

    assert response.status_code == 404
    assert response.json() == {"error": "Payment not found"}
    assert len(emulated_stripe.requests) == calls_before
    assert Payment.objects.get(stripe_session_id=session_id).status == "pending"
    assert signal_log == []


@pytest.mark.parametrize("session_id", ["pi_123", "cs_test_bad!", "cs_" + "a" * 300])
def test_malformed_session_id_is_400(emulated_stripe, alice_client, session_id):
    response = alice_client.get(checkout_url(session_id))
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid checkout session id"}


def test_unknown_session_is_404(emulated_stripe, alice_client):
    _start_premium(alice_client)
    response = alice_client.get(checkout_url("cs_test_unknown"))
    assert response.status_code == 404


def test_stripe_outage_during_confirmation_is_503(emulated_stripe, alice_client):
    session_id = _start_premium(alice_client)
    emulated_stripe.inject_failure("GET", "/v1/checkout/sessions", network=True)

    response = alice_client.get(checkout_url(session_id))

    assert response.status_code == 503
    assert response.json()["error"].startswith("Stripe error: ")


def _signed_events(emulator, session_id):
    session_event = next(
        e for e in emulator.events("checkout.session.completed") if e["data"]["object"]["id"] == session_id
    )
    intent_event = emulator.events("payment_intent.succeeded")[-1]
    deliveries = []
    for event in (session_event, intent_event):
        payload = encode_event(event)
        deliveries.append((payload, sign_payload(payload, configured_secret())))
    return deliveries


@pytest.mark.parametrize("round_", range(3))
def test_confirmation_racing_the_webhook_sends_one_signal(emulated_stripe, alice, signal_log, round_):
    session_id = _start_premium(client_for(alice))
    assert emulated_stripe.submit_payment(session_id).succeeded
    (session_delivery, intent_delivery) = _signed_events(emulated_stripe, session_id)

    jobs = [
        lambda: client_for(alice).get(checkout_url(session_id)),
        lambda: client_for(alice).get(checkout_url(session_id)),
        lambda: post_webhook(client_for(), *session_delivery),
        lambda: post_webhook(client_for(), *session_delivery),
        lambda: post_webhook(client_for(), *intent_delivery),
    ]
    race = run_together(jobs)

    assert race.errors == []
    assert sorted(response.status_code for response in race.results) == [200] * len(jobs)
    payment = Payment.objects.get(stripe_session_id=session_id)
    assert payment.status == "completed"
    assert signal_log == [("premium_payment_completed", str(payment.id))]
