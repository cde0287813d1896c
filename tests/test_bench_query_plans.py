"""The bench's explain of the app's history queries (``benchmarks/query_plans.py``).

The growth rows of ``scripts/bench`` print, for each history page, how the
server read it. These tests pin how an explain is built from a captured command
and how MongoDB's and mongoeco's answers are read, and run it once against the
test server. Only in a source checkout: the benchmarks are not in the wheel.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from django_skillswap_payments.documents import Payment
from tests.support.api import TIP_HISTORY_URL
from tests.support.commands import command_log
from tests.support.database import pending_payment, profile_of

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
pytestmark = pytest.mark.skipif(not (BENCHMARKS / "query_plans.py").exists(), reason="not a source checkout")

if (BENCHMARKS / "query_plans.py").exists():
    sys.path.insert(0, str(BENCHMARKS))
    import query_plans


# What MongoDB answers (abridged): a find read in index order, then an aggregation whose
# $unionWith sub-pipeline has its own statistics.
FIND_EXPLAIN = {
    "queryPlanner": {"winningPlan": {"stage": "LIMIT", "inputStage": {"stage": "FETCH", "inputStage": {
        "stage": "IXSCAN", "keyPattern": {"from_user_id": 1, "created_at": -1, "_id": -1}}}}},
    "executionStats": {"nReturned": 26, "totalKeysExamined": 26, "totalDocsExamined": 26,
                       "executionStages": {"stage": "LIMIT", "inputStage": {"keysExamined": 26}}},
    "ok": 1.0,
}
AGGREGATE_EXPLAIN = {
    "stages": [
        {"$cursor": {"queryPlanner": {"winningPlan": {"stage": "PROJECTION_COVERED"}},
                     "executionStats": {"totalKeysExamined": 5000, "totalDocsExamined": 0}}},
        {"$group": {"_id": "$currency"}},
        {"$unionWith": {"coll": "payments", "pipeline": [
            {"$cursor": {"executionStats": {"totalKeysExamined": 3, "totalDocsExamined": 0}}},
        ]}},
    ],
    "ok": 1.0,
}
MONGOECO_EXPLAIN = {"engine_plan": {"details": {"engine_details": [
    "SEARCH documents USING INDEX idx_1 (db_name=? AND coll_name=? AND <expr>=? AND <expr>=?)",
    "USE TEMP B-TREE FOR ORDER BY",
]}}}


def test_the_in_memory_engine_is_named_with_its_strategy():
    explain = {"engine": "memory", "strategy": "python", "plan": "EqualsCondition(...)"}
    assert query_plans.server_notes(explain) == ("memory engine, python strategy",)
    assert query_plans.server_notes({"ok": 1.0}) == ()


def test_examined_counts_are_summed_over_every_part_of_the_plan():
    assert query_plans.examined(FIND_EXPLAIN) == (26, 26)
    assert query_plans.examined(AGGREGATE_EXPLAIN) == (5003, 0)
    assert query_plans.examined(MONGOECO_EXPLAIN) == (None, None)


def test_a_server_without_counts_is_described_by_its_own_plan():
    assert query_plans.server_notes(MONGOECO_EXPLAIN) == (
        "SEARCH documents USING INDEX idx_1 (db_name=? AND coll_name=? AND <expr>=? AND <expr>=?)",
        "USE TEMP B-TREE FOR ORDER BY",
    )
    plan = query_plans.CommandPlan("find", "payments", None, None, query_plans.server_notes(MONGOECO_EXPLAIN))
    assert plan.describe().endswith("USING INDEX idx_1 (db_name=? AND coll_name=? AND <expr>=? AND <expr>=?); "
                                    "USE TEMP B-TREE FOR ORDER BY")
    counted = query_plans.CommandPlan("aggregate", "payments", 5003, 0)
    assert counted.describe() == "aggregate payments: 5003 keys, 0 docs examined"


def test_only_the_query_is_explained_not_the_session_around_it():
    captured = {
        "find": "payments", "filter": {"from_user_id": 1}, "sort": {"created_at": -1}, "limit": 26,
        "lsid": {"id": "x"}, "$db": "app", "$readPreference": {"mode": "primary"},
        "$clusterTime": {}, "txnNumber": 1, "readConcern": {"level": "majority"}, "batchSize": 10,
    }
    assert query_plans.explainable(captured) == {
        "find": "payments", "filter": {"from_user_id": 1}, "sort": {"created_at": -1}, "limit": 26,
    }
    sent = []
    plans = query_plans.plans_of(
        [("find", "payments", captured), ("insert", "payments", {"insert": "payments"}),
         ("aggregate", "payments", {"aggregate": "payments", "pipeline": [], "cursor": {}})],
        lambda command: sent.append(command) or (FIND_EXPLAIN if "find" in command["explain"] else AGGREGATE_EXPLAIN),
    )
    assert [command["verbosity"] for command in sent] == ["executionStats", "executionStats"]
    assert list(sent[0]) == ["explain", "verbosity"]  # the command name comes first
    assert [(plan.name, plan.keys_examined, plan.docs_examined) for plan in plans] == [
        ("find", 26, 26), ("aggregate", 5003, 0),
    ]


@pytest.mark.django_db
def test_the_commands_of_a_history_request_are_explained_by_the_test_server(alice, bob, alice_client):
    pending_payment(profile_of(alice), kind="tip", recipient=profile_of(bob), amount="2.00")
    with command_log.recording() as seen:
        assert alice_client.get(TIP_HISTORY_URL).status_code == 200
    plans = query_plans.plans_of(seen, Payment._get_db().command)
    # the profile, the totals, tips sent, tips received
    assert [plan.name for plan in plans] == ["find", "aggregate", "find", "find"]
    assert all(plan.describe().startswith(f"{plan.name} {plan.collection}: ") for plan in plans)
    assert all(plan.keys_examined is not None or plan.server_notes for plan in plans), plans

