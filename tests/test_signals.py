"""Robust signal dispatch: failing receivers are isolated, recorded and re-dispatchable."""

import io
from decimal import Decimal

import pytest
from bson import ObjectId
from django.core.management import CommandError, call_command

from django_skillswap_payments import repository, services, signals
from django_skillswap_payments.errors import PaymentNotFound


def make_pending(transaction_type="premium"):
    return repository.create_payment_transaction(
        transaction_type,
        ObjectId(),
        Decimal("9.99"),
        to_user_id=ObjectId() if transaction_type == "tip" else None,
    )


def complete(payment):
    return services.complete_payment(
        payment,
        payment_intent_id=f"pi_{payment.id}",
        amount_minor=999,
        currency="usd",
        livemode=False,
    )


class Receivers:
    """A broken receiver registered between two healthy ones."""

    def __init__(self):
        self.calls = []
        self.broken = True

    def first(self, sender, payment, **kwargs):
        self.calls.append(("first", payment.id))

    def flaky(self, sender, payment, **kwargs):
        self.calls.append(("flaky", payment.id))
        if self.broken:
            raise RuntimeError("mail server down")

    def last(self, sender, payment, **kwargs):
        self.calls.append(("last", payment.id))


@pytest.fixture
def receivers():
    hooks = Receivers()
    for receiver in (hooks.first, hooks.flaky, hooks.last):
        signals.premium_payment_completed.connect(receiver, weak=False)
    yield hooks
    for receiver in (hooks.first, hooks.flaky, hooks.last):
        signals.premium_payment_completed.disconnect(receiver)


def test_failing_receiver_blocks_nobody_and_undoes_nothing(receivers, caplog):
    payment = make_pending()
    result = complete(payment)
    assert result.changed
    assert receivers.calls == [("first", payment.id), ("flaky", payment.id), ("last", payment.id)]
    stored = repository.get_payment(payment.id)
    assert stored.status == "completed"
    assert stored.signal_retry_needed is True
    [failure] = stored.signal_failures
    assert failure["signal"] == "premium_payment_completed"
    assert failure["receiver"].endswith("Receivers.flaky")
    assert failure["error"] == "RuntimeError: mail server down"
    assert failure["at"] is not None
    assert str(payment.id) in caplog.text and "mail server down" in caplog.text


def test_redispatch_resends_and_clears_the_flag(receivers):
    payment = make_pending()
    complete(payment)
    receivers.calls.clear()
    receivers.broken = False
    responses = signals.redispatch(str(payment.id))
    assert len(responses) == 3
    assert [name for name, _ in receivers.calls] == ["first", "flaky", "last"]
    stored = repository.get_payment(payment.id)
    assert stored.signal_retry_needed is False
    assert len(stored.signal_failures) == 1  # history is kept


def test_redispatch_that_fails_again_stays_flagged(receivers):
    payment = make_pending()
    complete(payment)
    signals.redispatch(payment.id)
    stored = repository.get_payment(payment.id)
    assert stored.signal_retry_needed is True
    assert len(stored.signal_failures) == 2


def test_redispatch_sends_the_signal_for_the_current_status():
    seen = []

    def on_refund(sender, payment, **kwargs):
        seen.append(payment.status)

    signals.payment_refunded.connect(on_refund, weak=False)
    try:
        payment = make_pending()
        complete(payment)
        services.mark_payment_refunded(payment)
        signals.redispatch(payment.id)
    finally:
        signals.payment_refunded.disconnect(on_refund)
    assert seen == ["refunded", "refunded"]
    assert signals.redispatch(make_pending().id) == []  # pending: nothing to announce
    with pytest.raises(PaymentNotFound):
        signals.redispatch(ObjectId())


def test_redispatch_command(receivers):
    broken, healthy = make_pending(), make_pending()
    complete(broken)
    receivers.broken = False
    complete(healthy)
    assert [p.id for p in repository.payments_needing_signal_retry()] == [broken.id]
    out = io.StringIO()
    call_command("payments_redispatch_signals", "--failed", "--settled-seconds", "0", stdout=out)
    assert f"{broken.id}: dispatched to 3 receiver(s)" in out.getvalue()
    assert repository.payments_needing_signal_retry() == []

    receivers.broken = True
    with pytest.raises(CommandError):
        call_command("payments_redispatch_signals", str(healthy.id), stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("payments_redispatch_signals", stdout=io.StringIO())


def test_transition_without_dispatch_stays_flagged_for_redispatch(receivers):
    """A process that dies after the status write but before the signal leaves a trace."""
    payment = make_pending()
    moved = repository.transition(payment.id, "completed")  # as if the process stopped here
    assert moved.signal_retry_needed is True
    assert repository.payments_needing_signal_retry(settled_seconds=60) == []  # may still be in flight
    assert [p.id for p in repository.payments_needing_signal_retry()] == [payment.id]

    receivers.broken = False
    signals.redispatch(payment.id)
    assert receivers.calls == [("first", payment.id), ("flaky", payment.id), ("last", payment.id)]
    assert repository.get_payment(payment.id).signal_retry_needed is False


def test_successful_dispatch_clears_the_flag(receivers):
    receivers.broken = False
    payment = make_pending()
    complete(payment)
    assert repository.get_payment(payment.id).signal_retry_needed is False


@pytest.fixture
def finals():
    """The ``final`` argument of every ``payment_failed`` sent during the test."""
    sent = []

    def receiver(sender, payment, final, **kwargs):
        sent.append(final)

    signals.payment_failed.connect(receiver, weak=False, dispatch_uid="test-finals")
    yield sent
    signals.payment_failed.disconnect(dispatch_uid="test-finals")


def test_redispatch_repeats_whether_a_failure_was_final(finals):
    declined, expired = make_pending(), make_pending()
    services.fail_payment(declined, reason="Your card was declined.", final=False)
    services.expire_payment(expired)
    legacy_failure = repository.create_payment_transaction("premium", ObjectId(), "9.99", status="failed")

    for payment in (declined, expired, legacy_failure):
        signals.redispatch(payment.id)

    # A failure stored before finality was recorded ended its checkout.
    assert finals == [False, True, False, True, True]


def test_a_duplicate_completion_announces_nothing_and_is_not_left_for_redispatch():
    user = ObjectId()
    first, second = (
        repository.create_payment_transaction("premium", user, "9.99") for _ in range(2)
    )
    repository.transition(first.id, "completed")
    duplicate = repository.transition(second.id, "completed")
    assert duplicate.duplicate_of == first.id and duplicate.signal_retry_needed is True

    assert signals.dispatch(duplicate) == []
    assert repository.get_payment(second.id).signal_retry_needed is False
    assert second.id not in [p.id for p in repository.payments_needing_signal_retry()]
