"""Each handled Stripe event type, exactly-once effects, and retry after a crash."""

from __future__ import annotations

import datetime as dt

import pytest

from django_skillswap_payments import services, webhooks
from django_skillswap_payments.documents import Payment, Subscription, WebhookEvent
from tests.api_helpers import (
    charge_object,
    deliver,
    intent_object,
    pending_payment,
    post_webhook,
    profile_of,
    session_object,
    signed,
)

pytest_plugins = ("tests.api_support",)
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


def test_expired_session_fails_pending_payment(anon_client, premium, signal_log):
    obj = session_object(premium, status="expired", payment_status="unpaid", payment_intent=None)
    assert deliver(anon_client, "checkout.session.expired", obj).status_code == 200

    stored = Payment.objects.get(id=premium.id)
    assert stored.status == "failed"
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

    # Checkout lets the customer retry with another card in the same session.
    assert deliver(anon_client, "payment_intent.succeeded", intent_object(premium)).status_code == 200
    assert _status(premium) == "completed"
    assert signal_log == [("payment_failed", str(premium.id)), ("premium_payment_completed", str(premium.id))]


def test_charge_refunded_revokes_premium(anon_client, alice_client, premium, signal_log):
    deliver(anon_client, "checkout.session.completed", session_object(premium))
    assert _is_premium(alice_client) is True

    assert deliver(anon_client, "charge.refunded", charge_object(premium)).status_code == 200

    stored = Payment.objects.get(id=premium.id)
    assert stored.status == "refunded"
    assert stored.stripe_refund_id == f"re_test_{premium.id}"
    assert signal_log[-1] == ("payment_refunded", str(premium.id))
    assert _is_premium(alice_client) is False


def test_partial_refund_is_recorded_but_changes_nothing(anon_client, premium, signal_log):
    deliver(anon_client, "checkout.session.completed", session_object(premium))
    partial = charge_object(premium, refunded=False, amount_refunded=100)

    assert deliver(anon_client, "charge.refunded", partial, event_id="evt_partial").status_code == 200

    assert _status(premium) == "completed"
    assert _event("evt_partial").status == "ignored"
    assert len(signal_log) == 1


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
    real_complete = services.complete_payment

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "complete_payment", broken)
    first = post_webhook(anon_client, payload, signature)

    assert first.status_code == 500
    assert first.json()["error"] == "Webhook processing failed"
    event = _event("evt_crash")
    assert event.status == "failed"
    assert event.attempts == 1
    assert "database went away" in event.last_error
    assert _status(premium) == "pending"
    assert signal_log == []

    monkeypatch.setattr(services, "complete_payment", real_complete)
    second = post_webhook(anon_client, payload, signature)

    assert second.status_code == 200
    event = _event("evt_crash")
    assert event.status == "processed"
    assert event.attempts == 2
    assert event.last_error is None
    assert _status(premium) == "completed"
    assert signal_log == [("premium_payment_completed", str(premium.id))]


def test_dispatch_table_covers_the_reference_events():
    for event_type in (
        "checkout.session.completed",
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ):
        assert event_type in webhooks.HANDLERS


def test_webhook_exceptions_live_in_errors():
    from django_skillswap_payments import errors

    assert webhooks.WebhookNotConfigured is errors.WebhookNotConfigured
    assert webhooks.WebhookProcessingFailed is errors.WebhookProcessingFailed
    assert webhooks.WebhookEventNotFound is errors.WebhookEventNotFound
    assert issubclass(errors.WebhookNotConfigured, errors.PaymentError)
    assert errors.WebhookNotConfigured().http_status == 500
