"""Exact money parsing and conversion."""

from decimal import Decimal

import pytest

from django_skillswap_payments.errors import InvalidAmount
from django_skillswap_payments.money import (
    currency_exponent,
    format_amount,
    from_minor_units,
    parse_amount,
    to_minor_units,
)

TIP_MIN, TIP_MAX = Decimal("1.00"), Decimal("1000.00")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10", Decimal("10.00")),
        ("10.5", Decimal("10.50")),
        (" 9.99 ", Decimal("9.99")),
        ("10.000", Decimal("10.00")),
        (10, Decimal("10.00")),
        (Decimal("1000.00"), Decimal("1000.00")),
        (10.1, Decimal("10.10")),
        (0.29, Decimal("0.29")),
        ("1", Decimal("1.00")),
    ],
)
def test_parse_accepts_exact_amounts(raw, expected):
    assert parse_amount(raw) == expected
    assert parse_amount(raw).as_tuple().exponent == -2


@pytest.mark.parametrize(
    "raw",
    [
        "0.999",
        "1000.001",
        0.999,
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        float("nan"),
        float("inf"),
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        "-5",
        -5,
        Decimal("-0.01"),
        "0",
        0,
        True,
        False,
        None,
        "",
        "abc",
        "1e3",
        "1_000",
        "10,00",
        [10],
    ],
)
def test_parse_rejects_invalid_amounts(raw):
    with pytest.raises(InvalidAmount):
        parse_amount(raw)


def test_bool_is_not_one_dollar():
    with pytest.raises(InvalidAmount, match="number"):
        parse_amount(True)


def test_negative_has_specific_message():
    with pytest.raises(InvalidAmount, match="negative"):
        parse_amount("-1")


@pytest.mark.parametrize("raw", ["0.99", "1000.01", "1000.001", "0.999", 5000])
def test_range_limits(raw):
    with pytest.raises(InvalidAmount):
        parse_amount(raw, minimum=TIP_MIN, maximum=TIP_MAX)


@pytest.mark.parametrize("raw", ["1", "1.00", "1000", "1000.00", "10"])
def test_range_bounds_are_inclusive(raw):
    assert TIP_MIN <= parse_amount(raw, minimum=TIP_MIN, maximum=TIP_MAX) <= TIP_MAX


def test_range_message_names_the_bounds():
    with pytest.raises(InvalidAmount) as excinfo:
        parse_amount("0.50", minimum=TIP_MIN, maximum=TIP_MAX)
    assert excinfo.value.error == "Amount must be between 1.00 USD and 1000.00 USD"


def test_stripe_ceiling():
    assert parse_amount("999999.99") == Decimal("999999.99")
    with pytest.raises(InvalidAmount, match="too large"):
        parse_amount("1000000.00")


def test_zero_decimal_currency():
    assert currency_exponent("JPY") == 0
    assert parse_amount("500", currency="jpy") == Decimal("500")
    with pytest.raises(InvalidAmount, match="whole number"):
        parse_amount("500.5", currency="jpy")
    assert to_minor_units(Decimal("500"), "jpy") == 500
    assert from_minor_units(500, "jpy") == Decimal("500")


def test_three_decimal_currency():
    assert currency_exponent("kwd") == 3
    assert parse_amount("1.230", currency="kwd") == Decimal("1.230")
    assert to_minor_units(Decimal("1.234"), "kwd") == 1234


def test_minor_unit_round_trip():
    for cents in (1, 99, 999, 100000, 99_999_999):
        assert to_minor_units(from_minor_units(cents, "usd"), "usd") == cents
    assert to_minor_units(Decimal("9.99"), "usd") == 999
    assert from_minor_units(999, "usd") == Decimal("9.99")


def test_to_minor_units_refuses_to_round_or_take_floats():
    with pytest.raises(InvalidAmount):
        to_minor_units(Decimal("0.999"), "usd")
    with pytest.raises(InvalidAmount):
        to_minor_units(9.99, "usd")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        from_minor_units(True, "usd")  # type: ignore[arg-type]


def test_invalid_currency():
    with pytest.raises(InvalidAmount):
        parse_amount("1", currency="dollars")


def test_format_amount():
    assert format_amount(Decimal("9.9"), "usd") == "9.90 USD"
    assert format_amount(Decimal("500"), "jpy") == "500 JPY"


@pytest.mark.parametrize(
    "raw",
    [
        10**400,
        Decimal("1e400"),
        Decimal("1E+999999999"),
        1e308,
        Decimal("9" * 40),
        "12345678901234567890123456789.5",
    ],
)
@pytest.mark.parametrize("bounds", [{}, {"minimum": TIP_MIN, "maximum": TIP_MAX}])
def test_huge_amounts_are_invalid_not_a_decimal_error(raw, bounds):
    # Decimal's 28-digit context would raise InvalidOperation inside quantize().
    with pytest.raises(InvalidAmount, match="too large"):
        parse_amount(raw, **bounds)


@pytest.mark.parametrize("raw", ["1e400", "1E400", Decimal("-1e400")])
def test_exponent_strings_and_huge_negatives_are_invalid(raw):
    with pytest.raises(InvalidAmount):
        parse_amount(raw, minimum=TIP_MIN, maximum=TIP_MAX)


def test_tiny_exponents_are_too_precise_not_an_error():
    with pytest.raises(InvalidAmount, match="decimal places"):
        parse_amount(Decimal("1e-999999999"))
    with pytest.raises(InvalidAmount, match="decimal places"):
        parse_amount("1.000000000000000000000000000000000001")
