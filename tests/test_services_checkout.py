"""Starting premium and tip checkouts, reuse of open checkouts, concurrency and confirmation.

Stripe is the testing toolkit's emulator (``emulated_stripe``, retries off);
its recorded requests show exactly what was sent.
"""

import datetime as dt
import time
from decimal import Decimal

import pytest
from bson import ObjectId

from django_skillswap_payments import repository, services
from django_skillswap_payments.documents import Payment, PaymentProfile, Subscription
from django_skillswap_payments.errors import (
    AlreadyPremium,
    GatewayError,
    InvalidAmount,
    InvalidMessage,
    InvalidRecipientId,
    PaymentMismatch,
    PaymentNotFound,
    RecipientNotFound,
    SelfTipNotAllowed,
)
from tests.support.stripe_objects import line_items
from tests.support.threads import run_together

URLS = {
    "success_url": "https://shop.example.com/paid",
    "cancel_url": "https://shop.example.com/cancel",
}


@pytest.fixture
def profile():
    return PaymentProfile(django_user_id="1").save()


@pytest.fixture
def recipient():
    return PaymentProfile(django_user_id="2").save()


def give_customer(emulator, profile) -> str:
    """Attach an existing Stripe customer to ``profile`` (made directly in the emulator)."""
    customer_id = emulator.create_customer({})["id"]
    profile.stripe_customer_id = customer_id
    profile.save()
    return customer_id


def test_premium_start_sends_exact_parameters(emulated_stripe, profile):
    start = services.start_premium_checkout(profile, **URLS)
    # One call: Checkout creates the customer, the completed session names it.
    [session_call] = emulated_stripe.requests
    payment = start.payment
    metadata = {"payment_id": str(payment.id), "type": "premium", "from_user_id": str(profile.id)}
    assert session_call.path == "/v1/checkout/sessions"
    assert session_call.idempotency_key == f"skillswap-checkout-{payment.id}"
    assert session_call.params == {
        "mode": "payment",
        "line_items": line_items(),
        "client_reference_id": str(payment.id),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "customer_creation": "always",
        "success_url": "https://shop.example.com/paid?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example.com/cancel",
        "adaptive_pricing": {"enabled": False},
    }
    stored = repository.get_payment(payment.id)
    assert (stored.status, stored.amount, stored.amount_minor, stored.currency) == (
        "pending",
        Decimal("9.99"),
        999,
        "usd",
    )
    assert stored.stripe_session_id == start.session_id and stored.checkout_url == start.url
    assert stored.open_checkout_slot == f"premium:{profile.id}"
    assert stored.stripe_customer_id is None
    assert PaymentProfile.objects.get(id=profile.id).stripe_customer_id is None
    assert emulated_stripe.all("customer") == []
    session = emulated_stripe.get(start.session_id)
    assert (session["amount_total"], session["currency"], session["status"]) == (999, "usd", "open")


def test_existing_customer_is_reused(emulated_stripe, profile):
    customer_id = give_customer(emulated_stripe, profile)
    services.start_premium_checkout(profile, **URLS)
    [session_call] = emulated_stripe.requests
    assert session_call.path == "/v1/checkout/sessions"
    assert session_call.params["customer"] == customer_id


def test_open_pending_checkout_is_reused(emulated_stripe, profile):
    first = services.start_premium_checkout(profile, **URLS)
    second = services.start_premium_checkout(profile, **URLS)
    assert second.reused and (second.session_id, second.url) == (first.session_id, first.url)
    assert len(emulated_stripe.requests_to("POST", "/v1/checkout/sessions")) == 1
    assert len(emulated_stripe.all("checkout.session")) == 1
    assert Payment.objects(from_user_id=profile.id).count() == 1


def test_old_open_checkout_is_expired_and_replaced(emulated_stripe, profile):
    first = services.start_premium_checkout(profile, **URLS)
    Payment.objects(id=first.payment.id).update_one(
        set__created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=24)
    )
    second = services.start_premium_checkout(profile, **URLS)
    assert not second.reused and second.session_id != first.session_id
    assert emulated_stripe.get(first.session_id)["status"] == "expired"
    [expire_call] = emulated_stripe.requests_to(
        "POST", f"/v1/checkout/sessions/{first.session_id}/expire"
    )
    assert expire_call.idempotency_key == f"skillswap-expire-{first.session_id}"
    old = repository.get_payment(first.payment.id)
    assert (old.status, old.failure_reason, old.open_checkout_slot) == (
        "expired",
        "checkout_expired",
        None,
    )


def test_old_checkout_that_was_paid_completes_instead(emulated_stripe, profile):
    first = services.start_premium_checkout(profile, **URLS)
    Payment.objects(id=first.payment.id).update_one(
        set__created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=24)
    )
    assert emulated_stripe.submit_payment(first.session_id).succeeded
    with pytest.raises(AlreadyPremium):
        services.start_premium_checkout(profile, **URLS)
    assert repository.get_payment(first.payment.id).status == "completed"


def test_stale_slot_without_session_is_reclaimed(emulated_stripe, profile):
    crashed = repository.create_pending_payment(
        transaction_type="premium",
        from_user_id=profile.id,
        amount=Decimal("9.99"),
        currency="usd",
        open_checkout_slot=repository.premium_slot(profile.id),
    )
    Payment.objects(id=crashed.id).update_one(
        set__created_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    )
    start = services.start_premium_checkout(profile, **URLS)
    assert start.payment.id != crashed.id
    assert repository.get_payment(crashed.id) is None


def test_concurrent_premium_starts_create_one_session(emulated_stripe, profile, monkeypatch):
    create_session = emulated_stripe.create_checkout_session

    def slow_create_session(*args, **kwargs):
        time.sleep(0.05)  # keep the winner inside Stripe while the others arrive
        return create_session(*args, **kwargs)

    monkeypatch.setattr(emulated_stripe, "create_checkout_session", slow_create_session)
    race = run_together([lambda: services.start_premium_checkout(profile, **URLS)] * 8)
    assert race.errors == []
    assert len({result.session_id for result in race.results}) == 1
    assert len(emulated_stripe.requests_to("POST", "/v1/checkout/sessions")) == 1
    assert len(emulated_stripe.all("checkout.session")) == 1
    assert Payment.objects(from_user_id=profile.id).count() == 1


@pytest.mark.parametrize("how", ["completed_payment", "legacy_subscription"])
def test_premium_is_refused_when_already_premium(emulated_stripe, profile, how):
    if how == "completed_payment":
        repository.create_payment_transaction("premium", profile.id, "9.99", status="completed")
    else:
        Subscription(user_id=profile.id, status="active", stripe_subscription_id="sub_1").save()
    with pytest.raises(AlreadyPremium) as excinfo:
        services.start_premium_checkout(profile, **URLS)
    assert excinfo.value.as_dict() == {
        "error": "User already has premium access",
        "code": "already_premium",
    }
    assert emulated_stripe.requests == []


def test_refunded_premium_may_buy_again(emulated_stripe, profile):
    repository.create_payment_transaction("premium", profile.id, "9.99", status="refunded")
    assert services.start_premium_checkout(profile, **URLS).session_id


@pytest.mark.parametrize(
    ("status", "error_type", "kind"),
    [
        (401, "invalid_request_error", "auth"),
        (400, "invalid_request_error", "invalid_request"),
        (500, "api_error", "api"),
    ],
)
def test_stripe_failure_leaves_no_orphan(emulated_stripe, profile, status, error_type, kind):
    give_customer(emulated_stripe, profile)
    emulated_stripe.inject_failure(
        "POST",
        "/v1/checkout/sessions",
        status=status,
        error_type=error_type,
        message="Invalid API Key provided",
    )
    with pytest.raises(GatewayError) as excinfo:
        services.start_premium_checkout(profile, **URLS)
    assert excinfo.value.kind == kind
    assert excinfo.value.error == "Stripe error: Invalid API Key provided"
    assert Payment.objects.count() == 0
    assert emulated_stripe.all("checkout.session") == []
    # The slot is free again: the next attempt works.
    assert services.start_premium_checkout(profile, **URLS).session_id
    assert len(emulated_stripe.all("checkout.session")) == 1


def test_a_paid_checkout_keeps_the_customer_checkout_created_for_the_next_one(
    emulated_stripe, emulator_webhooks, profile, recipient
):
    start = services.start_premium_checkout(profile, **URLS)
    assert emulated_stripe.submit_payment(start.session_id).succeeded
    [customer] = emulated_stripe.all("customer")
    assert emulated_stripe.get(start.session_id)["customer"] == customer["id"]
    paid = repository.get_payment(start.payment.id)
    assert (paid.status, paid.stripe_customer_id) == ("completed", customer["id"])
    tip = services.start_tip_checkout(PaymentProfile.objects.get(id=profile.id), recipient=str(recipient.id),
                                      amount="5.00", **URLS)
    assert emulated_stripe.get(tip.session_id)["customer"] == customer["id"]
    assert len(emulated_stripe.all("customer")) == 1


def test_session_creation_failure_leaves_no_orphan(emulated_stripe, profile):
    emulated_stripe.inject_failure("POST", "/v1/checkout/sessions", network=True)
    with pytest.raises(GatewayError) as excinfo:
        services.start_premium_checkout(profile, **URLS)
    assert excinfo.value.kind == "network"
    assert Payment.objects.count() == 0
    assert emulated_stripe.all("customer") == []
    assert PaymentProfile.objects.get(id=profile.id).stripe_customer_id is None


def test_tip_start_sends_exact_parameters(emulated_stripe, profile, recipient):
    start = services.start_tip_checkout(
        profile,
        recipient=str(recipient.id),
        amount="10",
        message="  Thanks for the session!\n ",
        **URLS,
    )
    [session_call] = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert session_call.idempotency_key == f"skillswap-checkout-{start.payment.id}"
    payment = repository.get_payment(start.payment.id)
    metadata = {
        "payment_id": str(payment.id),
        "type": "tip",
        "from_user_id": str(profile.id),
        "to_user_id": str(recipient.id),
    }
    assert session_call.params["line_items"] == line_items(1000, "SkillSwap Tip")
    assert session_call.params["metadata"] == metadata
    assert session_call.params["payment_intent_data"] == {"metadata": metadata}
    assert session_call.params["client_reference_id"] == str(payment.id)
    assert session_call.params["mode"] == "payment"
    assert (session_call.params["success_url"], session_call.params["cancel_url"]) == (
        "https://shop.example.com/paid?session_id={CHECKOUT_SESSION_ID}",
        "https://shop.example.com/cancel",
    )
    assert session_call.params["customer_creation"] == "always" and "customer" not in session_call.params
    assert (payment.amount, payment.amount_minor, payment.to_user_id) == (
        Decimal("10.00"),
        1000,
        recipient.id,
    )
    assert payment.message == "Thanks for the session!"
    assert payment.open_checkout_slot is None


def test_tips_do_not_share_a_slot(emulated_stripe, profile, recipient):
    first = services.start_tip_checkout(profile, recipient=recipient, amount=5, **URLS)
    second = services.start_tip_checkout(profile, recipient=recipient, amount=5, **URLS)
    assert first.session_id != second.session_id


@pytest.mark.parametrize(
    "amount", ["0.999", "1000.001", "0.99", "1000.01", "NaN", "-5", True, None, "ten"]
)
def test_tip_amount_validation(emulated_stripe, profile, recipient, amount):
    with pytest.raises(InvalidAmount):
        services.start_tip_checkout(profile, recipient=recipient, amount=amount, **URLS)
    assert emulated_stripe.requests == [] and Payment.objects.count() == 0


@pytest.mark.parametrize(
    "message", ["x" * 501, "bell\x07", "null\x00byte", "rtl\u202eoverride", 42]
)
def test_tip_message_validation(emulated_stripe, profile, recipient, message):
    with pytest.raises(InvalidMessage):
        services.start_tip_checkout(profile, recipient=recipient, amount=5, message=message, **URLS)


def test_tip_message_limits_are_configurable_and_blank_is_none(
    emulated_stripe, profile, recipient, settings
):
    settings.SKILLSWAP_PAYMENTS = {**settings.SKILLSWAP_PAYMENTS, "TIP_MESSAGE_MAX_LENGTH": 5}
    with pytest.raises(InvalidMessage, match="at most 5"):
        services.start_tip_checkout(
            profile, recipient=recipient, amount=5, message="123456", **URLS
        )
    start = services.start_tip_checkout(
        profile, recipient=recipient, amount=5, message="   ", **URLS
    )
    assert repository.get_payment(start.payment.id).message is None


def test_tip_recipient_rules(emulated_stripe, profile):
    with pytest.raises(InvalidRecipientId):
        services.start_tip_checkout(profile, recipient="65a1b2c3d4e5f6g7h8i9j0k1", amount=5, **URLS)
    with pytest.raises(RecipientNotFound):
        services.start_tip_checkout(profile, recipient=str(ObjectId()), amount=5, **URLS)
    with pytest.raises(SelfTipNotAllowed):
        services.start_tip_checkout(profile, recipient=str(profile.id), amount=5, **URLS)
    assert Payment.objects.count() == 0


def test_tip_stripe_failure_leaves_no_orphan(emulated_stripe, profile, recipient):
    give_customer(emulated_stripe, profile)
    emulated_stripe.inject_failure(
        "POST",
        "/v1/checkout/sessions",
        status=402,
        error_type="card_error",
        message="Your card was declined.",
        code="card_declined",
    )
    with pytest.raises(GatewayError) as excinfo:
        services.start_tip_checkout(profile, recipient=recipient, amount=5, **URLS)
    assert excinfo.value.kind == "card"
    assert excinfo.value.error == "Stripe error: Your card was declined."
    assert Payment.objects.count() == 0


def test_confirm_checkout_session_completes_paid_sessions_once(emulated_stripe, profile):
    start = services.start_premium_checkout(profile, **URLS)
    assert services.confirm_checkout_session(profile, start.session_id).status == "pending"
    outcome = emulated_stripe.submit_payment(start.session_id)
    assert outcome.succeeded
    payment = services.confirm_checkout_session(profile, start.session_id)
    assert payment.status == "completed"
    assert payment.stripe_payment_intent_id == outcome.payment_intent
    assert services.get_premium_status(profile)["is_premium"] is True
    retrieves = len(emulated_stripe.requests_to("GET", f"/v1/checkout/sessions/{start.session_id}"))
    assert services.confirm_checkout_session(profile, start.session_id).status == "completed"
    # No Stripe call once the payment is done.
    assert (
        len(emulated_stripe.requests_to("GET", f"/v1/checkout/sessions/{start.session_id}"))
        == retrieves
    )


def test_confirm_checkout_session_is_owner_only(emulated_stripe, profile, recipient):
    start = services.start_premium_checkout(profile, **URLS)
    with pytest.raises(PaymentNotFound):
        services.confirm_checkout_session(recipient, start.session_id)
    with pytest.raises(PaymentNotFound):
        services.confirm_checkout_session(profile, "cs_unknown")


def test_confirm_checkout_session_detects_mismatch(emulated_stripe, profile):
    start = services.start_premium_checkout(profile, **URLS)
    assert emulated_stripe.submit_payment(start.session_id).succeeded
    # Stripe charged 9.99; the stored payment now expects another amount.
    Payment.objects(id=start.payment.id).update_one(
        set__amount_minor=1000, set__amount=Decimal("10.00")
    )
    with pytest.raises(PaymentMismatch):
        services.confirm_checkout_session(profile, start.session_id)
    assert repository.get_payment(start.payment.id).status == "pending"


def test_confirm_expired_session_expires_the_payment(emulated_stripe, profile):
    start = services.start_premium_checkout(profile, **URLS)
    emulated_stripe.advance_time(24 * 3600 + 1)  # past the session's expires_at
    assert emulated_stripe.get(start.session_id)["status"] == "expired"
    assert services.confirm_checkout_session(profile, start.session_id).status == "expired"


def test_refund_payment_calls_stripe_once(emulated_stripe, profile):
    start = services.start_premium_checkout(profile, **URLS)
    assert emulated_stripe.submit_payment(start.session_id).succeeded
    payment = services.confirm_checkout_session(profile, start.session_id)
    result = services.refund_payment(payment, reason="requested_by_customer")
    assert result.changed and result.payment.status == "refunded"
    [refund_call] = emulated_stripe.requests_to("POST", "/v1/refunds")
    assert refund_call.idempotency_key == f"skillswap-refund-{payment.id}-0-999"
    assert refund_call.params == {
        "payment_intent": payment.stripe_payment_intent_id,
        "amount": 999,
        "reason": "requested_by_customer",
        "metadata": {
            "payment_id": str(payment.id),
            "type": "premium",
            "from_user_id": str(profile.id),
        },
    }
    assert result.payment.stripe_refund_id.startswith("re_")
    refund = emulated_stripe.get(result.payment.stripe_refund_id)
    assert (refund["amount"], refund["status"]) == (999, "succeeded")
    assert services.get_premium_status(profile)["is_premium"] is False


def test_success_url_keeps_existing_query_and_fragment():
    assert (
        services.with_session_id("https://a.test/ok?x=1#top")
        == "https://a.test/ok?x=1&session_id={CHECKOUT_SESSION_ID}#top"
    )
    assert (
        services.with_session_id("https://a.test/ok?s={CHECKOUT_SESSION_ID}")
        == "https://a.test/ok?s={CHECKOUT_SESSION_ID}"
    )
