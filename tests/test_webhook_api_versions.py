"""Events rendered in the webhook endpoint's API version, not the app's.

Stripe renders each event in the API version of the endpoint it is sent to,
which is often older (or newer) than ``STRIPE_API_VERSION``. Every test here
signs an event in another version's shape and sends it through the real
webhook view: each version difference the app's handlers meet is either read
correctly or, when it cannot be used, recorded and answered without a 5xx.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import override_settings

from django_skillswap_payments import repository
from django_skillswap_payments.documents import Payment, PaymentProfile, Subscription, WebhookEvent
from django_skillswap_payments.services import refunds
from tests.support.database import pending_payment, profile_of
from tests.support.disputes import dispute_object
from tests.support.refunds import paid_premium
from tests.support.stripe_objects import (
    charge_object,
    intent_id_for,
    intent_object,
    refund_object,
    session_object,
)
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db

# The endpoint versions whose shapes differ in what the handlers read.
V2020 = "2020-08-27"
V2022_AUG = "2022-08-01"  # Checkout creates the PaymentIntent only when the session is confirmed
V2022_NOV = "2022-11-15"  # PaymentIntent.charges removed; Charge.refunds no longer included
V2024_JUN = "2024-06-20"  # the last version before refund.* events covered refunds of charges
ACACIA = "2024-10-28.acacia"
BASIL = "2025-03-31.basil"  # the billing period moves from the subscription to its items
CLOVER = "2025-09-30.clover"
BEFORE_ACACIA_REFUND_EVENTS = (V2020, V2022_NOV, V2024_JUN)


def stored(payment):
    return Payment.objects.get(id=payment.id)


def send(client, event_type, obj, version, **kwargs):
    response = deliver(client, event_type, obj, api_version=version, **kwargs)
    assert response.status_code == 200, response.content
    return response


def event_status(event_id):
    return WebhookEvent.objects.get(stripe_event_id=event_id).status


# -- refunds: charge.refund.updated before 2024-10-28.acacia ------------------------------------


@pytest.mark.parametrize("version", BEFORE_ACACIA_REFUND_EVENTS)
@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_a_refund_failing_is_reported_by_charge_refund_updated_before_acacia(
    anon_client, emulated_stripe, alice, signal_log, version, status
):
    # Before 2024-10-28.acacia, refund.* events covered only refunds without a charge: a card
    # refund that fails later reaches such an endpoint as charge.refund.updated alone.
    premium = paid_premium(emulated_stripe, alice)
    refunded = refunds.refund_payment_amount(premium.id)
    [made] = refunded.refunds
    assert (refunded.status, refunded.amount_refunded_minor) == ("refunded", 999)
    signal_log.clear()
    report = {**emulated_stripe.get(made.refund_id), "status": status, "failure_reason": "expired_or_canceled_card"}

    send(anon_client, "charge.refund.updated", report, version, event_id="evt_refund_failed")

    after = stored(premium)
    assert (after.refunds[0].status, after.amount_refunded_minor, after.status) == (status, 0, "refunded")
    assert event_status("evt_refund_failed") == "processed"
    assert signal_log == [("payment_refund_failed", str(premium.id))]


def test_an_endpoint_subscribed_to_both_refund_reports_takes_a_failure_once(
    anon_client, emulated_stripe, alice, signal_log
):
    # Since acacia a card refund's failure comes as refund.updated and refund.failed, and still as
    # charge.refund.updated to an endpoint that kept that event subscribed.
    premium = paid_premium(emulated_stripe, alice)
    [made] = refunds.refund_payment_amount(premium.id, amount="4.00").refunds
    signal_log.clear()
    report = {**emulated_stripe.get(made.refund_id), "status": "failed", "failure_reason": "unknown"}

    for event_type in ("charge.refund.updated", "refund.updated", "refund.failed", "charge.refund.updated"):
        send(anon_client, event_type, report, ACACIA)

    after = stored(premium)
    assert (after.refunds[0].status, after.amount_refunded_minor, after.status) == ("failed", 0, "completed")
    assert signal_log == [("payment_refund_failed", str(premium.id))]


@pytest.mark.parametrize("version", BEFORE_ACACIA_REFUND_EVENTS)
def test_a_pending_refund_listed_on_its_charge_is_settled_by_charge_refund_updated(
    anon_client, alice, signal_log, version
):
    premium = pending_payment(profile_of(alice))
    send(anon_client, "checkout.session.completed", session_object(premium), version)
    pending = refund_object(premium, status="pending", amount=300)
    # The charge lists its refunds up to 2022-11-15; the refund's own report settles it either way.
    send(anon_client, "charge.refunded", charge_object(
        premium, amount_refunded=300, refunded=False, refunds={"object": "list", "data": [pending]},
    ), version)
    assert [(r.status, r.amount_minor) for r in stored(premium).refunds] == [("pending", 300)]

    send(anon_client, "charge.refund.updated", {**pending, "status": "succeeded"}, version)

    after = stored(premium)
    assert [(r.status, r.amount_minor) for r in after.refunds] == [("succeeded", 300)]
    assert (after.status, after.amount_refunded_minor) == ("completed", 300)


@pytest.mark.parametrize(("version", "listed"), [(V2020, True), (V2022_NOV, False), (CLOVER, False)])
def test_charge_refunded_with_or_without_its_refunds_listed(
    anon_client, emulated_stripe, alice, signal_log, version, listed
):
    premium = paid_premium(emulated_stripe, alice)
    made = emulated_stripe.stripe_client().v1.refunds.create({"payment_intent": premium.stripe_payment_intent_id})
    charge = emulated_stripe.get(made.charge)
    if not listed:
        charge.pop("refunds", None)
    else:
        charge["refunds"] = {"object": "list", "data": [emulated_stripe.get(made.id)], "has_more": False}
    signal_log.clear()

    send(anon_client, "charge.refunded", charge, version)

    after = stored(premium)
    assert (after.status, after.amount_refunded_minor, [r.refund_id for r in after.refunds]) == (
        "refunded", 999, [made.id],
    )
    assert signal_log == [("payment_refunded", str(premium.id))]


@pytest.mark.parametrize(("status", "counted"), [
    ("pending", 999), ("requires_action", 999), ("succeeded", 999), ("failed", 0), ("canceled", 0),
])
def test_every_refund_status_stripe_sends(anon_client, alice, status, counted):
    premium = pending_payment(profile_of(alice))
    send(anon_client, "checkout.session.completed", session_object(premium), ACACIA)

    send(anon_client, "refund.updated", refund_object(premium, status=status), ACACIA)

    after = stored(premium)
    # requires_action is on its way back to the customer: it counts, as pending does.
    assert after.amount_refunded_minor == counted
    assert after.refunds[0].status == ("pending" if status == "requires_action" else status)


# -- completions --------------------------------------------------------------------------------


@pytest.mark.parametrize(("version", "charge_fields"), [
    pytest.param(V2020, {"charges": {"object": "list", "data": [{"id": "ch_1", "object": "charge"}]}}, id="charges"),
    pytest.param(V2022_NOV, {"latest_charge": "ch_1"}, id="latest_charge"),
])
def test_payment_intent_succeeded_on_both_sides_of_2022_11_15(anon_client, alice, signal_log, version, charge_fields):
    premium = pending_payment(profile_of(alice))

    send(anon_client, "payment_intent.succeeded", intent_object(premium, **charge_fields), version)

    after = stored(premium)
    assert (after.status, after.amount_minor, after.stripe_payment_intent_id) == (
        "completed", 999, intent_id_for(premium),
    )
    assert signal_log == [("premium_payment_completed", str(premium.id))]


@pytest.mark.parametrize("intent", [
    pytest.param(lambda p: intent_id_for(p), id="id"),
    pytest.param(lambda p: {"id": intent_id_for(p), "object": "payment_intent", "status": "succeeded"}, id="expanded"),
])
@pytest.mark.parametrize("version", [V2020, CLOVER])
def test_session_payment_intent_as_an_id_or_an_expanded_object(anon_client, alice, version, intent):
    premium = pending_payment(profile_of(alice))

    send(anon_client, "checkout.session.completed", session_object(premium, payment_intent=intent(premium)), version)

    assert (stored(premium).status, stored(premium).stripe_payment_intent_id) == ("completed", intent_id_for(premium))


def test_a_discounted_session_before_sessions_listed_their_discounts(anon_client, alice):
    # Checkout Sessions gained ``discounts`` in 2025-01-27.acacia; the figures were there before.
    premium = pending_payment(profile_of(alice))
    session = session_object(
        premium, amount_total=799, amount_subtotal=999,
        total_details={"amount_discount": 200, "amount_shipping": 0, "amount_tax": 0},
    )
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, "ALLOW_PROMOTION_CODES": True}):
        send(anon_client, "checkout.session.completed", session, V2024_JUN)

    after = stored(premium)
    assert (after.status, after.amount_minor, after.list_amount_minor, after.discount_minor) == (
        "completed", 799, 999, 200,
    )
    assert after.promotion_code_id is None


@pytest.mark.parametrize(("version", "intent"), [(V2020, "pi_abandoned"), (V2022_AUG, None)])
def test_an_expired_session_with_or_without_a_payment_intent(anon_client, alice, version, intent):
    premium = pending_payment(profile_of(alice))
    expired = session_object(premium, status="expired", payment_status="unpaid", payment_intent=intent)

    send(anon_client, "checkout.session.expired", expired, version)

    assert stored(premium).status == "expired"


# -- disputes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("charge", [
    pytest.param(lambda p: f"ch_test_{p.id}", id="id"),
    pytest.param(lambda p: {"id": f"ch_test_{p.id}", "object": "charge", "payment_intent": intent_id_for(p),
                            "metadata": {"payment_id": str(p.id)}}, id="expanded"),
])
@pytest.mark.parametrize("version", [V2020, CLOVER])
def test_a_dispute_names_its_charge_by_id_or_expanded(anon_client, alice, version, charge):
    premium = pending_payment(profile_of(alice))
    send(anon_client, "checkout.session.completed", session_object(premium), version)

    send(anon_client, "charge.dispute.created", dispute_object(premium, charge=charge(premium)), version)

    after = stored(premium)
    assert (after.dispute_status, [d.dispute_id for d in after.disputes]) == ("needs_response", [f"dp_test_{premium.id}"])


# -- legacy subscriptions -----------------------------------------------------------------------

T1, T2 = 1_700_000_000, 1_702_592_000


@pytest.mark.parametrize("version", [V2020, V2024_JUN, BASIL, CLOVER])
def test_the_billing_period_before_and_since_basil(anon_client, mongo_database, version):
    PaymentProfile(django_user_id="legacy-user", stripe_customer_id="cus_legacy").save()
    period = {"current_period_start": T1, "current_period_end": T2}
    basil_or_later = version in (BASIL, CLOVER)
    subscription = {
        "id": "sub_1", "object": "subscription", "customer": "cus_legacy", "status": "active",
        "cancel_at_period_end": False, "metadata": {},
        **({} if basil_or_later else period),
        "items": {"object": "list", "data": [{"id": "si_1", **(period if basil_or_later else {})}]},
    }

    send(anon_client, "customer.subscription.updated", subscription, version)

    row = Subscription.objects.get(stripe_subscription_id="sub_1")
    assert (row.current_period_start, row.current_period_end) == tuple(
        dt.datetime.fromtimestamp(t, tz=dt.timezone.utc) for t in (T1, T2)
    )


# -- shapes the app cannot read ------------------------------------------------------------------

UNREADABLE = [
    ("checkout.session.completed", session_object, {"payment_intent": ["pi_1"], "amount_total": "999"}),
    ("checkout.session.completed", session_object, {"total_details": [], "discounts": "promo"}),
    ("checkout.session.expired", session_object, {"id": 5, "metadata": [], "client_reference_id": {}}),
    ("payment_intent.succeeded", intent_object, {"amount_received": 9.99, "amount": None, "currency": 840}),
    ("payment_intent.payment_failed", intent_object, {"last_payment_error": "declined", "metadata": "x"}),
    ("charge.refunded", charge_object, {"refunds": {"data": "re_1"}, "amount_refunded": 0}),
    ("charge.refund.updated", refund_object, {"amount": "999", "status": ["failed"]}),
    ("refund.updated", refund_object, {"payment_intent": {"id": 7}, "metadata": None, "amount": True}),
    ("charge.dispute.created", dispute_object, {"status": None, "evidence_details": []}),
]


@pytest.mark.parametrize(("event_type", "build", "fields"), UNREADABLE)
def test_a_shape_the_app_cannot_read_is_recorded_never_a_server_error(anon_client, alice, event_type, build, fields):
    premium = pending_payment(profile_of(alice))
    send(anon_client, "checkout.session.completed", session_object(premium), ACACIA)
    before = stored(premium).to_mongo()

    send(anon_client, event_type, {**build(premium), **fields}, "2031-01-01.unknown", event_id="evt_odd")

    assert event_status("evt_odd") in ("ignored", "processed")
    after = stored(premium).to_mongo()
    assert (after["status"], after.get("amount_refunded_minor"), after.get("disputes")) == (
        before["status"], before.get("amount_refunded_minor"), before.get("disputes"),
    )


def test_the_endpoint_version_is_recorded_with_each_event(anon_client, alice):
    premium = pending_payment(profile_of(alice))
    send(anon_client, "checkout.session.completed", session_object(premium), V2020, event_id="evt_old")
    assert repository.get_webhook_event("evt_old").api_version == V2020
