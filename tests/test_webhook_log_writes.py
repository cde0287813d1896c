"""The two writes every delivery makes to ``webhook_events``: what they store and what they return.

They go through pymongo directly (the payload copy is not converted a second
time), so these pin the stored record field by field, the concurrent first
delivery that loses the insert, and finishing an event that was never recorded.
"""

from __future__ import annotations

import datetime as dt

import pytest
from pymongo.errors import DuplicateKeyError

from django_skillswap_payments.documents import WebhookEvent
from django_skillswap_payments.repository import webhook_log

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "id": "evt_log",
    "type": "customer.updated",
    "data": {"object": {"id": "cus_1", "metadata": {"a.b": "dot", "$c": "dollar", "n": 2**70}, "items": [1, 2.5]}},
}


def _record(event_id: str = "evt_log", **overrides):
    fields = {
        "event_id": event_id,
        "event_type": "customer.updated",
        "livemode": True,
        "api_version": "2026-10-28.endive",
        "payload": PAYLOAD,
        "payload_json": '{"id": "evt_log"}',
        **overrides,
    }
    return webhook_log.record_webhook_event(**fields)


def _stored(mongo_database, event_id: str = "evt_log"):
    return mongo_database["webhook_events"].find_one({"stripe_event_id": event_id})


def test_first_delivery_stores_exactly_the_documented_fields(mongo_database):
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    record = _record()
    stored = _stored(mongo_database)
    assert set(stored) == {
        "_id", "stripe_event_id", "attempts", "type", "livemode", "api_version", "status",
        "received_at", "payload_json", "payload",
    }
    assert stored["payload"] == webhook_log.storable_copy(PAYLOAD)
    assert stored["payload"]["data"]["object"]["metadata"] == {"a\uff0eb": "dot", "\uff04c": "dollar", "n": str(2**70)}
    assert (stored["type"], stored["livemode"], stored["api_version"], stored["status"], stored["attempts"]) == (
        "customer.updated", True, "2026-10-28.endive", "received", 1
    )
    assert stored["payload_json"] == '{"id": "evt_log"}'
    assert stored["received_at"].replace(tzinfo=dt.timezone.utc) >= before
    assert isinstance(record, WebhookEvent)
    assert (record.id, record.status, record.attempts) == (stored["_id"], "received", 1)


def test_later_delivery_counts_the_attempt_and_changes_nothing_else(mongo_database):
    _record()
    first = _stored(mongo_database)
    again = _record(payload={"id": "evt_log", "other": True}, payload_json="{}", livemode=False)
    stored = _stored(mongo_database)
    assert (again.id, again.attempts, again.status) == (first["_id"], 2, "received")
    assert {**stored, "attempts": 1} == first


def test_first_delivery_that_loses_the_insert_to_a_concurrent_one_counts_an_attempt(mongo_database, monkeypatch):
    _record()  # the concurrent delivery whose insert won
    real = WebhookEvent._get_collection()
    calls = []

    class LosesTheUpsert:
        def find_one_and_update(self, query, update, **options):
            calls.append(options.get("upsert", False))
            if options.get("upsert"):
                raise DuplicateKeyError("E11000 duplicate key error", 11000)
            return real.find_one_and_update(query, update, **options)

    monkeypatch.setattr(WebhookEvent, "_get_collection", classmethod(lambda cls: LosesTheUpsert()))
    record = _record()
    assert calls == [True, False]
    assert (record.status, record.attempts) == ("received", 2)
    assert _stored(mongo_database)["attempts"] == 2


@pytest.mark.parametrize("status,error", [("processed", None), ("ignored", "not ours"), ("failed", "boom")])
def test_finishing_sets_status_error_and_time(mongo_database, status, error):
    _record()
    assert webhook_log.finish_webhook_event("evt_log", status, error=error) is True
    stored = _stored(mongo_database)
    assert (stored["status"], stored["last_error"]) == (status, error)
    assert "last_error" in stored and stored["processed_at"]
    assert stored["payload"] == webhook_log.storable_copy(PAYLOAD)


def test_finishing_an_unrecorded_event_reports_it_and_writes_nothing(mongo_database):
    assert webhook_log.finish_webhook_event("evt_never", "processed") is False
    assert mongo_database["webhook_events"].count_documents({}) == 0
