"""The testing toolkit shipped to host projects: webhook helpers, factories and the pytest plugin."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe
from django.urls import reverse
from rest_framework.test import APIClient

from django_skillswap_payments import gateway, webhooks
from django_skillswap_payments.documents import Payment, PaymentProfile, WebhookEvent
from django_skillswap_payments.signals import premium_payment_completed
from django_skillswap_payments.testing.factories import (
    PaymentFactory,
    PaymentProfileFactory,
    WebhookEventFactory,
)
from django_skillswap_payments.testing.webhooks import (
    DEFAULT_API_VERSION,
    build_event,
    build_signed_event,
    encode_event,
    send_webhook,
    sign_payload,
)
from tests.support.stripe_objects import line_items

# --------------------------------------------------------------------------- signing helpers


def test_sign_payload_matches_stripes_verification():
    payload = b'{"id": "evt_1"}'
    header = sign_payload(payload, "whsec_abc", timestamp=1_700_000_000)

    assert header.startswith("t=1700000000,v1=")
    assert stripe.WebhookSignature.verify_header(
        payload.decode(), header, "whsec_abc", tolerance=None
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            payload.decode(), header, "whsec_other", tolerance=None
        )


def test_build_signed_event_is_accepted_by_construct_event():
    session = {"id": "cs_test_1", "object": "checkout.session", "payment_status": "paid"}

    payload, headers = build_signed_event(
        "checkout.session.completed",
        session,
        "whsec_abc",
        event_id="evt_fixed",
        created=1_700_000_000,
    )

    event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], "whsec_abc")
    assert (event.id, event.type, event.created, event.livemode) == (
        "evt_fixed",
        "checkout.session.completed",
        1_700_000_000,
        False,
    )
    assert event.api_version == DEFAULT_API_VERSION == stripe.api_version
    assert event.data.object.payment_status == "paid"
    assert headers["Content-Type"].startswith("application/json")


def test_build_event_copies_the_object():
    data = {"id": "pi_1", "object": "payment_intent", "metadata": {"a": "1"}}
    event = build_event("payment_intent.succeeded", data)
    data["metadata"]["a"] = "changed"

    assert event["data"]["object"]["metadata"] == {"a": "1"}
    assert event["id"].startswith("evt_")


def test_send_webhook_over_http():
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(202)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        event = build_event("charge.refunded", {"id": "ch_1", "object": "charge"})
        result = send_webhook(
            f"http://127.0.0.1:{server.server_address[1]}/hook", event, "whsec_abc"
        )
    finally:
        server.shutdown()
        server.server_close()

    assert (result.status_code, result.content) == (202, b"ok")
    headers, body = received[0]
    assert (
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_abc").id
        == event["id"]
    )


def test_send_webhook_through_a_django_client_needs_a_path(client):
    with pytest.raises(ValueError, match="path="):
        send_webhook(client, build_event("charge.succeeded", {"id": "ch_1"}), "whsec_abc")


# --------------------------------------------------------------------------- factories


def test_profile_factory():
    profile = PaymentProfileFactory()
    with_customer = PaymentProfileFactory(with_customer=True)

    assert PaymentProfile.objects(id=profile.id).count() == 1
    assert profile.stripe_customer_id is None
    assert with_customer.stripe_customer_id.startswith("cus_")
    assert profile.django_user_id != with_customer.django_user_id


def test_payment_factory_defaults_to_a_pending_premium_purchase():
    payment = PaymentFactory()

    stored = Payment.objects.get(id=payment.id)
    assert (stored.transaction_type, stored.status, stored.amount_minor, stored.currency) == (
        "premium",
        "pending",
        999,
        "usd",
    )
    assert stored.amount == Decimal("9.99")
    assert PaymentProfile.objects(id=stored.from_user_id).count() == 1
    assert stored.to_user_id is None


def test_payment_factory_traits():
    recipient = PaymentProfileFactory()
    tip = PaymentFactory(tip=True, completed=True, recipient=recipient, amount_minor=1250)
    refunded = PaymentFactory(refunded=True)
    failed = PaymentFactory(failed=True)

    assert (tip.transaction_type, tip.status, tip.to_user_id) == ("tip", "completed", recipient.id)
    assert tip.amount == Decimal("12.50")
    assert tip.stripe_payment_intent_id.startswith("pi_")
    assert tip.completed_at is not None
    assert (
        refunded.status,
        refunded.refunded_at is not None,
        refunded.stripe_payment_intent_id is not None,
    ) == (
        "refunded",
        True,
        True,
    )
    assert (failed.status, failed.failure_reason) == ("failed", "Your card was declined.")


def test_webhook_event_factory():
    record = WebhookEventFactory(type="payment_intent.succeeded")

    stored = WebhookEvent.objects.get(id=record.id)
    assert stored.payload["id"] == stored.stripe_event_id
    assert stored.payload["type"] == "payment_intent.succeeded"
    assert stored.payload["data"]["object"]["object"] == "payment_intent"
    assert stored.status == "received"
    # The exact body, as Stripe would send it, and the dict copy agree.
    assert stored.payload_json == encode_event(json.loads(stored.payload_json)).decode()
    assert json.loads(stored.payload_json) == stored.payload
    assert (stored.payload["livemode"], stored.payload["api_version"]) == (
        stored.livemode,
        stored.api_version,
    )


def test_webhook_event_factory_keeps_keys_mongodb_cannot_store_in_the_body():
    record = WebhookEventFactory(
        type="customer.updated",
        data_object={"id": "cus_1", "object": "customer", "metadata": {"a.b": "1"}},
    )

    stored = WebhookEvent.objects.get(id=record.id)
    assert json.loads(stored.payload_json)["data"]["object"]["metadata"] == {"a.b": "1"}
    assert stored.payload["data"]["object"]["metadata"] == {"a\uff0eb": "1"}


def test_webhook_event_factory_payload_follows_a_given_body():
    body = encode_event(
        build_event("customer.created", {"id": "cus_2", "object": "customer"}, event_id="evt_x")
    )

    record = WebhookEventFactory(
        stripe_event_id="evt_x", type="customer.created", payload_json=body.decode()
    )

    assert record.payload == json.loads(body)


def test_factory_events_replay_from_their_body():
    record = WebhookEventFactory(type="customer.created")

    outcome = webhooks.replay(record.stripe_event_id)

    assert outcome.status == "ignored"
    stored = WebhookEvent.objects.get(id=record.id)
    assert (stored.status, stored.attempts) == ("ignored", 1)


# --------------------------------------------------------------------------- pytest plugin


def test_payments_settings_points_the_gateway_at_the_in_process_emulator(
    stripe_emulator, payments_settings
):
    assert (
        payments_settings["STRIPE_HTTP_CLIENT"]
        == "django_skillswap_payments.testing.emulator.active_http_client"
    )

    customer = gateway.get_client().v1.customers.create({"email": "ada@example.com"})

    assert stripe_emulator.get(customer.id)["email"] == "ada@example.com"
    assert stripe_emulator.requests_to("POST", "/v1/customers")[0].api_key == "sk_test_emulator"


def test_payments_settings_uses_http_with_the_server_fixture(
    stripe_emulator_server, payments_settings
):
    assert payments_settings["STRIPE_API_BASE"] == stripe_emulator_server.base_url
    assert payments_settings["STRIPE_HTTP_CLIENT"] is None

    customer = gateway.get_client().v1.customers.create({})

    assert stripe_emulator_server.emulator.get(customer.id)["object"] == "customer"


def test_stripe_client_fixture(stripe_client, stripe_emulator):
    session = stripe_client.v1.checkout.sessions.create({"line_items": line_items(500, "Tip")})
    assert stripe_emulator.get(session.id)["amount_total"] == 500


@pytest.mark.django_db
def test_signed_webhook_reaches_the_apps_webhook_view(payments_settings, signed_webhook):
    response = signed_webhook(
        "customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_toolkit_1"
    )

    assert response.status_code == 200
    assert WebhookEvent.objects(stripe_event_id="evt_toolkit_1").count() == 1


@pytest.mark.django_db
def test_badly_signed_webhook_is_rejected(payments_settings, signed_webhook):
    response = signed_webhook(
        "customer.created", {"id": "cus_1", "object": "customer"}, secret="whsec_wrong"
    )

    assert response.status_code == 400
    assert WebhookEvent.objects.count() == 0


# The example from the plugin's documentation, verbatim in substance.
@pytest.mark.django_db
def test_premium_purchase_unlocks_badge(
    django_user_model, stripe_emulator, payments_settings, emulator_webhooks
):
    received = []

    def on_premium(sender, payment, **kwargs):
        received.append(payment)

    premium_payment_completed.connect(on_premium, weak=False)
    try:
        api = APIClient()
        api.force_authenticate(django_user_model.objects.create_user("ada", password="pw"))
        response = api.post(
            reverse("payments:premium-create-checkout"),
            {
                "success_url": "http://testserver/done?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": "http://testserver/cancel",
            },
            format="json",
        )
        session_id = response.json()["session_id"]

        outcome = stripe_emulator.submit_payment(session_id, "4242 4242 4242 4242")

        assert outcome.succeeded
        assert len(received) == 1
        assert received[0].status == "completed"
    finally:
        premium_payment_completed.disconnect(on_premium)
    deliveries = {
        attempt.event_type: attempt.status for attempt in stripe_emulator.webhooks.attempts
    }
    assert deliveries["checkout.session.completed"] == 200
