"""Is this user premium? One MongoDB command per question, none with the status cache on.

Host sites ask on every page (:class:`~django_skillswap_payments.api.permissions.IsPremium`,
:func:`~django_skillswap_payments.decorators.premium_required`), and the
status endpoint answers the same way.

With ``STATUS_CACHE_SECONDS`` set, answers are kept in Django's cache (use a
shared one — Redis, Memcached — when several processes serve the site;
``LocMemCache`` is per process), together with the user → profile id mapping,
which never changes once made. Every status change of a premium payment and
every stored legacy subscription replaces the user's entry with a marker
holding the time of the change, so a purchase or a refund shows at once in
every process sharing the cache. A read stores its answer over the marker
only if it started after the change (allowing :data:`CLOCK_MARGIN_SECONDS`
between servers' clocks), and over nothing else only where no entry exists
(``cache.add``): a slow read that began before a transition can never put
back what the transition invalidated.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache

from .. import users
from ..conf import DEFAULTS, payments_settings
from ..errors import ProfileNotFound
from ..repository import premium_status as status_store
from .reads import EMPTY_PREMIUM_STATUS, premium_status_from

CACHE_PREFIX = "skillswap-payments"
# Longer than any read can take (the client's socket timeout is 10 s by default).
STALE_READ_GUARD_SECONDS = 60
# How far apart the clocks of the servers sharing the cache may be.
CLOCK_MARGIN_SECONDS = 1.0
_INVALIDATED = "invalidated"


def _status_key(profile_id: Any) -> str:
    return f"{CACHE_PREFIX}:premium:{profile_id}"


def _profile_key(django_user_id: str) -> str:
    return f"{CACHE_PREFIX}:profile:{django_user_id}"


def remembered_profile_id(django_user_id: str) -> Any:
    """The profile id last seen for a Django user (``None``: not known in this cache).

    Only a hint for a checkout start, which checks it in the same read that
    needs the profile; the status read trusts it only with the status cache on.
    """
    return cache.get(_profile_key(django_user_id))


def remember_profile_id(django_user_id: str, profile_id: Any) -> None:
    """Remember the profile id of a Django user (the mapping never changes once made)."""
    cache.set(_profile_key(django_user_id), profile_id, None)


def forget_premium_status(profile_id: Any) -> None:
    """Drop the cached status of a profile (after any change that may alter it)."""
    if payments_settings.status_cache_seconds and profile_id is not None:
        cache.set(_status_key(profile_id), (_INVALIDATED, time.time()), STALE_READ_GUARD_SECONDS)


def _cached_status(profile_id: Any, seconds: int) -> dict[str, Any]:
    cached = cache.get(_status_key(profile_id))
    if isinstance(cached, dict):
        return cached
    started = time.time()
    status = premium_status_from(status_store.premium_facts(profile_id))
    return _store(status, profile_id, seconds, started=started, found=cached)


def _store(
    status: dict[str, Any], profile_id: Any, seconds: int, *, started: float, found: Any = None
) -> dict[str, Any]:
    if not seconds:
        return status
    key = _status_key(profile_id)
    if isinstance(found, tuple) and found[:1] == (_INVALIDATED,):
        if started > found[1] + CLOCK_MARGIN_SECONDS and cache.get(key) == found:
            cache.set(key, status, seconds)
    else:
        cache.add(key, status, seconds)
    return status


def _default_profiles() -> bool:
    return payments_settings.PROFILE_RESOLVER == DEFAULTS["PROFILE_RESOLVER"]


def premium_status_of_user(user: Any, *, with_receipt: bool = False) -> dict[str, Any]:
    """:func:`~django_skillswap_payments.services.reads.get_premium_status` for a Django user.

    With the default profiles, the profile and its status are read in one
    command; a site's own ``PROFILE_RESOLVER`` costs what it costs, plus one.
    Raises ``ProfileNotFound`` like the status endpoint when ``CREATE_PROFILES``
    is off and the user has no profile.
    """
    status = _status_of_user(user)
    if not with_receipt:
        status = {key: value for key, value in status.items() if key != "receipt"}
    return status


def _status_of_user(user: Any) -> dict[str, Any]:
    if user is None or not getattr(user, "is_authenticated", False) or user.pk is None:
        return dict(EMPTY_PREMIUM_STATUS)
    seconds = payments_settings.status_cache_seconds
    if not _default_profiles():
        profile = users.existing_profile(user)
        if profile is None:
            return dict(EMPTY_PREMIUM_STATUS)
        if seconds:
            return _cached_status(profile.id, seconds)
        return premium_status_from(status_store.premium_facts(profile.id))
    django_user_id = str(user.pk)
    if seconds:
        profile_id = cache.get(_profile_key(django_user_id))
        if profile_id is not None:
            return _cached_status(profile_id, seconds)
    started = time.time()
    facts = status_store.premium_facts_of_django_user(django_user_id)
    if facts.profile_id is None:
        users.missing_profile()
        return dict(EMPTY_PREMIUM_STATUS)
    if not seconds:
        return premium_status_from(facts)
    cache.set(_profile_key(django_user_id), facts.profile_id, None)
    found = cache.get(_status_key(facts.profile_id))
    return _store(premium_status_from(facts), facts.profile_id, seconds, started=started, found=found)


def is_premium_user(user: Any) -> bool:
    """Whether ``user`` (a Django user, possibly anonymous) has premium; never raises for a missing profile."""
    try:
        return bool(_status_of_user(user)["is_premium"])
    except ProfileNotFound:
        return False
