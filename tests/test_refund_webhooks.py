"""Refunds reported by Stripe (made in its Dashboard, or failing later) land like the API's own."""

from __future__ import annotations

import pytest

from django_skillswap_payments import repository
from django_skillswap_payments.services import refunds
from tests.support.api import STATUS_URL
from tests.support.refunds import (
    REFUND_FAILS_CARD,
    paid_premium,
    paid_tip,
    refund_url,
    stripe_refunds,
)
from tests.support.stripe_objects import refund_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def dashboard(emulated_stripe, emulator_webhooks):
    """Stripe's Dashboard: refunds made straight at Stripe, whose events reach the app."""
    return emulated_stripe.stripe_client()


def _stored(payment):
    return repository.get_payment(payment.id)


def test_dashboard_refunds_land_like_the_apis(emulated_stripe, alice, bob, emulator_webhooks, dashboard, signal_log):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    signal_log.clear()

    partial = dashboard.v1.refunds.create({"payment_intent": tip.stripe_payment_intent_id, "amount": 250})

    stored = _stored(tip)
    assert (stored.status, stored.amount_refunded_minor) == ("completed", 250)
    assert [(r.refund_id, r.amount_minor, r.status) for r in stored.refunds] == [(partial.id, 250, "succeeded")]
    assert signal_log == [("payment_partially_refunded", str(tip.id))]

    rest = dashboard.v1.refunds.create({"payment_intent": tip.stripe_payment_intent_id, "reason": "fraudulent"})

    stored = _stored(tip)
    assert (stored.status, stored.amount_refunded_minor, stored.stripe_refund_id) == ("refunded", 1250, rest.id)
    assert [r.reason for r in stored.refunds] == [None, "fraudulent"]
    assert signal_log[1:] == [("payment_refunded", str(tip.id))]


def test_every_refund_event_delivered_again_changes_nothing(emulated_stripe, alice, emulator_webhooks, dashboard, alice_client, signal_log):
    premium = paid_premium(emulated_stripe, alice)
    signal_log.clear()
    dashboard.v1.refunds.create({"payment_intent": premium.stripe_payment_intent_id, "amount": 300})
    dashboard.v1.refunds.create({"payment_intent": premium.stripe_payment_intent_id})
    before = _stored(premium)
    events = [e for e in emulated_stripe.events() if e["type"].startswith(("refund.", "charge.refunded"))]
    assert len(events) == 4

    for event in events * 2:
        emulated_stripe.webhooks.resend(event)

    after = _stored(premium)
    assert (after.status, after.amount_refunded_minor) == ("refunded", 999)
    assert [r.to_mongo() for r in after.refunds] == [r.to_mongo() for r in before.refunds]
    assert signal_log == [("payment_partially_refunded", str(premium.id)), ("payment_refunded", str(premium.id))]
    assert alice_client.get(STATUS_URL).json()["is_premium"] is False


def test_refund_events_under_new_event_ids_are_idempotent_by_refund_id(anon_client, emulated_stripe, alice, bob, signal_log):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    signal_log.clear()
    refund = refund_object(tip, id="re_dashboard", amount=500)

    for number in range(3):
        assert deliver(anon_client, "refund.created", refund, event_id=f"evt_created_{number}").status_code == 200
        assert deliver(anon_client, "refund.updated", refund, event_id=f"evt_updated_{number}").status_code == 200

    stored = _stored(tip)
    assert (stored.amount_refunded_minor, len(stored.refunds)) == (500, 1)
    assert signal_log == [("payment_partially_refunded", str(tip.id))]


def test_a_charge_refunded_without_its_refunds_fetches_them_from_stripe(anon_client, emulated_stripe, alice, bob, signal_log):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    made = emulated_stripe.stripe_client().v1.refunds.create({"payment_intent": tip.stripe_payment_intent_id, "amount": 400})
    charge = emulated_stripe.get(made.charge)
    charge.pop("refunds", None)  # current API versions leave the list out of charge.refunded
    signal_log.clear()

    assert deliver(anon_client, "charge.refunded", charge, event_id="evt_charge").status_code == 200

    stored = _stored(tip)
    assert (stored.status, stored.amount_refunded_minor, [r.refund_id for r in stored.refunds]) == (
        "completed", 400, [made.id],
    )
    # Its refund.created arriving afterwards is about a refund already recorded.
    assert deliver(anon_client, "refund.created", emulated_stripe.get(made.id), event_id="evt_late").status_code == 200
    assert _stored(tip).amount_refunded_minor == 400
    assert signal_log == [("payment_partially_refunded", str(tip.id))]


def test_a_charge_refunded_that_stripe_cannot_list_is_retried(anon_client, emulated_stripe, alice, bob):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    made = emulated_stripe.stripe_client().v1.refunds.create({"payment_intent": tip.stripe_payment_intent_id, "amount": 400})
    charge = emulated_stripe.get(made.charge)
    emulated_stripe.inject_failure("GET", "/v1/refunds", status=500)

    assert deliver(anon_client, "charge.refunded", charge, event_id="evt_charge").status_code == 500
    assert _stored(tip).amount_refunded_minor == 0
    assert deliver(anon_client, "charge.refunded", charge, event_id="evt_charge").status_code == 200
    assert _stored(tip).amount_refunded_minor == 400


# -- refunds that fail ----------------------------------------------------------------------


def test_a_failed_full_refund_gives_back_its_amount_but_grants_nothing_again(
    emulated_stripe, alice, emulator_webhooks, staff_client, alice_client, signal_log
):
    premium = paid_premium(emulated_stripe, alice, card=REFUND_FAILS_CARD)
    signal_log.clear()
    assert staff_client.post(refund_url(premium.id), {}, format="json").json()["status"] == "refunded"
    assert alice_client.get(STATUS_URL).json()["is_premium"] is False

    emulated_stripe.advance_time(5)  # Stripe's test card: the refund fails a moment later

    stored = _stored(premium)
    [refund] = stored.refunds
    assert (refund.status, refund.failure_reason) == ("failed", "expired_or_canceled_card")
    assert (stored.status, stored.amount_refunded_minor) == ("refunded", 0)
    assert alice_client.get(STATUS_URL).json()["is_premium"] is False
    assert signal_log == [("payment_refunded", str(premium.id)), ("payment_refund_failed", str(premium.id))]

    # The operator may refund again what did not reach the customer.
    again = staff_client.post(refund_url(premium.id), {}, format="json")
    assert again.status_code == 200
    assert (again.json()["amount_refunded"], len(again.json()["refunds"])) == (9.99, 2)
    assert signal_log[2:] == []  # refunded already: announced once


def test_a_failed_partial_refund_takes_back_only_its_own_amount(
    emulated_stripe, alice, bob, emulator_webhooks, staff_client, signal_log
):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50", card=REFUND_FAILS_CARD)
    assert staff_client.post(refund_url(tip.id), {"amount": "2.00"}, format="json").status_code == 200
    emulated_stripe.advance_time(5)
    assert staff_client.post(refund_url(tip.id), {"amount": "3.00"}, format="json").status_code == 200
    signal_log.clear()
    first, second = (r.refund_id for r in _stored(tip).refunds)

    emulated_stripe.fail_refund(second, "lost_or_stolen_card")

    stored = _stored(tip)
    assert [(r.amount_minor, r.status) for r in stored.refunds] == [(200, "failed"), (300, "failed")]
    assert (stored.status, stored.amount_refunded_minor) == ("completed", 0)
    assert signal_log == [("payment_refund_failed", str(tip.id))]
    # A failed refund is final: later news of it as succeeded changes nothing.
    emulated_stripe.webhooks.resend(emulated_stripe.events("refund.created")[-1])
    assert _stored(tip).amount_refunded_minor == 0


def test_refund_failed_events_delivered_again_undo_once(anon_client, emulated_stripe, alice, bob, signal_log):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    deliver(anon_client, "refund.created", refund_object(tip, id="re_x", amount=700), event_id="evt_c")
    failed = refund_object(tip, id="re_x", amount=700, status="failed", failure_reason="declined")
    signal_log.clear()

    for number in range(3):
        assert deliver(anon_client, "refund.failed", failed, event_id=f"evt_f{number}").status_code == 200
        assert deliver(anon_client, "refund.updated", failed, event_id=f"evt_u{number}").status_code == 200

    stored = _stored(tip)
    assert (stored.amount_refunded_minor, stored.refunds[0].status, stored.refunds[0].failure_reason) == (0, "failed", "declined")
    assert signal_log == [("payment_refund_failed", str(tip.id))]


def test_a_refund_first_heard_of_as_failed_counts_for_nothing(anon_client, emulated_stripe, alice, bob, signal_log):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    signal_log.clear()
    failed = refund_object(tip, id="re_y", amount=700, status="failed", failure_reason="unknown")

    assert deliver(anon_client, "refund.failed", failed).status_code == 200
    assert deliver(anon_client, "refund.created", refund_object(tip, id="re_y", amount=700)).status_code == 200

    stored = _stored(tip)
    assert (stored.status, stored.amount_refunded_minor, stored.refunds[0].status) == ("completed", 0, "failed")
    assert signal_log == []


@pytest.mark.parametrize(
    "refund",
    [
        {"object": "refund"},
        {"id": "re_1", "amount": 0},
        {"id": "re_1", "amount": -5},
        {"id": "re_1", "amount": "500"},
        {"id": "re_1", "amount": True},
        {"id": "", "amount": 500},
        {"id": "re_1", "amount": 500, "payment_intent": "pi_someone_else"},
    ],
)
def test_malformed_or_foreign_refunds_are_ignored(refund, anon_client, emulated_stripe, alice, bob, mongo_database):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    before = _stored(tip).to_mongo()

    assert deliver(anon_client, "refund.created", {"object": "refund", **refund}).status_code == 200

    assert _stored(tip).to_mongo() == before


def test_mark_payment_refunded_counts_the_whole_amount(emulated_stripe, alice, bob, signal_log):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    refunds.refund_payment_amount(tip.id, amount="2.50")
    signal_log.clear()
    from django_skillswap_payments import services

    result = services.mark_payment_refunded(tip.id, refund_id="re_rest")

    assert result.changed
    assert (result.payment.amount_refunded_minor, [r.amount_minor for r in result.payment.refunds]) == (1250, [250, 1000])
    assert signal_log == [("payment_refunded", str(tip.id))]
    assert stripe_refunds(emulated_stripe, tip)[0]["amount"] == 250


def test_a_late_charge_refunded_about_a_refund_that_failed_since_changes_nothing(
    anon_client, emulated_stripe, alice, bob, signal_log
):
    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    made = emulated_stripe.stripe_client().v1.refunds.create({"payment_intent": tip.stripe_payment_intent_id})
    charge_then = emulated_stripe.get(made.charge)  # refunded in full, as the first event said
    deliver(anon_client, "refund.created", emulated_stripe.get(made.id), event_id="evt_created")
    emulated_stripe.fail_refund(made.id)
    deliver(anon_client, "refund.failed", emulated_stripe.get(made.id), event_id="evt_failed")
    signal_log.clear()

    assert deliver(anon_client, "charge.refunded", charge_then, event_id="evt_late_charge").status_code == 200

    stored = _stored(tip)
    assert (stored.status, stored.amount_refunded_minor, stored.refunds[0].status) == ("refunded", 0, "failed")
    assert signal_log == []


def test_refunds_racing_their_own_shuffled_and_repeated_events_are_each_counted_once(
    emulated_stripe, alice, bob, emulator_webhooks, signal_log
):
    from tests.support.threads import run_together

    tip = paid_tip(emulated_stripe, alice, bob, "12.50")
    signal_log.clear()
    emulated_stripe.webhooks.mode = "background"
    emulated_stripe.webhooks.configure(repeat=2, shuffle=True)
    dashboard = emulated_stripe.stripe_client()

    race = run_together(
        [lambda: refunds.refund_payment_amount(tip.id, amount="2.00")] * 4
        + [lambda: dashboard.v1.refunds.create({"payment_intent": tip.stripe_payment_intent_id, "amount": 100})] * 2
    )
    assert emulated_stripe.webhooks.wait_until_idle(timeout=30)

    assert race.errors == []
    stored = _stored(tip)
    at_stripe = stripe_refunds(emulated_stripe, tip)
    assert sorted(r.refund_id for r in stored.refunds) == sorted(r["id"] for r in at_stripe)
    assert stored.amount_refunded_minor == sum(r["amount"] for r in at_stripe) == 1000
    assert (stored.status, stored.refund_reservations) == ("completed", [])
    assert signal_log == [("payment_partially_refunded", str(tip.id))] * 6
