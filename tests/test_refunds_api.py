"""POST payments/<id>/refund/: staff refunds, full or partial, and every way a request can be wrong."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bson import ObjectId
from django.core import checks as django_checks
from django.test import override_settings

from django_skillswap_payments import repository, services
from django_skillswap_payments.checks import check_refund_settings
from django_skillswap_payments.errors import RefundExceedsRemainder
from django_skillswap_payments.repository import refunds as refund_store
from django_skillswap_payments.services import refunds
from tests.support.api import STATUS_URL, client_for
from tests.support.config import payments_config
from tests.support.database import snapshot
from tests.support.refunds import paid_premium, paid_tip, refund_url, stripe_refunds
from tests.support.threads import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture
def premium(emulated_stripe, alice):
    return paid_premium(emulated_stripe, alice)


@pytest.fixture
def tip(emulated_stripe, alice, bob):
    return paid_tip(emulated_stripe, alice, bob, "12.50")


def _refund(client, payment_id, body=None):
    return client.post(refund_url(payment_id), body if body is not None else {}, format="json")


# -- refunding ------------------------------------------------------------------------


def test_a_refund_without_amount_refunds_the_whole_payment(staff_client, alice_client, premium, emulated_stripe, signal_log):
    response = _refund(staff_client, premium.id, {"reason": "requested_by_customer"})

    assert response.status_code == 200
    body = response.json()
    assert (body["_id"], body["status"], body["amount"], body["amount_refunded"]) == (
        str(premium.id), "refunded", 9.99, 9.99,
    )
    [refund] = body["refunds"]
    assert (refund["amount"], refund["reason"], refund["status"]) == (9.99, "requested_by_customer", "succeeded")
    [at_stripe] = stripe_refunds(emulated_stripe, premium)
    assert (refund["refund_id"], at_stripe["amount"]) == (at_stripe["id"], 999)
    assert signal_log == [("payment_refunded", str(premium.id))]
    assert alice_client.get(STATUS_URL).json()["is_premium"] is False


@pytest.mark.parametrize("body", [{}, {"amount": None, "reason": None}, {"amount": "12.50"}, {"amount": 12.5}])
def test_the_whole_remainder_is_the_default_and_may_be_named(body, staff_client, tip, emulated_stripe):
    response = _refund(staff_client, tip.id, body)
    assert (response.status_code, response.json()["status"]) == (200, "refunded")
    assert [r["amount"] for r in stripe_refunds(emulated_stripe, tip)] == [1250]


def test_partial_refunds_then_the_rest(staff_client, tip, emulated_stripe, signal_log):
    first = _refund(staff_client, tip.id, {"amount": "5.00"})
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["amount_refunded"]) == ("completed", 5.0)
    assert signal_log == [("payment_partially_refunded", str(tip.id))]

    second = _refund(staff_client, tip.id, {"amount": 7.5, "reason": "duplicate"})

    assert second.status_code == 200
    body = second.json()
    assert (body["status"], body["amount_refunded"]) == ("refunded", 12.5)
    assert [(r["amount"], r["reason"]) for r in body["refunds"]] == [(5.0, None), (7.5, "duplicate")]
    assert [r["amount"] for r in stripe_refunds(emulated_stripe, tip)] == [500, 750]
    keys = [r.idempotency_key for r in emulated_stripe.requests_to("POST", "/v1/refunds")]
    assert keys == [f"skillswap-refund-{tip.id}-0-500", f"skillswap-refund-{tip.id}-500-750"]
    assert signal_log[1:] == [("payment_refunded", str(tip.id))]
    # Nothing is left: a further refund is refused before Stripe is asked.
    assert _refund(staff_client, tip.id).status_code == 409
    assert len(emulated_stripe.requests_to("POST", "/v1/refunds")) == 2


def test_the_amount_is_exact_in_the_payments_currency(staff_client, tip):
    response = _refund(staff_client, tip.id, {"amount": "0.10"})
    assert response.status_code == 200
    assert repository.get_payment(tip.id).amount_refunded_minor == 10
    assert refunds.refunded_amount(repository.get_payment(tip.id)) == Decimal("0.10")


# -- bad input --------------------------------------------------------------------------


def _assert_nothing_refunded(emulated_stripe, mongo_database, before):
    assert [r for r in emulated_stripe.requests_to("POST", "/v1/refunds") if r.status == 200] == []
    assert snapshot(mongo_database) == before


@pytest.mark.parametrize("who", ["anonymous", "alice (the payer)", "bob (not staff)"])
def test_only_staff_may_refund(who, alice_client, bob, anon_client, tip, emulated_stripe, mongo_database):
    client = {"anonymous": anon_client, "alice (the payer)": alice_client, "bob (not staff)": client_for(bob)}[who]
    before = snapshot(mongo_database)

    response = _refund(client, tip.id)

    assert response.status_code == (401 if who == "anonymous" else 403)
    assert "error" in response.json()
    _assert_nothing_refunded(emulated_stripe, mongo_database, before)


@pytest.mark.parametrize(
    "payment_id",
    [str(ObjectId()), "0" * 24, "not-an-id", "1" * 23, "zz" * 12, "6" * 25, "%20", "null"],
)
def test_an_unknown_or_malformed_payment_is_not_found(payment_id, staff_client, tip, emulated_stripe, mongo_database):
    before = snapshot(mongo_database)

    response = _refund(staff_client, payment_id)

    assert response.status_code == 404
    assert response.json()["error"]
    _assert_nothing_refunded(emulated_stripe, mongo_database, before)


def test_a_profile_id_is_not_a_payment(staff_client, alice, tip, emulated_stripe, mongo_database):
    from tests.support.database import profile_of

    before = snapshot(mongo_database)
    assert _refund(staff_client, profile_of(alice).id).status_code == 404
    _assert_nothing_refunded(emulated_stripe, mongo_database, before)


@pytest.mark.parametrize("status", ["pending", "failed", "expired", "refunded"])
def test_only_completed_payments_are_refunded(status, staff_client, alice, emulated_stripe, mongo_database):
    from tests.support.database import profile_of

    payment = repository.create_payment_transaction("premium", profile_of(alice).id, Decimal("9.99"), status=status)
    if status == "refunded":
        payment.__class__.objects(id=payment.id).update_one(set__amount_refunded_minor=999)
    before = snapshot(mongo_database)

    response = _refund(staff_client, payment.id)

    assert response.status_code == 409
    assert response.json()["error"] == "This payment cannot be refunded"
    _assert_nothing_refunded(emulated_stripe, mongo_database, before)


@pytest.mark.parametrize("amount", ["12.51", 12.51, 13, "100", 1000000, "99999999.99"])
def test_more_than_the_remainder_is_refused(amount, staff_client, tip, emulated_stripe, mongo_database):
    before = snapshot(mongo_database)

    response = _refund(staff_client, tip.id, {"amount": amount})

    assert response.status_code == 400
    assert response.json()["error"] in ("Refund amount exceeds the refundable remainder", "Invalid refund amount")
    _assert_nothing_refunded(emulated_stripe, mongo_database, before)


@pytest.mark.parametrize("amount", ["2.51", 3, "12.50"])
def test_more_than_what_a_partial_refund_left_is_refused(amount, staff_client, tip, emulated_stripe, mongo_database):
    assert _refund(staff_client, tip.id, {"amount": "10.00"}).status_code == 200
    before = snapshot(mongo_database)
    stripe_calls = len(emulated_stripe.requests_to("POST", "/v1/refunds"))

    response = _refund(staff_client, tip.id, {"amount": amount})

    assert response.status_code == 400
    assert response.json()["error"] == "Refund amount exceeds the refundable remainder"
    assert "2.50" in response.json()["message"]
    assert len(emulated_stripe.requests_to("POST", "/v1/refunds")) == stripe_calls
    assert snapshot(mongo_database) == before


@pytest.mark.parametrize(
    "amount",
    [0, "0", "0.00", 0.0, -1, "-1", -0.01, "abc", "", " ", "1e2", "1,00", "NaN", "Infinity", True, False,
     [], {}, "1.234", 1.234, "0.001", "१२"],
)
def test_zero_negative_or_malformed_amounts_are_refused(amount, staff_client, tip, emulated_stripe, mongo_database):
    before = snapshot(mongo_database)

    response = _refund(staff_client, tip.id, {"amount": amount})

    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Invalid refund amount"
    _assert_nothing_refunded(emulated_stripe, mongo_database, before)


@pytest.mark.parametrize("reason", ["because", "", "DUPLICATE", "expired_uncaptured_charge", 1, True, ["duplicate"]])
def test_an_unknown_reason_is_refused(reason, staff_client, tip, emulated_stripe, mongo_database):
    before = snapshot(mongo_database)

    response = _refund(staff_client, tip.id, {"reason": reason})

    assert response.status_code == 400
    assert "reason" in response.json()["message"]
    _assert_nothing_refunded(emulated_stripe, mongo_database, before)


@pytest.mark.parametrize("body", [[], "full", 5, [{"amount": 1}]])
def test_a_body_that_is_not_an_object_is_refused(body, staff_client, tip, emulated_stripe, mongo_database):
    before = snapshot(mongo_database)
    response = staff_client.post(refund_url(tip.id), body, format="json")
    assert response.status_code == 400
    _assert_nothing_refunded(emulated_stripe, mongo_database, before)


@pytest.mark.parametrize(
    ("failure", "status"),
    [
        ({"status": 400, "error_type": "invalid_request_error", "code": "charge_disputed"}, 400),
        ({"status": 500, "error_type": "api_error"}, 502),
        ({"network": True}, 503),
    ],
    ids=["stripe-refuses", "stripe-fails", "stripe-unreachable"],
)
def test_a_stripe_error_records_nothing_and_releases_the_amount(failure, status, staff_client, tip, emulated_stripe, mongo_database):
    before = snapshot(mongo_database)
    emulated_stripe.inject_failure("POST", "/v1/refunds", **failure)

    response = _refund(staff_client, tip.id)

    assert response.status_code == status
    assert response.json()["error"]
    assert snapshot(mongo_database) == before
    # The held amount was given back: the same refund succeeds now.
    assert _refund(staff_client, tip.id).json()["status"] == "refunded"


# -- concurrency ------------------------------------------------------------------------


def test_concurrent_partial_refunds_never_refund_more_than_was_paid(tip, emulated_stripe, signal_log):
    race = run_together([lambda: refunds.refund_payment_amount(tip.id, amount="3.00")] * 8)

    assert len(race.results) == 4  # 4 x 3.00 fit in 12.50; a fifth would not
    assert len(race.errors) == 4 and all(isinstance(e, RefundExceedsRemainder) for e in race.errors)
    # Stripe was never asked for more than is left: every refund it was asked for, it made.
    assert [r.status for r in emulated_stripe.requests_to("POST", "/v1/refunds")] == [200] * 4
    stored = repository.get_payment(tip.id)
    assert stored.amount_refunded_minor == sum(r["amount"] for r in stripe_refunds(emulated_stripe, tip)) == 1200
    assert sorted(r.refund_id for r in stored.refunds) == sorted(r["id"] for r in stripe_refunds(emulated_stripe, tip))
    assert stored.refund_reservations == []
    assert (stored.status, signal_log.count(("payment_partially_refunded", str(tip.id)))) == ("completed", 4)


def test_concurrent_full_refunds_refund_once_and_signal_once(tip, emulated_stripe, signal_log):
    race = run_together([lambda: refunds.refund_payment_amount(tip.id)] * 6)

    assert len(race.results) == 1
    assert len(race.errors) == 5
    assert [r["amount"] for r in stripe_refunds(emulated_stripe, tip)] == [1250]
    assert repository.get_payment(tip.id).status == "refunded"
    assert signal_log == [("payment_refunded", str(tip.id))]


def test_a_hold_left_by_a_stopped_process_expires(tip, emulated_stripe):
    assert refund_store.reserve(tip.id, 1250, "stopped-process") is not None
    with pytest.raises(RefundExceedsRemainder):
        refunds.refund_payment_amount(tip.id, amount="1.00")
    stale = refund_store.utcnow() - refund_store.RESERVATION_TIMEOUT - refund_store.dt.timedelta(seconds=1)
    repository.get_payment(tip.id).__class__.objects(id=tip.id).update_one(
        set__refund_reservations__0__created_at=stale
    )

    assert refunds.refund_payment_amount(tip.id, amount="1.00").amount_refunded_minor == 100
    assert [h["token"] for h in repository.get_payment(tip.id).refund_reservations] == []


# -- premium and PARTIAL_REFUND_REVOKES_PREMIUM ---------------------------------------------


def test_by_default_a_partial_refund_keeps_premium(staff_client, alice_client, premium, signal_log):
    assert _refund(staff_client, premium.id, {"amount": "1.00"}).json()["status"] == "completed"
    assert alice_client.get(STATUS_URL).json()["is_premium"] is True
    assert signal_log == [("payment_partially_refunded", str(premium.id))]


def test_a_partial_refund_may_revoke_premium(staff_client, alice_client, emulated_stripe, premium, signal_log, payments_settings):
    settings = {**payments_settings, "STRIPE_MAX_NETWORK_RETRIES": 0, "PARTIAL_REFUND_REVOKES_PREMIUM": True}
    with override_settings(SKILLSWAP_PAYMENTS=settings):
        first = _refund(staff_client, premium.id, {"amount": "1.00"}).json()
        assert (first["status"], first["amount_refunded"]) == ("refunded", 1.0)
        assert alice_client.get(STATUS_URL).json()["is_premium"] is False
        # What is left may still be refunded; the payment is announced refunded only once.
        rest = _refund(staff_client, premium.id).json()
    assert (rest["status"], rest["amount_refunded"]) == ("refunded", 9.99)
    assert sorted(signal_log) == sorted([
        ("payment_refunded", str(premium.id)),
        ("payment_partially_refunded", str(premium.id)),
    ])


@pytest.mark.parametrize("value", ["yes", 1, 0, "False", None.__class__])
def test_partial_refund_revokes_premium_must_be_a_boolean(value):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(PARTIAL_REFUND_REVOKES_PREMIUM=value)):
        messages = check_refund_settings()
    assert [m.id for m in messages if m.level >= django_checks.ERROR] == ["skillswap_payments.E010"]


def test_the_service_refund_payment_still_refunds_in_full(tip, emulated_stripe, signal_log):
    result = services.refund_payment(tip.id, reason="requested_by_customer")
    assert result.changed and result.payment.status == "refunded"
    assert result.payment.amount_refunded_minor == 1250
    [stored] = result.payment.refunds
    assert (stored.amount_minor, stored.reason, stored.status) == (1250, "requested_by_customer", "succeeded")
    assert signal_log == [("payment_refunded", str(tip.id))]
