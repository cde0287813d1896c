"""Every query the app sends is served by a declared index, by the ESR rule.

The queries are not listed here: they are captured (with the command
listener) while the app runs its read and write paths — histories and their
later pages with every filter, premium status, checkouts, webhooks, the
operator commands. For each captured filter (and sort), some declared index
of its collection must:

- start with the filter's equality fields (in any order),
- continue with the sort keys, in the sort's directions or all reversed,
- hold every other field the filter reads (ranges, ``$in`` of several values),
  so non-matching documents are skipped on the index keys, never read,
- and, when partial, be implied by the filter (whose conditions on the
  partial filter's fields it then holds too).

A lookup by ``_id`` or by a unique key needs nothing more. A new query without
such an index fails here.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from django_skillswap_payments import repository, services
from django_skillswap_payments.documents import ALL_DOCUMENTS, Payment, Subscription, as_aware
from django_skillswap_payments.repository import indexes
from django_skillswap_payments.repository import premium_status as premium_store
from django_skillswap_payments.services.reads import RECEIVED_TIP_STATUSES
from tests.support.api import (
    CANCEL_URL,
    HISTORY_URL,
    PREMIUM_URL,
    STATUS_URL,
    SUCCESS_URL,
    TIP_HISTORY_URL,
    TIP_URL,
)
from tests.support.commands import command_log
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import session_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db

DOCUMENTS = {document._get_collection_name(): document for document in ALL_DOCUMENTS}
FILTERED_COMMANDS = ("find", "aggregate", "count", "distinct", "findAndModify", "update", "delete")


# -- reading the captured commands ------------------------------------------------


def _is_operator_dict(value: Any) -> bool:
    return isinstance(value, dict) and any(str(key).startswith("$") for key in value)


def _conditions(query: dict[str, Any], equality: dict[str, Any], other: set[str]) -> None:
    """Split a filter into equality fields (with their values) and the other fields it reads."""
    for key, value in query.items():
        if key == "$and":
            for part in value:
                _conditions(part, equality, other)
        elif key in ("$or", "$nor"):
            for part in value:
                branch: dict[str, Any] = {}
                _conditions(part, branch, other)
                other.update(branch)
        elif key == "$expr":
            # $lookup's `{"$eq": ["$field", "$$variable"]}`: an equality on the field.
            left, _right = value["$eq"]
            equality[left.lstrip("$")] = None
        elif _is_operator_dict(value):
            if set(value) == {"$eq"}:
                equality[key] = value["$eq"]
            elif set(value) == {"$in"} and len(value["$in"]) == 1:
                equality[key] = value["$in"][0]
            else:
                other.add(key)
        else:
            equality[key] = value


def _queries_of_pipeline(collection: str, pipeline: list[dict[str, Any]]) -> Iterator[tuple]:
    query: dict[str, Any] | None = None
    for stage in pipeline:
        (name, spec), = stage.items()
        if name == "$match" and query is None:
            query = spec
        elif name == "$sort" and query is not None:
            yield collection, query, list(spec.items())
            query = None
        elif name == "$unionWith":
            yield from _queries_of_pipeline(spec["coll"], spec.get("pipeline", []))
        elif name == "$lookup" and "pipeline" in spec:
            yield from _queries_of_pipeline(spec["from"], spec["pipeline"])
    if query is not None:
        yield collection, query, []


def captured_queries(commands) -> Iterator[tuple[str, dict[str, Any], list[tuple[str, int]]]]:
    """``(collection, filter, sort)`` of every filtered read or write among ``commands``."""
    for name, collection, command in commands:
        if name == "find":
            yield collection, command.get("filter", {}), list((command.get("sort") or {}).items())
        elif name == "aggregate":
            yield from _queries_of_pipeline(collection, command["pipeline"])
        elif name in ("count", "distinct"):
            yield collection, command.get("query", {}), []
        elif name == "findAndModify":
            yield collection, command["query"], list((command.get("sort") or {}).items())
        elif name == "update":
            for update in command["updates"]:
                yield collection, update["q"], []
        elif name == "delete":
            for delete in command["deletes"]:
                yield collection, delete["q"], []


# -- the rule ----------------------------------------------------------------------


def _unique_fields(document) -> set[str]:
    specs = indexes.declared_indexes(document)
    return {"_id"} | {spec["fields"][0][0] for spec in specs if spec.get("unique") and len(spec["fields"]) == 1}


def serving_index(
    collection: str, query: dict[str, Any], sort: list[tuple[str, int]], *, covering: frozenset[str] = frozenset()
) -> str | None:
    """The declared index that serves ``query`` sorted by ``sort`` (a description), or ``None``.

    With ``covering``, the index must also hold those fields, so what reads them
    (an aggregation's ``$group``) is answered from the index keys alone.
    """
    document = DOCUMENTS[collection]
    equality: dict[str, Any] = {}
    other: set[str] = set()
    _conditions(query, equality, other)
    unique = (set(equality) & _unique_fields(document)) - {
        field for field, value in equality.items() if value is None  # null matches many documents
    }
    if unique and not covering:
        return f"unique {sorted(unique)[0]}"
    id_values = query.get("_id")
    if _is_operator_dict(id_values) and set(id_values) == {"$in"} and not covering:
        return "_id (a few ids)"  # point lookups on the _id index, however many
    wanted = [(field, int(direction)) for field, direction in sort]
    reversed_sort = [(field, -direction) for field, direction in wanted]
    read = set(equality) | other | {field for field, _ in wanted} | set(covering)
    for spec in indexes.declared_indexes(document):
        keys = [(field, int(direction)) for field, direction in spec["fields"]]
        names = [field for field, _ in keys]
        head, tail = names[: len(equality)], keys[len(equality): len(equality) + len(wanted)]
        partial = spec.get("partialFilterExpression") or {}
        # The filter repeats each condition of a partial index, so that index holds all it needs.
        implied = all(
            (field in equality and equality[field] == value) or query.get(field) == value
            for field, value in partial.items()
        )
        if (
            set(head) == set(equality)
            and tail in (wanted, reversed_sort)
            and read <= set(names) | set(partial)
            and implied
        ):
            return "(" + ", ".join(f"{field} {direction}" for field, direction in keys) + ")"
    return None


def assert_indexed(commands) -> list[str]:
    queries = list(captured_queries(commands))
    assert queries, "no query captured"
    missing = [
        f"{collection}: filter {query} sort {sort}"
        for collection, query, sort in queries
        if collection in DOCUMENTS and serving_index(collection, query, sort) is None
    ]
    assert not missing, "queries without an index (equality fields, then sort keys):\n" + "\n".join(missing)
    return [collection for collection, _, _ in queries]


# -- the rule itself ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "sort", "served"),
    [
        ({"from_user_id": 1, "transaction_type": "tip"}, [("created_at", -1), ("_id", -1)], True),
        ({"from_user_id": 1}, [("created_at", -1), ("_id", -1)], True),
        ({"from_user_id": 1}, [("created_at", -1)], True),  # a prefix of the sort keys
        ({"from_user_id": 1}, [("created_at", 1), ("_id", 1)], True),  # read backwards
        ({"from_user_id": 1}, [("created_at", -1), ("_id", 1)], False),  # mixed directions
        ({"to_user_id": 1, "transaction_type": "tip", "status": {"$in": ["a", "b"]}},
         [("created_at", -1), ("_id", -1)], True),
        ({"to_user_id": 1, "transaction_type": "tip", "message": "x"}, [], False),  # not on the keys
        ({"signal_retry_needed": True}, [("updated_at", 1)], True),
        ({"signal_retry_needed": False}, [("updated_at", 1)], False),  # outside the partial index
        ({"message": "thanks"}, [], False),  # no index holds it
        ({"stripe_session_id": "cs_1", "status": {"$in": ["pending"]}}, [], True),
        ({"_id": {"$in": [1, 2]}}, [], True),
        ({"from_user_id": 1, "stripe_customer_id": {"$exists": True}}, [("created_at", 1), ("_id", 1)], True),
        ({"from_user_id": 1, "stripe_customer_id": "cus_1"}, [("created_at", 1), ("_id", 1)], False),
        ({"from_user_id": 1}, [("created_at", 1), ("_id", 1), ("status", 1)], False),
    ],
)
def test_the_rule(query, sort, served):
    assert (serving_index("payments", query, sort) is not None) is served


# -- the app's queries -------------------------------------------------------------


def _dated(payment, minutes: int):
    created = dt.datetime(2025, 1, 29, 12, 0, tzinfo=dt.timezone.utc) - dt.timedelta(minutes=minutes)
    Payment.objects(id=payment.id).update_one(set__created_at=created)
    return payment


def test_history_and_status_reads_are_indexed(alice, bob, alice_client, anon_client):
    me, other = profile_of(alice), profile_of(bob)
    sent = [_dated(pending_payment(me, kind="tip", recipient=other, amount="2.00"), m) for m in range(3)]
    _dated(pending_payment(other, kind="tip", recipient=me, amount="3.00"), 5)
    premium = pending_payment(me)
    deliver(anon_client, "checkout.session.completed", session_object(premium), event_id="evt_idx")
    Subscription(user_id=me.id, status="active").save()
    before = str(sent[1].id)
    pages = [
        {}, {"limit": 1}, {"limit": 1, "before": before},
        {"type": "tip"}, {"status": "pending"}, {"type": "tip", "status": "pending"},
        {"type": "premium", "status": "completed", "before": before},
        {"created_from": "2025-01-01", "created_to": "2025-02-01"},
        {"status": "pending", "created_from": "2025-01-01", "before": before},
    ]
    with command_log.recording() as seen:
        for query in ({}, {"limit": 1}, {"limit": 1, "before": before}):
            assert alice_client.get(TIP_HISTORY_URL, query).status_code == 200
        for query in pages:
            assert alice_client.get(HISTORY_URL, query).status_code == 200
        assert alice_client.get(STATUS_URL).json()["is_premium"] is True
        assert services.is_premium(me)
        premium_store.premium_facts(me.id)
        repository.latest_completed_premium(me.id)
        repository.has_completed_premium(me.id)
        repository.active_legacy_subscription(me.id)
        repository.count_tips_sent(me.id)
        repository.count_tips_received(me.id, statuses=RECEIVED_TIP_STATUSES)
    collections = assert_indexed(seen)
    assert {"payments", "payment_profiles", "subscriptions"} <= set(collections)


def test_checkout_webhook_and_operator_queries_are_indexed(
    alice, bob, alice_client, emulated_stripe
):
    urls = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
    with command_log.recording() as seen:
        premium = alice_client.post(PREMIUM_URL, urls, format="json").json()
        assert alice_client.post(PREMIUM_URL, urls, format="json").json()["reused"] is True
        assert emulated_stripe.submit_payment(premium["session_id"]).succeeded
        assert alice_client.get(f"/api/payments/checkout/{premium['session_id']}/").status_code == 200
        tip = alice_client.post(
            TIP_URL, {"to_user_id": str(profile_of(bob).id), "amount": 5, **urls}, format="json"
        ).json()
        assert alice_client.post(f"/api/payments/checkout/{tip['session_id']}/cancel/").status_code == 200
        call_command("payments_redispatch_signals", "--failed", stdout=io.StringIO())
        call_command("payments_replay_webhooks", "--failed", "--received", "--dry-run", stdout=io.StringIO())
    collections = assert_indexed(seen)
    assert {"payments", "payment_profiles", "webhook_events"} <= set(collections)


def _fields_referenced(expression: Any) -> set[str]:
    """The document fields an aggregation expression reads (``"$field"``, never ``"$$variable"``)."""
    if isinstance(expression, str):
        return {expression[1:].split(".")[0]} if expression.startswith("$") and not expression.startswith("$$") else set()
    if isinstance(expression, dict):
        return set().union(*(_fields_referenced(item) for item in expression.values()))
    if isinstance(expression, list):
        return set().union(*(_fields_referenced(item) for item in expression))
    return set()


def _grouped_branches(collection: str, pipeline: list[dict[str, Any]]) -> Iterator[tuple]:
    """``(collection, $match, fields its $group reads)`` for each branch of a pipeline."""
    match = next(stage["$match"] for stage in pipeline if "$match" in stage)
    groups = [stage["$group"] for stage in pipeline if "$group" in stage]
    if groups:
        yield collection, match, frozenset(_fields_referenced(groups))
    for stage in pipeline:
        if "$unionWith" in stage:
            yield from _grouped_branches(stage["$unionWith"]["coll"], stage["$unionWith"]["pipeline"])


def test_tip_totals_are_read_from_index_keys_alone(alice, bob, alice_client):
    """The first tip page's totals group every tip of the user; an index holding the fields the
    ``$group`` reads answers them without reading one document, however long the history."""
    me, other = profile_of(alice), profile_of(bob)
    pending_payment(me, kind="tip", recipient=other, amount="2.00")
    pending_payment(other, kind="tip", recipient=me, amount="3.00")
    with command_log.recording() as seen:
        assert alice_client.get(TIP_HISTORY_URL).json()["total_sent"] == 1
    aggregations = [command for name, _, command in seen if name == "aggregate"]
    branches = [
        branch for command in aggregations for branch in _grouped_branches(command["aggregate"], command["pipeline"])
    ]
    assert len(branches) == 2, branches  # tips sent, tips received
    for collection, match, group_reads in branches:
        assert group_reads >= {"currency", "status", "amount_minor"}
        assert serving_index(collection, match, [], covering=group_reads) is not None, (
            f"no index on {collection} serves {match} and holds {sorted(group_reads)}"
        )


def _top_level_conditions(query: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The filter's conditions outside any ``$or``, through ``$and``."""
    for key, value in query.items():
        if key == "$and":
            for part in value:
                yield from _top_level_conditions(part)
        elif not key.startswith("$"):
            yield key, value


def test_a_later_page_bounds_its_index_scan_at_the_anchor(alice, bob, alice_client):
    """``before`` continues after ``(created_at, _id)`` of the anchor: an ``$or`` of two branches. A
    bound on ``created_at`` outside it starts the scan of the page's index at the anchor, so a page
    deep in a long history reads about ``limit`` index keys, not every newer one."""
    me, other = profile_of(alice), profile_of(bob)
    sent = [_dated(pending_payment(me, kind="tip", recipient=other, amount="2.00"), m) for m in range(3)]
    anchor = Payment.objects.get(id=sent[1].id)
    with command_log.recording() as seen:
        for url in (TIP_HISTORY_URL, HISTORY_URL):
            for query in ({"limit": 1, "before": str(anchor.id)},
                          {"limit": 1, "before": str(anchor.id), "created_to": "2025-02-01"}):
                assert alice_client.get(url, query).status_code == 200
    pages = [
        command["filter"] for name, collection, command in seen
        if name == "find" and collection == "payments" and "$or" in str(command.get("filter"))
    ]
    assert len(pages) == 6  # tips sent and received twice, payments/history twice
    for page in pages:
        bounds = [value for field, value in _top_level_conditions(page) if field == "created_at"]
        assert any(as_aware(bound.get("$lte")) == as_aware(anchor.created_at) for bound in bounds), page


# -- building them -----------------------------------------------------------------


def test_obsolete_indexes_are_reported_and_dropped_only_when_asked(mongo_database):
    payments = mongo_database["payments"]
    # The index older releases declared for the re-dispatch flag.
    payments.create_index([("signal_retry_needed", 1)], sparse=True)
    out = io.StringIO()
    call_command("payments_ensure_indexes", stdout=out)
    assert "signal_retry_needed_1" in payments.index_information()
    assert "signal_retry_needed_1 no longer used" in out.getvalue()

    call_command("payments_ensure_indexes", "--drop-obsolete", stdout=io.StringIO())
    present = payments.index_information()
    assert "signal_retry_needed_1" not in present
    declared = {tuple(spec["fields"]) for spec in indexes.declared_indexes(Payment)}
    assert declared <= {tuple((k, int(d)) for k, d in info["key"]) for info in present.values()}
    assert "_id_" in present
    assert repository.build_indexes().obsolete == {}


def test_the_redispatch_index_holds_only_flagged_payments(alice):
    spec = next(
        spec for spec in indexes.declared_indexes(Payment) if spec["fields"][0][0] == "signal_retry_needed"
    )
    assert spec["partialFilterExpression"] == {"signal_retry_needed": True}
    assert not spec.get("sparse")
