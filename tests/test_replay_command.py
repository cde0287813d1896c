"""manage.py payments_replay_webhooks."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_skillswap_payments import repository
from django_skillswap_payments.documents import Payment, WebhookEvent
from django_skillswap_payments.services import transitions
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import intent_object, session_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db


def _run(*args):
    out, err = StringIO(), StringIO()
    call_command("payments_replay_webhooks", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _crash(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("transient outage")

    # The one-write completion is skipped, so the completion goes through the broken function.
    monkeypatch.setattr(transitions, "complete_session", lambda *args, **kwargs: None)
    monkeypatch.setattr(transitions, "complete_payment", broken)


@pytest.fixture
def failed_event(anon_client, alice, monkeypatch):
    payment = pending_payment(profile_of(alice))
    with monkeypatch.context() as patch:
        _crash(patch)
        assert deliver(anon_client, "checkout.session.completed", session_object(payment), event_id="evt_f").status_code == 500
    assert WebhookEvent.objects.get(stripe_event_id="evt_f").status == "failed"
    return payment


def test_replay_by_id_processes_a_failed_event(failed_event, signal_log):
    out, _ = _run("evt_f")

    assert "evt_f: processed" in out
    event = WebhookEvent.objects.get(stripe_event_id="evt_f")
    assert event.status == "processed"
    assert event.attempts == 2
    assert Payment.objects.get(id=failed_event.id).status == "completed"
    assert signal_log == [("premium_payment_completed", str(failed_event.id))]


def test_replay_failed_processes_all_failed_events(failed_event, anon_client, alice, monkeypatch, signal_log):
    with monkeypatch.context() as patch:
        _crash(patch)
        deliver(anon_client, "payment_intent.succeeded", intent_object(failed_event), event_id="evt_g")
    deliver(anon_client, "customer.created", {"id": "cus_1", "object": "customer"}, event_id="evt_ok")

    out, _ = _run("--failed")

    assert "evt_f: processed" in out and "evt_g: processed" in out
    assert "evt_ok" not in out
    assert {e.stripe_event_id: e.status for e in WebhookEvent.objects} == {
        "evt_f": "processed",
        "evt_g": "processed",
        "evt_ok": "ignored",
    }
    assert signal_log == [("premium_payment_completed", str(failed_event.id))]


def test_processed_events_are_skipped_unless_forced(failed_event, signal_log):
    _run("evt_f")
    out, _ = _run("evt_f")
    assert "skipped, already processed" in out

    out, _ = _run("evt_f", "--force")
    assert "evt_f: processed" in out
    assert len(signal_log) == 1  # replaying cannot complete twice


def test_failing_again_is_reported(failed_event, monkeypatch):
    _crash(monkeypatch)
    with pytest.raises(CommandError, match="1 of 1"):
        _run("evt_f")
    event = WebhookEvent.objects.get(stripe_event_id="evt_f")
    assert event.status == "failed"
    assert event.attempts == 2


def test_unknown_event_id(db):
    with pytest.raises(CommandError):
        _run("evt_nope")


def test_dry_run_changes_nothing(failed_event):
    out, _ = _run("--failed", "--dry-run")
    assert "evt_f: would replay" in out
    assert WebhookEvent.objects.get(stripe_event_id="evt_f").status == "failed"


def test_needs_ids_or_failed(db):
    with pytest.raises(CommandError, match="Give event ids or --failed"):
        _run()


def test_nothing_to_replay(db):
    out, _ = _run("--failed")
    assert "No events to replay" in out


def test_get_webhook_event(failed_event):
    stored = repository.get_webhook_event("evt_f")
    assert stored is not None and stored.status == "failed"
    assert repository.get_webhook_event("evt_never_seen") is None


def test_unusable_stored_event_is_reported_not_a_crash(db):
    WebhookEvent(stripe_event_id="evt_broken", type="x", payload_json="[1, 2]", status="failed").save()

    with pytest.raises(CommandError):
        _run("evt_broken")
    assert WebhookEvent.objects.get(stripe_event_id="evt_broken").status == "failed"
