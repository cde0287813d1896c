"""The emulator's refunds: several per charge, listing, and refunds that fail (card 5126, control API, CLI)."""

from __future__ import annotations

import json
import urllib.request

import pytest
import stripe

from django_skillswap_payments.testing.emulator import StripeEmulator
from django_skillswap_payments.testing.emulator.refunds import REFUND_FAILURE_DELAY_SECONDS, main
from django_skillswap_payments.testing.emulator.server import EmulatorServer
from django_skillswap_payments.testing.webhooks import DEFAULT_API_VERSION
from tests.support.stripe_objects import line_items

API_KEY = "sk_test_emulator"


class FakeClock:
    def __init__(self, now: float = 1_800_000_000):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emulator():
    return StripeEmulator(seed=5, clock=FakeClock(), webhook_delivery="sync")


@pytest.fixture
def client(emulator):
    return stripe.StripeClient(
        API_KEY, http_client=emulator.http_client(), stripe_version=DEFAULT_API_VERSION, max_network_retries=0
    )


def paid_intent(emulator, client, card="4242 4242 4242 4242") -> str:
    session = client.v1.checkout.sessions.create({
        "mode": "payment",
        "line_items": line_items(1000),
        "success_url": "https://shop.example.com/done",
        "cancel_url": "https://shop.example.com/cancel",
    })
    assert emulator.submit_payment(session.id, card).succeeded
    return client.v1.checkout.sessions.retrieve(session.id).payment_intent


def test_several_refunds_of_one_charge_are_listed_newest_first(emulator, client):
    intent = paid_intent(emulator, client)
    first = client.v1.refunds.create({"payment_intent": intent, "amount": 100})
    second = client.v1.refunds.create({"payment_intent": intent, "amount": 250})
    other = client.v1.refunds.create({"payment_intent": paid_intent(emulator, client), "amount": 5})

    listed = client.v1.refunds.list({"charge": first.charge})

    assert [r.id for r in listed.data] == [second.id, first.id]
    assert [r.id for r in client.v1.refunds.list({"payment_intent": intent}).data] == [second.id, first.id]
    assert [r.id for r in client.v1.refunds.list().data] == [other.id, second.id, first.id]
    assert client.v1.charges.retrieve(first.charge).amount_refunded == 350
    assert [e["type"] for e in emulator.events()][-2:] == ["refund.created", "charge.refunded"]


@pytest.mark.parametrize(("amount", "code"), [(1001, "amount_too_large"), (None, "charge_already_refunded")])
def test_more_than_the_charge_is_refused_as_stripe_refuses_it(emulator, client, amount, code):
    intent = paid_intent(emulator, client)
    if amount is None:
        client.v1.refunds.create({"payment_intent": intent})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.refunds.create({"payment_intent": intent, **({"amount": amount} if amount else {})})
    assert (excinfo.value.http_status, excinfo.value.code) == (400, code)


def test_refunds_of_the_failing_test_card_succeed_then_fail(emulator, client):
    intent = paid_intent(emulator, client, "4000 0000 0000 5126")
    refund = client.v1.refunds.create({"payment_intent": intent, "amount": 400})
    assert refund.status == "succeeded"

    emulator.advance_time(REFUND_FAILURE_DELAY_SECONDS - 1)
    assert emulator.get(refund.id)["status"] == "succeeded"
    emulator.advance_time(1)

    failed = client.v1.refunds.retrieve(refund.id)
    assert (failed.status, failed.failure_reason) == ("failed", "expired_or_canceled_card")
    assert failed.failure_balance_transaction.startswith("txn_")
    assert client.v1.charges.retrieve(refund.charge).amount_refunded == 0
    updated, failed_event = emulator.events("refund.updated")[-1], emulator.events("refund.failed")[-1]
    assert updated["data"]["previous_attributes"] == {"status": "succeeded", "failure_reason": None}
    assert failed_event["data"]["object"]["status"] == "failed"
    # The money is back on the charge: it can be refunded again (and that refund fails too).
    assert client.v1.refunds.create({"payment_intent": intent}).amount == 1000


def test_refunds_of_other_cards_do_not_fail_by_themselves(emulator, client):
    refund = client.v1.refunds.create({"payment_intent": paid_intent(emulator, client)})
    emulator.advance_time(3600)
    assert emulator.get(refund.id)["status"] == "succeeded"


def test_any_refund_can_be_failed_on_demand(emulator, client):
    refund = client.v1.refunds.create({"payment_intent": paid_intent(emulator, client), "amount": 300})

    failed = emulator.fail_refund(refund.id, "lost_or_stolen_card")

    assert (failed["status"], failed["failure_reason"]) == ("failed", "lost_or_stolen_card")
    with pytest.raises(Exception, match="cannot fail"):
        emulator.fail_refund(refund.id)
    with pytest.raises(Exception, match="failure_reason"):
        emulator.fail_refund(client.v1.refunds.create({"charge": refund.charge, "amount": 1}).id, "bored")


def test_the_control_api_and_the_command_line_fail_a_refund(capsys):
    emulator = StripeEmulator(seed=3)
    with EmulatorServer(emulator) as server:
        client = stripe.StripeClient(API_KEY, base_addresses={"api": server.base_url}, max_network_retries=0)
        intent = paid_intent(emulator, client)
        by_http = client.v1.refunds.create({"payment_intent": intent, "amount": 100})
        by_cli = client.v1.refunds.create({"payment_intent": intent, "amount": 200})

        request = urllib.request.Request(
            f"{server.base_url}/_emulator/refunds/{by_http.id}/fail",
            data=json.dumps({"failure_reason": "declined"}).encode(), method="POST",
        )
        with urllib.request.urlopen(request) as response:
            assert json.load(response)["failure_reason"] == "declined"
        assert main(["fail", by_cli.id, "--emulator", server.base_url]) == 0
        assert main(["fail", by_cli.id, "--emulator", server.base_url]) == 1  # failed already

    assert f"{by_cli.id}: failed (expired_or_canceled_card)" in capsys.readouterr().out
    assert [emulator.get(r)["status"] for r in (by_http.id, by_cli.id)] == ["failed", "failed"]
