"""The CONNECT setting: typed parsing, and the system checks E070-E072."""

from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_skillswap_payments import conf
from django_skillswap_payments.checks import check_connect
from django_skillswap_payments.connect_settings import (
    ConnectSettings,
    connect_settings,
    key_can_use_connect,
)

BASE = {
    "STRIPE_SECRET_KEY": "sk_test_suite",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_suite",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_suite",
    "MONGO_ALIAS": "default",
}
ON = {"ENABLED": True, "PLATFORM_FEE_PERCENT": "10"}


@pytest.fixture(autouse=True)
def no_env_secrets(monkeypatch):
    for name in conf.ENV_FALLBACK_KEYS:
        monkeypatch.delenv(name, raising=False)


def ids(messages):
    return sorted(message.id for message in messages)


def test_off_by_default_and_no_check_fires():
    with override_settings(SKILLSWAP_PAYMENTS=BASE):
        assert connect_settings() == ConnectSettings()
        assert check_connect() == []


def test_a_full_configuration_is_typed():
    connect = {
        "ENABLED": True,
        "PLATFORM_FEE_PERCENT": 2.9,
        "MINIMUM_FEE_MINOR": 30,
        "REQUIRE_ONBOARDED_RECIPIENT": False,
        "ACCOUNT_COUNTRY": "gb",
    }
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "CONNECT": connect}):
        parsed = connect_settings()
        assert check_connect() == []
    assert parsed.fee_percent == Decimal("2.9")  # the float's shortest repr, not its binary value
    assert parsed.minimum_fee_minor == 30
    assert parsed.require_onboarded_recipient is False
    assert parsed.account_country == "GB"


def test_enabled_without_fee_is_e071():
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "CONNECT": {"ENABLED": True}}):
        assert ids(check_connect()) == ["skillswap_payments.E071"]
        with pytest.raises(ImproperlyConfigured):
            connect_settings()


@pytest.mark.parametrize(
    "connect",
    [
        "yes",
        {"ENABLED": "true", "PLATFORM_FEE_PERCENT": "10"},
        {**ON, "PLATFORM_FEE_PERCENT": "ten"},
        {**ON, "PLATFORM_FEE_PERCENT": "-1"},
        {**ON, "PLATFORM_FEE_PERCENT": "100.01"},
        {**ON, "PLATFORM_FEE_PERCENT": "NaN"},
        {**ON, "PLATFORM_FEE_PERCENT": True},
        {**ON, "MINIMUM_FEE_MINOR": -1},
        {**ON, "MINIMUM_FEE_MINOR": "30"},
        {**ON, "MINIMUM_FEE_MINOR": 1.5},
        {**ON, "REQUIRE_ONBOARDED_RECIPIENT": 0},
        {**ON, "ACCOUNT_COUNTRY": "USA"},
        {**ON, "FEE": 10},
    ],
)
def test_malformed_setting_is_e070(connect):
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "CONNECT": connect}):
        assert ids(check_connect()) == ["skillswap_payments.E070"]
        with pytest.raises(ImproperlyConfigured):
            connect_settings()


@pytest.mark.parametrize(
    ("key", "acknowledged", "usable"),
    [
        ("sk_test_abc", False, True),
        ("sk_live_abc", False, True),
        ("rk_test_abc", False, False),
        ("rk_live_abc", False, False),
        ("rk_test_abc", True, True),
        ("rk_live_abc", True, True),
        ("pk_test_abc", True, False),
        ("whsec_abc", True, False),
        ("sk_abc", False, False),
    ],
)
def test_connect_key_rule_is_e072(key, acknowledged, usable):
    connect = {**ON, "RESTRICTED_KEY_HAS_CONNECT": acknowledged}
    assert key_can_use_connect(key, restricted_key_has_connect=acknowledged) is usable
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "STRIPE_SECRET_KEY": key, "CONNECT": connect}):
        assert ids(check_connect()) == ([] if usable else ["skillswap_payments.E072"])
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "STRIPE_SECRET_KEY": key, "CONNECT": {**connect, "ENABLED": False}}):
        assert check_connect() == []  # the key only matters with Connect on


def test_the_connect_check_is_registered():
    from django.core import checks

    assert check_connect in checks.registry.registry.get_checks()
