"""The emulator's dispute test cards and dispute closing, end to end through the app (in process)."""

from __future__ import annotations

import io
import json
from wsgiref.util import setup_testing_defaults

import pytest
from django.test import Client, override_settings

from django_skillswap_payments import signals
from django_skillswap_payments.documents import Payment
from django_skillswap_payments.testing.emulator import disputes as emulator_disputes
from django_skillswap_payments.testing.emulator import django_urls
from django_skillswap_payments.testing.emulator.state import StripeEmulator
from tests.support.api import CANCEL_URL, PREMIUM_URL, STATUS_URL, SUCCESS_URL

pytestmark = pytest.mark.django_db

DISPUTE_CARD = "4000 0000 0000 0259"


@pytest.fixture
def dispute_log():
    sent = []

    def disputed(sender, payment, dispute, **kwargs):
        sent.append(("payment_disputed", str(payment.id), dispute.dispute_id))

    def closed(sender, payment, dispute, won, **kwargs):
        sent.append(("dispute_closed", str(payment.id), dispute.dispute_id, won))

    signals.payment_disputed.connect(disputed, weak=False)
    signals.dispute_closed.connect(closed, weak=False)
    yield sent
    signals.payment_disputed.disconnect(disputed)
    signals.dispute_closed.disconnect(closed)


def buy_premium(client, emulator, card=DISPUTE_CARD):
    response = client.post(PREMIUM_URL, {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}, format="json")
    assert response.status_code == 200, response.json()
    session_id = response.json()["session_id"]
    outcome = emulator.submit_payment(session_id, card)
    assert outcome.succeeded
    return Payment.objects.get(stripe_session_id=session_id)


def is_premium(client):
    return client.get(STATUS_URL).json()["is_premium"]


def wsgi_call(emulator, method, path, body=b"", key="sk_test_emulator"):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
               **({"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}),
               "CONTENT_TYPE": "application/x-www-form-urlencoded", "wsgi.input": io.BytesIO(body)}
    setup_testing_defaults(environ)
    started = {}
    chunks = emulator.wsgi_app()(environ, lambda status, headers: started.update(status=status))
    return int(started["status"].split()[0]), json.loads(b"".join(chunks))


def test_the_dispute_card_pays_then_disputes_the_charge(alice_client, stripe_emulator, emulator_webhooks, dispute_log):
    payment = buy_premium(alice_client, stripe_emulator)

    types = [event["type"] for event in stripe_emulator.events()]
    assert types[-2:] == ["charge.dispute.created", "charge.dispute.funds_withdrawn"]
    assert types.index("checkout.session.completed") < types.index("charge.dispute.created")
    [dispute] = stripe_emulator.disputes()
    assert dispute["id"].startswith("dp_")
    assert (dispute["status"], dispute["reason"], dispute["amount"]) == ("needs_response", "fraudulent", 999)
    assert dispute["payment_intent"] == payment.stripe_payment_intent_id
    assert stripe_emulator.get(dispute["charge"])["disputed"] is True

    stored = Payment.objects.get(id=payment.id)
    assert (stored.status, stored.dispute_status) == ("completed", "needs_response")
    assert stored.disputes[0].dispute_id == dispute["id"]
    assert stored.disputes[0].evidence_due_by.timestamp() == dispute["evidence_details"]["due_by"]
    assert dispute_log == [("payment_disputed", str(payment.id), dispute["id"])]
    assert is_premium(alice_client) is True


def test_an_ordinary_card_raises_no_dispute(alice_client, stripe_emulator, emulator_webhooks, dispute_log):
    buy_premium(alice_client, stripe_emulator, card="4242 4242 4242 4242")

    assert stripe_emulator.disputes() == []
    assert dispute_log == []


def test_closing_as_lost_through_the_control_api_revokes_premium(
    alice_client, stripe_emulator, emulator_webhooks, dispute_log
):
    payment = buy_premium(alice_client, stripe_emulator)
    dispute_id = stripe_emulator.disputes()[0]["id"]

    status, answer = wsgi_call(stripe_emulator, "POST", f"/_emulator/disputes/{dispute_id}/close", b"outcome=lost")

    assert (status, answer["status"]) == (200, "lost")
    assert stripe_emulator.events()[-1]["type"] == "charge.dispute.closed"
    assert Payment.objects.get(id=payment.id).dispute_status == "lost"
    assert dispute_log[-1] == ("dispute_closed", str(payment.id), dispute_id, False)
    assert is_premium(alice_client) is False


def test_closing_as_won_reinstates_the_funds_and_keeps_premium(
    alice_client, stripe_emulator, emulator_webhooks, dispute_log
):
    payment = buy_premium(alice_client, stripe_emulator)
    dispute_id = stripe_emulator.disputes()[0]["id"]

    stripe_emulator.close_dispute(dispute_id, outcome="won")

    assert [e["type"] for e in stripe_emulator.events()][-2:] == [
        "charge.dispute.closed", "charge.dispute.funds_reinstated",
    ]
    assert Payment.objects.get(id=payment.id).dispute_status == "won"
    assert [entry[0] for entry in dispute_log] == ["payment_disputed", "dispute_closed"]
    assert dispute_log[-1][-1] is True
    assert is_premium(alice_client) is True


def test_shuffled_repeated_deliveries_record_each_dispute_once(
    alice_client, stripe_emulator, emulator_webhooks, dispute_log
):
    stripe_emulator.webhooks.configure(repeat=3, shuffle=True)
    payment = buy_premium(alice_client, stripe_emulator)
    stripe_emulator.close_dispute(stripe_emulator.disputes()[0]["id"], outcome="lost")

    assert [entry[0] for entry in dispute_log] == ["payment_disputed", "dispute_closed"]
    stored = Payment.objects.get(id=payment.id)
    assert (stored.status, stored.dispute_status, len(stored.disputes)) == ("completed", "lost", 1)
    assert is_premium(alice_client) is False


def test_a_dispute_delivered_before_the_payment_events_finds_the_payment_through_its_intent(
    alice_client, stripe_emulator, emulator_webhooks, dispute_log
):
    # The payment's own events are not delivered: the payment is not linked to its intent yet.
    stripe_emulator.webhooks.configure(drop=frozenset({
        "checkout.session.completed", "payment_intent.succeeded", "charge.succeeded",
    }))
    payment = buy_premium(alice_client, stripe_emulator)

    stored = Payment.objects.get(id=payment.id)
    assert stored.dispute_status == "needs_response"
    assert dispute_log == [("payment_disputed", str(payment.id), stripe_emulator.disputes()[0]["id"])]


@pytest.mark.parametrize(("card", "reason", "status", "won_as"), [
    ("4000 0000 0000 2685", "product_not_received", "needs_response", "won"),
    ("4000 0000 0000 1976", "fraudulent", "warning_needs_response", "warning_closed"),
])
def test_other_dispute_cards(card, reason, status, won_as):
    emulator = StripeEmulator()
    session = emulator.create_checkout_session({
        "mode": "payment", "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500, "product_data": {"name": "x"}},
                        "quantity": 1}],
    })
    assert emulator.submit_payment(session["id"], card).succeeded
    [dispute] = emulator.disputes()
    assert (dispute["reason"], dispute["status"]) == (reason, status)
    assert emulator.close_dispute(dispute["id"], outcome="won")["status"] == won_as


def test_the_control_api_refuses_bad_requests(stripe_emulator):
    session = stripe_emulator.create_checkout_session({
        "mode": "payment", "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500, "product_data": {"name": "x"}},
                        "quantity": 1}],
    })
    stripe_emulator.submit_payment(session["id"], DISPUTE_CARD)
    dispute_id = stripe_emulator.disputes()[0]["id"]

    for key in (None, "pk_test_x", "sk_live_x"):
        assert wsgi_call(stripe_emulator, "POST", f"/_emulator/disputes/{dispute_id}/close", b"outcome=won",
                         key=key)[0] == 401
        assert wsgi_call(stripe_emulator, "GET", "/_emulator/disputes", key=key)[0] == 401
    assert stripe_emulator.disputes()[0]["status"] == "needs_response"
    assert wsgi_call(stripe_emulator, "POST", "/_emulator/disputes/dp_missing/close", b"outcome=won")[0] == 404
    assert wsgi_call(stripe_emulator, "POST", f"/_emulator/disputes/{dispute_id}/close", b"outcome=maybe")[0] == 400
    assert wsgi_call(stripe_emulator, "POST", f"/_emulator/disputes/{dispute_id}/close",
                     b'{"outcome": "won"}')[1]["status"] == "won"
    status, answer = wsgi_call(stripe_emulator, "POST", f"/_emulator/disputes/{dispute_id}/close", b"outcome=lost")
    assert status == 400 and answer["error"]["code"] == "dispute_already_closed"
    status, listed = wsgi_call(stripe_emulator, "GET", "/_emulator/disputes")
    assert status == 200 and [d["id"] for d in listed["data"]] == [dispute_id]


def test_the_cli_lists_and_closes_disputes_of_a_running_emulator(stripe_emulator, stripe_emulator_server, capsys):
    session = stripe_emulator.create_checkout_session({
        "mode": "payment", "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 500, "product_data": {"name": "x"}},
                        "quantity": 1}],
    })
    stripe_emulator.submit_payment(session["id"], DISPUTE_CARD)
    dispute_id = stripe_emulator.disputes()[0]["id"]
    url = stripe_emulator_server.base_url

    assert emulator_disputes.main(["--url", url, "list"]) == 0
    assert dispute_id in capsys.readouterr().out
    assert emulator_disputes.main(["--url", url, "close", dispute_id, "--outcome", "lost"]) == 0
    assert f"{dispute_id} closed: lost" in capsys.readouterr().out
    assert emulator_disputes.main(["--url", url, "close", dispute_id, "--outcome", "won"]) == 1
    assert "already closed" in capsys.readouterr().err
    assert stripe_emulator.events()[-1]["type"] == "charge.dispute.closed"


urlpatterns: list = []


def test_the_hosted_page_form_and_the_control_api_of_a_mounted_emulator():
    """The dispute card typed into the hosted page; the dispute closed below the mount's prefix."""
    emulator = StripeEmulator(api_keys=["sk_test_mounted"])
    urlpatterns[:] = django_urls(emulator, "stripe-emulator/")
    browser = Client()
    session = emulator.create_checkout_session({
        "mode": "payment", "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL,
        "line_items": [{"price_data": {"currency": "usd", "unit_amount": 999, "product_data": {"name": "x"}},
                        "quantity": 1}],
    })
    with override_settings(ROOT_URLCONF=__name__):
        paid = browser.post(f"/stripe-emulator/c/pay/{session['id']}", {
            "email": "ada@example.com", "cardNumber": DISPUTE_CARD, "cardExpiry": "12 / 40", "cardCvc": "123",
        })
        assert paid.status_code == 303
        [dispute] = emulator.disputes()
        close_url = f"/stripe-emulator/_emulator/disputes/{dispute['id']}/close"

        assert browser.post(close_url, {"outcome": "lost"}).status_code == 401  # a visitor of the site
        assert browser.post(close_url, {"outcome": "lost"}, HTTP_AUTHORIZATION="Bearer sk_test_other").status_code == 401
        closed = browser.post(close_url, {"outcome": "lost"}, HTTP_AUTHORIZATION="Bearer sk_test_mounted")

    assert (closed.status_code, closed.json()["status"]) == (200, "lost")
    assert [e["type"] for e in emulator.events()][-1] == "charge.dispute.closed"
