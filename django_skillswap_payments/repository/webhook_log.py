"""The ``webhook_events`` collection: every Stripe event, recorded once under its id.

The exact body Stripe signed is kept as text (``payload_json``) and is what a
replay reads. A dict copy is kept for reading and querying, with the keys
MongoDB cannot store escaped, as long as body and copy fit in one MongoDB
document together; otherwise only the body is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import bson
from bson.errors import InvalidDocument
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from ..documents import WEBHOOK_FAILED, WEBHOOK_RECEIVED, WebhookEvent, utcnow

# MongoDB refuses field names with "." or a leading "$" (older servers always,
# newer ones in updates), and BSON cannot hold a NUL in one; the dict copy of an
# event replaces them with these look-alikes, which the exact JSON body kept
# alongside does not need.
_KEY_ESCAPES = {".": "\uff0e", "$": "\uff04", "\x00": "\u2400"}
# The dict copy is not even built for bodies this large, nor kept when nested this deep
# (MongoDB allows 100 levels).
MAX_PAYLOAD_COPY_CHARS = 4 * 1024 * 1024
MAX_PAYLOAD_COPY_DEPTH = 40

MONGODB_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
# What a record holds besides the body and its copy: the event id, type and API version
# (each at most 255 characters, see stripe_facts), timestamps, counters, and a last error
# of at most MAX_ERROR_CHARS characters, all well within this allowance.
RECORD_FIELDS_ALLOWANCE = 64 * 1024
# The body and its copy together must fit in this; the copy is dropped when they do not.
MAX_RECORD_BYTES = MONGODB_MAX_DOCUMENT_BYTES - RECORD_FIELDS_ALLOWANCE
# A larger body could not be recorded even alone; webhooks refuse it (413) before verifying.
MAX_WEBHOOK_BODY_BYTES = MAX_RECORD_BYTES
MAX_ERROR_CHARS = 4000
# What a delivery reads back of its record: the stored body never crosses the wire again.
_RECORD_PROJECTION = {"status": 1, "attempts": 1}


class _TooDeep(Exception):
    pass


def _storable_key(key: Any) -> str:
    text = str(key).replace(".", _KEY_ESCAPES["."]).replace("\x00", _KEY_ESCAPES["\x00"])
    if text.startswith("$"):
        text = _KEY_ESCAPES["$"] + text[1:]
    return text or "\uff3f"  # an empty key is refused too


def _storable(value: Any, depth: int) -> Any:
    if depth > MAX_PAYLOAD_COPY_DEPTH:
        raise _TooDeep
    if isinstance(value, Mapping):
        return {_storable_key(key): _storable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(item, depth + 1) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return str(value)  # BSON integers are 64-bit
    return value


def storable_copy(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """``payload`` with every key MongoDB cannot store escaped; ``None`` if nested too deep.

    ``"a.b"`` becomes ``"a\uff0eb"``, ``"$c"`` becomes ``"\uff04c"`` and a NUL
    character in a key becomes ``"\u2400"`` (BSON keys cannot hold one); integers
    beyond 64 bits become strings; other values are unchanged.
    """
    try:
        return _storable(payload, 0)
    except _TooDeep:
        return None


def _fits_with_body(copy: dict[str, Any], payload_json: str | None) -> bool:
    body_bytes = len(payload_json.encode("utf-8")) if payload_json else 0
    try:
        copy_bytes = len(bson.encode(copy))
    except (InvalidDocument, OverflowError):
        return False
    return body_bytes + copy_bytes <= MAX_RECORD_BYTES


def first_delivery_fields(
    *,
    event_type: str,
    livemode: bool,
    api_version: str | None,
    payload: Mapping[str, Any],
    payload_json: str | None,
) -> dict[str, Any]:
    """The fields the first delivery of an event stores (beside its id and attempt count).

    The body is always kept; the copy only when nested at most
    ``MAX_PAYLOAD_COPY_DEPTH`` deep and when body and copy fit in
    ``MAX_RECORD_BYTES`` together — a body of small array items can grow six-fold as BSON.
    """
    fields: dict[str, Any] = {
        "type": event_type,
        "livemode": bool(livemode),
        "api_version": api_version,
        "status": WEBHOOK_RECEIVED,
        "received_at": utcnow(),
    }
    if payload_json is not None:
        fields["payload_json"] = payload_json
    if payload_json is not None and len(payload_json) > MAX_PAYLOAD_COPY_CHARS:
        return fields
    copy = storable_copy(payload)
    if copy is not None and _fits_with_body(copy, payload_json):
        fields["payload"] = copy
    return fields


def record_webhook_event(
    *,
    event_id: str,
    event_type: str,
    livemode: bool,
    api_version: str | None,
    payload: Mapping[str, Any],
    payload_json: str | None = None,
) -> WebhookEvent:
    """Record a delivery of a Stripe event and count the attempt.

    The first delivery inserts the event (status ``received``) with
    ``payload_json``, the exact body Stripe sent, and a storable copy of
    ``payload`` (see :func:`first_delivery_fields`); later deliveries of the
    same event id only increment ``attempts``. The caller skips events whose
    returned status is already ``processed`` or ``ignored``. Only ``status``
    and ``attempts`` come back: the stored body is never sent back over the wire.
    """
    inserted = first_delivery_fields(
        event_type=event_type,
        livemode=livemode,
        api_version=api_version,
        payload=payload,
        payload_json=payload_json,
    )
    # Plain pymongo: the fields are already what MongoDB stores, and walking the payload copy
    # through MongoEngine's field conversion again costs more than the rest of the request.
    collection = WebhookEvent._get_collection()
    query = {"stripe_event_id": event_id}
    try:
        stored = collection.find_one_and_update(
            query, {"$inc": {"attempts": 1}, "$setOnInsert": inserted},
            upsert=True, projection=_RECORD_PROJECTION, return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError:
        # Two concurrent first deliveries: the other insert won, so this one is an update.
        stored = collection.find_one_and_update(
            query, {"$inc": {"attempts": 1}}, projection=_RECORD_PROJECTION, return_document=ReturnDocument.AFTER
        )
    return WebhookEvent._from_son(stored)


def get_webhook_event(event_id: str) -> WebhookEvent | None:
    """The recorded event with this Stripe event id, if any."""
    return WebhookEvent.objects(stripe_event_id=event_id).first()


def finish_webhook_event(event_id: str, status: str, *, error: str | None = None) -> bool:
    """Mark a recorded event ``processed``, ``ignored`` or ``failed`` (with the error text).

    The error text is cut to ``MAX_ERROR_CHARS``, so it can never outgrow the
    record. Returns whether the event was found; the record is not sent back.
    """
    if error is not None and len(error) > MAX_ERROR_CHARS:
        error = error[: MAX_ERROR_CHARS - 1] + "…"
    result = WebhookEvent._get_collection().update_one(
        {"stripe_event_id": event_id},
        {"$set": {"status": status, "last_error": error, "processed_at": utcnow()}},
    )
    return bool(result.matched_count)


def webhook_events(
    *, statuses: Iterable[str] = (WEBHOOK_FAILED,), limit: int = 100
) -> list[WebhookEvent]:
    """Recorded events in ``statuses`` (failed ones by default), oldest first.

    One query per status (an operator asks for one or two), each an equality
    on the ``(status, received_at)`` index read in its order, merged here.
    """
    events: list[WebhookEvent] = []
    for status in dict.fromkeys(statuses):
        events += WebhookEvent.objects(status=status).order_by("received_at").limit(limit)
    events.sort(key=lambda event: event.received_at)
    return events[:limit]
