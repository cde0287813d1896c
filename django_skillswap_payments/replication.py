"""Write concern and read preference: what a replica set needs to keep every decision.

Every write of the app either decides a transition (a conditional
``findAndModify``), records an event, or keeps the bookkeeping of a signal;
all go out with ``WRITE_CONCERN`` (``"majority"`` by default). A write the
app saw acknowledged is then on a majority of the members and survives a
failover: no completed payment whose signal was sent can be rolled back and
completed (and announced) a second time. pymongo retries each such write once
after a failover (retryable writes, on unless the URI turns them off: check
``W082``), and the server recognises the retry, so the one caller whose
transition won still gets its document back.

Reads that decide something (the payment before its transition, premium
status, the open checkout) always read the primary. ``READ_PREFERENCE``
(``"primary"`` by default) applies only to the history pages and their
totals, which decide nothing and may lag a replica's replication delay.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from pymongo import ReadPreference, WriteConcern
from pymongo.errors import ConfigurationError
from pymongo.read_preferences import _ServerMode

from .conf import SETTINGS_NAME, payments_settings

READ_PREFERENCES: dict[str, _ServerMode] = {
    "primary": ReadPreference.PRIMARY,
    "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
    "secondary": ReadPreference.SECONDARY,
    "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
    "nearest": ReadPreference.NEAREST,
}
WRITE_CONCERN_KEYS = frozenset({"w", "wtimeout", "j"})


def parse_write_concern(value: Any) -> WriteConcern:
    """``"majority"``, a tag-set name, a number of members (>= 1), or a dict of ``w``/``wtimeout``/``j``.

    Unacknowledged writes (``w=0``) are refused: a transition is decided by
    the answer of its write.
    """
    options = value if isinstance(value, dict) else {"w": value}
    unknown = set(options) - WRITE_CONCERN_KEYS
    w = options.get("w", "majority")
    problem = None
    if unknown:
        problem = f"unknown keys {sorted(unknown)}"
    elif isinstance(w, bool) or not isinstance(w, (int, str)) or w in (0, ""):
        problem = "w must be 'majority', a tag-set name or a number of members >= 1"
    elif isinstance(w, int) and w < 0:
        problem = "w must not be negative"
    if problem is None:
        try:
            return WriteConcern(**options)
        except (ConfigurationError, TypeError, ValueError) as exc:
            problem = str(exc)
    raise ImproperlyConfigured(f"{SETTINGS_NAME}['WRITE_CONCERN']: {problem} (got {value!r})")


def parse_read_preference(value: Any) -> _ServerMode:
    """One of MongoDB's read preference modes, by name (``"secondaryPreferred"``)."""
    if isinstance(value, str) and value in READ_PREFERENCES:
        return READ_PREFERENCES[value]
    raise ImproperlyConfigured(
        f"{SETTINGS_NAME}['READ_PREFERENCE'] must be one of {', '.join(READ_PREFERENCES)}, got {value!r}"
    )


@functools.cache
def write_concern() -> WriteConcern:
    """The write concern of every write the app makes (parsed once per settings change)."""
    return parse_write_concern(payments_settings.WRITE_CONCERN)


@functools.cache
def history_read_preference() -> _ServerMode:
    """Where history pages and their totals are read (decisions always read the primary)."""
    return parse_read_preference(payments_settings.READ_PREFERENCE)


def decision_options() -> dict[str, Any]:
    """Options of the database handle the documents use: ``WRITE_CONCERN``, reads on the primary."""
    return {"write_concern": write_concern(), "read_preference": ReadPreference.PRIMARY}


def _retry_writes_disabled() -> bool:
    from mongoengine.connection import ConnectionFailure, get_connection

    try:
        client = get_connection(payments_settings.MONGO_ALIAS)
    except ConnectionFailure:
        from pymongo.uri_parser import parse_uri

        uri = payments_settings.MONGODB_URI
        options = dict(payments_settings.mongodb_client_options)
        try:
            options.update(parse_uri(uri)["options"] if uri else {})
        except (ConfigurationError, ValueError):
            return False  # the MongoDB check reports an unusable URI
        named = {key.lower(): value for key, value in options.items()}
        return named.get("retrywrites") is False
    return client.options.retry_writes is False


def check_replication_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``E080`` bad ``WRITE_CONCERN``, ``E081`` bad ``READ_PREFERENCE``, ``W082`` retryable writes off."""
    messages: list[checks.CheckMessage] = []
    for code, parse, name in (
        ("E080", parse_write_concern, "WRITE_CONCERN"),
        ("E081", parse_read_preference, "READ_PREFERENCE"),
    ):
        try:
            parse(getattr(payments_settings, name))
        except ImproperlyConfigured as exc:
            messages.append(checks.Error(str(exc), id=f"skillswap_payments.{code}"))
    try:
        retry_off = _retry_writes_disabled()
    except ImproperlyConfigured:
        retry_off = False  # MONGODB_CLIENT_OPTIONS is reported as E004
    if retry_off:
        messages.append(checks.Warning(
            "Retryable writes are turned off (retryWrites=false): a write interrupted by a "
            "replica-set failover fails instead of being retried once on the new primary.",
            hint="Remove retryWrites=false from MONGODB_URI / MONGODB_CLIENT_OPTIONS.",
            id="skillswap_payments.W082",
        ))
    return messages


def forget_parsed_settings() -> None:
    """Drop the parsed values and the documents' collection handles built with them."""
    from .documents import ALL_DOCUMENTS

    write_concern.cache_clear()
    history_read_preference.cache_clear()
    for document in ALL_DOCUMENTS:
        document._collection = None


@receiver(setting_changed)
def _reparse_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        forget_parsed_settings()
