"""History pages of a user who sent many tips against one who sent few.

``GET tip/history/`` and ``GET payments/history/`` are measured for a user with
5,000 tips sent (so 5,000 payments) against one with 50 (1,000 against 50 with
``--quick``), each on its first page and on a later page (``limit=25`` and
``before`` = the 25th item of the first such page, the cursor a client sends).
Both users live in the same collection, so what the collection's size costs
is paid by both; the ratio is what the user's own history costs. The requests
are interleaved as in :mod:`bench_floors` (:func:`bench_floors.compare`). Then
each page's commands are explained (:mod:`query_plans`), which says how the
server read them.

Where the documents live matters more than anything measured here:

- With ``MONGODB_URI`` set, the app's connection is used as it is, and the
  documents are inserted through pymongo.
- Otherwise a local mongoeco wire server with the SQLite engine serves them.
  The in-memory engine (the one the rest of the bench uses) scans every
  document for every query, so its times grow with the collection, not the
  user. Inserting thousands of documents over the wire into the SQLite engine
  is slow (each insert costs more as the collection grows), so the app's
  indexes are built first through the app (``repository.ensure_indexes``), the
  server is stopped, the documents are written in-process into its file
  (:func:`django_skillswap_payments.testing.mongo.fill_sqlite`), and the
  server is started again on that file for the measurement. The app's
  connection is pointed at it for these rows and back afterwards.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench_floors import Comparison, client_for, compare, repeat, users
from bson import ObjectId

HISTORY_SIZES = {"full": (50, 5000), "quick": (50, 1000)}
# Each request of the large user's first tip page reads every tip it sent (the totals), so
# fewer requests than the floors: still interleaved, still a median per round.
GROWTH_ROUNDS = {"full": {"rounds": 5, "batch": 5}, "quick": {"rounds": 3, "batch": 3}}
LATER_PAGE_SIZE = 25
HISTORY_PAGES = (("/api/payments/tip/history/", "tips_sent", "tip/history/"),
                 ("/api/payments/payments/history/", "results", "payments/history/"))
INSERT_BATCH = 100


@dataclass
class HistoryUser:
    user: Any
    profile: dict[str, Any]
    payments: list[dict[str, Any]]


def _history_user(tag: str, size: int, recipient_id: ObjectId) -> HistoryUser:
    """A Django user, their payment profile and ``size`` completed tips they sent, as documents."""
    from django_skillswap_payments.documents import Payment, PaymentProfile

    user = users(f"{tag}-history-{size}", 1)[0]
    profile = {**PaymentProfile(django_user_id=str(user.pk)).to_mongo().to_dict(), "_id": ObjectId()}
    template = Payment(
        transaction_type="tip", from_user_id=profile["_id"], to_user_id=recipient_id, amount=Decimal("5.00"),
        amount_minor=500, currency="usd", message="thanks", status="completed",
    ).to_mongo().to_dict()
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    payments = []
    for n in range(size):
        moment = start + dt.timedelta(minutes=n)
        payments.append({
            **template, "_id": ObjectId(), "created_at": moment, "updated_at": moment, "completed_at": moment,
            "stripe_session_id": f"cs_bench_{tag}_{size}_{n}",
        })
    return HistoryUser(user, profile, payments)


def _documents(history_users: list[HistoryUser]) -> dict[str, list[dict[str, Any]]]:
    from django_skillswap_payments.documents import Payment, PaymentProfile

    return {
        PaymentProfile._get_collection_name(): [each.profile for each in history_users],
        Payment._get_collection_name(): [payment for each in history_users for payment in each.payments],
    }


def _insert_through_pymongo(documents: dict[str, list[dict[str, Any]]]) -> None:
    from django_skillswap_payments.documents import Payment

    database = Payment._get_db()
    for collection, items in documents.items():
        for start in range(0, len(items), INSERT_BATCH):
            database[collection].insert_many(items[start:start + INSERT_BATCH], ordered=False)


@contextmanager
def _app_connected_to(host: str, *, afterwards: str) -> Iterator[None]:
    """Point the app's MongoEngine alias at ``host``, then back at ``afterwards``."""
    import mongoengine

    from django_skillswap_payments.conf import payments_settings

    alias = payments_settings.MONGO_ALIAS
    options = {"tz_aware": True, "uuidRepresentation": "standard"}
    mongoengine.disconnect(alias=alias)
    mongoengine.connect(alias=alias, host=host, **options)
    try:
        yield
    finally:
        mongoengine.disconnect(alias=alias)
        mongoengine.connect(alias=alias, host=afterwards, **options)


@contextmanager
def _sqlite_engine_server(directory: str, database: str, documents: dict[str, list[dict[str, Any]]],
                          *, app_host: str) -> Iterator[None]:
    """A SQLite-engine wire server holding the app's indexes and ``documents``; the app connected to it."""
    from django_skillswap_payments import repository
    from django_skillswap_payments.testing.mongo import LocalMongoServer, fill_sqlite, with_database

    path = Path(directory) / "growth.sqlite3"
    with LocalMongoServer(sqlite_path=path) as server:
        assert server.uri is not None
        with _app_connected_to(with_database(server.uri, database), afterwards=app_host):
            repository.ensure_indexes()
    fill_sqlite(path, database, documents)
    with LocalMongoServer(sqlite_path=path) as server:
        assert server.uri is not None
        with _app_connected_to(with_database(server.uri, database), afterwards=app_host):
            yield


def _pages(client, url: str, list_of: str) -> tuple[str, str]:
    """The first page's URL and a later page's (``before`` from a ``limit`` page, as a client pages)."""
    first = f"{url}?limit={LATER_PAGE_SIZE}"
    response = client.get(first)
    if response.status_code != 200:
        raise SystemExit(f"{first} answered {response.status_code}: {response.content[:300]!r}")
    items = response.json()[list_of]
    if len(items) < LATER_PAGE_SIZE:
        raise SystemExit(f"{first} returned {len(items)} items; the later page needs a full first page")
    return url, f"{first}&before={items[-1]['_id']}"


def _rows(small: HistoryUser, large: HistoryUser, *, rounds: int, batch: int) -> list[Comparison]:
    small_client, large_client = client_for(small.user), client_for(large.user)
    sizes = len(small.payments), len(large.payments)
    rows = []
    for url, list_of, label in HISTORY_PAGES:
        small_pages, large_pages = _pages(small_client, url, list_of), _pages(large_client, url, list_of)
        for page, which in enumerate(("first page", "later page")):
            rows.append(compare(
                f"{label} {which}, {sizes[1]:,} sent", f"the same at {sizes[0]}",
                repeat(lambda url=large_pages[page]: large_client.get(url)),
                repeat(lambda url=small_pages[page]: small_client.get(url)),
                rounds=rounds, batch=batch,
            ))
    return rows


def _plan_lines(small: HistoryUser, large: HistoryUser) -> list[str]:
    """How the server read each page, for both users: :mod:`query_plans` on the commands of one request."""
    from query_plans import plans_of

    from django_skillswap_payments.documents import Payment
    from tests.support.commands import command_log

    database = Payment._get_db()
    lines = []
    for url, list_of, label in HISTORY_PAGES:
        for each in (small, large):
            client = client_for(each.user)
            for page, which in zip(_pages(client, url, list_of), ("first page", "later page"), strict=True):
                with command_log.recording() as seen:
                    client.get(page)
                lines.append(f"{label} {which}, {len(each.payments):,} sent:")
                lines.extend(f"    {plan.describe()}" for plan in plans_of(seen, database.command))
    return lines


def bench_history_growth(*, mode: str, database: str, app_host: str,
                         external_server: bool) -> tuple[list[Comparison], str, list[str]]:
    """The four growth rows, one line saying which server they ran on and why, and the lines
    saying how that server read each page (:func:`_plan_lines`)."""
    sizes, size = HISTORY_SIZES[mode], GROWTH_ROUNDS[mode]
    tag = uuid.uuid4().hex[:6]
    recipient = ObjectId()
    small, large = (_history_user(tag, count, recipient) for count in sizes)
    documents = _documents([small, large])
    if external_server:
        print(f"  inserting {sizes[0]} and {sizes[1]:,} tips through pymongo ...", file=sys.stderr, flush=True)
        _insert_through_pymongo(documents)
        return _rows(small, large, **size), "the MONGODB_URI server (MONGODB_URI is set)", _plan_lines(small, large)
    print(f"  writing {sizes[0]} and {sizes[1]:,} tips into a SQLite-engine file ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="skillswap-bench-") as directory, \
            _sqlite_engine_server(directory, database, documents, app_host=app_host):
        rows = _rows(small, large, **size)
        plans = _plan_lines(small, large)
    where = ("a local mongoeco wire server, SQLite engine, the app's indexes built, documents written"
             " in-process (the in-memory engine scans every document on every query)")
    return rows, where, plans
