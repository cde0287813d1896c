"""At most one completed premium per user, and declined attempts that are not the end.

A declined card leaves its Checkout Session open at Stripe, so the next
premium start must hand out that same session; a second premium payment that
completes anyway (whatever the route) is refunded automatically, announced by
no completion signal, and never costs the user the premium they paid for.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from django_skillswap_payments import gateway, repository, services, signals, stripe_facts, webhooks
from django_skillswap_payments.documents import Payment, PaymentProfile
from django_skillswap_payments.errors import WebhookProcessingFailed
from django_skillswap_payments.testing.webhooks import encode_event, sign_payload
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL
from tests.support.database import profile_of
from tests.support.threads import run_together
from tests.support.webhooks import configured_secret

pytestmark = pytest.mark.django_db

URLS = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
DECLINED = "4000 0000 0000 0002"
COMPLETION_EVENTS = ("checkout.session.completed", "payment_intent.succeeded")


@pytest.fixture
def failures():
    """``(payment id, final)`` of every ``payment_failed`` sent during the test."""
    sent: list[tuple[str, bool]] = []

    def receiver(sender, payment, final, **kwargs):
        sent.append((str(payment.id), final))

    signals.payment_failed.connect(receiver, weak=False, dispatch_uid="test-failures")
    yield sent
    signals.payment_failed.disconnect(dispatch_uid="test-failures")


def _start(client) -> dict:
    response = client.post(PREMIUM_URL, URLS, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def second_premium_session(profile) -> Payment:
    """A second open premium checkout of ``profile``, made past the one-open-checkout rule.

    Stands for every route to two payable sessions (a session that stayed open
    at Stripe while the app moved on, a second server racing, an old release).
    """
    payment = repository.create_pending_payment(
        transaction_type="premium", from_user_id=profile.id, amount=Decimal("9.99"), currency="usd"
    )
    session = stripe_facts.checkout_session(
        gateway.create_checkout_session(payment, product_name="SkillSwap Premium", **URLS)
    )
    return repository.attach_checkout_session(
        payment.id, session_id=session.id, checkout_url=session.url, customer_id=None, livemode=False
    )


def _completed_premiums(profile) -> list[Payment]:
    return list(Payment.objects(from_user_id=profile.id, transaction_type="premium", status="completed"))


def _refunds_of(emulator, payment) -> list[dict]:
    return [r for r in emulator.all("refund") if r["payment_intent"] == payment.stripe_payment_intent_id]


# -- a decline is an attempt, not the end ----------------------------------------------


def test_a_declined_card_keeps_the_checkout_and_the_next_start_reuses_it(
    emulated_stripe, emulator_webhooks, alice, alice_client, signal_log, failures
):
    first = _start(alice_client)
    assert not emulated_stripe.submit_payment(first["session_id"], DECLINED).succeeded
    declined = Payment.objects.get(stripe_session_id=first["session_id"])
    assert (declined.status, declined.failure_reason) == ("failed", "Your card was declined.")
    assert declined.open_checkout_slot == repository.premium_slot(profile_of(alice).id)
    assert failures == [(str(declined.id), False)]

    again = _start(alice_client)

    assert again["session_id"] == first["session_id"] and again["reused"] is True
    assert len(emulated_stripe.all("checkout.session")) == 1
    # The buyer pays on the same page after all: one premium, and no stale failure left on it.
    assert emulated_stripe.submit_payment(first["session_id"]).succeeded
    paid = Payment.objects.get(id=declined.id)
    assert (paid.status, paid.failure_reason, paid.failure_final, paid.open_checkout_slot) == (
        "completed", None, None, None,
    )
    assert [name for name, _ in signal_log] == ["payment_failed", "premium_payment_completed"]
    assert _start_is_refused(alice_client)


def _start_is_refused(client) -> bool:
    response = client.post(PREMIUM_URL, URLS, format="json")
    return response.status_code == 400 and response.json() == {"error": "User already has premium access"}


# -- a second premium payment is refunded, whatever the route --------------------------


def test_two_sessions_paid_via_webhooks_grant_once_and_refund_the_second(
    emulated_stripe, emulator_webhooks, alice, alice_client, signal_log
):
    profile = profile_of(alice)
    first = _start(alice_client)
    second = second_premium_session(profile)

    assert emulated_stripe.submit_payment(first["session_id"]).succeeded
    assert emulated_stripe.submit_payment(second.stripe_session_id).succeeded

    kept = Payment.objects.get(stripe_session_id=first["session_id"])
    duplicate = Payment.objects.get(id=second.id)
    assert (kept.status, kept.premium_holder) == ("completed", profile.id)
    assert (duplicate.status, duplicate.duplicate_of, duplicate.premium_holder) == ("refunded", kept.id, None)
    [refund] = _refunds_of(emulated_stripe, duplicate)
    assert (refund["amount"], refund["status"], refund["reason"]) == (999, "succeeded", "duplicate")
    assert duplicate.stripe_refund_id == refund["id"]
    assert _refunds_of(emulated_stripe, kept) == []
    assert signal_log == [
        ("premium_payment_completed", str(kept.id)),
        ("duplicate_payment_refunded", str(duplicate.id)),
    ]
    # The user keeps the premium they paid for.
    status = alice_client.get("/api/payments/subscription/status/").json()
    assert status["is_premium"] is True

    # Stripe delivers everything again: nothing changes, nothing is refunded twice.
    for event in emulated_stripe.events():
        emulated_stripe.webhooks.resend(event)
    assert len(emulated_stripe.all("refund")) == 1
    assert len(signal_log) == 2
    assert all(attempt.ok for attempt in emulated_stripe.webhooks.attempts)


def test_two_sessions_confirmed_by_the_success_page_grant_once(emulated_stripe, signal_log):
    profile = PaymentProfile(django_user_id="7").save()
    first = services.start_premium_checkout(profile, **URLS)
    second = second_premium_session(profile)
    assert emulated_stripe.submit_payment(first.session_id).succeeded
    assert emulated_stripe.submit_payment(second.stripe_session_id).succeeded

    assert services.confirm_checkout_session(profile, first.session_id).status == "completed"
    assert services.confirm_checkout_session(profile, second.stripe_session_id).status == "refunded"
    assert services.confirm_checkout_session(profile, second.stripe_session_id).status == "refunded"

    assert [p.id for p in _completed_premiums(profile)] == [first.payment.id]
    assert len(emulated_stripe.all("refund")) == 1
    assert signal_log == [
        ("premium_payment_completed", str(first.payment.id)),
        ("duplicate_payment_refunded", str(second.id)),
    ]
    assert services.get_premium_status(profile, with_receipt=True)["is_premium"] is True


def _completion_deliveries(emulator, session_ids) -> list[tuple[bytes, str]]:
    """Signed ``checkout.session.completed`` and ``payment_intent.succeeded`` of the sessions."""
    about = set(session_ids) | {emulator.get(session_id)["payment_intent"] for session_id in session_ids}
    deliveries = []
    for event in emulator.events():
        if event["type"] in COMPLETION_EVENTS and event["data"]["object"]["id"] in about:
            payload = encode_event(event)
            deliveries.append((payload, sign_payload(payload, configured_secret())))
    return deliveries


def test_concurrent_completions_of_two_sessions_grant_once_and_refund_once(emulated_stripe, signal_log):
    profile = PaymentProfile(django_user_id="8").save()
    sessions = [services.start_premium_checkout(profile, **URLS).session_id]
    sessions.append(second_premium_session(profile).stripe_session_id)
    for session_id in sessions:
        assert emulated_stripe.submit_payment(session_id).succeeded
    deliveries = _completion_deliveries(emulated_stripe, sessions) * 2
    jobs = [lambda d=d: webhooks.receive(*d) for d in deliveries]
    jobs += [lambda s=s: services.confirm_checkout_session(profile, s) for s in sessions * 2]

    race = run_together(jobs)

    # A delivery whose refund raced another one may fail (a 5xx to Stripe); the redelivery retries it.
    assert all(isinstance(error, WebhookProcessingFailed) for error in race.errors)
    for payload, signature in _completion_deliveries(emulated_stripe, sessions):
        webhooks.receive(payload, signature)  # Stripe's redelivery of anything that failed

    payments = list(Payment.objects(from_user_id=profile.id))
    assert sorted(p.status for p in payments) == ["completed", "refunded"]
    [kept] = [p for p in payments if p.status == "completed"]
    [duplicate] = [p for p in payments if p.status == "refunded"]
    assert (kept.premium_holder, duplicate.duplicate_of) == (profile.id, kept.id)
    assert [r["payment_intent"] for r in emulated_stripe.all("refund")] == [duplicate.stripe_payment_intent_id]
    assert sorted(signal_log) == [
        ("duplicate_payment_refunded", str(duplicate.id)),
        ("premium_payment_completed", str(kept.id)),
    ]


def test_a_failed_refund_is_retried_by_the_redelivery(
    emulated_stripe, alice, alice_client, anon_client, signal_log
):
    profile = profile_of(alice)
    first = services.start_premium_checkout(profile, **URLS)
    second = second_premium_session(profile)
    assert emulated_stripe.submit_payment(first.session_id).succeeded
    assert emulated_stripe.submit_payment(second.stripe_session_id).succeeded
    assert services.confirm_checkout_session(profile, first.session_id).status == "completed"
    [(payload, signature)] = [
        d for d in _completion_deliveries(emulated_stripe, [second.stripe_session_id]) if b"checkout.session" in d[0]
    ]
    emulated_stripe.inject_failure("POST", "/v1/refunds", status=500)

    response = anon_client.post(
        "/api/payments/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )

    assert response.status_code == 500  # so Stripe delivers it again
    flagged = Payment.objects.get(id=second.id)
    assert (flagged.status, flagged.duplicate_of, flagged.premium_holder) == ("completed", first.payment.id, None)
    assert emulated_stripe.all("refund") == []
    assert signal_log == [("premium_payment_completed", str(first.payment.id))]
    # Meanwhile the user's premium is the first payment's.
    assert repository.latest_completed_premium(profile.id).id == first.payment.id

    again = anon_client.post(
        "/api/payments/webhook/", data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )

    assert again.status_code == 200
    assert Payment.objects.get(id=second.id).status == "refunded"
    assert len(emulated_stripe.all("refund")) == 1
    assert signal_log[-1] == ("duplicate_payment_refunded", str(second.id))
    assert len(signal_log) == 2


def test_a_refund_of_the_duplicate_seen_first_by_webhook_revokes_nothing(emulated_stripe, signal_log):
    profile = PaymentProfile(django_user_id="9").save()
    first = services.start_premium_checkout(profile, **URLS)
    second = second_premium_session(profile)
    for session_id in (first.session_id, second.stripe_session_id):
        assert emulated_stripe.submit_payment(session_id).succeeded
    services.confirm_checkout_session(profile, first.session_id)
    emulated_stripe.inject_failure("POST", "/v1/refunds", status=500)
    assert services.confirm_checkout_session(profile, second.stripe_session_id).status == "completed"
    # The refund lands at Stripe (a later attempt, or an operator), and its webhook comes first.
    flagged = Payment.objects.get(id=second.id)
    emulated_stripe.create_refund({"payment_intent": flagged.stripe_payment_intent_id})
    [charge_refunded] = emulated_stripe.events("charge.refunded")
    payload = encode_event(charge_refunded)

    assert webhooks.receive(payload, sign_payload(payload, configured_secret())).status == "processed"

    assert Payment.objects.get(id=second.id).status == "refunded"
    assert signal_log == [
        ("premium_payment_completed", str(first.payment.id)),
        ("duplicate_payment_refunded", str(second.id)),
    ]
    assert services.is_premium(profile)
    # The next report finds nothing left to do, and Stripe is not asked for a second refund.
    assert services.confirm_checkout_session(profile, second.stripe_session_id).status == "refunded"
    assert len(emulated_stripe.all("refund")) == 1


# -- the rule itself, in the repository ---------------------------------------------


def _pending(profile):
    return repository.create_pending_payment(
        transaction_type="premium", from_user_id=profile.id, amount=Decimal("9.99"), currency="usd"
    )


def test_the_completing_write_claims_premium_and_a_refund_gives_it_back():
    profile = PaymentProfile(django_user_id="10").save()
    first, second, third = _pending(profile), _pending(profile), _pending(profile)

    assert repository.transition(first.id, "completed").premium_holder == profile.id
    duplicate = repository.transition(second.id, "completed")
    assert (duplicate.status, duplicate.premium_holder, duplicate.duplicate_of) == ("completed", None, first.id)

    assert repository.transition(first.id, "refunded").premium_holder is None
    assert repository.transition(third.id, "completed").premium_holder == profile.id


def test_ensure_indexes_builds_the_premium_index_and_adopts_older_payments(mongo_database):
    profile = PaymentProfile(django_user_id="11").save()
    older = repository.create_payment_transaction("premium", profile.id, "9.99", status="completed")
    later = repository.create_payment_transaction("premium", profile.id, "9.99", status="completed")

    indexes = repository.ensure_indexes()

    assert "premium_holder_1" in indexes["payments"]
    assert mongo_database["payments"].index_information()["premium_holder_1"]["unique"] is True
    assert Payment.objects.get(id=older.id).premium_holder == profile.id
    assert Payment.objects.get(id=later.id).premium_holder is None  # reported, left for an operator
    assert repository.adopt_premium_holders() == [later.id]
    # A payment completing now collides with the adopted one.
    assert repository.transition(_pending(profile).id, "completed").duplicate_of == older.id
