"""MongoDB ids as they arrive from URLs, JSON bodies and Stripe metadata."""

from __future__ import annotations

from typing import Any

from bson import ObjectId


def to_object_id(value: Any) -> ObjectId | None:
    """``value`` as an ``ObjectId``, or ``None`` unless it is one or its 24-hex string."""
    if isinstance(value, ObjectId):
        return value
    # ObjectId.is_valid also takes 12-byte strings, which are never an id a client sends.
    if isinstance(value, str) and len(value) == 24 and ObjectId.is_valid(value):
        return ObjectId(value)
    return None


def is_object_id(value: Any) -> bool:
    """Whether ``value`` is a 24-character hexadecimal ObjectId string."""
    return isinstance(value, str) and to_object_id(value) is not None
