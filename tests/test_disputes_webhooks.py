"""charge.dispute.* events: recorded once per dispute, in any delivery order; lost disputes revoke premium."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_skillswap_payments import signals
from django_skillswap_payments.documents import Payment, WebhookEvent
from django_skillswap_payments.repository import payments as payment_store
from tests.support.database import pending_payment, profile_of
from tests.support.disputes import CREATED_AT, dispute_object, send
from tests.support.stripe_objects import session_object
from tests.support.webhooks import deliver, post_webhook, signed

pytestmark = pytest.mark.django_db

DISPUTE_EVENTS = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)
def stored(payment):
    return Payment.objects.get(id=payment.id)


def is_premium(client):
    return client.get("/api/payments/subscription/status/").json()["is_premium"]


@pytest.fixture
def premium(alice, anon_client):
    payment = pending_payment(profile_of(alice))
    deliver(anon_client, "checkout.session.completed", session_object(payment))
    assert stored(payment).status == "completed"
    return payment


@pytest.fixture
def tip(alice, bob, anon_client):
    payment = pending_payment(profile_of(alice), kind="tip", amount="12.50", recipient=profile_of(bob))
    deliver(anon_client, "checkout.session.completed", session_object(payment))
    return payment


@pytest.fixture
def dispute_log():
    sent = []

    def disputed(sender, payment, dispute, **kwargs):
        sent.append(("payment_disputed", str(payment.id), dispute.dispute_id, dispute.status))

    def closed(sender, payment, dispute, won, **kwargs):
        sent.append(("dispute_closed", str(payment.id), dispute.dispute_id, won))

    signals.payment_disputed.connect(disputed, weak=False)
    signals.dispute_closed.connect(closed, weak=False)
    yield sent
    signals.payment_disputed.disconnect(disputed)
    signals.dispute_closed.disconnect(closed)


@pytest.mark.parametrize("event_type", DISPUTE_EVENTS)
def test_each_dispute_event_records_the_dispute(anon_client, premium, dispute_log, event_type):
    status = {"charge.dispute.closed": "lost", "charge.dispute.funds_reinstated": "won"}.get(event_type, "needs_response")
    send(anon_client, event_type, dispute_object(premium, status=status))

    payment = stored(premium)
    assert payment.status == "completed"
    assert payment.dispute_status == status
    [record] = payment.disputes
    assert record.dispute_id == f"dp_test_{premium.id}"
    assert (record.amount_minor, record.currency, record.reason, record.status) == (999, "usd", "fraudulent", status)
    assert record.evidence_due_by.timestamp() == CREATED_AT + 7 * 86400
    assert record.created_at.timestamp() == CREATED_AT
    assert (record.closed_at is not None) == (status in ("won", "lost"))
    assert dispute_log[0] == ("payment_disputed", str(premium.id), record.dispute_id, status)
    assert WebhookEvent.objects.get(type=event_type).status == "processed"


def test_full_lifecycle_sends_each_signal_once(anon_client, alice_client, premium, dispute_log, signal_log):
    obj = dispute_object(premium)
    send(anon_client, "charge.dispute.created", obj)
    send(anon_client, "charge.dispute.funds_withdrawn", obj, at=CREATED_AT + 1)
    send(anon_client, "charge.dispute.updated", {**obj, "status": "under_review"}, at=CREATED_AT + 60)
    assert is_premium(alice_client) is True  # an open dispute takes nothing back yet
    send(anon_client, "charge.dispute.closed", {**obj, "status": "won"}, at=CREATED_AT + 120)
    send(anon_client, "charge.dispute.funds_reinstated", {**obj, "status": "won"}, at=CREATED_AT + 121)

    dp = obj["id"]
    assert dispute_log == [
        ("payment_disputed", str(premium.id), dp, "needs_response"),
        ("dispute_closed", str(premium.id), dp, True),
    ]
    payment = stored(premium)
    assert payment.dispute_status == "won"
    assert payment.disputes[0].closed_at.timestamp() == CREATED_AT + 120
    assert is_premium(alice_client) is True  # won: nothing revoked
    assert payment.premium_holder == payment.from_user_id
    assert ("payment_refunded", str(premium.id)) not in signal_log


def test_duplicate_deliveries_have_one_effect(anon_client, premium, dispute_log):
    for event_type, status in (("charge.dispute.created", "needs_response"), ("charge.dispute.closed", "lost")):
        payload, signature = signed(event_type, dispute_object(premium, status=status), event_id=f"evt_{status}")
        for _ in range(3):
            assert post_webhook(anon_client, payload, signature).status_code == 200
    # The same reports under new event ids (as a replay of another endpoint would bring them).
    send(anon_client, "charge.dispute.created", dispute_object(premium))
    send(anon_client, "charge.dispute.closed", dispute_object(premium, status="lost"), at=CREATED_AT + 5)

    assert [entry[0] for entry in dispute_log] == ["payment_disputed", "dispute_closed"]
    assert len(stored(premium).disputes) == 1
    assert stored(premium).dispute_status == "lost"


def test_updated_before_created_records_once_and_keeps_the_later_status(anon_client, premium, dispute_log):
    obj = dispute_object(premium)
    send(anon_client, "charge.dispute.updated", {**obj, "status": "under_review"}, at=CREATED_AT + 60)
    send(anon_client, "charge.dispute.created", obj, at=CREATED_AT)

    assert stored(premium).dispute_status == "under_review"
    assert dispute_log == [("payment_disputed", str(premium.id), obj["id"], "under_review")]


@pytest.mark.parametrize("stale", [
    ("charge.dispute.created", "needs_response"),
    ("charge.dispute.updated", "needs_response"),
    ("charge.dispute.updated", "under_review"),
    ("charge.dispute.funds_withdrawn", "needs_response"),
    ("charge.dispute.updated", "warning_needs_response"),
    ("charge.dispute.updated", "some_future_status"),
])
def test_an_old_report_after_closed_never_reopens_the_dispute(anon_client, alice_client, premium, dispute_log, stale):
    obj = dispute_object(premium)
    send(anon_client, "charge.dispute.created", obj)
    send(anon_client, "charge.dispute.closed", {**obj, "status": "lost"}, at=CREATED_AT + 100)
    event_type, status = stale
    # Delivered late, whether stamped before the close or (clock skew) after it.
    send(anon_client, event_type, {**obj, "status": status}, at=CREATED_AT + 50)
    send(anon_client, event_type, {**obj, "status": status}, at=CREATED_AT + 200)

    payment = stored(premium)
    assert payment.dispute_status == "lost"
    assert payment.disputes[0].status == "lost"
    assert [entry[0] for entry in dispute_log] == ["payment_disputed", "dispute_closed"]
    assert is_premium(alice_client) is False


def test_an_older_update_does_not_overwrite_a_newer_one_of_the_same_status(anon_client, premium):
    obj = dispute_object(premium)
    send(anon_client, "charge.dispute.updated", {**obj, "evidence_details": {"due_by": CREATED_AT + 99}}, at=CREATED_AT + 60)
    send(anon_client, "charge.dispute.updated", obj, at=CREATED_AT + 30)

    assert stored(premium).disputes[0].evidence_due_by.timestamp() == CREATED_AT + 99


def test_under_review_then_late_needs_response_keeps_under_review(anon_client, premium):
    obj = dispute_object(premium)
    send(anon_client, "charge.dispute.updated", {**obj, "status": "under_review"}, at=CREATED_AT + 10)
    send(anon_client, "charge.dispute.updated", {**obj, "status": "needs_response"}, at=CREATED_AT + 20)

    assert stored(premium).dispute_status == "under_review"


def test_lost_dispute_revokes_premium_and_frees_the_premium_key(anon_client, alice_client, premium, dispute_log):
    send(anon_client, "charge.dispute.created", dispute_object(premium))
    assert is_premium(alice_client) is True
    send(anon_client, "charge.dispute.closed", dispute_object(premium, status="lost"), at=CREATED_AT + 10)

    payment = stored(premium)
    assert payment.status == "completed"
    assert payment.premium_revoked_at is not None
    assert payment.premium_holder is None
    assert payment_store.latest_completed_premium(payment.from_user_id) is None
    assert is_premium(alice_client) is False
    assert dispute_log[-1] == ("dispute_closed", str(premium.id), f"dp_test_{premium.id}", False)


def test_lost_dispute_invalidates_the_cached_premium_status(anon_client, alice_client, premium, payments_settings):
    with override_settings(SKILLSWAP_PAYMENTS={**payments_settings, "STATUS_CACHE_SECONDS": 300}):
        assert is_premium(alice_client) is True  # cached now
        send(anon_client, "charge.dispute.closed", dispute_object(premium, status="lost"))
        assert is_premium(alice_client) is False


def test_lost_dispute_revokes_nothing_when_the_setting_is_off(anon_client, alice_client, premium, payments_settings, dispute_log):
    with override_settings(SKILLSWAP_PAYMENTS={**payments_settings, "LOST_DISPUTE_REVOKES_PREMIUM": False}):
        send(anon_client, "charge.dispute.closed", dispute_object(premium, status="lost"))

    payment = stored(premium)
    assert payment.dispute_status == "lost"
    assert payment.premium_revoked_at is None
    assert payment.premium_holder == payment.from_user_id
    assert is_premium(alice_client) is True
    assert dispute_log[-1][-1] is False


@pytest.mark.parametrize("status", ["won", "warning_closed"])
def test_won_dispute_revokes_nothing(anon_client, alice_client, premium, dispute_log, status):
    send(anon_client, "charge.dispute.closed", dispute_object(premium, status=status))

    assert stored(premium).premium_revoked_at is None
    assert is_premium(alice_client) is True
    assert dispute_log[-1][-1] is True


def test_lost_tip_dispute_is_recorded_and_announced(anon_client, tip, dispute_log):
    send(anon_client, "charge.dispute.closed", dispute_object(tip, status="lost"))

    payment = stored(tip)
    assert (payment.status, payment.dispute_status, payment.premium_revoked_at) == ("completed", "lost", None)
    assert dispute_log[-1] == ("dispute_closed", str(tip.id), f"dp_test_{tip.id}", False)


def test_a_failing_receiver_neither_fails_the_event_nor_stops_the_others(anon_client, premium, dispute_log):
    def broken(sender, **kwargs):
        raise RuntimeError("receiver down")

    signals.payment_disputed.connect(broken, weak=False)
    try:
        send(anon_client, "charge.dispute.created", dispute_object(premium))
    finally:
        signals.payment_disputed.disconnect(broken)

    payment = stored(premium)
    assert dispute_log[0][0] == "payment_disputed"
    assert payment.signal_failures[-1]["signal"] == "payment_disputed"
    assert payment.signal_retry_needed is False  # a status re-dispatch would resend the completion


def test_dispute_of_a_charge_without_intent_is_ignored(anon_client, premium):
    send(anon_client, "charge.dispute.created", dispute_object(premium, payment_intent=None, charge="ch_other"))

    assert WebhookEvent.objects.get(type="charge.dispute.created").status == "ignored"
    assert stored(premium).disputes == []


@pytest.mark.parametrize("broken", [{"id": None}, {"status": None}, {"status": 7}, {"id": ""}])
def test_dispute_without_id_or_status_is_ignored(anon_client, premium, broken):
    send(anon_client, "charge.dispute.created", dispute_object(premium, **broken))

    assert WebhookEvent.objects.get(type="charge.dispute.created").status == "ignored"
    assert stored(premium).disputes == []


@pytest.mark.parametrize("value", ["yes", 1, 0, "False", [True]])
def test_a_non_boolean_revocation_setting_is_a_system_check_error_and_fails_the_event(
    anon_client, premium, payments_settings, value
):
    from django_skillswap_payments.dispute_checks import check_dispute_settings

    with override_settings(SKILLSWAP_PAYMENTS={**payments_settings, "LOST_DISPUTE_REVOKES_PREMIUM": value}):
        assert [message.id for message in check_dispute_settings()] == ["skillswap_payments.E020"]
        response = deliver(anon_client, "charge.dispute.closed", dispute_object(premium, status="lost"))

    # Not acknowledged, so Stripe delivers it again once the setting is fixed.
    assert response.status_code == 500
    assert stored(premium).disputes == []


def test_the_default_revocation_setting_passes_the_check():
    from django_skillswap_payments.dispute_checks import check_dispute_settings

    assert check_dispute_settings() == []


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_reports_of_one_dispute_record_and_close_it_once(premium, dispute_log, round_):
    from django_skillswap_payments import stripe_dispute_facts
    from django_skillswap_payments.services import disputes
    from tests.support.threads import run_together

    obj = dispute_object(premium)
    reports = [
        (stripe_dispute_facts.dispute({**obj, "status": status}), at)
        for status, at in (("needs_response", CREATED_AT), ("under_review", CREATED_AT + 60), ("lost", CREATED_AT + 90))
    ] * 3
    payment = stored(premium)

    race = run_together([
        (lambda facts=facts, at=at: disputes.record_dispute(payment, facts, event_created=at)) for facts, at in reports
    ])

    assert race.errors == []
    assert sorted(entry[0] for entry in dispute_log) == ["dispute_closed", "payment_disputed"]
    final = stored(premium)
    assert (len(final.disputes), final.dispute_status, final.disputes[0].status) == (1, "lost", "lost")
    assert final.premium_revoked_at is not None and final.premium_holder is None


def test_a_report_that_loses_the_race_to_record_the_dispute_is_still_applied(premium, dispute_log, monkeypatch):
    """A ``closed`` report finds no record, then an earlier ``created`` records it first: it must still close it."""
    from django_skillswap_payments import stripe_dispute_facts
    from django_skillswap_payments.repository import disputes as dispute_store
    from django_skillswap_payments.services import disputes

    obj = dispute_object(premium)
    payment = stored(premium)
    real_write = dispute_store._write
    raced = []

    def write(query, update):
        if "$push" in update and not raced:
            raced.append(True)  # the concurrent created delivery gets there just before this push
            disputes.record_dispute(payment, stripe_dispute_facts.dispute(obj), event_created=CREATED_AT)
        return real_write(query, update)

    monkeypatch.setattr(dispute_store, "_write", write)
    outcome = disputes.record_dispute(payment, stripe_dispute_facts.dispute({**obj, "status": "lost"}), event_created=CREATED_AT + 90)

    assert raced and outcome.changed and outcome.closed
    assert stored(premium).dispute_status == "lost"
    assert [entry[0] for entry in dispute_log] == ["payment_disputed", "dispute_closed"]


def _pending(payment):
    return [list(d.pending_signals) for d in stored(payment).disputes]


def test_dispute_signals_stay_pending_until_every_receiver_ran_and_the_command_sends_them_again(
    anon_client, premium, dispute_log
):
    from django.core.management import CommandError, call_command

    broken_calls = []

    def broken(sender, dispute, **kwargs):
        broken_calls.append(dispute.dispute_id)
        raise RuntimeError("receiver down")

    signals.dispute_closed.connect(broken, weak=False)
    try:
        send(anon_client, "charge.dispute.closed", dispute_object(premium, status="lost"))
        assert _pending(premium) == [["dispute_closed"]]  # payment_disputed reached everyone
        with pytest.raises(CommandError):
            call_command("payments_redispatch_signals", "--failed", "--settled-seconds", "0")
        assert len(broken_calls) == 2
    finally:
        signals.dispute_closed.disconnect(broken)

    call_command("payments_redispatch_signals", "--failed", "--settled-seconds", "0")

    assert _pending(premium) == [[]]
    assert [entry[0] for entry in dispute_log] == ["payment_disputed", "dispute_closed", "dispute_closed", "dispute_closed"]
    assert stored(premium).signal_retry_needed is False


def test_a_process_that_stops_before_the_dispute_signal_leaves_it_pending(anon_client, premium, dispute_log, monkeypatch):
    from django.core.management import call_command

    from django_skillswap_payments.services import disputes

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(disputes.signals, "dispatch_dispute", crash)
    with pytest.raises(SystemExit):
        send(anon_client, "charge.dispute.created", dispute_object(premium))
    monkeypatch.undo()
    assert _pending(premium) == [["payment_disputed"]]

    call_command("payments_redispatch_signals", "--failed", "--settled-seconds", "0")

    assert dispute_log == [("payment_disputed", str(premium.id), f"dp_test_{premium.id}", "needs_response")]
    assert _pending(premium) == [[]]
