"""Accepted currencies and, for each of them, the premium price and the tip limits.

Two forms of configuration in ``SKILLSWAP_PAYMENTS`` work together:

- the one-currency form: ``CURRENCY`` with ``PREMIUM_PRICE``, ``TIP_MIN`` and ``TIP_MAX``;
- several currencies: ``CURRENCIES`` (accepted codes, the first is the default),
  ``PREMIUM_PRICES`` (code → price) and ``TIP_LIMITS`` (code → ``[minimum, maximum]``).

Without ``CURRENCIES`` the only currency is ``CURRENCY``. The currency named by
``CURRENCY`` takes its price and limits from the one-currency keys unless the
dicts name it, so a site that adds ``"eur"`` keeps its dollar settings as they
are. Every other accepted currency needs an entry in both dicts. The checks of
:func:`check_currencies` (E040–E044, W040–W041) name what is missing or wrong;
at run time the same problems raise :class:`CurrencyConfigError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .conf import SETTINGS_NAME, payments_settings
from .errors import InvalidAmount, UnsupportedCurrency
from .money import (
    currency_exponent,
    from_minor_units,
    minor_unit_step,
    normalize_currency,
    parse_amount,
)

CHECK_TAG = "skillswap_payments"
ONE_CURRENCY_CHECK = f"{CHECK_TAG}.E004"
BAD_CURRENCIES = f"{CHECK_TAG}.E040"
MISSING_PRICE = f"{CHECK_TAG}.E041"
MISSING_LIMITS = f"{CHECK_TAG}.E042"
BAD_PRICES = f"{CHECK_TAG}.E043"
BAD_LIMITS = f"{CHECK_TAG}.E044"
UNUSED_ENTRIES = f"{CHECK_TAG}.W040"
UNUSED_ONE_CURRENCY_KEYS = f"{CHECK_TAG}.W041"

ONE_CURRENCY_KEYS = ("CURRENCY", "PREMIUM_PRICE", "TIP_MIN", "TIP_MAX")


class CurrencyConfigError(ImproperlyConfigured):
    """A currency setting is unusable; ``check_id`` is the system check that reports it."""

    def __init__(self, message: str, check_id: str) -> None:
        super().__init__(message)
        self.check_id = check_id


@dataclass(frozen=True)
class CurrencyTerms:
    """What a checkout in one currency costs and allows, in that currency's major units."""

    currency: str
    premium_price: Decimal
    tip_min: Decimal
    tip_max: Decimal

    @property
    def decimals(self) -> int:
        """Decimal places of the currency (``jpy`` 0, ``usd`` 2, ``kwd`` 3)."""
        return currency_exponent(self.currency)

    @property
    def amount_step(self) -> Decimal:
        """Every amount is a multiple of this (``0.01`` for usd, ``0.010`` for kwd, ``1`` for jpy)."""
        return from_minor_units(minor_unit_step(self.currency), self.currency)


# -- the one-currency form -------------------------------------------------------


def single_currency() -> str:
    """``CURRENCY``, lower-cased; the currency the one-currency keys describe."""
    try:
        return normalize_currency(payments_settings.CURRENCY)
    except InvalidAmount:
        raise CurrencyConfigError(
            f"{SETTINGS_NAME}['CURRENCY'] must be a 3-letter code, got {payments_settings.CURRENCY!r}",
            ONE_CURRENCY_CHECK,
        ) from None


def _single_amount(name: str) -> Decimal:
    try:
        return parse_amount(getattr(payments_settings, name), currency=single_currency())
    except InvalidAmount as exc:
        raise CurrencyConfigError(f"{SETTINGS_NAME}['{name}']: {exc.error}", ONE_CURRENCY_CHECK) from None


def single_terms() -> CurrencyTerms:
    """``CURRENCY`` with ``PREMIUM_PRICE``, ``TIP_MIN`` and ``TIP_MAX``, validated."""
    tip_min, tip_max = _single_amount("TIP_MIN"), _single_amount("TIP_MAX")
    if tip_max < tip_min:
        raise CurrencyConfigError(f"{SETTINGS_NAME}: TIP_MAX must not be below TIP_MIN", ONE_CURRENCY_CHECK)
    return CurrencyTerms(single_currency(), _single_amount("PREMIUM_PRICE"), tip_min, tip_max)


# -- several currencies --------------------------------------------------------------


def accepted_currencies() -> tuple[str, ...]:
    """The accepted currency codes, lower-case, the default first."""
    raw = payments_settings.CURRENCIES
    if raw is None:
        return (single_currency(),)
    problem = f"{SETTINGS_NAME}['CURRENCIES'] must be a non-empty list of 3-letter currency codes"
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)) or not raw:
        raise CurrencyConfigError(f"{problem}, got {raw!r}", BAD_CURRENCIES)
    codes: list[str] = []
    for item in raw:
        try:
            code = normalize_currency(item)
        except InvalidAmount:
            raise CurrencyConfigError(f"{problem}; {item!r} is not one", BAD_CURRENCIES) from None
        if code in codes:
            raise CurrencyConfigError(f"{SETTINGS_NAME}['CURRENCIES'] names {code} twice", BAD_CURRENCIES)
        codes.append(code)
    return tuple(codes)


def default_currency() -> str:
    """The currency of a checkout that names none: the first accepted one."""
    return accepted_currencies()[0]


def _entries(name: str, check_id: str) -> dict[str, Any]:
    """``PREMIUM_PRICES`` or ``TIP_LIMITS`` with lower-cased keys (empty when unset)."""
    raw = getattr(payments_settings, name)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CurrencyConfigError(f"{SETTINGS_NAME}['{name}'] must be a dict keyed by currency code", check_id)
    entries: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            code = normalize_currency(key)
        except InvalidAmount:
            raise CurrencyConfigError(
                f"{SETTINGS_NAME}['{name}']: {key!r} is not a 3-letter currency code", check_id
            ) from None
        if code in entries:
            raise CurrencyConfigError(f"{SETTINGS_NAME}['{name}'] names {code} twice", check_id)
        entries[code] = value
    return entries


def _falls_back_to_single(code: str, entries: dict[str, Any]) -> bool:
    return code not in entries and code == single_currency()


def _amount(name: str, code: str, value: Any, check_id: str) -> Decimal:
    try:
        return parse_amount(value, currency=code)
    except InvalidAmount as exc:
        raise CurrencyConfigError(f"{SETTINGS_NAME}['{name}']['{code}']: {exc.error}", check_id) from None


def premium_price_for(code: str) -> Decimal:
    """The premium price in ``code`` (an accepted currency), in its major units."""
    prices = _entries("PREMIUM_PRICES", BAD_PRICES)
    if _falls_back_to_single(code, prices):
        return _single_amount("PREMIUM_PRICE")
    if code not in prices:
        raise CurrencyConfigError(f"{SETTINGS_NAME}['PREMIUM_PRICES'] has no price for {code}", MISSING_PRICE)
    return _amount("PREMIUM_PRICES", code, prices[code], BAD_PRICES)


def tip_limits_for(code: str) -> tuple[Decimal, Decimal]:
    """The smallest and largest tip in ``code`` (an accepted currency), in its major units."""
    limits = _entries("TIP_LIMITS", BAD_LIMITS)
    if _falls_back_to_single(code, limits):
        terms = single_terms()
        return terms.tip_min, terms.tip_max
    if code not in limits:
        raise CurrencyConfigError(f"{SETTINGS_NAME}['TIP_LIMITS'] has no limits for {code}", MISSING_LIMITS)
    pair = limits[code]
    if isinstance(pair, (str, bytes)) or not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise CurrencyConfigError(
            f"{SETTINGS_NAME}['TIP_LIMITS']['{code}'] must be [minimum, maximum], got {pair!r}", BAD_LIMITS
        )
    low, high = (_amount("TIP_LIMITS", code, value, BAD_LIMITS) for value in pair)
    if high < low:
        raise CurrencyConfigError(
            f"{SETTINGS_NAME}['TIP_LIMITS']['{code}']: the maximum must not be below the minimum", BAD_LIMITS
        )
    return low, high


def terms_for(code: str) -> CurrencyTerms:
    """Price and tip limits of the accepted currency ``code``."""
    tip_min, tip_max = tip_limits_for(code)
    return CurrencyTerms(code, premium_price_for(code), tip_min, tip_max)


def checkout_terms(requested: Any = None) -> CurrencyTerms:
    """The terms of a checkout in ``requested`` (any letter case), or in the default currency.

    Raises :class:`~django_skillswap_payments.errors.UnsupportedCurrency` for a
    code the site does not accept.
    """
    accepted = accepted_currencies()
    if requested is None:
        return terms_for(accepted[0])
    try:
        code = normalize_currency(requested)
    except InvalidAmount:
        code = None
    if code not in accepted:
        raise UnsupportedCurrency(
            f"Currency {str(requested)[:16]!r} is not accepted; use one of: {', '.join(accepted)}",
            detail={"accepted": list(accepted)},
        )
    return terms_for(code)


def all_terms() -> list[CurrencyTerms]:
    """The terms of every accepted currency, the default first."""
    return [terms_for(code) for code in accepted_currencies()]


def price_list() -> dict[str, Any]:
    """``{default_currency, currencies}``: what a checkout may be paid in, and at which terms."""
    terms = all_terms()
    return {"default_currency": terms[0].currency, "currencies": terms}


# -- system checks -------------------------------------------------------------------


def _listed(codes: Iterable[str]) -> str:
    return ", ".join(codes)


def check_currencies(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every accepted currency has a usable price and tip limits; nothing configured is ignored silently.

    Invalid one-currency keys are left to ``E004`` (``checks.check_settings``).
    """
    payments_settings.reload()
    try:
        accepted = accepted_currencies()
    except CurrencyConfigError as exc:
        return [] if exc.check_id == ONE_CURRENCY_CHECK else [checks.Error(str(exc), id=exc.check_id)]
    messages: list[checks.CheckMessage] = []
    try:
        single: str | None = single_currency()
    except CurrencyConfigError:
        single = None
    configured: dict[str, dict[str, Any]] = {}
    for name, check_id in (("PREMIUM_PRICES", BAD_PRICES), ("TIP_LIMITS", BAD_LIMITS)):
        try:
            configured[name] = _entries(name, check_id)
        except CurrencyConfigError as exc:
            messages.append(checks.Error(str(exc), id=exc.check_id))
            configured[name] = {}
    for name, check_id, what in (
        ("PREMIUM_PRICES", MISSING_PRICE, "premium price"),
        ("TIP_LIMITS", MISSING_LIMITS, "tip limits"),
    ):
        missing = [code for code in accepted if code not in configured[name] and code != single]
        if missing:
            messages.append(
                checks.Error(
                    f"No {what} for the accepted currencies {_listed(missing)}.",
                    hint=f"Add {_listed(repr(code) for code in missing)} to {SETTINGS_NAME}['{name}'].",
                    id=check_id,
                )
            )
    for code in accepted:
        for read in (premium_price_for, tip_limits_for):
            try:
                read(code)
            except CurrencyConfigError as exc:
                if exc.check_id in (BAD_PRICES, BAD_LIMITS) and not any(str(exc) == m.msg for m in messages):
                    messages.append(checks.Error(str(exc), id=exc.check_id))
    unused = sorted((set(configured["PREMIUM_PRICES"]) | set(configured["TIP_LIMITS"])) - set(accepted))
    if unused:
        messages.append(
            checks.Warning(
                f"PREMIUM_PRICES or TIP_LIMITS name {_listed(unused)}, which CURRENCIES does not accept; "
                "those entries are ignored.",
                hint=f"Add them to {SETTINGS_NAME}['CURRENCIES'] or remove them.",
                id=UNUSED_ENTRIES,
            )
        )
    set_single_keys = [key for key in ONE_CURRENCY_KEYS if payments_settings.source(key) == "settings"]
    if single is not None and single not in accepted and set_single_keys:
        messages.append(
            checks.Warning(
                f"{_listed(set_single_keys)} describe {single}, which CURRENCIES does not accept; "
                "they are ignored.",
                hint="Accept that currency in CURRENCIES, or set its price and limits in PREMIUM_PRICES and TIP_LIMITS.",
                id=UNUSED_ONE_CURRENCY_KEYS,
            )
        )
    return messages
