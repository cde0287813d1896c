"""The emulator's state file: an account that survives a restart, as a Stripe account does."""

from __future__ import annotations

import json
import os

import pytest
import stripe

from django_skillswap_payments.testing.emulator import StripeEmulator
from django_skillswap_payments.testing.emulator.__main__ import build_parser
from django_skillswap_payments.testing.webhooks import DEFAULT_API_VERSION

API_KEY = "sk_test_persisted"
NOW = 1_800_000_000


class FakeClock:
    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now


def session_params(reference: str = "payment-1", amount: int = 999) -> dict:
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": amount,
                    "product_data": {"name": "SkillSwap Premium"},
                },
                "quantity": 1,
            }
        ],
        "client_reference_id": reference,
        "metadata": {"type": "premium", "payment_id": reference},
        "payment_intent_data": {"metadata": {"type": "premium", "payment_id": reference}},
        "success_url": "https://shop.example.com/done?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example.com/cancel",
    }


def start(path, *, clock=None, seed=None) -> StripeEmulator:
    return StripeEmulator(
        state_file=path, clock=clock or FakeClock(), seed=seed, webhook_delivery="sync"
    )


def client_of(emulator: StripeEmulator) -> stripe.StripeClient:
    return stripe.StripeClient(
        API_KEY,
        http_client=emulator.http_client(),
        stripe_version=DEFAULT_API_VERSION,
        max_network_retries=0,
    )


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "var" / "stripe-emulator.json"


def test_sessions_payments_and_events_survive_a_restart(state_file):
    first = start(state_file)
    session = client_of(first).v1.checkout.sessions.create(params=session_params())
    outcome = first.submit_payment(session.id, "4242 4242 4242 4242")
    assert outcome.succeeded
    events_before = [e["id"] for e in first.all("event")]

    second = start(state_file)
    client = client_of(second)
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert (again.status, again.payment_status) == ("complete", "paid")
    intent = client.v1.payment_intents.retrieve(outcome.payment_intent)
    assert intent.status == "succeeded"
    assert intent.metadata["payment_id"] == "payment-1"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert charge.amount == 999
    assert [e["id"] for e in second.all("event")] == events_before
    assert client.v1.events.retrieve(events_before[-1]).id == events_before[-1]
    listed = client.v1.checkout.sessions.list()
    assert [s.id for s in listed.data] == [session.id]
    # What the store keeps beside the JSON (the line items) comes back too.
    assert second.line_items(session.id)[0]["amount_total"] == 999


def test_a_refund_after_the_restart_refunds_the_payment_made_before(state_file):
    first = start(state_file)
    session = client_of(first).v1.checkout.sessions.create(params=session_params())
    outcome = first.submit_payment(session.id)

    second = start(state_file)
    refund = client_of(second).v1.refunds.create(params={"payment_intent": outcome.payment_intent})
    assert refund.status == "succeeded"
    assert second.get(refund.charge)["refunded"] is True


def test_an_open_session_can_still_be_paid_or_expired_after_a_restart(state_file):
    first = start(state_file)
    client = client_of(first)
    to_pay = client.v1.checkout.sessions.create(params=session_params("a"))
    to_expire = client.v1.checkout.sessions.create(params=session_params("b"))
    # Half-way through 3D Secure: the card waiting for approval is kept too.
    assert first.submit_payment(to_pay.id, "4000 0025 0000 3155").status == "requires_action"

    second = start(state_file)
    assert second.authenticate(to_pay.id, approve=True).succeeded
    expired = client_of(second).v1.checkout.sessions.expire(to_expire.id)
    assert expired.status == "expired"

    third = start(state_file)
    assert third.get(to_pay.id)["status"] == "complete"
    assert third.get(to_expire.id)["status"] == "expired"


def test_idempotent_retries_after_a_restart_get_the_first_answer(state_file):
    first = start(state_file)
    created = client_of(first).v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "premium-payment-1"}
    )

    second = start(state_file)
    retried = client_of(second).v1.checkout.sessions.create(
        params=session_params(), options={"idempotency_key": "premium-payment-1"}
    )
    assert retried.id == created.id
    assert len(second.all("checkout.session")) == 1
    with pytest.raises(stripe.IdempotencyError):
        client_of(second).v1.checkout.sessions.create(
            params=session_params(amount=1999), options={"idempotency_key": "premium-payment-1"}
        )


def test_the_clock_and_expiry_continue_after_a_restart(state_file):
    first = start(state_file)
    session = client_of(first).v1.checkout.sessions.create(params=session_params())
    first.advance_time(23 * 3600)

    second = start(state_file)
    assert second.get(session.id)["status"] == "open"
    second.advance_time(3600)
    assert second.get(session.id)["status"] == "expired"
    assert [e["type"] for e in start(state_file).all("event")][-1] == "checkout.session.expired"


def test_a_seeded_emulator_does_not_reuse_ids_after_a_restart(state_file):
    first = start(state_file, seed=3)
    one = client_of(first).v1.checkout.sessions.create(params=session_params("a"))
    second = start(state_file, seed=3)
    two = client_of(second).v1.checkout.sessions.create(params=session_params("b"))
    assert one.id != two.id
    assert {s["id"] for s in start(state_file, seed=3).all("checkout.session")} == {one.id, two.id}


def test_reads_do_not_rewrite_the_file(state_file):
    emulator = start(state_file)
    session = client_of(emulator).v1.checkout.sessions.create(params=session_params())
    written = state_file.stat().st_mtime_ns
    os.utime(state_file, ns=(written - 10**9, written - 10**9))
    client_of(emulator).v1.checkout.sessions.retrieve(session.id)
    client_of(emulator).v1.checkout.sessions.list()
    emulator.get(session.id)
    assert state_file.stat().st_mtime_ns == written - 10**9


def test_the_file_is_replaced_atomically_and_leaves_no_temporary_files(state_file):
    emulator = start(state_file)
    for reference in ("a", "b", "c"):
        client_of(emulator).v1.checkout.sessions.create(params=session_params(reference))
    assert sorted(p.name for p in state_file.parent.iterdir()) == [state_file.name]
    assert len(json.loads(state_file.read_text())["by_type"]["checkout.session"]) == 3


def test_without_a_state_file_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    emulator = StripeEmulator(clock=FakeClock(), webhook_delivery="sync")
    client_of(emulator).v1.checkout.sessions.create(params=session_params())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"format": 999}',
        '{"format": 1, "clock_offset": 0}',
        json.dumps(
            {
                "format": 1,
                "clock_offset": 0,
                "objects": {},
                "by_type": {},
                "extras": {"cs_x": {"type": "os:system", "fields": {}}},
                "idempotency": [],
                "rng": [3, [0], None],
            }
        ),
    ],
    ids=["broken-json", "not-an-object", "unknown-format", "missing-parts", "foreign-type"],
)
def test_an_unreadable_file_is_a_clear_error_and_is_left_alone(state_file, content):
    state_file.parent.mkdir(parents=True)
    state_file.write_text(content)
    with pytest.raises(ValueError, match="Delete the file to start with an empty account"):
        start(state_file)
    assert state_file.read_text() == content


def test_the_command_line_takes_a_state_file():
    args = build_parser().parse_args(["--state-file", "var/stripe.json"])
    assert args.state_file == "var/stripe.json"
