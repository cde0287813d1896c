"""Each handled Stripe event type, exactly-once effects, and retry after a crash."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from pymongo.errors import AutoReconnect
from rest_framework.test import APIClient

from django_skillswap_payments import errors, repository, services, webhooks
from django_skillswap_payments.documents import Payment, PaymentProfile, Subscription, WebhookEvent
from django_skillswap_payments.repository import webhook_log
from django_skillswap_payments.services import transitions
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import charge_object, intent_object, refund_object, session_object
from tests.support.webhooks import deliver, post_webhook, signed

pytestmark = pytest.mark.django_db


def _event(event_id):
    return WebhookEvent.objects.get(stripe_event_id=event_id)


def _status(payment):
    return Payment.objects.get(id=payment.id).status


def _is_premium(client):
    return client.get("/api/payments/subscription/status/").json()["is_premium"]


@pytest.fixture
def premium(alice):
    return pending_payment(profile_of(alice))


@pytest.fixture
def tip(alice, bob):
    return pending_payment(profile_of(alice), kind="tip", amount="12.50", recipient=profile_of(bob))


def test_checkout_session_completed_completes_premium(anon_client, alice_client, premium, signal_log):
    response = deliver(anon_client, "checkout.session.completed", session_object(premium), event_id="evt_a")

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    stored = Payment.objects.get(id=premium.id)
    assert stored.status == "completed"
    assert stored.stripe_payment_intent_id == f"pi_test_{premium.id}"
    assert stored.completed_at is not None
    assert signal_log == [("premium_payment_completed", str(premium.id))]
    assert _event("evt_a").status == "processed"
    assert _event("evt_a").attempts == 1
    assert _is_premium(alice_client) is True


def test_checkout_session_completed_completes_tip(anon_client, tip, signal_log):
    response = deliver(anon_client, "checkout.session.completed", session_object(tip))

    assert response.status_code == 200
    assert _status(tip) == "completed"
    assert signal_log == [("tip_payment_completed", str(tip.id))]


def test_same_event_delivered_three_times_has_one_effect(anon_client, premium, signal_log):
    payload, signature = signed("checkout.session.completed", session_object(premium), event_id="evt_dup")

    responses = [post_webhook(anon_client, payload, signature)]
    first_processed_at = _event("evt_dup").processed_at
    responses += [post_webhook(anon_client, payload, signature) for _ in range(2)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    # Later deliveries stop at the event log: the handler does not run again.
    assert _event("evt_dup").processed_at == first_processed_at
    assert _event("evt_dup").attempts == 3
    assert all(r.json() == {"status": "success"} for r in responses)
    assert signal_log == [("premium_payment_completed", str(premium.id))]
    assert WebhookEvent.objects(stripe_event_id="evt_dup").count() == 1
    assert _event("evt_dup").status == "processed"


@pytest.mark.parametrize(
    "order",
    [
        ("checkout.session.completed", "payment_intent.succeeded"),
        ("payment_intent.succeeded", "checkout.session.completed"),
    ],
)
def test_both_completion_events_in_either_order_complete_once(anon_client, premium, signal_log, order):
    objects = {
        "checkout.session.completed": session_object(premium),
        "payment_intent.succeeded": intent_object(premium),
    }
    for event_type in order:
        assert deliver(anon_client, event_type, objects[event_type]).status_code == 200

    assert _status(premium) == "completed"
    assert signal_log == [("premium_payment_completed", str(premium.id))]
    assert sorted(e.status for e in WebhookEvent.objects) == ["processed", "processed"]


def test_unpaid_session_completion_waits_for_async_success(anon_client, premium, signal_log):
    unpaid = session_object(premium, payment_status="unpaid")
    assert deliver(anon_client, "checkout.session.completed", unpaid, event_id="evt_wait").status_code == 200
    assert _status(premium) == "pending"
    assert signal_log == []
    assert _event("evt_wait").status == "processed"

    paid = session_object(premium)
    assert deliver(anon_client, "checkout.session.async_payment_succeeded", paid).status_code == 200
    assert _status(premium) == "completed"
    assert signal_log == [("premium_payment_completed", str(premium.id))]


def test_async_payment_failed_fails_the_payment(anon_client, premium, signal_log):
    obj = session_object(premium, payment_status="unpaid")
    assert deliver(anon_client, "checkout.session.async_payment_failed", obj).status_code == 200

    stored = Payment.objects.get(id=premium.id)
    assert stored.status == "failed"
    assert stored.failure_reason == "async_payment_failed"
    assert signal_log == [("payment_failed", str(premium.id))]


def test_expired_session_expires_pending_payment(anon_client, premium, signal_log):
    obj = session_object(premium, status="expired", payment_status="unpaid", payment_intent=None)
    assert deliver(anon_client, "checkout.session.expired", obj).status_code == 200

    stored = Payment.objects.get(id=premium.id)
    assert stored.status == "expired"
    assert stored.failure_reason == "checkout_expired"
    assert stored.open_checkout_slot is None  # the user may start a new checkout
    assert signal_log == [("payment_failed", str(premium.id))]


def test_payment_failed_keeps_stripes_message_and_a_later_success_still_completes(anon_client, premium, signal_log):
    declined = intent_object(
        premium,
        status="requires_payment_method",
        amount_received=0,
        last_payment_error={"code": "card_declined", "message": "Your card was declined."},
    )
    assert deliver(anon_client, "payment_intent.payment_failed", declined).status_code == 200
    stored = Payment.objects.get(id=premium.id)
    assert stored.status == "failed"
    assert stored.failure_reason == "Your card was declined."
    # Not the end: the checkout stays the user's one open checkout.
    assert (stored.failure_final, stored.open_checkout_slot) == (False, premium.open_checkout_slot)

    # Checkout lets the customer retry with another card in the same session.
    assert deliver(anon_client, "payment_intent.succeeded", intent_object(premium)).status_code == 200
    completed = Payment.objects.get(id=premium.id)
    assert (completed.status, completed.failure_reason, completed.open_checkout_slot) == ("completed", None, None)
    assert signal_log == [("payment_failed", str(premium.id)), ("premium_payment_completed", str(premium.id))]


def test_a_declined_attempt_then_a_failed_delayed_payment_ends_the_checkout(anon_client, premium, signal_log):
    declined = intent_object(
        premium, status="requires_payment_method", amount_received=0,
        last_payment_error={"code": "card_declined", "message": "Your card was declined."},
    )
    deliver(anon_client, "payment_intent.payment_failed", declined)
    obj = session_object(premium, status="complete", payment_status="unpaid")

    assert deliver(anon_client, "checkout.session.async_payment_failed", obj).status_code == 200

    stored = Payment.objects.get(id=premium.id)
    assert (stored.status, stored.failure_reason, stored.failure_final) == ("failed", "async_payment_failed", True)
    assert stored.open_checkout_slot is None
    assert signal_log == [("payment_failed", str(premium.id))] * 2


def test_charge_refunded_revokes_premium(anon_client, alice_client, premium, signal_log):
    deliver(anon_client, "checkout.session.completed", session_object(premium))
    assert _is_premium(alice_client) is True

    assert deliver(anon_client, "charge.refunded", charge_object(premium)).status_code == 200

    stored = Payment.objects.get(id=premium.id)
    assert stored.status == "refunded"
    assert stored.stripe_refund_id == f"re_test_{premium.id}"
    assert signal_log[-1] == ("payment_refunded", str(premium.id))
    assert _is_premium(alice_client) is False


def test_partial_refund_is_recorded_and_keeps_the_payment_completed(anon_client, premium, signal_log):
    deliver(anon_client, "checkout.session.completed", session_object(premium))
    listed = {"object": "list", "data": [refund_object(premium, amount=100)]}
    partial = charge_object(premium, refunded=False, amount_refunded=100, refunds=listed)

    assert deliver(anon_client, "charge.refunded", partial, event_id="evt_partial").status_code == 200

    stored = Payment.objects.get(id=premium.id)
    assert (stored.status, stored.amount_refunded_minor) == ("completed", 100)
    assert [(r.refund_id, r.amount_minor, r.status) for r in stored.refunds] == [(f"re_test_{premium.id}", 100, "succeeded")]
    assert _event("evt_partial").status == "processed"
    assert signal_log[1:] == [("payment_partially_refunded", str(premium.id))]


def test_legacy_subscription_events_update_the_subscriptions_collection(anon_client, alice, alice_client):
    profile = profile_of(alice)
    profile.stripe_customer_id = "cus_legacy"
    profile.save()
    start, end = 1_735_689_600, 1_738_368_000
    subscription = {
        "id": "sub_legacy",
        "object": "subscription",
        "customer": "cus_legacy",
        "status": "active",
        "cancel_at_period_end": True,
        "items": {"object": "list", "data": [{"current_period_start": start, "current_period_end": end}]},
        "metadata": {},
    }
    assert deliver(anon_client, "customer.subscription.updated", subscription, created=1_000).status_code == 200

    stored = Subscription.objects.get(stripe_subscription_id="sub_legacy")
    assert stored.user_id == profile.id
    assert stored.status == "active"
    assert stored.cancel_at_period_end is True
    assert stored.current_period_end == dt.datetime.fromtimestamp(end, tz=dt.timezone.utc)
    status = alice_client.get("/api/payments/subscription/status/").json()
    assert status["is_premium"] is True
    assert status["subscription"]["cancel_at_period_end"] is True

    deleted = {**subscription, "status": "canceled"}
    assert deliver(anon_client, "customer.subscription.deleted", deleted, created=2_000).status_code == 200
    assert Subscription.objects.get(stripe_subscription_id="sub_legacy").status == "canceled"
    assert alice_client.get("/api/payments/subscription/status/").json()["is_premium"] is False

    # A late, older "updated" event must not resurrect the subscription.
    response = deliver(anon_client, "customer.subscription.updated", subscription, created=1_500, event_id="evt_late")
    assert response.status_code == 200
    assert Subscription.objects.get(stripe_subscription_id="sub_legacy").status == "canceled"
    assert _event("evt_late").status == "ignored"


def test_unknown_event_type_is_recorded_as_ignored(anon_client, mongo_database):
    response = deliver(anon_client, "customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_x")

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    event = _event("evt_x")
    assert event.status == "ignored"
    assert event.type == "customer.created"
    assert event.payload["data"]["object"]["id"] == "cus_1"
    assert mongo_database["payments"].count_documents({}) == 0


def test_event_for_a_session_we_do_not_know_is_ignored(anon_client, premium, signal_log):
    stranger = session_object(premium, id="cs_test_unknown", client_reference_id=None, metadata={})
    assert deliver(anon_client, "checkout.session.completed", stranger, event_id="evt_s").status_code == 200
    assert _event("evt_s").status == "ignored"
    assert _status(premium) == "pending"
    assert signal_log == []


def test_subscription_mode_sessions_are_not_treated_as_payments(anon_client, premium, signal_log):
    obj = session_object(premium, mode="subscription")
    assert deliver(anon_client, "checkout.session.completed", obj, event_id="evt_m").status_code == 200
    assert _event("evt_m").status == "ignored"
    assert _status(premium) == "pending"


@pytest.mark.parametrize(
    ("overrides", "livemode", "field"),
    [
        ({"amount_total": 1}, False, "amount"),
        ({"currency": "eur"}, False, "currency"),
        ({}, True, "livemode"),
    ],
)
def test_mismatching_figures_are_recorded_and_grant_nothing(
    anon_client, alice_client, premium, signal_log, overrides, livemode, field
):
    obj = session_object(premium, **overrides)
    response = deliver(anon_client, "checkout.session.completed", obj, livemode=livemode, event_id="evt_mm")

    assert response.status_code == 200
    stored = Payment.objects.get(id=premium.id)
    assert stored.status == "pending"
    assert stored.metadata["mismatch"]["fields"] == [field]
    event = _event("evt_mm")
    assert event.status == "ignored"
    assert field in event.last_error
    assert signal_log == []
    assert _is_premium(alice_client) is False


def test_intent_amount_mismatch_grants_nothing(anon_client, premium, signal_log):
    obj = intent_object(premium, amount=1, amount_received=1)
    assert deliver(anon_client, "payment_intent.succeeded", obj).status_code == 200
    assert _status(premium) == "pending"
    assert signal_log == []


def test_handler_crash_returns_5xx_then_redelivery_processes(anon_client, premium, signal_log, monkeypatch):
    payload, signature = signed("checkout.session.completed", session_object(premium), event_id="evt_crash")
    real_complete = transitions.complete_payment

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(transitions, "complete_session", lambda *args, **kwargs: None)
    monkeypatch.setattr(transitions, "complete_payment", broken)
    first = post_webhook(anon_client, payload, signature)

    assert first.status_code == 500
    assert first.json()["error"] == "Webhook processing failed"
    event = _event("evt_crash")
    assert event.status == "failed"
    assert event.attempts == 1
    assert "database went away" in event.last_error
    assert _status(premium) == "pending"
    assert signal_log == []

    monkeypatch.setattr(transitions, "complete_payment", real_complete)
    second = post_webhook(anon_client, payload, signature)

    assert second.status_code == 200
    event = _event("evt_crash")
    assert event.status == "processed"
    assert event.attempts == 2
    assert event.last_error is None
    assert _status(premium) == "completed"
    assert signal_log == [("premium_payment_completed", str(premium.id))]


def test_dispatch_table_covers_the_legacy_events():
    for event_type in (
        "checkout.session.completed",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ):
        assert event_type in webhooks.HANDLERS


def test_webhook_exceptions_live_in_errors():
    assert webhooks.WebhookNotConfigured is errors.WebhookNotConfigured
    assert webhooks.WebhookProcessingFailed is errors.WebhookProcessingFailed
    assert webhooks.WebhookEventNotFound is errors.WebhookEventNotFound
    assert issubclass(errors.WebhookNotConfigured, errors.PaymentError)
    assert errors.WebhookNotConfigured().http_status == 500


def test_record_webhook_event_counts_attempts():
    delivery = {
        "event_id": "evt_2",
        "event_type": "payment_intent.succeeded",
        "livemode": False,
        "api_version": "2026-10-28.endive",
        "payload": {"id": "evt_2"},
    }
    first = repository.record_webhook_event(**delivery)
    assert (first.status, first.attempts) == ("received", 1)
    again = repository.record_webhook_event(**delivery)
    assert again.attempts == 2 and again.id == first.id
    assert repository.finish_webhook_event("evt_2", "failed", error="boom") is True
    done = repository.get_webhook_event("evt_2")
    assert (done.status, done.last_error) == ("failed", "boom") and done.processed_at
    assert [event.stripe_event_id for event in repository.webhook_events()] == ["evt_2"]


AWKWARD_METADATA = {"a.b": "x", "$c": "y", "nested": {"d.e": {"$f": 1}}}


def test_event_with_dotted_and_dollar_keys_is_recorded_processed_and_replayable(
    anon_client, premium, signal_log, mongo_database
):
    obj = session_object(premium, metadata={"payment_id": str(premium.id), **AWKWARD_METADATA})
    payload, signature = signed("checkout.session.completed", obj, event_id="evt_keys")

    response = post_webhook(anon_client, payload, signature)

    assert response.status_code == 200
    assert _status(premium) == "completed"
    assert signal_log == [("premium_payment_completed", str(premium.id))]
    event = _event("evt_keys")
    assert event.status == "processed"
    # The exact body Stripe signed is kept, so nothing about the keys is lost.
    assert event.payload_json == payload.decode("utf-8")
    raw = mongo_database["webhook_events"].find_one({"stripe_event_id": "evt_keys"})
    assert raw["payload_json"] == event.payload_json
    # The dict copy kept for querying has the keys MongoDB refuses escaped.
    metadata = raw["payload"]["data"]["object"]["metadata"]
    assert metadata["a\uff0eb"] == "x" and metadata["\uff04c"] == "y"
    assert metadata["nested"] == {"d\uff0ee": {"\uff04f": 1}}
    assert not any("." in key or key.startswith("$") for key in metadata)

    replayed = webhooks.replay("evt_keys", force=True)
    assert replayed.status == "processed"
    assert _event("evt_keys").attempts == 2
    assert signal_log == [("premium_payment_completed", str(premium.id))]  # conditional transition: no second signal

    call_command("payments_replay_webhooks", "evt_keys", "--force", stdout=None)
    assert _event("evt_keys").status == "processed"


def test_event_with_a_nul_character_in_a_key_is_recorded_with_the_key_escaped(anon_client, mongo_database):
    # Found by the API fuzzer: BSON keys cannot hold NUL, so recording the event answered an HTML 500.
    payload, signature = signed("customer.created", {"id": "cus_1", "metadata": {"a\x00b": "x"}}, event_id="evt_nul")

    response = post_webhook(anon_client, payload, signature)

    assert response.status_code == 200
    raw = mongo_database["webhook_events"].find_one({"stripe_event_id": "evt_nul"})
    assert raw["status"] == "ignored"
    assert raw["payload"]["data"]["object"]["metadata"] == {"a\u2400b": "x"}
    assert json.loads(raw["payload_json"])["data"]["object"]["metadata"] == {"a\x00b": "x"}


def test_replay_parses_the_stored_body_not_the_dict_copy(anon_client, premium, signal_log):
    obj = session_object(premium, metadata={"payment_id": str(premium.id), **AWKWARD_METADATA})
    payload, _signature = signed("checkout.session.completed", obj, event_id="evt_body")
    WebhookEvent(
        stripe_event_id="evt_body", type="checkout.session.completed", payload_json=payload.decode(), status="failed"
    ).save()

    outcome = webhooks.replay("evt_body")

    assert outcome.status == "processed"
    assert _status(premium) == "completed"


def test_unknown_event_with_awkward_keys_is_ignored_not_a_500(anon_client, mongo_database):
    obj = {"id": "cus_k", "object": "customer", "metadata": AWKWARD_METADATA}
    response = deliver(anon_client, "customer.updated", obj, event_id="evt_cus_keys")

    assert response.status_code == 200
    assert _event("evt_cus_keys").status == "ignored"


def test_deeply_nested_event_is_recorded_without_the_dict_copy(anon_client, mongo_database):
    deep = {}
    for _ in range(150):
        deep = {"x": deep}
    obj = {"id": "cus_deep", "object": "customer", "metadata": {}, "deep": deep}
    response = deliver(anon_client, "customer.updated", obj, event_id="evt_deep")

    assert response.status_code == 200
    raw = mongo_database["webhook_events"].find_one({"stripe_event_id": "evt_deep"})
    assert raw["status"] == "ignored"
    assert "payload" not in raw or not raw["payload"]
    assert webhooks.replay("evt_deep", force=True).status == "ignored"


def test_malformed_stripe_figures_are_stored_as_plain_values(anon_client, premium, signal_log, mongo_database):
    obj = session_object(premium, amount_total={"$gt": 0, "a.b": 1}, currency={"$ne": "usd"})
    response = deliver(anon_client, "checkout.session.completed", obj, event_id="evt_weird")

    assert response.status_code == 200
    assert _event("evt_weird").status == "ignored"
    note = mongo_database["payments"].find_one({"_id": premium.id})["metadata"]["mismatch"]
    assert note["fields"] == ["amount", "currency"]
    assert isinstance(note["reported"]["amount_minor"], str)
    assert isinstance(note["reported"]["currency"], str)
    assert signal_log == []


def test_non_text_failure_message_falls_back_to_a_plain_reason(anon_client, premium, signal_log):
    obj = intent_object(premium, status="requires_payment_method", last_payment_error={"message": {"$x": 1}})
    assert deliver(anon_client, "payment_intent.payment_failed", obj).status_code == 200
    stored = Payment.objects.get(id=premium.id)
    assert (stored.status, stored.failure_reason) == ("failed", "payment_failed")


def _server_error_client():
    # Render the 500 a real server would send instead of re-raising into the test.
    return APIClient(raise_request_exception=False)


def test_database_error_while_recording_is_a_5xx_and_nothing_is_lost(premium, signal_log, monkeypatch):
    payload, signature = signed("checkout.session.completed", session_object(premium), event_id="evt_rec")
    real_record = webhook_log.record_webhook_event

    def down(**kwargs):
        raise AutoReconnect("primary stepped down")

    monkeypatch.setattr(webhook_log, "record_webhook_event", down)
    client = _server_error_client()
    first = post_webhook(client, payload, signature)

    assert first.status_code >= 500
    assert WebhookEvent.objects(stripe_event_id="evt_rec").count() == 0
    assert _status(premium) == "pending"

    monkeypatch.setattr(webhook_log, "record_webhook_event", real_record)
    assert post_webhook(client, payload, signature).status_code == 200
    assert _event("evt_rec").status == "processed"
    assert _status(premium) == "completed"
    assert signal_log == [("premium_payment_completed", str(premium.id))]


@pytest.mark.parametrize("handler_fails", [False, True])
def test_event_stuck_in_received_is_processed_on_redelivery(premium, signal_log, monkeypatch, handler_fails):
    """The process dies (here: the database fails) before the outcome is stored."""
    payload, signature = signed("checkout.session.completed", session_object(premium), event_id="evt_stuck")
    real_finish, real_complete = webhook_log.finish_webhook_event, transitions.complete_payment

    def down(*args, **kwargs):
        raise AutoReconnect("connection lost")

    monkeypatch.setattr(webhook_log, "finish_webhook_event", down)
    if handler_fails:
        monkeypatch.setattr(transitions, "complete_session", lambda *args, **kwargs: None)
        monkeypatch.setattr(transitions, "complete_payment", down)
    client = _server_error_client()
    first = post_webhook(client, payload, signature)

    assert first.status_code >= 500
    stuck = _event("evt_stuck")
    assert (stuck.status, stuck.attempts) == ("received", 1)

    monkeypatch.setattr(webhook_log, "finish_webhook_event", real_finish)
    monkeypatch.setattr(transitions, "complete_payment", real_complete)
    second = post_webhook(client, payload, signature)

    assert second.status_code == 200
    event = _event("evt_stuck")
    assert (event.status, event.attempts) == ("processed", 2)
    assert _status(premium) == "completed"
    assert signal_log == [("premium_payment_completed", str(premium.id))]


def test_out_of_range_numbers_from_stripe_do_not_break_storage(anon_client, premium, mongo_database):
    obj = session_object(premium, amount_total=10**30)
    assert deliver(anon_client, "checkout.session.completed", obj, event_id="evt_big_int").status_code == 200
    note = mongo_database["payments"].find_one({"_id": premium.id})["metadata"]["mismatch"]
    assert note["reported"]["amount_minor"] == str(10**30)


def test_out_of_range_subscription_times_are_ignored(mongo_database):
    PaymentProfile(django_user_id="far-future", stripe_customer_id="cus_ff").save()
    payload = {"id": "sub_ff", "customer": "cus_ff", "status": "active", "current_period_end": 10**20}
    assert services.sync_legacy_subscription(payload, event_created=10**20).changed
    assert Subscription.objects.get(stripe_subscription_id="sub_ff").current_period_end is None
