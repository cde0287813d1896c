"""Replica-set settings: majority writes, decisions on the primary, a failover never loses a signal."""

from __future__ import annotations

import io
from decimal import Decimal

import mongoengine
import pytest
from django.core.management import call_command
from django.test import override_settings
from pymongo import ReadPreference
from pymongo.collection import Collection
from pymongo.errors import AutoReconnect
from rest_framework.test import APIClient

from django_skillswap_payments import repository, signals
from django_skillswap_payments.documents import Payment
from django_skillswap_payments.replication import check_replication_settings
from tests.support.api import HISTORY_URL, TIP_HISTORY_URL
from tests.support.commands import command_log
from tests.support.config import payments_config
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import session_object
from tests.support.webhooks import post_webhook, signed

pytestmark = pytest.mark.django_db

WRITES = ("insert", "update", "delete", "findAndModify")


def _completion(payment, event_id="evt_replica"):
    return signed("checkout.session.completed", session_object(payment), event_id=event_id)


def _writes(commands):
    return [(name, collection, command) for name, collection, command in commands if name in WRITES]


@pytest.fixture
def completion_receiver():
    heard = []

    def receiver(sender, payment, **kwargs):
        heard.append(payment.id)

    signals.premium_payment_completed.connect(receiver, weak=False, dispatch_uid="replica-receiver")
    yield heard
    signals.premium_payment_completed.disconnect(dispatch_uid="replica-receiver")


# -- write concern ---------------------------------------------------------------------


def test_every_write_of_a_purchase_is_a_majority_write(alice, anon_client, completion_receiver):
    with command_log.recording() as seen:
        payment = repository.create_pending_payment(
            transaction_type="premium", from_user_id=profile_of(alice).id, amount=Decimal("9.99"),
            currency="usd",
        )
        repository.attach_checkout_session(
            payment.id, session_id=f"cs_test_{payment.id}", checkout_url=None, customer_id=None,
            livemode=False,
        )
        assert post_webhook(anon_client, *_completion(Payment.objects.get(id=payment.id))).status_code == 200
    writes = _writes(seen)
    # the profile, the payment, its session, the event, the completion, the signal flag, the event's end
    assert {collection for _, collection, _ in writes} == {"payment_profiles", "payments", "webhook_events"}
    assert len(writes) >= 6
    assert all(command.get("writeConcern") == {"w": "majority"} for _, _, command in writes), writes
    assert completion_receiver == [payment.id]


@pytest.mark.parametrize(
    ("setting", "sent"),
    [
        (1, {"w": 1}),
        ({"w": "majority", "wtimeout": 5000}, {"w": "majority", "wtimeout": 5000}),
        ({"w": "majority", "j": True}, {"w": "majority", "j": True}),
    ],
)
def test_the_write_concern_is_settable(alice, setting, sent):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(WRITE_CONCERN=setting)):
        with command_log.recording() as seen:
            payment = pending_payment(profile_of(alice))
            repository.transition(payment.id, "expired")
    writes = _writes(seen)
    assert writes and all(command.get("writeConcern") == sent for _, _, command in writes), writes


@pytest.mark.parametrize(
    "value",
    [0, -1, True, False, 1.5, ["majority"], {"w": 0}, {"w": "majority", "fsync": True},
     {"wtimeout": "soon"}, {"j": "yes"}],
    ids=repr,
)
def test_an_unusable_write_concern_is_check_e080(value):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(WRITE_CONCERN=value)):
        ids = [message.id for message in check_replication_settings()]
    assert ids == ["skillswap_payments.E080"]


@pytest.mark.parametrize("value", ["majority", 1, 3, "dataCenters", {"w": 2, "wtimeout": 100}])
def test_usable_write_concerns_pass_the_check(value):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(WRITE_CONCERN=value)):
        assert check_replication_settings() == []


# -- read preference -------------------------------------------------------------------


@pytest.mark.parametrize("value", ["secondary_preferred", "SECONDARY", "any", 1, ["primary"], {}], ids=repr)
def test_an_unknown_read_preference_is_check_e081(value):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(READ_PREFERENCE=value)):
        ids = [message.id for message in check_replication_settings()]
    assert ids == ["skillswap_payments.E081"]


@pytest.fixture
def read_preferences(monkeypatch):
    """The read preference of every ``find``/``aggregate`` the app sends, with its collection."""
    seen = []
    for method in ("find", "aggregate"):
        original = getattr(Collection, method)

        def spy(self, *args, _original=original, _method=method, **kwargs):
            seen.append((_method, self.name, self.read_preference.name))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Collection, method, spy)
    return seen


def test_histories_follow_read_preference_while_decisions_read_the_primary(
    alice, alice_client, anon_client, bob, read_preferences
):
    tip = pending_payment(profile_of(alice), kind="tip", recipient=profile_of(bob), amount="2.00")
    premium = pending_payment(profile_of(alice))
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(READ_PREFERENCE="secondaryPreferred")):
        assert alice_client.get(TIP_HISTORY_URL).status_code == 200
        assert alice_client.get(TIP_HISTORY_URL, {"before": str(tip.id)}).status_code == 200
        assert alice_client.get(HISTORY_URL, {"before": str(tip.id)}).status_code == 200
        history_reads = list(read_preferences)
        read_preferences.clear()
        assert post_webhook(anon_client, *_completion(premium)).status_code == 200
        repository.transition(tip.id, "expired")
        assert alice_client.get("/api/payments/subscription/status/").json()["is_premium"] is True
    payments_history = [mode for _, name, mode in history_reads if name == "payments"]
    assert len(payments_history) >= 6 and set(payments_history) == {ReadPreference.SECONDARY_PREFERRED.name}
    decisions = [mode for _, name, mode in read_preferences]
    assert decisions and set(decisions) == {ReadPreference.PRIMARY.name}


# -- retryable writes ------------------------------------------------------------------


@pytest.fixture
def unregistered_alias():
    alias = "payments_replication_test"
    yield alias
    mongoengine.disconnect(alias)


@pytest.mark.parametrize(
    ("uri_options", "client_options", "warned"),
    [
        ("", None, False),
        ("?retryWrites=false", None, True),
        ("?retrywrites=false&w=majority", None, True),
        ("", {"retryWrites": False}, True),
        ("?retryWrites=true", None, False),
    ],
)
def test_turning_retryable_writes_off_is_warning_w082(unregistered_alias, uri_options, client_options, warned):
    config = payments_config(
        MONGO_ALIAS=unregistered_alias,
        MONGODB_URI=f"mongodb://127.0.0.1:1/x{uri_options}",
        MONGODB_CLIENT_OPTIONS=client_options,
    )
    with override_settings(SKILLSWAP_PAYMENTS=config):
        ids = [message.id for message in check_replication_settings()]
    assert ids == (["skillswap_payments.W082"] if warned else [])


# -- a failover between a transition and its signal ----------------------------------


def test_a_failover_after_the_completion_write_neither_loses_nor_repeats_the_signal(
    alice, completion_receiver, monkeypatch
):
    """The completing write is acknowledged, then MongoDB's primary goes away before the signal.

    The webhook answers 5xx; the redelivery finds the payment completed and sends nothing; the
    flag raised in the completing write leaves the payment to ``payments_redispatch_signals``,
    which sends the signal exactly once.
    """
    payment = pending_payment(profile_of(alice))
    delivery = _completion(payment)
    real_dispatch = signals.dispatch

    def primary_steps_down(updated):
        raise AutoReconnect("primary stepped down")

    monkeypatch.setattr(signals, "dispatch", primary_steps_down)
    client = APIClient(raise_request_exception=False)
    assert post_webhook(client, *delivery).status_code >= 500  # Stripe will deliver it again
    monkeypatch.setattr(signals, "dispatch", real_dispatch)

    stored = Payment.objects.get(id=payment.id)
    assert (stored.status, stored.signal_retry_needed) == ("completed", True)
    assert post_webhook(client, *delivery).status_code == 200  # Stripe's retry
    assert completion_receiver == []

    for _ in range(2):
        call_command("payments_redispatch_signals", "--failed", "--settled-seconds", "0", stdout=io.StringIO())
    assert completion_receiver == [payment.id]
    assert Payment.objects.get(id=payment.id).signal_retry_needed is False
