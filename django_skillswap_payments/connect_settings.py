"""The ``CONNECT`` setting: Stripe Connect payouts of tips, off by default.

``SKILLSWAP_PAYMENTS["CONNECT"]`` is a dict::

    "CONNECT": {
        "ENABLED": True,
        "PLATFORM_FEE_PERCENT": "10",        # Decimal-compatible, 0..100 (required when enabled)
        "MINIMUM_FEE_MINOR": 30,             # int >= 0, in the currency's minor units
        "REQUIRE_ONBOARDED_RECIPIENT": True, # False: tips to recipients not onboarded are held
        "ACCOUNT_COUNTRY": None,             # two-letter country of new accounts (Stripe's default: the platform's)
        "RESTRICTED_KEY_HAS_CONNECT": False, # True: the rk_ key was granted Connect write access
    }

:func:`connect_settings` reads it into a typed :class:`ConnectSettings` and
raises ``ImproperlyConfigured`` for a value that cannot be used;
:func:`connect_problems` lists every problem for the system checks
(``skillswap_payments.E070``–``E072``).

Which keys can use Connect: a secret key (``sk_test_``/``sk_live_``) can. A
restricted key (``rk_``) can only if it was granted the Connect permissions
(Accounts, Account Links, Transfers), which cannot be told from the key
itself; the site says so with ``RESTRICTED_KEY_HAS_CONNECT``. Any other key
cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .conf import SETTINGS_NAME, payments_settings

CONNECT_DEFAULTS: dict[str, Any] = {
    "ENABLED": False,
    "PLATFORM_FEE_PERCENT": None,
    "MINIMUM_FEE_MINOR": 0,
    "REQUIRE_ONBOARDED_RECIPIENT": True,
    "ACCOUNT_COUNTRY": None,
    "RESTRICTED_KEY_HAS_CONNECT": False,
}

# Stable ids of the Connect system checks.
CHECK_INVALID = "E070"
CHECK_NO_FEE = "E071"
CHECK_KEY = "E072"

_NAME = f"{SETTINGS_NAME}['CONNECT']"


@dataclass(frozen=True)
class ConnectSettings:
    """The ``CONNECT`` setting, typed. ``fee_percent`` is ``None`` only when Connect is off."""

    enabled: bool = False
    fee_percent: Decimal | None = None
    minimum_fee_minor: int = 0
    require_onboarded_recipient: bool = True
    account_country: str | None = None
    restricted_key_has_connect: bool = False


def _merged(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ImproperlyConfigured(f"{_NAME} must be a dict, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(CONNECT_DEFAULTS), key=str)
    if unknown:
        raise ImproperlyConfigured(f"{_NAME} has unknown keys: {', '.join(map(repr, unknown))}")
    return {**CONNECT_DEFAULTS, **raw}


def _bool(raw: dict[str, Any], key: str) -> bool:
    value = raw[key]
    if not isinstance(value, bool):
        raise ImproperlyConfigured(f"{_NAME}['{key}'] must be True or False, got {value!r}")
    return value


def _fee_percent(value: Any) -> Decimal | None:
    if value is None:
        return None
    # A float such as 2.9 is taken by its shortest repr, never its binary value.
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ImproperlyConfigured(f"{_NAME}['PLATFORM_FEE_PERCENT'] must be a number, got {value!r}")
    try:
        percent = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"{_NAME}['PLATFORM_FEE_PERCENT'] must be a number, got {value!r}"
        ) from None
    if not percent.is_finite() or not Decimal(0) <= percent <= Decimal(100):
        raise ImproperlyConfigured(f"{_NAME}['PLATFORM_FEE_PERCENT'] must be between 0 and 100, got {value!r}")
    return percent


def connect_settings() -> ConnectSettings:
    """The typed ``CONNECT`` setting; raises ``ImproperlyConfigured`` for an unusable value.

    A missing fee with Connect on is reported by the checks (E071) and refused
    here too, so no tip is ever routed without a fee rule.
    """
    return parse_connect(payments_settings.CONNECT)


def parse_connect(value: Any) -> ConnectSettings:
    """:func:`connect_settings` for a given ``CONNECT`` value."""
    raw = _merged(value)
    minimum = raw["MINIMUM_FEE_MINOR"]
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
        raise ImproperlyConfigured(f"{_NAME}['MINIMUM_FEE_MINOR'] must be an integer >= 0, got {minimum!r}")
    country = raw["ACCOUNT_COUNTRY"]
    if country is not None and not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        raise ImproperlyConfigured(f"{_NAME}['ACCOUNT_COUNTRY'] must be a two-letter country code, got {country!r}")
    settings = ConnectSettings(
        enabled=_bool(raw, "ENABLED"),
        fee_percent=_fee_percent(raw["PLATFORM_FEE_PERCENT"]),
        minimum_fee_minor=minimum,
        require_onboarded_recipient=_bool(raw, "REQUIRE_ONBOARDED_RECIPIENT"),
        account_country=country.upper() if country else None,
        restricted_key_has_connect=_bool(raw, "RESTRICTED_KEY_HAS_CONNECT"),
    )
    if settings.enabled and settings.fee_percent is None:
        raise ImproperlyConfigured(f"{_NAME}: PLATFORM_FEE_PERCENT is required when Connect is enabled")
    return settings


def connect_enabled() -> bool:
    """Whether Connect is on (``False`` for an unreadable setting: the checks report it)."""
    raw = payments_settings.CONNECT
    return isinstance(raw, dict) and raw.get("ENABLED") is True


def key_can_use_connect(key: Any, *, restricted_key_has_connect: bool) -> bool:
    """Whether a Stripe secret key can create accounts and transfers (see the module docstring)."""
    if not isinstance(key, str):
        return False
    if key.startswith(("sk_test_", "sk_live_")):
        return True
    return key.startswith(("rk_test_", "rk_live_")) and restricted_key_has_connect


def connect_problems() -> list[tuple[str, str, str | None]]:
    """Every problem of the Connect configuration as ``(check id, message, hint)``."""
    raw = payments_settings.CONNECT
    if isinstance(raw, dict) and raw.get("ENABLED") is True and raw.get("PLATFORM_FEE_PERCENT") is None:
        problems: list[tuple[str, str, str | None]] = [(
            CHECK_NO_FEE,
            "Stripe Connect is enabled without a platform fee setting.",
            f"Set {_NAME}['PLATFORM_FEE_PERCENT'] (0 for no fee).",
        )]
        raw = {**raw, "PLATFORM_FEE_PERCENT": 0}  # report the other settings' problems too
    else:
        problems = []
    try:
        settings = parse_connect(raw)
    except ImproperlyConfigured as exc:
        return problems + [(CHECK_INVALID, str(exc), None)]
    key = payments_settings.STRIPE_SECRET_KEY
    if settings.enabled and key and not key_can_use_connect(
        key, restricted_key_has_connect=settings.restricted_key_has_connect
    ):
        problems.append((
            CHECK_KEY,
            "Stripe Connect is enabled but the Stripe key cannot use Connect.",
            "Use a secret key (sk_...), or a restricted key (rk_...) granted the Accounts, Account Links "
            f"and Transfers permissions with {_NAME}['RESTRICTED_KEY_HAS_CONNECT'] = True.",
        ))
    return problems
