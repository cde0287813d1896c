"""The emulator over real HTTP: server, hosted checkout pages, webhook delivery, WSGI/Django mounting, CLI."""

from __future__ import annotations

import http.client
import io
import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit
from wsgiref.util import setup_testing_defaults

import pytest
import stripe
from django.test import Client, override_settings

from django_skillswap_payments.testing.emulator import EmulatorServer, StripeEmulator, django_urls
from tests.support.stripe_objects import line_items

API_KEY = "sk_test_emulator"
SECRET = "whsec_http_tests"
SUCCESS_URL = "http://127.0.0.1:9/done?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://127.0.0.1:9/cancel"
PAYMENT_EVENTS = {
    "payment_intent.created",
    "charge.succeeded",
    "payment_intent.succeeded",
    "checkout.session.completed",
}


def session_params(**overrides):
    params = {
        "mode": "payment",
        "line_items": line_items(),
        "metadata": {"type": "premium"},
        "payment_intent_data": {"metadata": {"type": "premium", "payment_id": "p-1"}},
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
    }
    params.update(overrides)
    return params


def fetch(method, url, form=None, headers=None):
    """One HTTP request without following redirects: (status, headers, body text)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    body = urlencode(form).encode() if form is not None else None
    all_headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
    all_headers.update(headers or {})
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def card_form(number, **extra):
    return {
        "email": "ada@example.com",
        "cardNumber": number,
        "cardExpiry": "12 / 40",
        "cardCvc": "123",
        **extra,
    }


class Receiver:
    """A local webhook endpoint answering with scripted statuses and recording what it got."""

    def __init__(self, statuses=None, on_event=None):
        self.statuses = list(statuses or [])
        self.on_event = on_event
        self.received = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                payload = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._lock:
                    receiver.received.append((time.monotonic(), dict(self.headers), payload))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.on_event is not None:
                    receiver.on_event(json.loads(payload))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhook/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def events(self, secret=SECRET):
        """Received events, each verified exactly as the app verifies them."""
        return [
            stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], secret)
            for _, headers, payload in self.received
        ]

    def types(self):
        return [event.type for event in self.events()]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def emulator():
    return StripeEmulator(seed=11)


@pytest.fixture
def server(emulator):
    with EmulatorServer(emulator) as running:
        yield running


@pytest.fixture
def client(server):
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": server.base_url}, max_network_retries=0
    )


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def pay(url, number="4242 4242 4242 4242"):
    return fetch("POST", url, card_form(number))


# --------------------------------------------------------------------------- server and API


def test_server_serves_the_stripe_api(server, client):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.base_url)

    session = client.v1.checkout.sessions.create(session_params())

    assert session.url == f"{server.base_url}/c/pay/{session.id}"
    assert client.v1.checkout.sessions.retrieve(session.id).amount_total == 999
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.payment_links.list()
    assert excinfo.value.http_status == 404
    status, _, body = fetch("GET", f"{server.base_url}/_emulator/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})


def test_public_url_overrides_the_request_host(emulator):
    emulator.public_url = "https://pay.example.test"
    with EmulatorServer(emulator) as server:
        client = stripe.StripeClient(API_KEY, base_addresses={"api": server.base_url})
        session = client.v1.checkout.sessions.create(session_params())
    assert session.url == f"https://pay.example.test/c/pay/{session.id}"


def test_server_stops_listening(emulator):
    server = EmulatorServer(emulator).start()
    base_url = server.base_url
    server.stop()
    with pytest.raises(OSError):
        fetch("GET", f"{base_url}/_emulator/health")


# --------------------------------------------------------------------------- hosted checkout page


def test_hosted_page_shows_the_order_and_a_card_form(client):
    session = client.v1.checkout.sessions.create(session_params())

    status, headers, html = fetch("GET", session.url)

    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert '<div class="total" id="amount">$9.99</div>' in html
    assert "SkillSwap Premium" in html
    for name in ("email", "cardNumber", "cardExpiry", "cardCvc", "billingName"):
        assert f'name="{name}"' in html
    assert '<button id="submit" type="submit">Pay $9.99</button>' in html
    assert f'id="cancel" class="back" href="{CANCEL_URL}"' in html


def test_paying_with_4242_completes_and_sends_signed_webhooks(emulator, client, receiver):
    emulator.add_webhook_endpoint(receiver.url, SECRET)
    session = client.v1.checkout.sessions.create(session_params())

    status, headers, _ = pay(session.url)

    assert status == 303
    assert headers["Location"] == f"http://127.0.0.1:9/done?session_id={session.id}"
    completed = client.v1.checkout.sessions.retrieve(session.id)
    assert (completed.status, completed.payment_status) == ("complete", "paid")
    intent = client.v1.payment_intents.retrieve(completed.payment_intent)
    assert intent.metadata.to_dict() == {"type": "premium", "payment_id": "p-1"}
    assert client.v1.charges.retrieve(intent.latest_charge).status == "succeeded"

    assert emulator.webhooks.wait_until_idle()
    events = {event.type: event for event in receiver.events()}
    assert set(events) == PAYMENT_EVENTS
    assert events["checkout.session.completed"].data.object.id == session.id
    assert events["payment_intent.succeeded"].data.object.metadata.to_dict() == {
        "type": "premium",
        "payment_id": "p-1",
    }
    assert events["charge.succeeded"].data.object.payment_intent == intent.id


def test_decline_shows_the_error_and_allows_a_retry(emulator, client, receiver):
    emulator.add_webhook_endpoint(receiver.url, SECRET)
    session = client.v1.checkout.sessions.create(session_params())

    status, _, html = pay(session.url, "4000 0000 0000 0002")

    assert status == 200
    assert '<div class="error" id="card-errors" role="alert">Your card was declined.</div>' in html
    assert 'id="payment-form"' in html
    assert 'value="ada@example.com"' in html  # the customer does not retype their email
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert emulator.webhooks.wait_until_idle()
    failed = [e for e in receiver.events() if e.type == "payment_intent.payment_failed"]
    assert len(failed) == 1
    assert failed[0].data.object.last_payment_error.message == "Your card was declined."

    status, headers, _ = pay(session.url, "4242 4242 4242 4242")

    assert status == 303
    assert headers["Location"].endswith(session.id)
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert emulator.webhooks.wait_until_idle()
    assert receiver.types().count("checkout.session.completed") == 1


def test_authentication_card_approved(client):
    session = client.v1.checkout.sessions.create(session_params())

    status, headers, _ = pay(session.url, "4000 0025 0000 3155")
    assert status == 303
    auth_url = headers["Location"]
    assert auth_url == f"{session.url}/authenticate"

    status, _, html = fetch("GET", auth_url)
    assert status == 200
    assert 'id="approve"' in html and 'id="fail"' in html

    status, headers, _ = fetch("POST", auth_url, {"outcome": "approve"})
    assert status == 303
    assert headers["Location"] == f"http://127.0.0.1:9/done?session_id={session.id}"
    session = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    assert session.payment_intent.status == "succeeded"


def test_authentication_card_failed_then_retried(emulator, client, receiver):
    emulator.add_webhook_endpoint(receiver.url, SECRET)
    session = client.v1.checkout.sessions.create(session_params())
    _, headers, _ = pay(session.url, "4000 0025 0000 3155")

    status, _, html = fetch("POST", headers["Location"], {"outcome": "fail"})

    assert status == 200
    assert "We are unable to authenticate your payment method." in html
    assert emulator.webhooks.wait_until_idle()
    assert "payment_intent.payment_failed" in receiver.types()
    status, _, _ = pay(session.url, "4242 4242 4242 4242")
    assert status == 303
    # Without a pending challenge the authentication page sends the customer back.
    status, headers, _ = fetch("GET", f"{session.url}/authenticate")
    assert (status, headers["Location"]) == (303, urlsplit(session.url).path)


def test_invalid_card_number_is_reported_without_charging(emulator, client):
    session = client.v1.checkout.sessions.create(session_params())

    status, _, html = pay(session.url, "4242 4242 4242 4241")

    assert status == 200
    assert "Your card number is invalid." in html
    assert emulator.events() == []


def test_cancel_link_expired_and_completed_sessions(client):
    session = client.v1.checkout.sessions.create(session_params())
    _, _, html = fetch("GET", session.url)
    assert f'href="{CANCEL_URL}"' in html

    # The page stays reachable after expiry (Stripe nulls ``url`` on the session, not the page).
    assert client.v1.checkout.sessions.expire(session.id).url is None
    status, _, html = fetch("GET", session.url)
    assert status == 200
    assert 'id="session-expired"' in html
    assert f'href="{CANCEL_URL}"' in html
    status, _, html = pay(session.url)
    assert (status, 'id="session-expired"' in html) == (200, True)

    paid = client.v1.checkout.sessions.create(session_params())
    pay(paid.url)
    status, headers, _ = fetch("GET", paid.url)
    assert (status, headers["Location"]) == (303, f"http://127.0.0.1:9/done?session_id={paid.id}")


def test_session_without_success_url_shows_a_confirmation(client):
    params = session_params()
    del params["success_url"]
    session = client.v1.checkout.sessions.create(params)

    status, _, html = pay(session.url)

    assert status == 200
    assert 'id="payment-complete"' in html


def test_unknown_session_page_is_404(server):
    status, _, html = fetch("GET", f"{server.base_url}/c/pay/cs_test_missing")
    assert status == 404
    assert 'id="not-found"' in html


# --------------------------------------------------------------------------- webhook delivery


def test_webhook_receiver_may_call_back_into_the_api():
    emulator = StripeEmulator(webhook_delivery="sync")
    with EmulatorServer(emulator) as server:
        client = stripe.StripeClient(
            API_KEY, base_addresses={"api": server.base_url}, max_network_retries=0
        )
        looked_up = []

        def on_event(event):
            if event["type"] == "checkout.session.completed":
                looked_up.append(
                    client.v1.checkout.sessions.retrieve(event["data"]["object"]["id"]).status
                )

        receiver = Receiver(on_event=on_event)
        try:
            emulator.add_webhook_endpoint(receiver.url, SECRET)
            session = client.v1.checkout.sessions.create(session_params())
            status, _, _ = pay(session.url)
        finally:
            receiver.close()
    assert status == 303
    assert looked_up == ["complete"]


def test_non_2xx_is_retried_with_backoff(emulator, client):
    receiver = Receiver(statuses=[500, 503, 200])
    try:
        endpoint = emulator.add_webhook_endpoint(
            receiver.url, SECRET, enabled_events=["checkout.session.completed"]
        )
        emulator.webhooks.configure(max_attempts=4, backoff=0.1)
        pay(client.v1.checkout.sessions.create(session_params()).url)
        assert emulator.webhooks.wait_until_idle()
    finally:
        receiver.close()

    attempts = [a for a in emulator.webhooks.attempts if a.endpoint_id == endpoint.id]
    assert [(a.attempt, a.status, a.ok) for a in attempts] == [
        (1, 500, False),
        (2, 503, False),
        (3, 200, True),
    ]
    arrivals = [at for at, _, _ in receiver.received]
    assert arrivals[1] - arrivals[0] >= 0.1
    assert arrivals[2] - arrivals[1] >= 0.2
    # Every retry is freshly signed and verifies.
    assert receiver.types() == ["checkout.session.completed"] * 3


def test_delivery_gives_up_after_max_attempts(emulator, client):
    receiver = Receiver(statuses=[500] * 10)
    try:
        emulator.add_webhook_endpoint(
            receiver.url, SECRET, enabled_events=["checkout.session.completed"]
        )
        emulator.webhooks.configure(max_attempts=2, backoff=0.01)
        pay(client.v1.checkout.sessions.create(session_params()).url)
        assert emulator.webhooks.wait_until_idle()
    finally:
        receiver.close()

    assert [a.status for a in emulator.webhooks.attempts] == [500, 500]
    assert emulator.webhooks.delivered() == []


def test_unreachable_endpoint_is_recorded_as_an_error(emulator, client):
    closed = Receiver()
    closed.close()
    emulator.add_webhook_endpoint(closed.url, SECRET, enabled_events=["checkout.session.completed"])
    emulator.webhooks.configure(max_attempts=2, backoff=0.01)

    pay(client.v1.checkout.sessions.create(session_params()).url)

    assert emulator.webhooks.wait_until_idle()
    assert [(a.status, a.error is not None) for a in emulator.webhooks.attempts] == [
        (None, True),
        (None, True),
    ]


def test_repeat_delivers_each_event_n_times(emulator, client, receiver):
    emulator.add_webhook_endpoint(
        receiver.url, SECRET, enabled_events=["checkout.session.completed"]
    )
    emulator.webhooks.configure(repeat=3)

    pay(client.v1.checkout.sessions.create(session_params()).url)

    assert emulator.webhooks.wait_until_idle()
    events = receiver.events()
    assert len(events) == 3
    assert len({event.id for event in events}) == 1


def test_shuffle_reorders_held_deliveries(emulator, client, receiver):
    emulator.add_webhook_endpoint(receiver.url, SECRET)
    emulator.webhooks.configure(hold=True, shuffle=True)
    for _ in range(3):
        pay(client.v1.checkout.sessions.create(session_params()).url)
    emitted = [event["id"] for event in emulator.events()]
    assert emulator.webhooks.held == 12 and receiver.received == []

    assert emulator.webhooks.flush() == 12
    assert emulator.webhooks.wait_until_idle()

    delivered = [event.id for event in receiver.events()]
    assert sorted(delivered) == sorted(emitted)
    assert delivered != emitted


def test_without_shuffle_events_arrive_in_order(emulator, client, receiver):
    emulator.add_webhook_endpoint(receiver.url, SECRET)

    pay(client.v1.checkout.sessions.create(session_params()).url)

    assert emulator.webhooks.wait_until_idle()
    assert [event.id for event in receiver.events()] == [event["id"] for event in emulator.events()]


def test_delay_holds_deliveries_back(emulator, client, receiver):
    emulator.add_webhook_endpoint(
        receiver.url, SECRET, enabled_events=["checkout.session.completed"]
    )
    emulator.webhooks.configure(delay=0.4)
    started = time.monotonic()

    status, _, _ = pay(client.v1.checkout.sessions.create(session_params()).url)

    assert status == 303
    assert receiver.received == []
    assert emulator.webhooks.wait_until_idle()
    assert receiver.received[0][0] - started >= 0.4


def test_drop_by_type_and_by_id(emulator, client, receiver):
    emulator.add_webhook_endpoint(receiver.url, SECRET)
    emulator.webhooks.configure(drop={"checkout.session.completed"})

    pay(client.v1.checkout.sessions.create(session_params()).url)

    assert emulator.webhooks.wait_until_idle()
    assert set(receiver.types()) == PAYMENT_EVENTS - {"checkout.session.completed"}
    (completed,) = emulator.events("checkout.session.completed")
    assert emulator.webhooks.dropped == [completed["id"]]

    emulator.webhooks.configure(drop={completed["id"]})
    emulator.webhooks.enqueue([completed])
    assert emulator.webhooks.dropped == [completed["id"]] * 2
    emulator.webhooks.resend(completed)  # a manual redelivery ignores the drop list
    assert emulator.webhooks.wait_until_idle()
    assert receiver.types().count("checkout.session.completed") == 1


# --------------------------------------------------------------------------- mounting


def call_wsgi(app, method, path, *, body=b"", headers=None):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "HTTP_HOST": "site.test",
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    captured = {}

    def start_response(status, response_headers):
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    content = b"".join(app(environ, start_response))
    return captured["status"], captured["headers"], content


def test_wsgi_app_under_a_prefix(emulator):
    app = emulator.wsgi_app(prefix="/stripe")
    auth = {"Authorization": f"Bearer {API_KEY}"}

    status, _, body = call_wsgi(
        app,
        "POST",
        "/stripe/v1/checkout/sessions",
        body=urlencode(
            {
                "line_items[0][price_data][currency]": "usd",
                "line_items[0][price_data][unit_amount]": "500",
                "line_items[0][price_data][product_data][name]": "Tip",
                "line_items[0][quantity]": "1",
            }
        ).encode(),
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert status == 200
    session = json.loads(body)
    assert session["url"] == f"http://site.test/stripe/c/pay/{session['id']}"
    status, _, html = call_wsgi(app, "GET", f"/stripe/c/pay/{session['id']}")
    assert status == 200
    assert f'action="/stripe/c/pay/{session["id"]}"' in html.decode()
    assert call_wsgi(app, "GET", "/v1/events", headers=auth)[0] == 404


urlpatterns = []


def test_django_mount(emulator):
    urlpatterns[:] = django_urls(emulator, "stripe-emulator/")
    browser = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {API_KEY}"}
    with override_settings(ROOT_URLCONF=__name__):
        response = browser.post(
            "/stripe-emulator/v1/checkout/sessions",
            data=urlencode(
                {
                    "line_items[0][price_data][currency]": "usd",
                    "line_items[0][price_data][unit_amount]": "999",
                    "line_items[0][price_data][product_data][name]": "SkillSwap Premium",
                    "line_items[0][quantity]": "1",
                    "success_url": "http://testserver/done?session_id={CHECKOUT_SESSION_ID}",
                }
            ),
            content_type="application/x-www-form-urlencoded",
            **auth,
        )
        assert response.status_code == 200
        session = response.json()
        assert session["url"] == f"http://testserver/stripe-emulator/c/pay/{session['id']}"

        page = browser.get(f"/stripe-emulator/c/pay/{session['id']}")
        assert page.status_code == 200
        assert b"$9.99" in page.content

        paid = browser.post(
            f"/stripe-emulator/c/pay/{session['id']}", card_form("4242424242424242")
        )
        assert paid.status_code == 303
        assert paid["Location"] == f"http://testserver/done?session_id={session['id']}"
        missing = browser.get("/stripe-emulator/v1/nothing-here", **auth)
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "invalid_request_error"


# --------------------------------------------------------------------------- command line


def test_command_line_server_with_webhook_flags(receiver):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django_skillswap_payments.testing.emulator",
            "--port",
            "0",
            "--webhook",
            receiver.url,
            "--webhook-secret",
            SECRET,
            "--events",
            "checkout.session.completed,payment_intent.succeeded",
            "--backoff",
            "0.01",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        match = re.match(r"Stripe emulator listening on (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner + process.stderr.read()
        client = stripe.StripeClient(
            API_KEY, base_addresses={"api": match.group(1)}, max_network_retries=0
        )
        session = client.v1.checkout.sessions.create(session_params())

        status, _, _ = pay(session.url)

        assert status == 303
        deadline = time.monotonic() + 10
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(receiver.types()) == [
            "checkout.session.completed",
            "payment_intent.succeeded",
        ]
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0
