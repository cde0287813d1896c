"""Exact money handling: parsing, minor units and formatting.

Amounts are :class:`decimal.Decimal` in major units (``Decimal("9.99")``) or
``int`` minor units (``999``); floats never take part in arithmetic. A float
that reaches :func:`parse_amount` (e.g. from a JSON body) is converted through
its shortest ``repr`` — ``10.1`` becomes ``Decimal("10.1")``, not the binary
approximation.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import InvalidAmount

# Currencies whose smallest unit is not 1/100, as listed by Stripe.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
THREE_DECIMAL_CURRENCIES = frozenset("bhd jod kwd omr tnd".split())
# Stripe takes three-decimal amounts only in whole tens of minor units (its card partners
# cannot settle the last digit), and ISK, two-decimal in its API, only in whole kronur.
_MINOR_UNIT_STEPS = {**dict.fromkeys(THREE_DECIMAL_CURRENCIES, 10), "isk": 100}

# Stripe rejects charges above 99,999,999 minor units for most currencies.
MAX_AMOUNT_MINOR = 99_999_999

_AMOUNT_PATTERN = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
# Amounts of 10**15 major units or more are beyond any charge in any currency.
# Refusing them before any Decimal arithmetic also keeps quantize() within the
# default 28-digit context, which raises InvalidOperation for values like 1e400.
_ABSURD_ADJUSTED_EXPONENT = 15


def currency_exponent(currency: str) -> int:
    """Return how many decimal places ``currency`` has (``usd`` → 2, ``jpy`` → 0)."""
    code = normalize_currency(currency)
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def is_minor_amount(value: Any) -> bool:
    """Whether ``value`` is an amount in minor units as Stripe reports one: a non-negative
    integer (never a bool) that MongoDB can store as a 64-bit integer."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def minor_unit_step(currency: str) -> int:
    """Smallest chargeable step in minor units (``usd`` → 1, ``kwd`` → 10, ``isk`` → 100)."""
    return _MINOR_UNIT_STEPS.get(normalize_currency(currency), 1)


def normalize_currency(currency: str) -> str:
    """Lower-case a three-letter ISO currency code; raise ``InvalidAmount`` otherwise."""
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Za-z]{3}", currency.strip()):
        raise InvalidAmount(f"Invalid currency code: {currency!r}")
    return currency.strip().lower()


def _to_decimal(value: object) -> Decimal:
    # bool is an int subclass; True must not silently become one dollar.
    if isinstance(value, bool):
        raise InvalidAmount("Amount must be a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidAmount("Amount must be a finite number")
        result = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        # Decimal() alone would also accept "1_000", "1e3", "NaN" and "Infinity".
        if not _AMOUNT_PATTERN.match(text):
            raise InvalidAmount("Amount must be a decimal number such as 10 or 10.50")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise InvalidAmount("Amount must be a decimal number such as 10 or 10.50") from None
    else:
        raise InvalidAmount("Amount must be a number")
    if not result.is_finite():
        raise InvalidAmount("Amount must be a finite number")
    return result


def parse_amount(
    value: object,
    *,
    currency: str = "usd",
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
) -> Decimal:
    """Parse a user-supplied amount into an exact ``Decimal`` in major units.

    Accepts ``str``, ``int``, ``Decimal`` and finite ``float`` (via ``repr``).
    Rejects ``bool``, NaN/Infinity, zero and negative values, more decimal
    places than ``currency`` allows (``0.999`` for usd, ``1.5`` for jpy), amounts
    Stripe cannot charge in ``currency`` (:func:`minor_unit_step`: ``1.005`` for
    kwd), values outside ``[minimum, maximum]`` and values above Stripe's ceiling. The result
    is quantized to the currency's exponent (``"10"`` → ``Decimal("10.00")``).
    Raises :class:`~django_skillswap_payments.errors.InvalidAmount`.
    """
    amount = _to_decimal(value)
    exponent = currency_exponent(currency)
    if amount < 0:
        raise InvalidAmount("Amount must not be negative")
    if amount == 0:
        raise InvalidAmount("Amount must be greater than zero")
    if amount.adjusted() >= _ABSURD_ADJUSTED_EXPONENT:
        raise InvalidAmount("Amount is too large")
    quantum = Decimal(1).scaleb(-exponent)
    quantized = amount.quantize(quantum)
    if quantized != amount:
        raise InvalidAmount(
            f"Amount must have at most {exponent} decimal places"
            if exponent
            else "Amount must be a whole number in this currency"
        )
    step = minor_unit_step(currency)
    if to_minor_units(quantized, currency) % step:
        smallest = from_minor_units(step, currency)
        raise InvalidAmount(f"Amount must be a multiple of {format_amount(smallest, currency)}")
    if (minimum is not None and quantized < minimum) or (
        maximum is not None and quantized > maximum
    ):
        low = format_amount(minimum, currency) if minimum is not None else None
        high = format_amount(maximum, currency) if maximum is not None else None
        if low and high:
            raise InvalidAmount(
                f"Amount must be between {low} and {high}",
                detail={"minimum": str(minimum), "maximum": str(maximum)},
            )
        raise InvalidAmount(
            f"Amount must be at least {low}" if low else f"Amount must be at most {high}"
        )
    if to_minor_units(quantized, currency) > MAX_AMOUNT_MINOR:
        raise InvalidAmount("Amount is too large")
    return quantized


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Convert an exact major-unit ``Decimal`` into integer minor units.

    Raises ``InvalidAmount`` if ``amount`` has more precision than the
    currency allows, instead of rounding money silently.
    """
    if isinstance(amount, (bool, float)) or not isinstance(amount, (Decimal, int)):
        raise InvalidAmount("Amount must be a Decimal or int")
    scaled = Decimal(amount).scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidAmount("Amount has more decimal places than the currency allows")
    return int(scaled)


def from_minor_units(amount_minor: int, currency: str) -> Decimal:
    """Convert integer minor units into a major-unit ``Decimal`` (``999`` → ``Decimal("9.99")``)."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise InvalidAmount("Minor-unit amount must be an int")
    exponent = currency_exponent(currency)
    return Decimal(amount_minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def format_amount(amount: Decimal, currency: str) -> str:
    """Render an amount for people: ``format_amount(Decimal("9.99"), "usd")`` → ``"9.99 USD"``."""
    exponent = currency_exponent(currency)
    quantized = Decimal(amount).quantize(Decimal(1).scaleb(-exponent))
    return f"{quantized:f} {normalize_currency(currency).upper()}"
