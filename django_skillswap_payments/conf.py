"""Settings for the payments app: one dict, defaults in one place.

A site configures the app with ``SKILLSWAP_PAYMENTS = {...}`` in its Django
settings. Secrets and the MongoDB URI fall back to environment variables of
the same name when the dict does not set them. Read values through
:data:`payments_settings`::

    from django_skillswap_payments.conf import payments_settings
    payments_settings.CURRENCY          # raw value, default applied
    payments_settings.premium_price     # Decimal("9.99")
    payments_settings.webhook_secrets   # ["whsec_..."]

The merged dict is cached and the cache is dropped whenever Django's
``setting_changed`` fires for ``SKILLSWAP_PAYMENTS`` (``override_settings``).
"""

from __future__ import annotations

import os
import threading
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.views.decorators.debug import sensitive_variables

from .redaction import mask_secret, uri_option_names

SETTINGS_NAME = "SKILLSWAP_PAYMENTS"

# Newest-first pages of history: the size asked for is capped at MAX_PAGE_SIZE.
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100

# The Stripe API version this code is written and tested against; sent on every request.
STRIPE_API_VERSION = "2026-10-28.endive"

DEFAULTS: dict[str, Any] = {
    "STRIPE_SECRET_KEY": None,
    "STRIPE_PUBLISHABLE_KEY": None,
    "STRIPE_WEBHOOK_SECRET": None,
    "STRIPE_API_VERSION": STRIPE_API_VERSION,
    "STRIPE_API_BASE": None,
    "STRIPE_MAX_NETWORK_RETRIES": 2,
    "STRIPE_HTTP_CLIENT": None,
    "MONGODB_URI": None,
    "MONGODB_CLIENT_OPTIONS": None,
    "MONGO_ALIAS": "default",
    "PREMIUM_PRICE": "9.99",
    "CURRENCY": "usd",
    "PREMIUM_PRODUCT_NAME": "SkillSwap Premium",
    "TIP_PRODUCT_NAME": "SkillSwap Tip",
    "TIP_MIN": "1.00",
    "TIP_MAX": "1000.00",
    "TIP_MESSAGE_MAX_LENGTH": 500,
    "ALLOWED_REDIRECT_HOSTS": None,
    "PROFILE_RESOLVER": "django_skillswap_payments.users.get_or_create_profile",
    "RECIPIENT_RESOLVER": "django_skillswap_payments.users.find_recipient",
    "CREATE_PROFILES": True,
    "CHECKOUT_THROTTLE_RATE": "20/min",
    "WEBHOOK_TOLERANCE": 300,
    "CHECKOUT_SESSION_REUSE_SECONDS": 23 * 3600,
    "STATUS_CACHE_SECONDS": None,
    "STAFF_PERMISSION": "rest_framework.permissions.IsAdminUser",
    "ALLOW_PROMOTION_CODES": False,
    "ADAPTIVE_PRICING": False,  # adaptive_pricing[enabled] of every Checkout Session
    "RECEIPTS": False,
    "RECEIPT_SHOWS_TIP_AMOUNT_TO_RECIPIENT": True,
    "RECEIPT_FROM_EMAIL": None,
    "EMAIL_RESOLVER": "django_skillswap_payments.users.email_for_profile",
    "CONNECT": {"ENABLED": False},  # Stripe Connect payouts of tips: parsed in connect_settings.py
    "WRITE_CONCERN": "majority",
    "READ_PREFERENCE": "primary",
    "PARTIAL_REFUND_REVOKES_PREMIUM": False,
    "LOST_DISPUTE_REVOKES_PREMIUM": True,
    # Several currencies (parsed and checked in currencies.py); None: the one-currency form.
    "CURRENCIES": None,
    "PREMIUM_PRICES": None,
    "TIP_LIMITS": None,
}

# Keys that may come from the process environment when the dict leaves them unset.
ENV_FALLBACK_KEYS = (
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "MONGODB_URI",
)

# Settings where an explicit ``None`` is a choice (the feature is off), not "use the default".
NONE_MEANS_OFF = ("CHECKOUT_THROTTLE_RATE",)

# Settings that hold credentials; reports must mask them.
SECRET_KEYS = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "MONGODB_URI", "MONGODB_CLIENT_OPTIONS")

# pymongo waits 30 s for a server by default (and a socket forever): during an outage every
# request would hang that long, past Stripe's webhook timeout. These fit a web request; the
# URI and MONGODB_CLIENT_OPTIONS override them.
MONGODB_TIMEOUT_DEFAULTS = {
    "serverSelectionTimeoutMS": 5000,
    "connectTimeoutMS": 5000,
    "socketTimeoutMS": 10000,
}


class PaymentsSettings:
    """Read-only view of ``settings.SKILLSWAP_PAYMENTS`` with defaults and env fallback.

    Upper-case attributes return the configured value (or its default);
    lower-case properties return typed, validated values and raise
    ``ImproperlyConfigured`` when the configured value is unusable.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._user_settings: dict[str, Any] | None = None

    @property
    @sensitive_variables("raw", "cached")
    def user_settings(self) -> dict[str, Any]:
        """The dict exactly as the site configured it (empty when absent)."""
        cached = self._user_settings
        if cached is None:
            with self._lock:
                raw = getattr(settings, SETTINGS_NAME, None) or {}
                if not isinstance(raw, dict):
                    raise ImproperlyConfigured(f"{SETTINGS_NAME} must be a dict")
                cached = self._user_settings = dict(raw)
        return cached

    def reload(self) -> None:
        """Forget the cached dict so the next read sees current settings."""
        with self._lock:
            self._user_settings = None

    def source(self, name: str) -> str:
        """Where ``name`` comes from: ``"settings"``, ``"environment"`` or ``"default"``."""
        if self.user_settings.get(name) not in (None, "") or (
            name in NONE_MEANS_OFF and name in self.user_settings and self.user_settings[name] is None
        ):
            return "settings"
        if name in ENV_FALLBACK_KEYS and os.environ.get(name):
            return "environment"
        return "default"

    def __repr__(self) -> str:
        # Shown in error reports and debuggers: secrets appear only masked.
        try:
            shown = [
                f"{name}={display_value(name, getattr(self, name))}"
                for name in DEFAULTS
                if self.source(name) != "default"
            ]
        except Exception as exc:  # a repr must not raise, least of all on broken settings
            return f"<PaymentsSettings: {SETTINGS_NAME} unreadable ({type(exc).__name__})>"
        return f"<PaymentsSettings {' '.join(shown) or '(all defaults)'}>"

    @sensitive_variables("value")
    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown {SETTINGS_NAME} setting: {name!r}")
        value = self.user_settings.get(name)
        if value not in (None, ""):
            return value
        if value is None and name in NONE_MEANS_OFF and name in self.user_settings:
            return None
        # The environment is read on every access so a rotated secret needs no restart.
        if name in ENV_FALLBACK_KEYS and os.environ.get(name):
            return os.environ[name]
        return DEFAULTS[name]

    # -- typed accessors ---------------------------------------------------

    def _int(self, name: str, minimum: int) -> int:
        value = getattr(self, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ImproperlyConfigured(
                f"{SETTINGS_NAME}['{name}'] must be an integer >= {minimum}, got {value!r}"
            )
        return value

    # The default currency's terms (see currencies.py), for code written before CURRENCIES.

    @property
    def currency(self) -> str:
        """Lower-case ISO code of the default currency (the first of ``CURRENCIES``)."""
        from .currencies import default_currency

        return default_currency()

    @property
    def premium_price(self) -> Decimal:
        """Premium price in the default currency's major units, e.g. ``Decimal("9.99")``."""
        from .currencies import premium_price_for

        return premium_price_for(self.currency)

    @property
    def tip_min(self) -> Decimal:
        """Smallest tip accepted in the default currency, in major units."""
        from .currencies import tip_limits_for

        return tip_limits_for(self.currency)[0]

    @property
    def tip_max(self) -> Decimal:
        """Largest tip accepted in the default currency, in major units."""
        from .currencies import tip_limits_for

        return tip_limits_for(self.currency)[1]

    @property
    def tip_message_max_length(self) -> int:
        """Longest tip message accepted, in characters."""
        return self._int("TIP_MESSAGE_MAX_LENGTH", 0)

    @property
    def max_network_retries(self) -> int:
        """How many times the Stripe client retries a failed network call."""
        return self._int("STRIPE_MAX_NETWORK_RETRIES", 0)

    @property
    def webhook_tolerance(self) -> int:
        """Maximum age in seconds of a webhook signature timestamp."""
        return self._int("WEBHOOK_TOLERANCE", 1)

    @property
    def checkout_session_reuse_seconds(self) -> int:
        """How long an open premium checkout is handed out again instead of a new one."""
        return self._int("CHECKOUT_SESSION_REUSE_SECONDS", 0)

    @property
    def status_cache_seconds(self) -> int:
        """How long premium answers stay in Django's cache; 0 (the default, ``None``) is off."""
        return 0 if self.STATUS_CACHE_SECONDS is None else self._int("STATUS_CACHE_SECONDS", 0)

    @property
    @sensitive_variables("raw", "items")
    def webhook_secrets(self) -> list[str]:
        """All accepted webhook signing secrets (several during rotation).

        ``STRIPE_WEBHOOK_SECRET`` may be a string, a comma-separated string
        (handy in environment variables) or a list/tuple.
        """
        raw = self.STRIPE_WEBHOOK_SECRET
        if not raw:
            return []
        if isinstance(raw, str):
            items = raw.split(",")
        elif isinstance(raw, (list, tuple)):
            items = list(raw)
        else:
            raise ImproperlyConfigured(
                f"{SETTINGS_NAME}['STRIPE_WEBHOOK_SECRET'] must be a string or a list of strings"
            )
        return [item.strip() for item in items if isinstance(item, str) and item.strip()]

    @property
    @sensitive_variables("raw")
    def mongodb_client_options(self) -> dict[str, Any]:
        """Extra keyword arguments for the ``MongoClient`` the app creates from ``MONGODB_URI``."""
        raw = self.MONGODB_CLIENT_OPTIONS
        if raw is None:
            return {}
        if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
            raise ImproperlyConfigured(
                f"{SETTINGS_NAME}['MONGODB_CLIENT_OPTIONS'] must be a dict of MongoClient options"
            )
        return dict(raw)

    @property
    def allowed_redirect_hosts(self) -> list[str] | None:
        """Hosts allowed in success/cancel URLs, or ``None`` for request host + ``ALLOWED_HOSTS``."""
        raw = self.ALLOWED_REDIRECT_HOSTS
        if raw is None:
            return None
        if isinstance(raw, str):
            raw = [raw]
        return [str(host).strip().lower() for host in raw if str(host).strip()]

    @property
    def test_mode(self) -> bool | None:
        """``True`` for ``sk_test_``/``rk_test_`` keys, ``False`` for live keys, ``None`` if unknown."""
        return key_mode(self.STRIPE_SECRET_KEY)


def key_mode(key: str | None) -> bool | None:
    """Tell a Stripe key's mode: ``True`` test, ``False`` live, ``None`` unknown/missing."""
    if not key or not isinstance(key, str):
        return None
    if "_test_" in key:
        return True
    if "_live_" in key:
        return False
    return None


def display_value(name: str, value: Any) -> str:
    """A setting's value for reports: secrets masked (:func:`mask_secret`), others as ``repr``."""
    if name in SECRET_KEYS:
        return mask_secret(value)
    return "(not set)" if value in (None, "") else repr(value)


payments_settings = PaymentsSettings()

_connection_lock = threading.Lock()


@sensitive_variables()
def mongo_client_options(uri: str) -> dict[str, Any]:
    """Keyword arguments for the client registered from ``uri``.

    :data:`MONGODB_TIMEOUT_DEFAULTS` unless the URI or ``MONGODB_CLIENT_OPTIONS``
    names the option (in any letter case, as MongoDB does), then
    ``MONGODB_CLIENT_OPTIONS``, then what the app relies on (aware datetimes,
    standard UUIDs).
    """
    configured = payments_settings.mongodb_client_options
    named = uri_option_names(uri) | {name.lower() for name in configured}
    options: dict[str, Any] = {
        name: value for name, value in MONGODB_TIMEOUT_DEFAULTS.items() if name.lower() not in named
    }
    options.update(configured)
    options.update(tz_aware=True, uuidRepresentation="standard")
    return options


@sensitive_variables()
def ensure_mongo_connection() -> str:
    """Make sure the configured MongoEngine alias is registered; return the alias.

    When the host site has not registered ``MONGO_ALIAS`` itself but
    ``MONGODB_URI`` is set, the alias is registered from that URI with
    :func:`mongo_client_options`. A connection the host registered is used as
    it is. Nothing talks to the server here; pymongo connects on the first query.
    """
    from mongoengine.connection import ConnectionFailure, get_connection, register_connection

    alias = payments_settings.MONGO_ALIAS
    try:
        get_connection(alias)
        return alias
    except ConnectionFailure:
        pass
    with _connection_lock:
        try:
            get_connection(alias)
        except ConnectionFailure:
            uri = payments_settings.MONGODB_URI
            if not uri:
                raise ImproperlyConfigured(
                    f"MongoDB alias {alias!r} is not registered and MONGODB_URI is not set"
                ) from None
            register_connection(alias, host=uri, **mongo_client_options(uri))
    return alias


@receiver(setting_changed)
def _reload_on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        payments_settings.reload()
        from . import gateway, receipts

        gateway.reset_client()
        receipts.connect_if_enabled()
