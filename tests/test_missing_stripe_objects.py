"""Stored Stripe ids that Stripe no longer has never leave a user stuck.

A database keeps every Stripe id it stored: Checkout Sessions, PaymentIntents,
connected accounts. When Stripe does not have one any more (deleted in the
Dashboard, or made with test keys when the site now runs on live keys: the
other mode's objects are ``resource_missing``, exactly as the emulator answers
for an id it never made), the app settles what depends on it instead of
failing the same way on every request.
"""

from __future__ import annotations

import datetime as dt

import pytest

from django_skillswap_payments import repository, signals
from django_skillswap_payments.documents import TRANSACTION_PREMIUM, TRANSACTION_TIP, Payment
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, checkout_url
from tests.support.database import pending_payment, profile_of, snapshot
from tests.support.refunds import paid_tip, refund_url

pytestmark = pytest.mark.django_db

BODY = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
# How a stored checkout can have lost its session: a made-up test id, or one of the other mode.
LOST_SESSIONS = [("cs_test_deletedOrForgotten", False), ("cs_live_madeWithTheLiveKeys", True)]
LOST_IDS = ["test-mode", "live-mode"]


@pytest.fixture
def failures():
    sent: list[tuple[str, bool]] = []

    def receiver(sender, payment, final, **kwargs):
        sent.append((str(payment.id), final))

    signals.payment_failed.connect(receiver, weak=False, dispatch_uid="test-missing-objects")
    yield sent
    signals.payment_failed.disconnect(dispatch_uid="test-missing-objects")


def _lost_checkout(profile, kind, status, session_id, livemode, recipient=None):
    payment = pending_payment(profile, kind=kind, recipient=recipient, session_id=session_id, livemode=livemode)
    if status == "declined":  # a declined card keeps the checkout (and the premium slot) open
        Payment.objects(id=payment.id).update_one(set__status="failed", set__failure_final=False)
    return payment


# -- the success page -------------------------------------------------------------------


@pytest.mark.parametrize("kind", [TRANSACTION_PREMIUM, TRANSACTION_TIP])
@pytest.mark.parametrize("status", ["pending", "declined"])
@pytest.mark.parametrize(("session_id", "livemode"), LOST_SESSIONS, ids=LOST_IDS)
def test_the_success_page_expires_a_checkout_stripe_does_not_have(
    emulated_stripe, alice, alice_client, bob, failures, kind, status, session_id, livemode
):
    payment = _lost_checkout(profile_of(alice), kind, status, session_id, livemode, recipient=profile_of(bob))

    for _ in range(2):  # asked again: the same answer, one signal
        response = alice_client.get(checkout_url(session_id))
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "expired"

    stored = repository.get_payment(payment.id)
    assert (stored.status, stored.failure_reason, stored.open_checkout_slot) == (
        "expired", "checkout_not_found", None,
    )
    assert failures == [(str(payment.id), True)]
    if kind == TRANSACTION_PREMIUM:  # the user may buy again at once, on a session of this mode
        start = alice_client.post(PREMIUM_URL, BODY, format="json")
        assert start.status_code == 200, start.content
        assert start.json()["session_id"] != session_id and not start.json()["reused"]


def test_the_success_page_still_fails_when_stripe_cannot_be_asked(emulated_stripe, alice, alice_client, mongo_database):
    """Only Stripe's "no such session" settles a checkout; an outage or another refusal changes nothing."""
    payment = pending_payment(profile_of(alice), session_id="cs_test_deletedOrForgotten")
    before = snapshot(mongo_database)
    emulated_stripe.inject_failure("GET", "/v1/checkout/sessions", network=True)
    assert alice_client.get(checkout_url(payment.stripe_session_id)).status_code == 503
    emulated_stripe.inject_failure(
        "GET", "/v1/checkout/sessions", status=400, error_type="invalid_request_error", message="Refused"
    )
    assert alice_client.get(checkout_url(payment.stripe_session_id)).status_code == 400
    assert snapshot(mongo_database) == before


# -- the open premium checkout ---------------------------------------------------------------


@pytest.mark.parametrize("age", ["reusable", "too-old-to-reuse"])
@pytest.mark.parametrize("status", ["pending", "declined"])
@pytest.mark.parametrize(("session_id", "livemode"), LOST_SESSIONS, ids=LOST_IDS)
def test_a_premium_start_never_hands_out_a_session_stripe_does_not_have(
    emulated_stripe, alice, alice_client, failures, age, status, session_id, livemode
):
    holder = _lost_checkout(profile_of(alice), TRANSACTION_PREMIUM, status, session_id, livemode)
    if age == "too-old-to-reuse":
        Payment.objects(id=holder.id).update_one(set__created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=24))

    response = alice_client.post(PREMIUM_URL, BODY, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["session_id"] != session_id and not response.json()["reused"]
    assert emulated_stripe.get(response.json()["session_id"])["status"] == "open"
    retired = repository.get_payment(holder.id)
    assert (retired.status, retired.failure_reason, retired.open_checkout_slot) == (
        "expired", "checkout_not_found", None,
    )
    assert failures == [(str(holder.id), True)]


# -- staff refunds -----------------------------------------------------------------------------


@pytest.mark.parametrize("intent_id", ["pi_deletedOrForgotten", "pi_madeWithTheOtherModesKeys"])
def test_a_refund_of_a_payment_stripe_does_not_have_is_a_clear_400_that_changes_nothing(
    emulated_stripe, alice, bob, staff_client, mongo_database, intent_id
):
    tip = paid_tip(emulated_stripe, alice, bob)
    Payment.objects(id=tip.id).update_one(set__stripe_payment_intent_id=intent_id)
    before = snapshot(mongo_database)

    for _ in range(2):  # no hold is left behind to refuse the next request differently
        response = staff_client.post(refund_url(tip.id), {}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "error": f"Stripe error: No such payment_intent: '{intent_id}'",
            "message": "Please check your Stripe configuration",
        }
    assert snapshot(mongo_database) == before
    assert emulated_stripe.all("refund") == []
