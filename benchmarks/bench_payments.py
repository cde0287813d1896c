"""Payments benchmarks: floors, history growth, webhook throughput, checkout latency, the race.

Run through ``scripts/bench`` (``--quick`` for a smaller run, ``--floors-only``
for the first two parts). Not part of the test suite. Everything stays on
127.0.0.1: MongoDB is a local mongoeco wire server started here, or the
server ``MONGODB_URI`` names; Stripe is the in-process emulator (served on
127.0.0.1 for the race's worker processes).

0. Each hot operation next to its floor, interleaved, with MongoDB commands
   per request (:mod:`bench_floors`), then the history pages, first and later,
   at 5,000 tips sent against 50 (:mod:`bench_growth`; on a SQLite-engine
   mongoeco server unless ``MONGODB_URI`` is set), and how the server read
   each page (:mod:`query_plans`: keys and documents examined on MongoDB).
1. Webhook throughput: signed ``checkout.session.completed`` and
   ``payment_intent.succeeded`` events POSTed to the app's webhook view through
   Django's test client, first deliveries and then duplicates; events per second
   and p50/p95 latency.
2. Checkout start latency: ``POST premium/create-checkout/`` and ``POST tip/create/``
   through the API (authentication, validation, service, emulator), p50/p95.
3. The race of ``tests/test_multiprocess_exactly_once.py`` at a larger size:
   worker processes delivering the same events (then also confirming from the
   success page) against one database, with the exactly-once verdict.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

SIZES = {
    # checkouts per kind (webhook events: 2 per checkout), race payments, race workers
    "full": {"checkouts": 100, "race_payments": 50, "workers": 4},
    "quick": {"checkouts": 20, "race_payments": 10, "workers": 4},
}
WEBHOOK_SECRET = "whsec_bench_only"


@dataclass
class Row:
    name: str
    count: int
    seconds: float
    latencies: list[float]
    note: str = ""


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def describe_mongodb(uri: str, local: bool) -> str:
    shown = re.sub(r"//[^@/]*@", "//***@", uri)  # never print credentials
    return f"local mongoeco wire server, {shown}" if local else f"MONGODB_URI, {shown}"


def clear(database) -> None:
    for name in database.list_collection_names():
        database[name].delete_many({})


def bench_checkouts(count: int) -> tuple[list[Row], list[str]]:
    """Start ``count`` premium and ``count`` tip checkouts through the API; return rows and session ids."""
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from django_skillswap_payments.users import get_or_create_profile

    users = get_user_model()
    tag = uuid.uuid4().hex[:6]
    recipient = get_or_create_profile(users.objects.create_user(f"bench-{tag}-recipient", password="pw"))
    premium, tip, sessions = [], [], []
    body = {
        "success_url": "http://testserver/done?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://testserver/cancel",
    }
    started = {"premium": 0.0, "tip": 0.0}
    for n in range(count):
        for kind, path, extra, latencies in (
            ("premium", "/api/payments/premium/create-checkout/", {}, premium),
            ("tip", "/api/payments/tip/create/",
             {"to_user_id": str(recipient.id), "amount": 5, "message": "thanks"}, tip),
        ):
            client = APIClient()
            client.force_authenticate(users.objects.create_user(f"bench-{tag}-{kind}-{n}", password="pw"))
            begin = time.perf_counter()
            response = client.post(path, {**body, **extra}, format="json")
            elapsed = time.perf_counter() - begin
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
            latencies.append(elapsed)
            started[kind] += elapsed
            sessions.append(response.json()["session_id"])
    rows = [
        Row("checkout start, premium (API)", count, started["premium"], premium),
        Row("checkout start, tip (API)", count, started["tip"], tip),
    ]
    return rows, sessions


def bench_webhooks(emulator, session_ids: list[str], database) -> tuple[list[Row], bool]:
    """Pay every session in the emulator, then deliver its two completion events twice."""
    from django.test import Client
    from django.urls import reverse

    from django_skillswap_payments.testing.webhooks import (
        DjangoClientTarget,
        encode_event,
        signed_headers,
    )

    wanted = set(session_ids)
    intents = set()
    for session_id in session_ids:
        outcome = emulator.submit_payment(session_id)
        if not outcome.succeeded:
            raise SystemExit(f"the emulator refused the payment of {session_id}: {outcome}")
        intents.add(outcome.payment_intent)
    bodies = [
        encode_event(event)
        for event in emulator.events()
        if (event["type"] == "checkout.session.completed" and event["data"]["object"]["id"] in wanted)
        or (event["type"] == "payment_intent.succeeded" and event["data"]["object"]["id"] in intents)
    ]
    target = DjangoClientTarget(Client(), reverse("payments:webhook"))
    rows, all_ok = [], True
    for label in ("webhook, first delivery", "webhook, duplicate delivery"):
        latencies, failures = [], 0
        for body in bodies:
            headers = signed_headers(body, WEBHOOK_SECRET)
            begin = time.perf_counter()
            response = target.post(body, headers)
            latencies.append(time.perf_counter() - begin)
            failures += response.status_code != 200
        all_ok = all_ok and not failures
        note = "all 200" if not failures else f"{failures} not 200"
        rows.append(Row(label, len(bodies), sum(latencies), latencies, note))
    completed = database["payments"].count_documents({"status": "completed"})
    rows[0].note += f"; {completed}/{len(session_ids)} payments completed"
    return rows, all_ok and completed == len(session_ids)


def bench_race(emulator, settings_for_workers, mongodb_uri, database, payments_count, workers) -> tuple[list[Row], bool]:
    from django_skillswap_payments.testing.emulator import EmulatorServer
    from tests.support.race import WorkerPool, open_paid_payments, plan_actions, verdict

    rows, all_ok = [], True
    copies = 2
    with EmulatorServer(emulator) as server, WorkerPool(
        workers, mongodb_uri=mongodb_uri, database=database.name
    ) as pool:
        config = {**settings_for_workers, "STRIPE_API_BASE": server.base_url}
        for confirm, label in ((False, "webhooks"), (True, "webhooks + confirmations")):
            clear(database)
            payments = open_paid_payments(emulator, payments_count)
            plans = plan_actions(payments, workers, copies=copies, confirm=confirm, seed=7)
            run = pool.run(plans, payments_settings=config)
            problems = verdict(database, payments, run, deliveries_per_event=workers * copies)
            all_ok = all_ok and not problems
            actions = sum(len(plan) for plan in plans)
            outcome = "exactly once" if not problems else f"FAILED ({len(problems)}): {problems[0]}"
            note = f"{payments_count} payments, {len(run.signals)} signals: {outcome}"
            rows.append(Row(f"race, {workers} processes, {label}", actions, run.duration, run.latencies, note))
    return rows, all_ok


def print_table(rows: list[Row]) -> None:
    header = f"{'benchmark':<44} {'n':>5} {'total s':>8} {'per s':>8} {'p50 ms':>8} {'p95 ms':>8}  notes"
    print(header)
    print("-" * len(header))
    for row in rows:
        rate = row.count / row.seconds if row.seconds else float("nan")
        p50 = percentile(row.latencies, 50) * 1000
        p95 = percentile(row.latencies, 95) * 1000
        print(f"{row.name:<44} {row.count:>5} {row.seconds:>8.2f} {rate:>8.1f} {p50:>8.1f} {p95:>8.1f}  {row.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (about a quarter of the work)")
    parser.add_argument("--workers", type=int, default=None, help="processes in the race (default 4)")
    parser.add_argument("--floors-only", action="store_true",
                        help="only the operations against their floors and the history growth")
    args = parser.parse_args(argv)
    size = dict(SIZES["quick" if args.quick else "full"])
    if args.workers:
        size["workers"] = max(2, args.workers)

    import django

    django.setup()

    import bench_floors  # this directory is on the path when run as a script
    import bench_growth
    import mongoengine
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings
    from pymongo import MongoClient

    from django_skillswap_payments import repository
    from django_skillswap_payments.conf import payments_settings
    from django_skillswap_payments.testing.emulator import StripeEmulator, activate
    from django_skillswap_payments.testing.mongo import LocalMongoServer, with_database
    from django_skillswap_payments.testing.pytest_plugin import (
        EMULATOR_SECRET_KEY,
        IN_PROCESS_HTTP_CLIENT,
    )
    from tests.support.commands import command_log  # noqa: F401  (listens before any client connects)

    call_command("migrate", run_syncdb=True, verbosity=0)  # Django users in SQLite (in memory)
    server = None
    mongodb_uri = os.environ.get("MONGODB_URI")
    if not mongodb_uri:
        server = LocalMongoServer()
        mongodb_uri = server.start()
    name = f"skillswap_payments_bench_{uuid.uuid4().hex[:8]}"
    client = MongoClient(mongodb_uri)
    database = client[name]
    emulator = StripeEmulator(webhook_delivery="sync")
    app_config = {
        **settings.SKILLSWAP_PAYMENTS,
        "STRIPE_SECRET_KEY": EMULATOR_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_HTTP_CLIENT": IN_PROCESS_HTTP_CLIENT,
        "STRIPE_API_BASE": None,
        "STRIPE_MAX_NETWORK_RETRIES": 0,
        "CHECKOUT_THROTTLE_RATE": "1000/min",
    }
    print(f"MongoDB: {describe_mongodb(mongodb_uri, server is not None)}, database {name}")
    print(f"Stripe: in-process emulator; race workers reach it on 127.0.0.1. Size: {'quick' if args.quick else 'full'}")
    ok = True
    began = time.perf_counter()
    try:
        app_host = with_database(mongodb_uri, name)
        mongoengine.connect(alias=payments_settings.MONGO_ALIAS, host=app_host,
                            tz_aware=True, uuidRepresentation="standard")
        repository.ensure_indexes()
        activate(emulator)
        mode = "quick" if args.quick else "full"
        floor_size = bench_floors.SIZES[mode]
        # Each table is printed as soon as it is measured: the history part is the slow one.
        # As a site would, give the cache room for every user's profile id (LocMemCache keeps 300 entries).
        big_cache = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                 "OPTIONS": {"MAX_ENTRIES": 100_000}}}
        with override_settings(SKILLSWAP_PAYMENTS=app_config, ROOT_URLCONF="bench_floors", CACHES=big_cache):
            floors = bench_floors.bench_against_floors(emulator, **floor_size)
            print(f"\nAgainst the floors ({floor_size['rounds']} rounds of {floor_size['batch']} requests"
                  " each, medians; ratio per round):")
            bench_floors.print_comparisons(floors)
            growth, where, plans = bench_growth.bench_history_growth(
                mode=mode, database=name, app_host=app_host, external_server=server is None
            )
            large, small = bench_growth.HISTORY_SIZES[mode][1], bench_growth.HISTORY_SIZES[mode][0]
            rounds = bench_growth.GROWTH_ROUNDS[mode]
            print(f"\nHistory growth, {large:,} tips sent against {small} ({rounds['rounds']} rounds of"
                  f" {rounds['batch']} requests each, medians; ratio per round; later page: limit"
                  f" {bench_growth.LATER_PAGE_SIZE} after the first {bench_growth.LATER_PAGE_SIZE}), on {where}:")
            bench_floors.print_comparisons(growth, growth=True)
            print("\nHow the server read each page (explain, executionStats, of one request's commands):")
            print("\n".join(plans))
        if args.floors_only:
            return 0
        clear(database)
        with override_settings(SKILLSWAP_PAYMENTS=app_config):
            rows, sessions = bench_checkouts(size["checkouts"])
            webhook_rows, ok = bench_webhooks(emulator, sessions, database)
            race_rows, race_ok = bench_race(
                emulator, app_config, mongodb_uri, database, size["race_payments"], size["workers"]
            )
            ok = ok and race_ok
        print()
        print_table(webhook_rows + rows + race_rows)
        print(f"\n{'all checks passed' if ok else 'SOME CHECKS FAILED'} in {time.perf_counter() - began:.1f} s"
              f" (p50/p95 over each request; race time from the first worker's start to the last one's end)")
    finally:
        activate(None)
        mongoengine.disconnect(alias=payments_settings.MONGO_ALIAS)
        client.drop_database(name)
        client.close()
        if server is not None:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
