"""Promotion codes: offered on premium checkouts only, and a discounted total completes a
payment only when the session's own discount accounts for the difference.
"""

from __future__ import annotations

import argparse
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import override_settings

from django_skillswap_payments import services, signals
from django_skillswap_payments.documents import Payment
from django_skillswap_payments.services import promotions
from django_skillswap_payments.stripe_facts import DiscountFacts
from django_skillswap_payments.testing.emulator.coupons import (
    CODES_NOT_ALLOWED,
    INVALID_CODE,
    CodeRefused,
)
from tests.support.api import CANCEL_URL, HISTORY_URL, PREMIUM_URL, STATUS_URL, SUCCESS_URL, TIP_URL
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import intent_object, session_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db

URLS = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
SESSIONS = "/v1/checkout/sessions"


@pytest.fixture
def codes_allowed(emulated_stripe):
    """The emulator, with ``ALLOW_PROMOTION_CODES`` on and the demo's two codes in it."""
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, "ALLOW_PROMOTION_CODES": True}):
        emulated_stripe.seed_promotion_code("WELCOME20", percent_off=20)
        emulated_stripe.seed_promotion_code("FREEPREMIUM", percent_off=100)
        yield emulated_stripe


@pytest.fixture
def amounts_signalled():
    """``(signal name, amount, amount_minor)`` of every completion signal sent during the test."""
    sent: list[tuple[str, Decimal, int]] = []
    receivers = []
    for signal in (signals.premium_payment_completed, signals.tip_payment_completed):
        def receiver(sender, payment, amount, amount_minor, _signal=signal, **kwargs):
            sent.append((signals.SIGNAL_NAMES[_signal], amount, amount_minor))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield sent
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def _start_premium(client) -> dict:
    response = client.post(PREMIUM_URL, URLS, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _created_session_params(emulator) -> dict:
    return emulator.requests_to("POST", SESSIONS)[-1].params


def _payment(session_id: str) -> Payment:
    return Payment.objects.get(stripe_session_id=session_id)


# -- which checkouts offer a code field ---------------------------------------------------


@pytest.mark.parametrize("allowed", [False, True])
def test_premium_checkout_offers_codes_exactly_when_the_setting_is_on(emulated_stripe, alice_client, allowed):
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, "ALLOW_PROMOTION_CODES": allowed}):
        session_id = _start_premium(alice_client)["session_id"]
    assert _created_session_params(emulated_stripe).get("allow_promotion_codes") is (True if allowed else None)
    assert bool(emulated_stripe.get(session_id)["allow_promotion_codes"]) is allowed


def test_tips_never_offer_codes(codes_allowed, alice_client, recipient):
    response = alice_client.post(TIP_URL, {"to_user_id": str(recipient.id), "amount": 5, **URLS}, format="json")
    assert response.status_code == 200, response.content
    session_id = response.json()["session_id"]
    assert "allow_promotion_codes" not in _created_session_params(codes_allowed)
    with pytest.raises(CodeRefused) as refused:
        codes_allowed.apply_promotion_code(session_id, "WELCOME20")
    assert (refused.value.reason, refused.value.message) == ("not_allowed", CODES_NOT_ALLOWED)


@pytest.mark.parametrize("value", ["yes", 1, None, "True", [True]])
def test_a_setting_that_is_not_a_boolean_is_reported_by_the_system_check(value):
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, "ALLOW_PROMOTION_CODES": value}):
        messages = promotions.check_promotion_settings()
    if value is None:  # unset: the default (off)
        assert messages == []
    else:
        assert [message.id for message in messages] == ["skillswap_payments.E050"]


def test_settings_that_are_not_a_dict_are_left_to_their_own_check():
    with override_settings(SKILLSWAP_PAYMENTS=["ALLOW_PROMOTION_CODES"]):
        assert promotions.check_promotion_settings() == []


# -- a code that applies ------------------------------------------------------------------


def _assert_discounted(payment: Payment, *, paid: int, discount: int, code: str, emulator) -> None:
    [promotion_code] = [c for c in emulator.all("promotion_code") if c["code"] == code]
    assert payment.status == "completed"
    assert (payment.amount_minor, payment.exact_amount, payment.list_amount_minor, payment.discount_minor) == (
        paid, Decimal(paid) / 100, 999, discount,
    )
    assert Decimal(str(payment.amount)) == Decimal(paid) / 100
    assert (payment.promotion_code_id, payment.coupon_id) == (
        promotion_code["id"], promotion_code["promotion"]["coupon"],
    )


def test_a_code_that_applies_completes_with_the_discounted_amount(
    codes_allowed, emulator_webhooks, alice, alice_client, amounts_signalled
):
    session_id = _start_premium(alice_client)["session_id"]
    codes_allowed.apply_promotion_code(session_id, "welcome20")
    outcome = codes_allowed.submit_payment(session_id)
    assert outcome.succeeded

    payment = _payment(session_id)
    _assert_discounted(payment, paid=799, discount=200, code="WELCOME20", emulator=codes_allowed)
    assert codes_allowed.get(outcome.payment_intent)["amount_received"] == 799
    assert payment.stripe_customer_id == codes_allowed.get(session_id)["customer"]  # for the next checkout
    assert amounts_signalled == [("premium_payment_completed", Decimal("7.99"), 799)]
    status = alice_client.get(STATUS_URL).json()
    assert (status["is_premium"], status["receipt"]["amount"]) == (True, 7.99)
    [entry] = alice_client.get(HISTORY_URL).json()["results"]
    assert (entry["amount"], entry["status"]) == (7.99, "completed")

    # Every event delivered again (duplicate delivery): nothing changes, no second signal.
    for event in codes_allowed.events():
        codes_allowed.webhooks.resend(event)
    assert Payment.objects.get(id=payment.id).to_mongo() == payment.to_mongo()
    assert len(amounts_signalled) == 1
    assert all(attempt.ok for attempt in codes_allowed.webhooks.attempts)


@pytest.mark.parametrize("only", ["payment_intent.succeeded", "checkout.session.completed"])
def test_either_completion_event_alone_completes_a_discounted_payment(
    codes_allowed, emulator_webhooks, alice_client, amounts_signalled, only
):
    codes_allowed.webhooks.configure(drop=frozenset({"payment_intent.succeeded", "checkout.session.completed"} - {only}))
    session_id = _start_premium(alice_client)["session_id"]
    codes_allowed.apply_promotion_code(session_id, "WELCOME20")
    assert codes_allowed.submit_payment(session_id).succeeded
    _assert_discounted(_payment(session_id), paid=799, discount=200, code="WELCOME20", emulator=codes_allowed)
    assert amounts_signalled == [("premium_payment_completed", Decimal("7.99"), 799)]


def test_the_success_page_confirms_a_discounted_payment(codes_allowed, alice, amounts_signalled):
    profile = profile_of(alice)
    start = services.start_premium_checkout(profile, **URLS)
    codes_allowed.apply_promotion_code(start.session_id, "WELCOME20")
    assert codes_allowed.submit_payment(start.session_id).succeeded

    confirmed = services.confirm_checkout_session(profile, start.session_id)
    again = services.confirm_checkout_session(profile, start.session_id)

    _assert_discounted(confirmed, paid=799, discount=200, code="WELCOME20", emulator=codes_allowed)
    assert again.amount_minor == 799
    assert amounts_signalled == [("premium_payment_completed", Decimal("7.99"), 799)]


# -- a 100%-off code: nothing to pay, no PaymentIntent ----------------------------------------


def test_a_free_code_completes_premium_without_a_payment_intent(
    codes_allowed, emulator_webhooks, alice, alice_client, amounts_signalled
):
    session_id = _start_premium(alice_client)["session_id"]
    codes_allowed.apply_promotion_code(session_id, "FREEPREMIUM")
    outcome = codes_allowed.submit_payment(session_id, "", email="alice@example.com")
    assert outcome.succeeded and outcome.payment_intent is None
    session = codes_allowed.get(session_id)
    assert (session["payment_status"], session["payment_intent"], session["amount_total"]) == (
        "no_payment_required", None, 0,
    )
    assert codes_allowed.all("payment_intent") == [] and codes_allowed.all("charge") == []

    payment = _payment(session_id)
    _assert_discounted(payment, paid=0, discount=999, code="FREEPREMIUM", emulator=codes_allowed)
    assert payment.stripe_payment_intent_id is None
    assert amounts_signalled == [("premium_payment_completed", Decimal("0.00"), 0)]
    assert alice_client.get(STATUS_URL).json()["is_premium"] is True
    # The success page asks Stripe again: no intent is needed to tell it is done.
    assert services.confirm_checkout_session(profile_of(alice), session_id).status == "completed"
    for event in codes_allowed.events():
        codes_allowed.webhooks.resend(event)
    assert len(amounts_signalled) == 1
    assert Payment.objects.get(id=payment.id).to_mongo() == payment.to_mongo()

    # Refunding it asks Stripe for nothing (there was no charge) and revokes premium.
    refunded = services.refund_payment(payment.id)
    assert refunded.changed and refunded.payment.status == "refunded"
    assert codes_allowed.all("refund") == []
    assert alice_client.get(STATUS_URL).json()["is_premium"] is False


def test_a_free_duplicate_premium_is_marked_refunded_without_a_stripe_refund(codes_allowed, alice, signal_log):
    profile = profile_of(alice)
    first = services.start_premium_checkout(profile, **URLS)
    assert codes_allowed.submit_payment(first.session_id).succeeded
    assert services.confirm_checkout_session(profile, first.session_id).status == "completed"
    second = pending_payment(profile)  # a second checkout that slipped past the one-open rule
    discount = DiscountFacts(subtotal_minor=999, discount_minor=999, promotion_code_id="promo_x", coupon_id="c")
    result = services.complete_payment(
        second, payment_intent_id=None, amount_minor=0, currency="usd", livemode=False, discount=discount,
    )
    assert result.duplicate and result.payment.status == "refunded"
    assert codes_allowed.all("refund") == []
    assert ("duplicate_payment_refunded", str(second.id)) in signal_log


# -- codes the hosted page refuses ------------------------------------------------------------


def _refusal(emulator, session_id: str, code: str) -> str:
    """Why the hosted page refuses ``code`` (it tells the buyer "This code is invalid." each time)."""
    with pytest.raises(CodeRefused) as refused:
        emulator.apply_promotion_code(session_id, code)
    assert refused.value.message == INVALID_CODE
    return refused.value.reason


def test_unknown_inactive_expired_and_used_up_codes_are_refused(codes_allowed, alice, bob, emulator_webhooks):
    emulator = codes_allowed
    now = emulator.now()
    client = emulator.stripe_client()
    coupon = client.v1.coupons.create({"amount_off": 300, "currency": "usd", "duration": "once"})
    once = client.v1.coupons.create({"percent_off": 10, "max_redemptions": 1})
    dated = client.v1.coupons.create({"percent_off": 10, "redeem_by": now + 3600})
    for params in (
        {"code": "LATER", "expires_at": now + 3600},
        {"code": "ONCE", "max_redemptions": 1},
        {"code": "OFF", "active": False},
    ):
        client.v1.promotion_codes.create({"promotion": {"type": "coupon", "coupon": coupon.id}, **params})
    client.v1.promotion_codes.create({"code": "COUPONONCE", "promotion": {"type": "coupon", "coupon": once.id}})
    client.v1.promotion_codes.create({"code": "COUPONDATED", "promotion": {"type": "coupon", "coupon": dated.id}})

    first = services.start_premium_checkout(profile_of(alice), **URLS).session_id
    for code in ("ONCE", "COUPONONCE"):
        emulator.apply_promotion_code(first, code)  # the second replaces the first
    emulator.apply_promotion_code(first, "ONCE")
    assert emulator.submit_payment(first).succeeded
    other = services.start_premium_checkout(profile_of(bob), **URLS).session_id
    emulator.apply_promotion_code(other, "COUPONONCE")
    emulator.advance_time(3601)

    refusals = {code: _refusal(emulator, other, code) for code in (
        "NOSUCHCODE", "", "OFF", "LATER", "COUPONDATED", "ONCE",
    )}
    assert refusals == {
        "NOSUCHCODE": "unknown",
        "": "unknown",
        "OFF": "inactive",
        "LATER": "expired",
        "COUPONDATED": "expired",
        "ONCE": "used_up",
    }
    # Refusals leave the code applied before in place; paying it uses up the coupon.
    assert emulator.get(other)["amount_total"] == 899
    assert emulator.submit_payment(other).succeeded
    third = emulator.create_checkout_session(
        {**_created_session_params(emulator), "allow_promotion_codes": True}
    )["id"]
    assert _refusal(emulator, third, "COUPONONCE") == "used_up"
    assert emulator.get(third)["amount_total"] == 999


def test_a_refused_code_is_shown_on_the_hosted_page_and_an_applied_one_in_the_summary(codes_allowed, alice):
    from tests.test_emulator_http import call_wsgi

    session_id = services.start_premium_checkout(profile_of(alice), **URLS).session_id
    app = codes_allowed.wsgi_app()
    status, _, html = call_wsgi(app, "GET", f"/c/pay/{session_id}")
    assert status == 200 and b'id="promotion-form"' in html and b'id="discount"' not in html

    status, _, html = call_wsgi(
        app, "POST", f"/c/pay/{session_id}/promotion-code", body=b"promotionCode=BOGUS",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 200 and b'id="promotion-errors"' in html and INVALID_CODE.encode() in html

    status, headers, _ = call_wsgi(
        app, "POST", f"/c/pay/{session_id}/promotion-code", body=b"promotionCode=welcome20",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 303 and headers["Location"].endswith(f"/c/pay/{session_id}")
    status, _, html = call_wsgi(app, "GET", f"/c/pay/{session_id}")
    assert b'id="discount">-$2.00' in html and b"Pay $7.99" in html

    call_wsgi(
        app, "POST", f"/c/pay/{session_id}/promotion-code", body=b"promotionCode=FREEPREMIUM",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    _, _, html = call_wsgi(app, "GET", f"/c/pay/{session_id}")
    assert b'id="cardNumber"' not in html and b"Test cards" not in html and b"Complete order" in html
    status, headers, _ = call_wsgi(
        app, "POST", f"/c/pay/{session_id}", body=b"email=alice%40example.com&billingName=Alice",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert status == 303 and headers["Location"].startswith(SUCCESS_URL)
    assert codes_allowed.get(session_id)["payment_status"] == "no_payment_required"


# -- discounts that do not account for the difference grant nothing -----------------------------


def _discounted_session(payment, *, total: int, subtotal=999, discount=200, **overrides):
    return session_object(
        payment,
        amount_total=total,
        amount_subtotal=subtotal,
        total_details={"amount_discount": discount, "amount_shipping": 0, "amount_tax": 0},
        discounts=[{"coupon": "coupon_x", "promotion_code": "promo_x"}],
        **overrides,
    )


MISMATCHES = [
    pytest.param({"total": 500}, id="total-below-what-the-discount-explains"),
    pytest.param({"total": 899}, id="total-above-what-the-discount-explains"),
    pytest.param({"total": 999}, id="discount-reported-but-full-total"),
    pytest.param({"total": 799, "subtotal": 1099, "discount": 300}, id="subtotal-is-not-the-list-price"),
    pytest.param({"total": 799, "subtotal": None}, id="no-subtotal"),
    pytest.param({"total": 1199, "discount": -200}, id="negative-discount"),
    pytest.param({"total": 799, "discount": "200"}, id="discount-as-text"),
    pytest.param({"total": 799, "discount": 200.0}, id="discount-as-float"),
    pytest.param({"total": 799, "discount": True}, id="discount-as-boolean"),
    pytest.param({"total": 0, "discount": 1998, "subtotal": 1998}, id="discount-beyond-the-price"),
    pytest.param({"total": "799"}, id="total-as-text"),
]


@pytest.mark.parametrize("figures", MISMATCHES)
@pytest.mark.parametrize("allowed", [False, True])
def test_a_discount_that_does_not_account_for_the_difference_grants_nothing(
    anon_client, alice, signal_log, figures, allowed
):
    payment = pending_payment(profile_of(alice))
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, "ALLOW_PROMOTION_CODES": allowed}):
        response = deliver(anon_client, "checkout.session.completed", _discounted_session(payment, **figures))
    assert response.status_code == 200
    stored = Payment.objects.get(id=payment.id)
    assert (stored.status, stored.failure_reason, stored.amount_minor, stored.discount_minor) == (
        "pending", "mismatch", 999, 0,
    )
    assert stored.list_amount_minor is None and stored.promotion_code_id is None
    assert stored.metadata["mismatch"]["fields"] == ["amount"]
    assert stored.metadata["mismatch"]["reported"]["promotion_code_id"] == "promo_x"
    assert signal_log == []


@pytest.mark.parametrize(("total", "subtotal"), [(799, 999), (999, 1199)])
def test_a_tip_session_that_reports_a_discount_is_a_mismatch(
    anon_client, alice, recipient, signal_log, total, subtotal
):
    tip = pending_payment(profile_of(alice), kind="tip", recipient=recipient)
    # 999 is the tip's own amount: even a discount that leaves that total is not ours.
    obj = _discounted_session(tip, total=total, subtotal=subtotal)
    assert deliver(anon_client, "checkout.session.completed", obj).status_code == 200
    stored = Payment.objects.get(id=tip.id)
    assert (stored.status, stored.failure_reason, stored.amount_minor) == ("pending", "mismatch", 999)
    assert signal_log == []


def test_a_lower_intent_amount_is_a_mismatch_when_its_session_reports_no_discount(
    codes_allowed, anon_client, alice_client, signal_log
):
    session_id = _start_premium(alice_client)["session_id"]
    payment = _payment(session_id)
    obj = intent_object(payment, amount=799, amount_received=799)
    assert deliver(anon_client, "payment_intent.succeeded", obj).status_code == 200
    stored = Payment.objects.get(id=payment.id)
    assert (stored.status, stored.failure_reason, stored.amount_minor) == ("pending", "mismatch", 999)
    assert signal_log == []


# -- the rule itself -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "discount", "accepted"),
    [
        (999, None, True),
        (999, DiscountFacts(999, 0, None, None), True),
        (799, DiscountFacts(999, 200, "promo_1", "c1"), True),
        (0, DiscountFacts(999, 999, "promo_1", "c1"), True),
        (799, None, False),
        (799, DiscountFacts(999, 0, None, None), False),
        (799, DiscountFacts(None, 200, "promo_1", None), False),
        (799, DiscountFacts(999, 201, "promo_1", None), False),
        (-1, DiscountFacts(999, 1000, "promo_1", None), False),
        (True, DiscountFacts(999, 998, "promo_1", None), False),
        (799, DiscountFacts(999, Decimal(200), "promo_1", None), False),
    ],
)
def test_completion_fields_accept_only_an_exactly_explained_discount(alice, amount, discount, accepted):
    payment = pending_payment(profile_of(alice))
    fields = promotions.completion_fields(payment, amount, discount)
    assert (fields is not None) is accepted
    if accepted and discount is not None and discount.discount_minor:
        assert fields["amount_minor"] == amount and fields["list_amount_minor"] == 999


def test_the_command_line_parses_promotion_codes():
    from django_skillswap_payments.testing.emulator.__main__ import _promotion_code, build_parser

    args = build_parser().parse_args(["--promotion-code", "WELCOME20=20%", "--promotion-code", "FIVE-OFF=500usd"])
    assert args.promotion_code == [
        {"code": "WELCOME20", "percent_off": Decimal("20")},
        {"code": "FIVE-OFF", "amount_off": 500, "currency": "usd"},
    ]
    for bad in ("WELCOME20", "=20%", "X=20", "X=abc%", "X=5$"):
        with pytest.raises(argparse.ArgumentTypeError):
            _promotion_code(bad)
