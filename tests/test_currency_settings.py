"""Several currencies: the settings, their system checks, and amounts a currency cannot express."""

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_skillswap_payments import currencies
from django_skillswap_payments.checks import check_settings
from django_skillswap_payments.conf import payments_settings as app_settings
from django_skillswap_payments.errors import InvalidAmount, UnsupportedCurrency
from django_skillswap_payments.money import (
    THREE_DECIMAL_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
    minor_unit_step,
    parse_amount,
)

BASE = {
    "STRIPE_SECRET_KEY": "sk_test_suite",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_suite",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_suite",
    "MONGO_ALIAS": "default",
}
SEVERAL = {
    **BASE,
    "CURRENCIES": ["usd", "EUR", "jpy", "kwd"],
    "PREMIUM_PRICES": {"eur": "8.99", "JPY": "1500", "kwd": "3.050"},
    "TIP_LIMITS": {"eur": ["1.00", "900.00"], "jpy": ["100", "100000"], "kwd": ["0.500", "300.000"]},
}


def ids(messages):
    return sorted(message.id for message in messages)


def currency_checks(config):
    with override_settings(SKILLSWAP_PAYMENTS=config):
        return currencies.check_currencies()


# -- terms ------------------------------------------------------------------------


def test_one_currency_form_is_the_default():
    assert currencies.accepted_currencies() == ("usd",)
    assert currencies.checkout_terms() == currencies.CurrencyTerms(
        "usd", Decimal("9.99"), Decimal("1.00"), Decimal("1000.00")
    )
    assert currency_checks(BASE) == []


def test_one_currency_form_names_its_currency():
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "CURRENCY": "JPY", "PREMIUM_PRICE": "1200", "TIP_MIN": "100", "TIP_MAX": "5000"}):
        assert currencies.accepted_currencies() == ("jpy",)
        assert (app_settings.currency, app_settings.premium_price) == ("jpy", Decimal("1200"))
        assert (app_settings.tip_min, app_settings.tip_max) == (Decimal("100"), Decimal("5000"))


def test_several_currencies_each_with_its_own_terms():
    with override_settings(SKILLSWAP_PAYMENTS=SEVERAL):
        assert currencies.accepted_currencies() == ("usd", "eur", "jpy", "kwd")
        # CURRENCY (usd) keeps PREMIUM_PRICE, TIP_MIN and TIP_MAX: the dicts need not name it.
        assert currencies.terms_for("usd") == currencies.CurrencyTerms(
            "usd", Decimal("9.99"), Decimal("1.00"), Decimal("1000.00")
        )
        assert currencies.checkout_terms("EUR") == currencies.CurrencyTerms(
            "eur", Decimal("8.99"), Decimal("1.00"), Decimal("900.00")
        )
        jpy = currencies.checkout_terms("jpy")
        assert (jpy.premium_price, jpy.tip_min, jpy.tip_max) == (Decimal("1500"), Decimal("100"), Decimal("100000"))
        assert currencies.checkout_terms("kwd").premium_price == Decimal("3.050")
        assert [terms.currency for terms in currencies.all_terms()] == ["usd", "eur", "jpy", "kwd"]
        assert check_settings() == [] and currencies.check_currencies() == []


def test_the_first_accepted_currency_is_the_default_and_feeds_the_old_accessors():
    config = {**SEVERAL, "CURRENCIES": ["eur", "usd"]}
    with override_settings(SKILLSWAP_PAYMENTS=config):
        assert currencies.checkout_terms().currency == "eur"
        assert (app_settings.currency, app_settings.premium_price) == ("eur", Decimal("8.99"))
        assert (app_settings.tip_min, app_settings.tip_max) == (Decimal("1.00"), Decimal("900.00"))


def test_a_price_in_the_dict_wins_over_the_one_currency_form():
    with override_settings(SKILLSWAP_PAYMENTS={**SEVERAL, "PREMIUM_PRICES": {**SEVERAL["PREMIUM_PRICES"], "usd": "12.00"}}):
        assert currencies.terms_for("usd").premium_price == Decimal("12.00")


@pytest.mark.parametrize("requested", ["gbp", "GBP", "xx", "usdd", "", " ", "€", "jp y", "1", "ЕUR"])
def test_a_currency_not_accepted_is_refused(requested):
    with override_settings(SKILLSWAP_PAYMENTS=SEVERAL), pytest.raises(UnsupportedCurrency) as caught:
        currencies.checkout_terms(requested)
    assert caught.value.error.endswith("use one of: usd, eur, jpy, kwd")


# -- system checks ----------------------------------------------------------------


def test_missing_prices_and_limits_are_named():
    config = {**BASE, "CURRENCIES": ["usd", "eur", "jpy", "chf"], "PREMIUM_PRICES": {"eur": "8.99"}, "TIP_LIMITS": {"jpy": [100, 1000]}}
    messages = currency_checks(config)
    assert ids(messages) == ["skillswap_payments.E041", "skillswap_payments.E042"]
    by_id = {message.id: message for message in messages}
    assert by_id["skillswap_payments.E041"].msg == "No premium price for the accepted currencies jpy, chf."
    assert "'jpy', 'chf'" in by_id["skillswap_payments.E041"].hint and "PREMIUM_PRICES" in by_id["skillswap_payments.E041"].hint
    assert by_id["skillswap_payments.E042"].msg == "No tip limits for the accepted currencies eur, chf."
    with override_settings(SKILLSWAP_PAYMENTS=config), pytest.raises(ImproperlyConfigured, match="no price for jpy"):
        currencies.checkout_terms("jpy")


def test_without_the_one_currency_among_them_every_currency_needs_both_entries():
    config = {**BASE, "CURRENCIES": ["eur"]}
    assert ids(currency_checks(config)) == ["skillswap_payments.E041", "skillswap_payments.E042"]
    with override_settings(SKILLSWAP_PAYMENTS=config), pytest.raises(ImproperlyConfigured):
        app_settings.premium_price  # noqa: B018


@pytest.mark.parametrize(
    "value", ["usd", [], (), ["usd", "usd"], ["usd", "USD"], ["usd", "dollars"], ["usd", 5], {"usd": 1}, 7]
)
def test_malformed_currencies_are_e040(value):
    assert ids(currency_checks({**BASE, "CURRENCIES": value})) == ["skillswap_payments.E040"]


@pytest.mark.parametrize(
    ("prices", "fragment"),
    [
        ({"JPY": "1500.5"}, "whole number"),
        ({"JPY": "abc"}, "decimal number"),
        ({"jpy": "1500"}, "names jpy twice"),
        ({"kwd": "3.055"}, "multiple of 0.010 KWD"),
        ({"eur": "8.999"}, "at most 2 decimal places"),
        ({"eur": "0"}, "greater than zero"),
        ({"euro": "8.99"}, "not a 3-letter currency code"),
        (["8.99"], "must be a dict"),
    ],
)
def test_malformed_prices_are_e043(prices, fragment):
    merged = {**SEVERAL["PREMIUM_PRICES"], **prices} if isinstance(prices, dict) else prices
    config = {**SEVERAL, "PREMIUM_PRICES": merged}
    messages = [m for m in currency_checks(config) if m.id == "skillswap_payments.E043"]
    assert messages and fragment in messages[0].msg


@pytest.mark.parametrize(
    ("limits", "fragment"),
    [
        ({"jpy": ["100.5", "1000"]}, "whole number"),
        ({"jpy": ["1000", "100"]}, "maximum must not be below the minimum"),
        ({"jpy": ["100"]}, "must be [minimum, maximum]"),
        ({"jpy": "100-1000"}, "must be [minimum, maximum]"),
        ({"kwd": ["0.505", "300.000"]}, "multiple of 0.010 KWD"),
        ({"eur": ["1.00", "-5"]}, "must not be negative"),
    ],
)
def test_malformed_tip_limits_are_e044(limits, fragment):
    config = {**SEVERAL, "TIP_LIMITS": {**SEVERAL["TIP_LIMITS"], **limits}}
    messages = currency_checks(config)
    assert ids(messages) == ["skillswap_payments.E044"]
    assert fragment in messages[0].msg


def test_entries_for_currencies_not_accepted_are_w040():
    config = {**SEVERAL, "CURRENCIES": ["usd", "eur"]}
    messages = currency_checks(config)
    assert ids(messages) == ["skillswap_payments.W040"]
    assert "jpy, kwd" in messages[0].msg


def test_one_currency_keys_set_for_a_currency_not_accepted_are_w041():
    config = {**SEVERAL, "CURRENCIES": ["eur", "jpy", "kwd"], "PREMIUM_PRICE": "19.00"}
    assert ids(currency_checks(config)) == ["skillswap_payments.W041"]
    # Left at their defaults they are not worth a warning.
    assert currency_checks({**SEVERAL, "CURRENCIES": ["eur", "jpy", "kwd"]}) == []


def test_invalid_one_currency_keys_stay_e004_only():
    config = {**SEVERAL, "PREMIUM_PRICE": "free"}
    with override_settings(SKILLSWAP_PAYMENTS=config):
        assert ids(check_settings()) == ["skillswap_payments.E004"]
        assert currencies.check_currencies() == []


# -- amounts a currency cannot express ------------------------------------------------


@pytest.mark.parametrize("currency", sorted(ZERO_DECIMAL_CURRENCIES))
@pytest.mark.parametrize("raw", ["100.5", "100.01", Decimal("1.1"), 0.5])
def test_zero_decimal_currencies_refuse_fractions(currency, raw):
    with pytest.raises(InvalidAmount, match="whole number"):
        parse_amount(raw, currency=currency)
    assert parse_amount("100", currency=currency) == Decimal("100")


@pytest.mark.parametrize("currency", sorted(THREE_DECIMAL_CURRENCIES))
@pytest.mark.parametrize("raw", ["1.001", "1.005", "0.999", Decimal("12.345"), 2.011])
def test_three_decimal_currencies_refuse_amounts_stripe_cannot_charge(currency, raw):
    assert minor_unit_step(currency) == 10
    with pytest.raises(InvalidAmount, match=f"multiple of 0.010 {currency.upper()}"):
        parse_amount(raw, currency=currency)
    assert parse_amount("1.23", currency=currency) == Decimal("1.230")


@pytest.mark.parametrize("raw", ["1.1", "10.01", "0.50"])
def test_isk_is_charged_in_whole_kronur(raw):
    with pytest.raises(InvalidAmount, match="multiple of 1.00 ISK"):
        parse_amount(raw, currency="isk")
    assert parse_amount("150", currency="isk") == Decimal("150.00")


@pytest.mark.parametrize("currency", ["usd", "eur", "gbp", "chf", "huf", "twd"])
def test_two_decimal_currencies_take_any_cent(currency):
    assert minor_unit_step(currency) == 1
    assert parse_amount("10.01", currency=currency) == Decimal("10.01")
