"""The payment state machine: every legal and illegal transition, and races."""

from decimal import Decimal

import pytest
from bson import ObjectId

from django_skillswap_payments import repository, services, signals
from django_skillswap_payments.documents import Payment
from django_skillswap_payments.errors import InvalidTransition, PaymentNotFound
from tests.support.threads import run_together

ALL_STATUSES = ("pending", "completed", "failed", "refunded", "expired")
LEGAL = {
    ("pending", "completed"),
    ("pending", "failed"),
    ("pending", "expired"),
    ("failed", "completed"),
    ("failed", "expired"),
    ("expired", "completed"),
    ("completed", "refunded"),
}


def make_payment(status="pending", transaction_type="premium", **extra):
    payment = repository.create_payment_transaction(
        transaction_type,
        ObjectId(),
        Decimal("9.99"),
        to_user_id=ObjectId() if transaction_type == "tip" else None,
        status=status,
        **extra,
    )
    return payment


@pytest.fixture
def received():
    """Collect every payment signal sent during the test."""
    log = []

    def make_receiver(name):
        def receiver(sender, payment, **kwargs):
            log.append((name, payment.id, {**kwargs, "failure_reason": payment.failure_reason}))

        return receiver

    receivers = {signal: make_receiver(name) for signal, name in signals.SIGNAL_NAMES.items()}
    for signal, receiver in receivers.items():
        signal.connect(receiver, weak=False)
    yield log
    for signal, receiver in receivers.items():
        signal.disconnect(receiver)


def complete(payment, **overrides):
    figures = {
        "payment_intent_id": f"pi_{payment.id}",
        "amount_minor": 999,
        "currency": "usd",
        "livemode": False,
    }
    figures.update(overrides)
    return services.complete_payment(payment, **figures)


def move(payment, target):
    if target == "completed":
        return complete(payment)
    if target == "failed":
        return services.fail_payment(payment, reason="card_declined")
    if target == "expired":
        return services.expire_payment(payment)
    return services.mark_payment_refunded(payment, refund_id="re_1")


@pytest.mark.parametrize("start", ALL_STATUSES)
@pytest.mark.parametrize("target", ("completed", "failed", "refunded", "expired"))
def test_transition_matrix(start, target, received):
    payment = make_payment(status=start)
    result = move(payment, target)
    stored = repository.get_payment(payment.id)
    if (start, target) in LEGAL:
        assert result.changed
        assert stored.status == target
        assert len(received) == 1
        assert getattr(stored, f"{target}_at") is not None
    else:
        assert not result.changed
        assert stored.status == start
        assert received == []


def test_pending_is_never_a_target():
    payment = make_payment()
    with pytest.raises(InvalidTransition):
        repository.transition(payment.id, "pending")


def test_completion_records_stripe_ids_and_releases_the_slot(received):
    payment = repository.create_pending_payment(
        transaction_type="premium",
        from_user_id=ObjectId(),
        amount=Decimal("9.99"),
        currency="usd",
        open_checkout_slot="premium:x",
    )
    result = complete(payment, payment_intent_id="pi_123", session_id="cs_123")
    assert result.changed
    stored = repository.get_payment(payment.id)
    assert stored.stripe_payment_intent_id == "pi_123"
    assert stored.stripe_session_id == "cs_123"
    assert stored.open_checkout_slot is None
    name, payment_id, kwargs = received[0]
    assert name == "premium_payment_completed" and payment_id == payment.id
    assert kwargs["amount"] == Decimal("9.99") and kwargs["amount_minor"] == 999
    assert kwargs["currency"] == "usd" and kwargs["to_user_id"] is None
    assert kwargs["from_user_id"] == payment.from_user_id


def test_tip_completion_sends_the_tip_signal(received):
    payment = make_payment(transaction_type="tip")
    assert complete(payment).changed
    assert [entry[0] for entry in received] == ["tip_payment_completed"]
    assert received[0][2]["to_user_id"] == payment.to_user_id


def test_failure_reason_is_stored(received):
    payment = make_payment()
    services.fail_payment(payment, reason="card_declined", payment_intent_id="pi_9")
    stored = repository.get_payment(payment.id)
    assert (stored.status, stored.failure_reason, stored.stripe_payment_intent_id) == (
        "failed",
        "card_declined",
        "pi_9",
    )
    assert [entry[0] for entry in received] == ["payment_failed"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount_minor": 998},
        {"amount_minor": 99900},
        {"currency": "eur"},
        {"livemode": True},
        {"amount_minor": True},
    ],
)
def test_mismatch_never_grants(overrides, received):
    payment = make_payment()
    result = complete(payment, **overrides)
    assert result.mismatch and not result.changed
    stored = repository.get_payment(payment.id)
    assert stored.status == "pending"
    assert stored.failure_reason == "mismatch"
    assert stored.metadata["mismatch"]["fields"]
    assert received == []


def test_duplicate_report_after_completion_is_a_no_op(received):
    payment = make_payment()
    assert complete(payment).changed
    again = complete(payment, amount_minor=1)  # late, even with different figures
    assert not again.changed and not again.mismatch
    assert repository.get_payment(payment.id).failure_reason is None
    assert len(received) == 1


def test_lookup_by_session_id_and_missing_payment():
    payment = make_payment(stripe_session_id="cs_lookup")
    result = services.complete_payment(
        {"session_id": "cs_lookup"},
        payment_intent_id="pi_x",
        amount_minor=999,
        currency="usd",
        livemode=False,
    )
    assert result.changed and result.payment.id == payment.id
    with pytest.raises(PaymentNotFound):
        services.complete_payment(
            {"session_id": "cs_missing"},
            payment_intent_id=None,
            amount_minor=999,
            currency="usd",
            livemode=False,
        )
    with pytest.raises(PaymentNotFound):
        services.fail_payment(str(ObjectId()), reason="x")


def test_eight_threads_racing_to_complete_one_payment(received):
    payment = make_payment()
    race = run_together([lambda: complete(repository.get_payment(payment.id))] * 8)
    assert race.errors == []
    assert len(race.results) == 8
    assert sum(result.changed for result in race.results) == 1
    assert [entry[0] for entry in received] == ["premium_payment_completed"]
    assert repository.get_payment(payment.id).status == "completed"


def test_completion_racing_failure_yields_one_consistent_outcome(received):
    payment = make_payment()

    def complete_it():
        return complete(repository.get_payment(payment.id))

    def fail_it():
        return services.fail_payment(repository.get_payment(payment.id), reason="declined")

    race = run_together([fail_it, complete_it] * 4)
    assert race.errors == []
    # Either completion wins outright, or a failure wins and a completion later overrides it
    # (failed -> completed is legal); never two completions.
    assert repository.get_payment(payment.id).status == "completed"
    names = [entry[0] for entry in received]
    assert names.count("premium_payment_completed") == 1
    assert names.count("payment_failed") <= 1


def test_legacy_update_helper_respects_the_state_machine():
    payment = make_payment()
    assert repository.update_payment_transaction_status(str(payment.id), "refunded") is None
    updated = repository.update_payment_transaction_status(
        str(payment.id), "completed", stripe_payment_intent_id="pi_ref"
    )
    assert updated.status == "completed" and updated.stripe_payment_intent_id == "pi_ref"
    assert repository.update_payment_transaction_status("not-an-id", "completed") is None


# -- retryable and final failures ---------------------------------------------------


def _open_premium(slot="premium:x"):
    return repository.create_pending_payment(
        transaction_type="premium",
        from_user_id=ObjectId(),
        amount=Decimal("9.99"),
        currency="usd",
        open_checkout_slot=slot,
    )


def _failed_signals(received):
    return [(kwargs["final"], kwargs["failure_reason"]) for name, _, kwargs in received if name == "payment_failed"]


def test_a_decline_keeps_the_checkout_and_a_final_failure_ends_it(received):
    payment = _open_premium()

    assert services.fail_payment(payment, reason="Your card was declined.", final=False).changed
    declined = repository.get_payment(payment.id)
    assert (declined.status, declined.failure_final, declined.open_checkout_slot) == ("failed", False, "premium:x")
    # Another decline on the same page is no news.
    assert not services.fail_payment(payment, reason="Insufficient funds", final=False).changed

    assert services.fail_payment(payment, reason="async_payment_failed").changed
    failed = repository.get_payment(payment.id)
    assert (failed.status, failed.failure_final, failed.open_checkout_slot) == ("failed", True, None)
    assert not services.fail_payment(payment, reason="again").changed
    assert _failed_signals(received) == [(False, "Your card was declined."), (True, "async_payment_failed")]


def test_a_declined_checkout_that_expires_ends_with_a_final_signal(received):
    payment = _open_premium()
    services.fail_payment(payment, reason="Your card was declined.", final=False)

    result = services.expire_payment(payment)

    assert result.changed
    stored = repository.get_payment(payment.id)
    assert (stored.status, stored.failure_reason, stored.open_checkout_slot) == ("expired", "checkout_expired", None)
    assert stored.expired_at is not None
    assert _failed_signals(received) == [(False, "Your card was declined."), (True, "checkout_expired")]


def test_completion_clears_what_earlier_attempts_left(received):
    payment = _open_premium()
    assert complete(payment, amount_minor=1).mismatch  # a report with the wrong amount
    services.fail_payment(payment, reason="Your card was declined.", final=False)

    assert complete(repository.get_payment(payment.id)).changed

    stored = Payment.objects.get(id=payment.id)
    assert (stored.status, stored.failure_reason, stored.failure_final) == ("completed", None, None)
    assert "mismatch" not in stored.metadata
    assert stored.failed_at is not None  # the history of the attempt stays


def test_an_expired_checkout_paid_in_a_race_still_completes(received):
    payment = _open_premium()
    services.expire_payment(payment, reason="checkout_canceled")

    assert complete(repository.get_payment(payment.id)).changed
    stored = Payment.objects.get(id=payment.id)
    assert (stored.status, stored.failure_reason) == ("completed", None)
    assert [name for name, _, _ in received] == ["payment_failed", "premium_payment_completed"]


def test_only_failed_may_be_retryable():
    payment = make_payment()
    with pytest.raises(InvalidTransition):
        repository.transition(payment.id, "expired", retryable=True)
