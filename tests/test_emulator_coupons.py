"""The emulator's coupons and promotion codes, through its API (with stripe-python) and its state file."""

from __future__ import annotations

import pytest
import stripe

from django_skillswap_payments.testing.emulator import StripeEmulator
from django_skillswap_payments.testing.emulator.coupons import CodeRefused
from tests.support.stripe_objects import line_items


@pytest.fixture
def emulator():
    return StripeEmulator(webhook_delivery="sync")


@pytest.fixture
def client(emulator):
    return emulator.stripe_client(max_network_retries=0)


def _session(client, *, allow: bool = True, unit_amount: int = 999, currency: str = "usd"):
    params = {
        "mode": "payment",
        "line_items": line_items(unit_amount, currency=currency),
        "success_url": "https://site.test/ok?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://site.test/cancel",
    }
    if allow:
        params["allow_promotion_codes"] = True
    return client.v1.checkout.sessions.create(params)


def test_coupons_and_codes_are_created_listed_retrieved_and_deactivated(emulator, client):
    coupon = client.v1.coupons.create({"percent_off": 25, "duration": "once", "max_redemptions": 5})
    assert (coupon.object, coupon.percent_off, coupon.amount_off, coupon.valid) == ("coupon", 25.0, None, True)
    fixed = client.v1.coupons.create({"id": "FIVE", "amount_off": 500, "currency": "USD"})
    assert (fixed.id, fixed.currency, fixed.duration) == ("FIVE", "usd", "once")

    code = client.v1.promotion_codes.create(
        {"code": "SPRING-25", "promotion": {"type": "coupon", "coupon": coupon.id}, "max_redemptions": 2}
    )
    assert code.id.startswith("promo_") and code.promotion.coupon == coupon.id
    assert (code.active, code.times_redeemed, code.max_redemptions) == (True, 0, 2)
    assert client.v1.promotion_codes.retrieve(code.id).code == "SPRING-25"
    assert [c.id for c in client.v1.promotion_codes.list({"code": "spring-25"}).data] == [code.id]
    assert [c.id for c in client.v1.coupons.list().data] == ["FIVE", coupon.id]
    assert client.v1.coupons.retrieve("FIVE").amount_off == 500

    inactive = client.v1.promotion_codes.update(code.id, {"active": False})
    assert inactive.active is False
    assert client.v1.promotion_codes.list({"active": True}).data == []
    session = _session(client)
    with pytest.raises(CodeRefused):
        emulator.apply_promotion_code(session.id, "SPRING-25")
    types = [event["type"] for event in emulator.events()]
    assert types.count("coupon.created") == 2 and "promotion_code.updated" in types


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("coupons", {"duration": "once"}, "percent_off"),
        ("coupons", {"percent_off": 20, "amount_off": 100, "currency": "usd"}, "percent_off"),
        ("coupons", {"percent_off": 0}, "percent_off"),
        ("coupons", {"percent_off": 100.5}, "percent_off"),
        ("coupons", {"amount_off": 500}, "currency"),
        ("coupons", {"percent_off": 10, "max_redemptions": 0}, "max_redemptions"),
        ("coupons", {"percent_off": 10, "redeem_by": 1}, "redeem_by"),
        ("coupons", {"percent_off": 10, "duration": "repeating"}, "duration_in_months"),
        ("promotion_codes", {"promotion": {"type": "coupon", "coupon": "nope"}}, "promotion[coupon]"),
        ("promotion_codes", {"code": "BAD CODE", "promotion": {"type": "coupon", "coupon": "TEN"}}, "code"),
        ("promotion_codes", {"code": "TAKEN", "promotion": {"type": "coupon", "coupon": "TEN"}}, "code"),
        ("promotion_codes", {"expires_at": 1, "promotion": {"type": "coupon", "coupon": "TEN"}}, "expires_at"),
        (
            "promotion_codes",
            {"restrictions": {"first_time_transaction": True}, "promotion": {"type": "coupon", "coupon": "TEN"}},
            "restrictions",
        ),
    ],
)
def test_invalid_coupons_and_codes_are_refused_like_stripe(emulator, client, path, params, param):
    client.v1.coupons.create({"id": "TEN", "percent_off": 10})
    client.v1.promotion_codes.create({"code": "taken", "promotion": {"type": "coupon", "coupon": "TEN"}})
    before = len(emulator.all("promotion_code")) + len(emulator.all("coupon"))
    with pytest.raises(stripe.InvalidRequestError) as error:
        getattr(client.v1, path).create(params)
    assert error.value.http_status == 400 and error.value.param == param
    assert len(emulator.all("promotion_code")) + len(emulator.all("coupon")) == before


@pytest.mark.parametrize(
    ("coupon", "expected_total"),
    [
        ({"percent_off": 20}, 799),
        ({"percent_off": 33.3}, 666),  # 332.667 rounds to 333
        ({"amount_off": 250, "currency": "usd"}, 749),
        ({"amount_off": 5000, "currency": "usd"}, 0),
        ({"percent_off": 100}, 0),
    ],
)
def test_an_applied_code_sets_the_session_totals_and_discounts(emulator, client, coupon, expected_total):
    made = client.v1.coupons.create(coupon)
    code = client.v1.promotion_codes.create({"code": "CODE", "promotion": {"type": "coupon", "coupon": made.id}})
    session = _session(client)
    emulator.apply_promotion_code(session.id, "code")

    seen = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["total_details.breakdown"]})
    assert (seen.amount_subtotal, seen.amount_total) == (999, expected_total)
    assert seen.total_details.amount_discount == 999 - expected_total
    assert [(d.coupon, d.promotion_code) for d in seen.discounts] == [(made.id, code.id)]
    [entry] = seen.total_details.breakdown.discounts
    assert entry.amount == 999 - expected_total
    assert (entry.discount.promotion_code, entry.discount.source.coupon) == (code.id, made.id)
    # Without the expansion, Stripe leaves the breakdown out.
    assert "breakdown" not in client.v1.checkout.sessions.retrieve(session.id).total_details


def test_codes_a_session_cannot_take(emulator, client):
    client.v1.coupons.create({"id": "EUROS", "amount_off": 100, "currency": "eur"})
    client.v1.coupons.create({"id": "ALMOST", "amount_off": 970, "currency": "usd"})
    for coupon in ("EUROS", "ALMOST"):
        client.v1.promotion_codes.create({"code": coupon, "promotion": {"type": "coupon", "coupon": coupon}})
    refusals = {}
    for code in ("EUROS", "ALMOST"):
        with pytest.raises(CodeRefused) as refused:
            emulator.apply_promotion_code(_session(client).id, code)
        refusals[code] = (refused.value.reason, refused.value.message)
    assert refusals["EUROS"] == ("currency", "This code is invalid.")
    # $0.29 left to charge is below Stripe's minimum charge.
    assert refusals["ALMOST"][0] == "below_minimum" and "minimum" in refusals["ALMOST"][1]
    with pytest.raises(CodeRefused) as refused:
        emulator.apply_promotion_code(_session(client, allow=False).id, "ALMOST")
    assert refused.value.reason == "not_allowed"


def test_a_code_after_a_declined_attempt_changes_the_payment_intent(emulator, client):
    client.v1.coupons.create({"id": "TEN", "percent_off": 10})
    client.v1.promotion_codes.create({"code": "TEN", "promotion": {"type": "coupon", "coupon": "TEN"}})
    session = _session(client)
    assert emulator.submit_payment(session.id, "4000 0000 0000 0002").status == "declined"
    emulator.apply_promotion_code(session.id, "TEN")
    outcome = emulator.submit_payment(session.id)
    assert outcome.succeeded
    assert emulator.get(outcome.payment_intent)["amount_received"] == 899
    assert emulator.get("TEN")["times_redeemed"] == 1


def test_codes_survive_a_restart_with_a_state_file(tmp_path):
    state = tmp_path / "stripe.json"
    first = StripeEmulator(webhook_delivery="sync", state_file=state)
    made = first.seed_promotion_code("WELCOME20", percent_off=20)
    assert first.seed_promotion_code("welcome20", percent_off=50)["id"] == made["id"]

    again = StripeEmulator(webhook_delivery="sync", state_file=state)
    assert again.seed_promotion_code("WELCOME20", percent_off=20)["id"] == made["id"]
    session = _session(again.stripe_client())
    assert again.apply_promotion_code(session.id, "WELCOME20")["amount_total"] == 799
