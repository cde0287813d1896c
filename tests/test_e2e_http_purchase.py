"""Whole purchases over real HTTP, with no browser.

stripe library -> emulator HTTP server -> hosted page (form POSTs) -> signed
webhook POSTed to a running Django server -> payment completed -> signal
received exactly once.  Each of premium and tip runs with 4242 (paid), 0002
then 4242 (declined, then paid on retry) and 3155 (authenticated, then paid).
"""

from __future__ import annotations

import socketserver
import threading
from urllib.parse import parse_qs, urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from django_skillswap_payments.documents import Payment
from django_skillswap_payments.signals import (
    payment_failed,
    premium_payment_completed,
    tip_payment_completed,
)
from django_skillswap_payments.testing.factories import PaymentProfileFactory
from tests.support.hosted_page import card, post_form

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

SUCCESS_URL = "http://localhost/dashboard/payments/success"
CANCEL_URL = "http://localhost/dashboard/payments/cancel"


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def django_server():
    """The test project served over HTTP on 127.0.0.1; yields its base URL.

    The webhook view only touches MongoDB, so a plain threaded WSGI server is
    enough (pytest-django's ``live_server`` would also need static files set up).
    """
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1",
        0,
        get_wsgi_application(),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhooks_to_django_server(
    django_server, stripe_emulator, stripe_webhook_secret, stripe_webhook_path
):
    """Deliver the emulator's events over HTTP to the running Django server."""
    return stripe_emulator.add_webhook_endpoint(
        django_server + stripe_webhook_path, stripe_webhook_secret
    )


@pytest.fixture
def signals_received():
    """Record every payment signal sent, by name."""
    received = {"premium": [], "tip": [], "failed": []}
    receivers = {
        "premium": premium_payment_completed,
        "tip": tip_payment_completed,
        "failed": payment_failed,
    }
    for name, signal in receivers.items():
        signal.connect(
            lambda sender, payment, _name=name, **kwargs: received[_name].append(payment.id),
            weak=False,
            dispatch_uid=f"e2e-http-{name}",
        )
    yield received
    for name, signal in receivers.items():
        signal.disconnect(dispatch_uid=f"e2e-http-{name}")


@pytest.fixture
def api(django_user_model):
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("ada", password="pw"))
    return client


def start_checkout(api, kind):
    urls = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
    if kind == "premium":
        response = api.post(reverse("payments:premium-create-checkout"), urls, format="json")
    else:
        recipient = PaymentProfileFactory()
        body = {"to_user_id": str(recipient.id), "amount": 5.00, "message": "Thanks!", **urls}
        response = api.post(reverse("payments:tip-create"), body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize("kind", ["premium", "tip"])
@pytest.mark.parametrize("scenario", ["4242", "0002-then-4242", "3155"])
def test_purchase_over_real_http(
    kind,
    scenario,
    api,
    django_server,
    stripe_emulator,
    stripe_emulator_server,
    payments_settings,
    webhooks_to_django_server,
    signals_received,
):
    assert webhooks_to_django_server.url.startswith(django_server)
    checkout = start_checkout(api, kind)
    session_id, page = checkout["session_id"], checkout["url"]
    assert page == f"{stripe_emulator_server.base_url}/c/pay/{session_id}"
    payment = Payment.objects.get(stripe_session_id=session_id)
    assert payment.status == "pending"

    if scenario == "0002-then-4242":
        status, _, html = post_form(page, card("4000 0000 0000 0002"))
        assert status == 200
        assert "Your card was declined." in html
        assert stripe_emulator.webhooks.wait_until_idle()
        payment.reload()
        assert payment.status == "failed"
        assert signals_received["failed"] == [payment.id]

    if scenario == "3155":
        status, location, _ = post_form(page, card("4000 0025 0000 3155"))
        assert (status, location) == (303, f"{page}/authenticate")
        status, location, _ = post_form(location, {"outcome": "approve"})
    else:
        status, location, _ = post_form(page, card("4242 4242 4242 4242"))

    assert status == 303
    assert location.startswith(SUCCESS_URL)
    assert parse_qs(urlsplit(location).query)["session_id"] == [session_id]
    assert stripe_emulator.webhooks.wait_until_idle()
    failed_deliveries = [a for a in stripe_emulator.webhooks.attempts if not a.ok]
    assert failed_deliveries == []
    payment.reload()
    assert payment.status == "completed"
    assert payment.stripe_payment_intent_id == stripe_emulator.get(session_id)["payment_intent"]
    assert signals_received[kind] == [payment.id]
    other = "tip" if kind == "premium" else "premium"
    assert signals_received[other] == []
