"""Django system checks for the payments configuration.

Stable ids, reported by ``manage.py check``:

* ``skillswap_payments.E001`` – no Stripe secret key.
* ``skillswap_payments.E002`` – secret and publishable keys are from different modes (test/live).
* ``skillswap_payments.E003`` / ``W003`` – no webhook signing secret (warning when ``DEBUG``).
* ``skillswap_payments.E004`` – invalid price, currency, tip limits, numeric limits or MongoDB client options.
* ``skillswap_payments.E005`` – MongoDB alias not configured, or no ``ping`` answer within 2 s.
* ``skillswap_payments.E006`` – a dotted-path hook cannot be imported.
* ``skillswap_payments.E007`` – ``SKILLSWAP_PAYMENTS`` is not a dict.
* ``skillswap_payments.E050`` – ``ALLOW_PROMOTION_CODES`` is not a boolean.
* ``skillswap_payments.E100`` / ``W100`` – ``ADAPTIVE_PRICING`` is not a boolean / the API version
  predates ``adaptive_pricing`` on Checkout Sessions (the Dashboard setting then decides).
* ``skillswap_payments.E060`` – ``RECEIPTS`` is on but the receipt templates cannot be loaded.
* ``skillswap_payments.E010`` – ``PARTIAL_REFUND_REVOKES_PREMIUM`` is not a boolean.
* ``skillswap_payments.E090`` – ``STATUS_CACHE_SECONDS`` is on with a per-process cache (``LocMemCache``).
* ``skillswap_payments.W001`` – unknown key in ``SKILLSWAP_PAYMENTS`` (probably a typo).
* ``skillswap_payments.E070`` – the ``CONNECT`` setting is malformed.
* ``skillswap_payments.E071`` – Connect is enabled without ``PLATFORM_FEE_PERCENT``.
* ``skillswap_payments.E072`` – Connect is enabled with a key that cannot use Connect
  (see :mod:`django_skillswap_payments.connect_settings`).
* ``skillswap_payments.E040``–``E044``, ``W040``–``W041`` – the accepted currencies, their
  prices and tip limits (:func:`~django_skillswap_payments.currencies.check_currencies`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.views.decorators.debug import sensitive_variables

from .conf import DEFAULTS, SETTINGS_NAME, key_mode, mongo_client_options, payments_settings
from .currencies import check_currencies, single_terms

TAG = "skillswap_payments"
# How long the MongoDB check waits for a server before reporting it unreachable.
MONGO_CHECK_TIMEOUT_SECONDS = 2.0


def _id(code: str) -> str:
    return f"{TAG}.{code}"


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Validate keys, secrets, prices and hooks (no network access)."""
    raw = getattr(settings, SETTINGS_NAME, None)
    if raw is not None and not isinstance(raw, dict):
        return [checks.Error(f"{SETTINGS_NAME} must be a dict.", id=_id("E007"))]
    payments_settings.reload()
    messages: list[checks.CheckMessage] = []

    for key in sorted(set(raw or {}) - set(DEFAULTS)):
        messages.append(
            checks.Warning(
                f"Unknown setting {SETTINGS_NAME}[{key!r}] is ignored.",
                hint="Check the spelling against the documented settings.",
                id=_id("W001"),
            )
        )

    secret_key = payments_settings.STRIPE_SECRET_KEY
    publishable_key = payments_settings.STRIPE_PUBLISHABLE_KEY
    if not secret_key:
        messages.append(
            checks.Error(
                "Stripe secret key is not configured.",
                hint=f"Set {SETTINGS_NAME}['STRIPE_SECRET_KEY'] or the STRIPE_SECRET_KEY environment variable.",
                id=_id("E001"),
            )
        )
    secret_mode, publishable_mode = key_mode(secret_key), key_mode(publishable_key)
    if secret_mode is not None and publishable_mode is not None and secret_mode != publishable_mode:
        label = {True: "test", False: "live"}
        messages.append(
            checks.Error(
                f"Stripe keys mix modes: the secret key is {label[secret_mode]}, "
                f"the publishable key is {label[publishable_mode]}.",
                hint="Use sk_test_/pk_test_ or sk_live_/pk_live_ together.",
                id=_id("E002"),
            )
        )

    try:
        has_webhook_secret = bool(payments_settings.webhook_secrets)
    except ImproperlyConfigured as exc:
        messages.append(checks.Error(str(exc), id=_id("E003")))
        has_webhook_secret = True
    if not has_webhook_secret:
        text = "Stripe webhook signing secret is not configured; webhooks will be rejected."
        hint = f"Set {SETTINGS_NAME}['STRIPE_WEBHOOK_SECRET'] or the STRIPE_WEBHOOK_SECRET environment variable."
        if settings.DEBUG:
            messages.append(checks.Warning(text, hint=hint, id=_id("W003")))
        else:
            messages.append(checks.Error(text, hint=hint, id=_id("E003")))

    try:
        single_terms()  # the one-currency keys; CURRENCIES and its dicts: check_currencies
    except ImproperlyConfigured as exc:
        messages.append(checks.Error(str(exc), id=_id("E004")))
    for accessor in (
        "tip_message_max_length",
        "max_network_retries",
        "webhook_tolerance",
        "checkout_session_reuse_seconds",
        "mongodb_client_options",
    ):
        try:
            getattr(payments_settings, accessor)
        except ImproperlyConfigured as exc:
            messages.append(checks.Error(str(exc), id=_id("E004")))

    for key in ("PROFILE_RESOLVER", "RECIPIENT_RESOLVER", "STRIPE_HTTP_CLIENT", "STAFF_PERMISSION", "EMAIL_RESOLVER"):
        path = getattr(payments_settings, key)
        if path is None and key == "STRIPE_HTTP_CLIENT":
            continue
        try:
            hook = import_string(path)
        except (ImportError, TypeError, ValueError) as exc:
            messages.append(
                checks.Error(f"{SETTINGS_NAME}[{key!r}] cannot be imported: {exc}", id=_id("E006"))
            )
            continue
        if not callable(hook):
            messages.append(
                checks.Error(f"{SETTINGS_NAME}[{key!r}] is not callable.", id=_id("E006"))
            )
    return messages


@sensitive_variables()
def check_mongodb(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Check that the MongoDB alias is configured and answers ``ping`` within a short timeout."""
    import pymongo
    from mongoengine.connection import ConnectionFailure, get_connection
    from pymongo.errors import PyMongoError

    alias = payments_settings.MONGO_ALIAS
    uri = payments_settings.MONGODB_URI
    owned_client = None
    try:
        try:
            client = get_connection(alias)
        except ConnectionFailure:
            if not uri:
                return [
                    checks.Error(
                        f"MongoDB alias {alias!r} is not registered and MONGODB_URI is not set.",
                        hint="Call mongoengine.connect() in your settings or set MONGODB_URI.",
                        id=_id("E005"),
                    )
                ]
            try:
                options = mongo_client_options(uri)  # TLS or auth options may be needed to connect
            except ImproperlyConfigured:
                options = {}  # reported as E004 by check_settings
            options.update(
                serverSelectionTimeoutMS=int(MONGO_CHECK_TIMEOUT_SECONDS * 1000),
                connectTimeoutMS=int(MONGO_CHECK_TIMEOUT_SECONDS * 1000),
            )
            owned_client = client = pymongo.MongoClient(uri, **options)
        with pymongo.timeout(MONGO_CHECK_TIMEOUT_SECONDS):
            client.admin.command("ping")
    except (PyMongoError, ValueError) as exc:
        return [
            checks.Error(
                f"MongoDB alias {alias!r} is unreachable or misconfigured: {type(exc).__name__}: {exc}",
                id=_id("E005"),
            )
        ]
    finally:
        if owned_client is not None:
            owned_client.close()
    return []


def check_connect(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Validate the ``CONNECT`` setting (no network access)."""
    from .connect_settings import connect_problems

    if not isinstance(getattr(settings, SETTINGS_NAME, None) or {}, dict):
        return []  # E007, reported by check_settings
    payments_settings.reload()
    return [checks.Error(text, hint=hint, id=_id(code)) for code, text, hint in connect_problems()]


def register() -> None:
    """Register the checks (called from ``AppConfig.ready``)."""
    checks.register(check_settings, TAG)
    checks.register(check_connect, TAG)
    checks.register(check_currencies, TAG)
    # Deliberately not tagged "database": Django skips those in a plain
    # ``manage.py check``, and an unreachable MongoDB is the misconfiguration
    # most worth reporting. The ping is bounded by MONGO_CHECK_TIMEOUT_SECONDS.
    checks.register(check_mongodb, TAG)
    from .services.promotions import check_promotion_settings

    checks.register(check_promotion_settings, TAG)
    from .services.adaptive_pricing import check_adaptive_pricing_settings

    checks.register(check_adaptive_pricing_settings, TAG)
    from .receipts import check_receipts

    checks.register(check_receipts, TAG)
    checks.register(check_refund_settings, TAG)
    checks.register(check_status_cache, TAG)
    from .dispute_checks import check_dispute_settings

    checks.register(check_dispute_settings, TAG)



def check_status_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The status cache must be one every process shares (``E090``).

    A purchase or a refund invalidates the user's cached status in the cache
    the request that saw it uses. With ``LocMemCache`` that reaches its own
    process only: another worker would answer from its own copy until it
    expires, so a buyer could read "not premium" for minutes after paying.
    """
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    try:
        seconds = payments_settings.status_cache_seconds
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id=_id("E004"))]
    if not seconds or not isinstance(caches["default"], LocMemCache):
        return []
    return [checks.Error(
        f"{SETTINGS_NAME}['STATUS_CACHE_SECONDS'] is on, but Django's default cache is LocMemCache, "
        "which each process keeps for itself: after a purchase or refund, other processes answer "
        "the old premium status until it expires.",
        hint="Point CACHES['default'] at a cache all processes share (Redis, Memcached, the database), "
             "or unset STATUS_CACHE_SECONDS. A site served by one process only may silence "
             f"{_id('E090')} in SILENCED_SYSTEM_CHECKS.",
        id=_id("E090"),
    )]


def check_refund_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The refunds settings (``E010``)."""
    from .services.refunds import partial_refund_revokes_premium

    try:
        partial_refund_revokes_premium()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id=_id("E010"))]
    return []
