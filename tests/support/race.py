"""Several OS processes delivering the same Stripe events at once, and the exactly-once verdict.

The parent (a test, or ``benchmarks/bench_payments.py``) opens paid Checkout
Sessions in the Stripe emulator, plans what each worker does, hands the plans
to worker processes (``python -m tests.support.webhook_worker``) connected to
the same MongoDB database, releases them together and reads back what they did::

    payments = open_paid_payments(emulator, 5)
    plans = plan_actions(payments, workers=4, copies=2)
    with WorkerPool(4, mongodb_uri=uri, database=name) as pool:
        run = pool.run(plans, payments_settings=config)
    assert verdict(db, payments, run, deliveries_per_event=8) == []

Each worker appends one JSON line per payment signal its receivers saw to its
own file, so the signals of all processes can be counted afterwards.

Threads of one process racing are :mod:`tests.support.threads`.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
WORKER_MODULE = "tests.support.webhook_worker"
COMPLETION_EVENTS = ("checkout.session.completed", "payment_intent.succeeded")
SUCCESS_URL = "http://testserver/done?session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://testserver/cancel"
EXPECTED_SIGNAL = {"premium": "premium_payment_completed", "tip": "tip_payment_completed"}


@dataclass
class RacePayment:
    """A paid Checkout Session whose completion events have not been delivered yet."""

    payment_id: str
    kind: str
    session_id: str
    profile_id: str
    # (event id, exact event body) for checkout.session.completed and payment_intent.succeeded
    events: list[tuple[str, str]]


@dataclass
class RaceRun:
    """What the workers reported."""

    results: list[dict[str, Any]]
    signals: list[dict[str, Any]]
    duration: float  # first action started .. last action finished, across workers
    workdir: Path

    @property
    def latencies(self) -> list[float]:
        return [step["seconds"] for result in self.results for step in result["steps"]]


def open_paid_payments(emulator: Any, count: int, *, tag: str | None = None) -> list[RacePayment]:
    """Start ``count`` checkouts (premium and tips alternately) and pay them in ``emulator``.

    No webhook endpoint is registered, so nothing is delivered: the events
    stay in the emulator for the workers to deliver.
    """
    from django_skillswap_payments import services
    from django_skillswap_payments.documents import PaymentProfile

    tag = tag or f"{os.getpid()}-{time.time_ns()}"
    recipient = PaymentProfile(django_user_id=f"race-{tag}-recipient").save()
    started = []
    for n in range(count):
        profile = PaymentProfile(django_user_id=f"race-{tag}-{n}").save()
        if n % 2 == 0:
            start = services.start_premium_checkout(profile, success_url=SUCCESS_URL, cancel_url=CANCEL_URL)
        else:
            start = services.start_tip_checkout(
                profile, recipient=recipient, amount="5.00", message="thanks",
                success_url=SUCCESS_URL, cancel_url=CANCEL_URL,
            )
        outcome = emulator.submit_payment(start.session_id)
        if not outcome.succeeded:
            raise AssertionError(f"the emulator did not take the payment: {outcome}")
        started.append((start, profile, outcome.payment_intent))

    by_object: dict[tuple[str, str], dict[str, Any]] = {}
    for event in emulator.events():
        if event["type"] in COMPLETION_EVENTS:
            by_object[(event["type"], event["data"]["object"]["id"])] = event

    from django_skillswap_payments.testing.webhooks import encode_event

    payments = []
    for start, profile, intent_id in started:
        events = [
            by_object[("checkout.session.completed", start.session_id)],
            by_object[("payment_intent.succeeded", intent_id)],
        ]
        payments.append(
            RacePayment(
                payment_id=str(start.payment.id),
                kind=start.payment.transaction_type,
                session_id=start.session_id,
                profile_id=str(profile.id),
                events=[(event["id"], encode_event(event).decode("utf-8")) for event in events],
            )
        )
    return payments


def plan_actions(
    payments: list[RacePayment],
    workers: int,
    *,
    copies: int = 2,
    confirm: bool = False,
    seed: int = 0,
) -> list[list[dict[str, Any]]]:
    """Per worker: every completion event ``copies`` times, optionally a success-page
    confirmation per payment, in an order of its own (seeded, so reproducible).

    Different orders across workers put ``checkout.session.completed`` first for
    some payments and ``payment_intent.succeeded`` first for others; which
    delivery actually lands first is then up to the processes racing.
    """
    base: list[dict[str, Any]] = []
    for payment in payments:
        for event_id, body in payment.events:
            base.extend({"kind": "webhook", "event_id": event_id, "body": body} for _ in range(copies))
        if confirm:
            base.append({"kind": "confirm", "profile_id": payment.profile_id, "session_id": payment.session_id})
    plans = []
    for index in range(workers):
        actions = list(base)
        random.Random(f"{seed}:{index}").shuffle(actions)
        plans.append(actions)
    return plans


class WorkerPool:
    """``workers`` processes running ``tests.support.webhook_worker``, started once, raced many times.

    Starting a process with Django, DRF, stripe-python and MongoEngine costs
    about as much as a whole race, so the same processes run every round::

        with WorkerPool(4, mongodb_uri=uri, database=name) as pool:
            run = pool.run(plans, payments_settings=config)

    Files in ``workdir`` carry everything: ``ready-I`` (worker I is set up),
    ``round-K.json`` (the plans and settings of round K), ``ready-K-I`` (worker I
    is warmed up for round K), ``go-K`` (the start line), ``result-K-I.json``
    and ``signals-K-I.jsonl`` (what worker I did and which signals it sent), ``stop``.
    """

    def __init__(
        self,
        workers: int,
        *,
        mongodb_uri: str,
        database: str,
        settings_module: str = "tests.settings",
        workdir: Path | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.workers = workers
        self.mongodb_uri = mongodb_uri
        self.database = database
        self.settings_module = settings_module
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="payments-race-"))
        self.timeout = timeout
        self.processes: list[subprocess.Popen[bytes]] = []
        self.rounds = 0
        self._logs: list[Any] = []

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> WorkerPool:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = {
            "mongodb_uri": self.mongodb_uri,
            "database": self.database,
            "settings_module": self.settings_module,
            "workdir": str(self.workdir),
        }
        _write_json(self.workdir / "pool.json", config)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        env["DJANGO_SETTINGS_MODULE"] = self.settings_module
        try:
            for index in range(self.workers):
                log = open(self.workdir / f"worker-{index}.log", "wb")  # noqa: SIM115 - closed in stop()
                self._logs.append(log)
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", WORKER_MODULE, str(self.workdir / "pool.json"), str(index)],
                        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                    )
                )
            self._wait_for([self.workdir / f"ready-{i}" for i in range(self.workers)], "start")
        except BaseException:
            self.stop()
            raise
        return self

    def run(self, plans: list[list[dict[str, Any]]], *, payments_settings: dict[str, Any]) -> RaceRun:
        """Hand each worker its plan, release them together, and collect the round's reports."""
        if len(plans) != self.workers:
            raise ValueError(f"{len(plans)} plans for {self.workers} workers")
        self.rounds += 1
        k = self.rounds
        _write_json(self.workdir / f"round-{k}.json", {
            # Workers cannot use the parent's in-process Stripe client; the emulator, when
            # they need one, is reached over HTTP through STRIPE_API_BASE.
            "payments_settings": {**payments_settings, "STRIPE_HTTP_CLIENT": None},
            "plans": plans,
        })
        self._wait_for([self.workdir / f"ready-{k}-{i}" for i in range(self.workers)], f"round {k}")
        (self.workdir / f"go-{k}").write_text("go")
        result_paths = [self.workdir / f"result-{k}-{i}.json" for i in range(self.workers)]
        self._wait_for(result_paths, f"round {k}")

        results = [json.loads(path.read_text()) for path in result_paths]
        signals = []
        for index in range(self.workers):
            path = self.workdir / f"signals-{k}-{index}.jsonl"
            if path.exists():
                signals.extend(json.loads(line) for line in path.read_text().splitlines() if line)
        duration = max(r["finished"] for r in results) - min(r["started"] for r in results)
        return RaceRun(results=results, signals=signals, duration=duration, workdir=self.workdir)

    def stop(self) -> None:
        """Ask the workers to exit; kill those that do not (only the processes this pool started)."""
        if self.workdir.exists():
            (self.workdir / "stop").write_text("stop")
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []
        for log in self._logs:
            log.close()
        self._logs = []

    def _wait_for(self, paths: list[Path], what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not all(path.exists() for path in paths):
            dead = [i for i, p in enumerate(self.processes) if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                reason = f"workers {dead} exited" if dead else "timed out"
                raise RuntimeError(f"{what}: {reason}\n" + "\n".join(self.log_tails()))
            time.sleep(0.002)

    def log_tails(self, chars: int = 2000) -> list[str]:
        tails = []
        for index in range(self.workers):
            path = self.workdir / f"worker-{index}.log"
            text = path.read_text(errors="replace") if path.exists() else ""
            tails.append(f"-- worker {index}:\n{text[-chars:]}")
        return tails


def _write_json(path: Path, data: Any) -> None:
    """Write ``data`` so that a reader polling for ``path`` never sees half of it."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data))
    os.replace(partial, path)


def verdict(database: Any, payments: list[RacePayment], run: RaceRun, *, deliveries_per_event: int) -> list[str]:
    """Everything that breaks exactly-once; an empty list means every check passed.

    One completion signal per payment across all processes and nothing else,
    every payment ``completed`` with no signal re-dispatch pending, every
    event recorded once, ``processed``, with one attempt counted per delivery,
    every delivery answered 200 and every confirmation saw the payment completed.
    """
    from bson import ObjectId

    problems: list[str] = []
    for result in run.results:
        problems.extend(f"worker {result['index']}: {error}" for error in result["errors"])
        bad = [s for s in result["steps"] if s["kind"] == "webhook" and s.get("status_code") != 200]
        problems.extend(f"worker {result['index']}: webhook answered {s.get('status_code')}" for s in bad)
        unconfirmed = [s for s in result["steps"] if s["kind"] == "confirm" and s.get("payment_status") != "completed"]
        problems.extend(f"worker {result['index']}: confirmation saw {s.get('payment_status')}" for s in unconfirmed)

    counts = Counter((s["signal"], s["payment_id"]) for s in run.signals)
    expected = {(EXPECTED_SIGNAL[p.kind], p.payment_id) for p in payments}
    for key in sorted(expected):
        if counts.get(key, 0) != 1:
            problems.append(f"{key[0]} for payment {key[1]} sent {counts.get(key, 0)} times")
    problems.extend(f"unexpected signal {key[0]} for payment {key[1]}" for key in sorted(set(counts) - expected))

    stored = {str(doc["_id"]): doc for doc in database["payments"].find(
        {"_id": {"$in": [ObjectId(p.payment_id) for p in payments]}})}
    for payment in payments:
        doc = stored.get(payment.payment_id)
        if doc is None:
            problems.append(f"payment {payment.payment_id} is gone")
            continue
        if doc.get("status") != "completed" or not doc.get("completed_at"):
            problems.append(f"payment {payment.payment_id} is {doc.get('status')}")
        if doc.get("signal_retry_needed"):
            problems.append(f"payment {payment.payment_id} still flagged for signal re-dispatch")

    event_ids = [event_id for p in payments for event_id, _ in p.events]
    records = list(database["webhook_events"].find({"stripe_event_id": {"$in": event_ids}}))
    per_id = Counter(r["stripe_event_id"] for r in records)
    for event_id in event_ids:
        if per_id.get(event_id, 0) != 1:
            problems.append(f"event {event_id} recorded {per_id.get(event_id, 0)} times")
    for record in records:
        if record.get("status") != "processed":
            problems.append(f"event {record['stripe_event_id']} is {record.get('status')}: {record.get('last_error')}")
        if record.get("attempts") != deliveries_per_event:
            problems.append(
                f"event {record['stripe_event_id']} counted {record.get('attempts')} attempts, "
                f"{deliveries_per_event} delivered"
            )
    return problems
