"""The ``webhook_events`` collection: every Stripe event, recorded once under its id.

The exact body Stripe signed is kept as text (``payload_json``) and is what a
replay reads. A dict copy is kept for reading and querying, with the keys
MongoDB cannot store escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mongoengine.errors import NotUniqueError

from ..documents import WEBHOOK_FAILED, WEBHOOK_RECEIVED, WebhookEvent, utcnow

# MongoDB refuses field names with "." or a leading "$" (older servers always,
# newer ones in updates), and BSON cannot hold a NUL in one; the dict copy of an
# event replaces them with these look-alikes, which the exact JSON body kept
# alongside does not need.
_KEY_ESCAPES = {".": "\uff0e", "$": "\uff04", "\x00": "\u2400"}
# The dict copy is skipped for bodies this large or nested this deep, so that
# storing the event can never fail on MongoDB's 16 MB document or 100-level nesting limits.
MAX_PAYLOAD_COPY_CHARS = 4 * 1024 * 1024
MAX_PAYLOAD_COPY_DEPTH = 40


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
    ``payload`` (see :func:`storable_copy`); later deliveries of the same
    event id only increment ``attempts``. The caller skips events whose
    returned status is already ``processed`` or ``ignored``.
    """
    fields: dict[str, Any] = {
        "set_on_insert__type": event_type,
        "set_on_insert__livemode": bool(livemode),
        "set_on_insert__api_version": api_version,
        "set_on_insert__status": WEBHOOK_RECEIVED,
        "set_on_insert__received_at": utcnow(),
        "inc__attempts": 1,
    }
    if payload_json is not None:
        fields["set_on_insert__payload_json"] = payload_json
    copy = None if payload_json and len(payload_json) > MAX_PAYLOAD_COPY_CHARS else storable_copy(payload)
    if copy is not None:
        fields["set_on_insert__payload"] = copy
    try:
        return WebhookEvent.objects(stripe_event_id=event_id).modify(
            upsert=True, new=True, **fields
        )
    except NotUniqueError:
        # Two concurrent first deliveries: the other insert won, so this one is an update.
        return WebhookEvent.objects(stripe_event_id=event_id).modify(new=True, inc__attempts=1)


def get_webhook_event(event_id: str) -> WebhookEvent | None:
    """The recorded event with this Stripe event id, if any."""
    return WebhookEvent.objects(stripe_event_id=event_id).first()


def finish_webhook_event(
    event_id: str, status: str, *, error: str | None = None
) -> WebhookEvent | None:
    """Mark a recorded event ``processed``, ``ignored`` or ``failed`` (with the error text)."""
    return WebhookEvent.objects(stripe_event_id=event_id).modify(
        new=True,
        set__status=status,
        set__last_error=error,
        set__processed_at=utcnow(),
    )


def webhook_events(
    *, statuses: Iterable[str] = (WEBHOOK_FAILED,), limit: int = 100
) -> list[WebhookEvent]:
    """Recorded events in ``statuses`` (failed ones by default), oldest first."""
    return list(
        WebhookEvent.objects(status__in=list(statuses)).order_by("received_at").limit(limit)
    )
