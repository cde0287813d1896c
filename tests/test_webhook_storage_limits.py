"""Signed events that are huge, expand when parsed, or nest deeply: recorded when usable, 4xx when not.

MongoDB refuses documents over 16 MiB. A record keeps the exact body Stripe
signed (what a replay reads) and a parsed copy for querying; the copy is the
part that is given up when both do not fit.
"""

from __future__ import annotations

import datetime as dt
import json

import bson
import pytest
from django.conf import settings
from django.test import override_settings

from django_skillswap_payments import webhooks
from django_skillswap_payments.errors import WebhookProcessingFailed
from django_skillswap_payments.repository import webhook_log
from django_skillswap_payments.stripe_facts import MAX_EVENT_ID_LENGTH, MAX_EVENT_TEXT_LENGTH
from django_skillswap_payments.testing.webhooks import DEFAULT_API_VERSION, sign_payload
from tests.support.database import assert_nothing_written
from tests.support.webhooks import configured_secret, post_webhook

pytestmark = pytest.mark.django_db

# Django's default DATA_UPLOAD_MAX_MEMORY_SIZE: the body size limit a default site applies.
DJANGO_DEFAULT_BODY_LIMIT = 2_621_440


def _event_text(event_id: str, inner: str, *, event_type: str = "customer.updated") -> str:
    """A Stripe-shaped event whose ``data.object.items`` is the JSON text ``inner``."""
    return (
        f'{{"id": "{event_id}", "object": "event", "type": "{event_type}", "livemode": false, '
        f'"api_version": "{DEFAULT_API_VERSION}", "created": 1700000000, '
        f'"data": {{"object": {{"id": "cus_big", "object": "customer", "items": {inner}}}}}}}'
    )


def _post_signed(client, text: str):
    body = text.encode("utf-8")
    return post_webhook(client, body, sign_payload(body, configured_secret()))


def _stored(mongo_database, event_id):
    return mongo_database["webhook_events"].find_one({"stripe_event_id": event_id})


# -- deep nesting -----------------------------------------------------------------------


def _nested(kind: str, depth: int) -> str:
    if kind == "arrays":
        return "[" * depth + "]" * depth
    if kind == "objects":
        return '{"a": ' * depth + "1" + "}" * depth
    return '[{"a": ' * (depth // 2) + "1" + "}]" * (depth // 2)


@pytest.mark.parametrize("depth", [10_001, 20_000, 100_000])
@pytest.mark.parametrize("kind", ["arrays", "objects", "mixed"])
def test_signed_event_nested_too_deeply_to_parse_is_a_400(anon_client, mongo_database, kind, depth):
    response = _post_signed(anon_client, _event_text("evt_deep", _nested(kind, depth)))

    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid webhook payload",
        "message": "The event is nested too deeply",
    }
    assert_nothing_written(mongo_database)


def test_signed_body_that_is_only_deep_nesting_is_a_400(anon_client, mongo_database):
    response = _post_signed(anon_client, _nested("arrays", 50_000))

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid webhook payload"
    assert_nothing_written(mongo_database)


def test_deep_but_parsable_event_is_recorded_with_its_body_only(anon_client, mongo_database):
    text = _event_text("evt_deep_ok", _nested("arrays", 3_000))
    response = _post_signed(anon_client, text)

    assert response.status_code == 200
    stored = _stored(mongo_database, "evt_deep_ok")
    assert stored["payload_json"] == text
    assert not stored.get("payload")
    assert webhooks.replay("evt_deep_ok", force=True).status == "ignored"


def test_replaying_a_stored_body_nested_too_deeply_fails_cleanly(mongo_database):
    mongo_database["webhook_events"].insert_one(
        {
            "stripe_event_id": "evt_stored_deep",
            "type": "customer.updated",
            "status": "failed",
            "attempts": 1,
            "payload_json": _event_text("evt_stored_deep", _nested("arrays", 20_000)),
        }
    )
    with pytest.raises(WebhookProcessingFailed) as caught:
        webhooks.replay("evt_stored_deep")
    assert "nested too deeply" in caught.value.error


# -- size -----------------------------------------------------------------------------


def _array_of_zeros_filling(limit: int, event_id: str) -> str:
    """An event of just under ``limit`` bytes whose copy is about six times larger in BSON."""
    overhead = len(_event_text(event_id, "[]"))
    count = (limit - overhead) // 2
    text = _event_text(event_id, "[" + ",".join(["0"] * count) + "]")
    assert limit - 4 <= len(text) <= limit
    return text


def test_event_just_under_djangos_body_limit_whose_copy_exceeds_16_mb_is_recorded(anon_client, mongo_database):
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == DJANGO_DEFAULT_BODY_LIMIT
    text = _array_of_zeros_filling(DJANGO_DEFAULT_BODY_LIMIT, "evt_wide")
    assert len(text) + len(bson.encode(json.loads(text))) > 16 * 1024 * 1024  # body and copy

    response = _post_signed(anon_client, text)

    assert response.status_code == 200
    stored = _stored(mongo_database, "evt_wide")
    assert stored["status"] == "ignored"
    assert stored["payload_json"] == text  # kept once, exactly as signed
    assert not stored.get("payload")
    assert webhooks.replay("evt_wide", force=True).status == "ignored"


def test_body_over_djangos_limit_is_a_413(anon_client, mongo_database):
    text = _array_of_zeros_filling(DJANGO_DEFAULT_BODY_LIMIT + 100, "evt_over")
    response = _post_signed(anon_client, text)

    assert response.status_code == 413
    assert response.json() == {"error": "Webhook payload too large"}
    assert_nothing_written(mongo_database)


@pytest.fixture
def small_record_limit(monkeypatch):
    """Lower the record size limit so the size decisions can be tested with small bodies."""
    limit = 100_000
    monkeypatch.setattr(webhook_log, "MAX_RECORD_BYTES", limit)
    monkeypatch.setattr(webhook_log, "MAX_WEBHOOK_BODY_BYTES", limit)
    return limit


def _escapes(event_id: str, raw_bytes: int) -> str:
    """An event padded with ``\\u00e9`` escapes: 6 bytes in the body, 2 in the parsed copy."""
    overhead = len(_event_text(event_id, '""'))
    return _event_text(event_id, '"' + "\\u00e9" * ((raw_bytes - overhead) // 6) + '"')


def test_escaped_body_whose_copy_still_fits_keeps_the_copy(anon_client, mongo_database, small_record_limit):
    text = _escapes("evt_esc_fits", 60_000)  # 60 kB body + 20 kB copy: fits
    assert _post_signed(anon_client, text).status_code == 200

    stored = _stored(mongo_database, "evt_esc_fits")
    assert stored["payload_json"] == text
    assert stored["payload"]["data"]["object"]["items"] == json.loads(text)["data"]["object"]["items"]


def test_escaped_body_whose_copy_does_not_fit_drops_the_copy(anon_client, mongo_database, small_record_limit):
    text = _escapes("evt_esc_big", 90_000)  # 90 kB body + 30 kB copy: over the limit
    response = _post_signed(anon_client, text)

    assert response.status_code == 200
    stored = _stored(mongo_database, "evt_esc_big")
    assert stored["payload_json"] == text
    assert not stored.get("payload")
    assert webhooks.replay("evt_esc_big", force=True).status == "ignored"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None)
def test_body_too_large_to_record_at_all_is_a_413(anon_client, mongo_database, small_record_limit):
    # A site that lifts Django's body limit still never gets a body it cannot store.
    text = _escapes("evt_huge", small_record_limit + 1_000)
    response = _post_signed(anon_client, text)

    assert response.status_code == 413
    assert response.json()["error"] == "Webhook payload too large"
    assert_nothing_written(mongo_database)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=None)
def test_body_at_the_record_limit_is_recorded(anon_client, mongo_database, small_record_limit):
    text = _array_of_zeros_filling(small_record_limit, "evt_at_limit")
    assert _post_signed(anon_client, text).status_code == 200
    assert _stored(mongo_database, "evt_at_limit")["payload_json"] == text


def test_largest_possible_record_fits_in_a_mongodb_document():
    """The real limits: the biggest body accepted, with every other field at its longest."""
    widest = "\U0001d11e"  # four bytes in UTF-8
    body = "x" * webhook_log.MAX_WEBHOOK_BODY_BYTES
    fields = webhook_log.first_delivery_fields(
        event_type=widest * MAX_EVENT_TEXT_LENGTH,
        livemode=True,
        api_version=widest * MAX_EVENT_TEXT_LENGTH,
        payload={"id": "evt"},
        payload_json=body,
    )
    document = {
        "_id": bson.ObjectId(),
        "stripe_event_id": widest * MAX_EVENT_ID_LENGTH,
        **fields,
        "attempts": 2**31 - 1,
        "last_error": widest * webhook_log.MAX_ERROR_CHARS,
        "processed_at": dt.datetime.now(dt.timezone.utc),
    }
    assert "payload" not in fields  # body and copy together would not fit
    assert len(bson.encode(document)) <= 16 * 1024 * 1024


def test_small_event_keeps_its_copy():
    fields = webhook_log.first_delivery_fields(
        event_type="customer.updated", livemode=False, api_version=None,
        payload={"id": "evt", "a.b": 1}, payload_json='{"id": "evt", "a.b": 1}',
    )
    assert fields["payload"] == {"id": "evt", "a\uff0eb": 1}


def test_stored_error_text_is_bounded(mongo_database):
    webhook_log.record_webhook_event(
        event_id="evt_err", event_type="x.y", livemode=False, api_version=None, payload={"id": "evt_err"}
    )
    webhook_log.finish_webhook_event("evt_err", "failed", error="E" * 1_000_000)
    assert len(_stored(mongo_database, "evt_err")["last_error"]) <= webhook_log.MAX_ERROR_CHARS


@pytest.mark.parametrize("field", ["type", "api_version"])
def test_overlong_envelope_text_cannot_inflate_the_record(anon_client, mongo_database, field):
    event = {"id": "evt_long", "object": "event", "type": "customer.updated", "api_version": "2026-10-28",
             "data": {"object": {"id": "cus_1"}}}
    event[field] = "t" * (MAX_EVENT_TEXT_LENGTH + 1)
    response = _post_signed(anon_client, json.dumps(event))

    if field == "type":
        assert response.status_code == 400
        assert_nothing_written(mongo_database)
    else:
        assert response.status_code == 200
        assert _stored(mongo_database, "evt_long").get("api_version") is None
