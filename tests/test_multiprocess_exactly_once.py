"""Exactly once across server processes, not just threads.

Four separate OS processes (``tests/support/webhook_worker.py``), each with its
own Django, MongoEngine connection and signal receivers, are released together
against the same MongoDB database (``tests/support/race.py`` drives them). Every one of them delivers the same signed
``checkout.session.completed`` and ``payment_intent.succeeded`` events of five
paid checkouts (premium and tips), twice each, in an order of its own; in the
second test they also call the success page's ``confirm_checkout_session``.
Whatever the interleaving, each payment must complete once, exactly one
completion signal must be sent in total, and each event must be recorded once,
processed, with every delivery counted.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.support.race import (
    EXPECTED_SIGNAL,
    WorkerPool,
    open_paid_payments,
    plan_actions,
    verdict,
)

WORKERS = 4
PAYMENTS = 5
COPIES = 2


@pytest.fixture(scope="module")
def worker_pool(mongodb_uri, mongo_database, tmp_path_factory):
    """The worker processes, started once for this module (starting them costs more than a race)."""
    workdir = tmp_path_factory.mktemp("race")
    with WorkerPool(WORKERS, mongodb_uri=mongodb_uri, database=mongo_database.name, workdir=workdir) as pool:
        yield pool


@pytest.fixture
def race(worker_pool, stripe_emulator_server, stripe_emulator, payments_settings):
    """Open and pay the checkouts; ``run(confirm=..., seed=...)`` races the workers over them.

    The emulator is served over HTTP so that the workers' confirmations can reach it.
    """
    payments = open_paid_payments(stripe_emulator, PAYMENTS)
    stripe_calls_before = len(stripe_emulator.requests)

    def run(*, confirm: bool, seed: int):
        plans = plan_actions(payments, WORKERS, copies=COPIES, confirm=confirm, seed=seed)
        result = worker_pool.run(plans, payments_settings=payments_settings)
        return result, len(stripe_emulator.requests) - stripe_calls_before

    return payments, run


def _assert_exactly_once(mongo_database, payments, run):
    assert verdict(mongo_database, payments, run, deliveries_per_event=WORKERS * COPIES) == []
    # The same facts, spelled out: one signal per payment in total, whichever process sent it ...
    per_payment = Counter((s["signal"], s["payment_id"]) for s in run.signals)
    assert per_payment == Counter({(EXPECTED_SIGNAL[p.kind], p.payment_id): 1 for p in payments})
    # ... each event stored once, processed, with all of its deliveries counted.
    records = list(mongo_database["webhook_events"].find({}, {"stripe_event_id": 1, "status": 1, "attempts": 1}))
    assert len(records) == PAYMENTS * 2
    assert {r["stripe_event_id"] for r in records} == {eid for p in payments for eid, _ in p.events}
    assert {(r["status"], r["attempts"]) for r in records} == {("processed", WORKERS * COPIES)}
    assert {d["status"] for d in mongo_database["payments"].find({})} == {"completed"}
    # The race really ran in separate processes, at the same time.
    assert len({r["pid"] for r in run.results}) == WORKERS
    assert max(r["started"] for r in run.results) < min(r["finished"] for r in run.results)


def test_four_processes_delivering_the_same_events_complete_each_payment_once(race, mongo_database):
    payments, run_race = race

    run, stripe_calls = run_race(confirm=False, seed=1)

    _assert_exactly_once(mongo_database, payments, run)
    deliveries = [s for r in run.results for s in r["steps"]]
    assert len(deliveries) == WORKERS * PAYMENTS * 2 * COPIES
    assert stripe_calls == 0  # webhooks are handled from the event alone


def test_success_page_confirmations_racing_webhooks_in_four_processes_send_one_signal(race, mongo_database):
    payments, run_race = race

    run, stripe_calls = run_race(confirm=True, seed=2)

    _assert_exactly_once(mongo_database, payments, run)
    confirmations = [s for r in run.results for s in r["steps"] if s["kind"] == "confirm"]
    assert len(confirmations) == WORKERS * PAYMENTS
    assert {s["payment_status"] for s in confirmations} == {"completed"}
    # Each confirmation that found its payment still pending asked Stripe about the session.
    assert stripe_calls <= WORKERS * PAYMENTS
