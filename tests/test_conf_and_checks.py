"""Settings hooks, system checks and the configuration commands."""

import io
from decimal import Decimal

import mongoengine
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from django_skillswap_payments import conf
from django_skillswap_payments.checks import check_mongodb, check_settings
from django_skillswap_payments.conf import STRIPE_API_VERSION, mask_secret
from django_skillswap_payments.conf import payments_settings as app_settings

BASE = {
    "STRIPE_SECRET_KEY": "sk_test_suite",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_suite",
    "STRIPE_WEBHOOK_SECRET": "whsec_test_suite",
    "MONGO_ALIAS": "default",
}


@pytest.fixture(autouse=True)
def no_env_secrets(monkeypatch):
    for name in conf.ENV_FALLBACK_KEYS:
        monkeypatch.delenv(name, raising=False)


def ids(messages):
    return sorted(message.id for message in messages)


def test_defaults_and_typed_accessors():
    assert app_settings.premium_price == Decimal("9.99")
    assert app_settings.currency == "usd"
    assert app_settings.tip_min == Decimal("1.00")
    assert app_settings.tip_max == Decimal("1000.00")
    assert app_settings.tip_message_max_length == 500
    assert app_settings.max_network_retries == 2
    assert app_settings.webhook_tolerance == 300
    assert app_settings.checkout_session_reuse_seconds == 23 * 3600
    assert app_settings.STRIPE_API_VERSION == STRIPE_API_VERSION == "2026-10-28.endive"
    assert app_settings.STRIPE_API_BASE is None
    assert app_settings.webhook_secrets == ["whsec_test_suite"]
    assert app_settings.test_mode is True
    assert app_settings.allowed_redirect_hosts is None


def test_unknown_attribute_is_an_error():
    with pytest.raises(AttributeError):
        app_settings.NOT_A_SETTING  # noqa: B018


def test_override_settings_clears_the_cache():
    assert app_settings.premium_price == Decimal("9.99")
    with override_settings(
        SKILLSWAP_PAYMENTS={**BASE, "PREMIUM_PRICE": "19.50", "CURRENCY": "EUR"}
    ):
        assert app_settings.premium_price == Decimal("19.50")
        assert app_settings.currency == "eur"
    assert app_settings.premium_price == Decimal("9.99")


def test_environment_fallback(monkeypatch):
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_test_from_env")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_one, whsec_two")
    monkeypatch.setenv("MONGODB_URI", "mongodb://127.0.0.1:1/x")
    with override_settings(SKILLSWAP_PAYMENTS={"STRIPE_SECRET_KEY": "sk_test_x"}):
        assert app_settings.STRIPE_PUBLISHABLE_KEY == "pk_test_from_env"
        assert app_settings.source("STRIPE_PUBLISHABLE_KEY") == "environment"
        assert app_settings.source("STRIPE_SECRET_KEY") == "settings"
        assert app_settings.source("CURRENCY") == "default"
        assert app_settings.webhook_secrets == ["whsec_one", "whsec_two"]
        assert app_settings.MONGODB_URI == "mongodb://127.0.0.1:1/x"
    # The dict wins over the environment.
    assert app_settings.STRIPE_PUBLISHABLE_KEY == "pk_test_suite"


def test_webhook_secret_list_for_rotation():
    with override_settings(
        SKILLSWAP_PAYMENTS={**BASE, "STRIPE_WEBHOOK_SECRET": ["whsec_new", " whsec_old ", ""]}
    ):
        assert app_settings.webhook_secrets == ["whsec_new", "whsec_old"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("PREMIUM_PRICE", "9.999"),
        ("PREMIUM_PRICE", "-1"),
        ("PREMIUM_PRICE", "free"),
        ("TIP_MIN", "0"),
        ("TIP_MAX", "0.50"),
        ("CURRENCY", "dollars"),
        ("TIP_MESSAGE_MAX_LENGTH", -1),
        ("STRIPE_MAX_NETWORK_RETRIES", "2"),
        ("WEBHOOK_TOLERANCE", 0),
    ],
)
def test_invalid_values_raise_and_fail_the_check(key, value):
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, key: value}):
        assert "skillswap_payments.E004" in ids(check_settings())
        accessor = {
            "PREMIUM_PRICE": "premium_price",
            "TIP_MIN": "tip_min",
            "TIP_MAX": "tip_max",
            "CURRENCY": "currency",
            "TIP_MESSAGE_MAX_LENGTH": "tip_message_max_length",
            "STRIPE_MAX_NETWORK_RETRIES": "max_network_retries",
            "WEBHOOK_TOLERANCE": "webhook_tolerance",
        }[key]
        with pytest.raises(ImproperlyConfigured):
            getattr(app_settings, accessor)


def test_valid_configuration_passes_the_checks():
    assert check_settings() == []
    assert check_mongodb() == []


def test_missing_secret_key_is_e001():
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "STRIPE_SECRET_KEY": None}):
        assert ids(check_settings()) == ["skillswap_payments.E001"]


@pytest.mark.parametrize(
    ("secret", "publishable"),
    [
        ("sk_live_abc", "pk_test_abc"),
        ("sk_test_abc", "pk_live_abc"),
        ("rk_live_abc", "pk_test_abc"),
    ],
)
def test_mode_mismatch_is_e002(secret, publishable):
    with override_settings(
        SKILLSWAP_PAYMENTS={
            **BASE,
            "STRIPE_SECRET_KEY": secret,
            "STRIPE_PUBLISHABLE_KEY": publishable,
        }
    ):
        assert ids(check_settings()) == ["skillswap_payments.E002"]


def test_missing_webhook_secret_is_warning_in_debug_and_error_otherwise():
    no_secret = {**BASE, "STRIPE_WEBHOOK_SECRET": None}
    with override_settings(SKILLSWAP_PAYMENTS=no_secret, DEBUG=True):
        assert ids(check_settings()) == ["skillswap_payments.W003"]
    with override_settings(SKILLSWAP_PAYMENTS=no_secret, DEBUG=False):
        assert ids(check_settings()) == ["skillswap_payments.E003"]


def test_unimportable_hook_is_e006_and_unknown_key_is_w001():
    settings_dict = {**BASE, "PROFILE_RESOLVER": "nowhere.to.be.found", "PREMUIM_PRICE": "1.00"}
    with override_settings(SKILLSWAP_PAYMENTS=settings_dict):
        assert ids(check_settings()) == ["skillswap_payments.E006", "skillswap_payments.W001"]


def test_settings_must_be_a_dict():
    with override_settings(SKILLSWAP_PAYMENTS=["nope"]):
        assert ids(check_settings()) == ["skillswap_payments.E007"]


def test_unregistered_alias_without_uri_is_e005():
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "MONGO_ALIAS": "not_registered"}):
        messages = check_mongodb()
    assert ids(messages) == ["skillswap_payments.E005"]
    assert "MONGODB_URI" in messages[0].msg


def test_unreachable_mongodb_is_e005():
    # Port 1 on localhost refuses connections; the check must give up quickly.
    settings_dict = {**BASE, "MONGO_ALIAS": "unreachable", "MONGODB_URI": "mongodb://127.0.0.1:1/x"}
    with override_settings(SKILLSWAP_PAYMENTS=settings_dict):
        assert ids(check_mongodb()) == ["skillswap_payments.E005"]


def test_checks_are_registered_with_django():
    from django.core import checks

    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "STRIPE_SECRET_KEY": ""}):
        found = checks.run_checks(tags=["skillswap_payments"])
    assert "skillswap_payments.E001" in ids(found)


def test_lazy_connection_from_mongodb_uri(mongodb_uri):
    from mongoengine.connection import ConnectionFailure, get_connection

    from django_skillswap_payments.testing.mongo import with_database

    alias = "payments_lazy_test"
    uri = with_database(mongodb_uri, "payments_lazy_test")
    with pytest.raises(ConnectionFailure):
        get_connection(alias)
    try:
        with override_settings(
            SKILLSWAP_PAYMENTS={**BASE, "MONGO_ALIAS": alias, "MONGODB_URI": uri}
        ):
            assert conf.ensure_mongo_connection() == alias
            assert get_connection(alias).admin.command("ping")["ok"] == 1
    finally:
        mongoengine.disconnect(alias)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("sk_test_51HabcdEFGHijkl1234", "sk_test_…1234"),
        ("sk_live_zzzzwxyz", "sk_live_…wxyz"),
        ("whsec_secretvalueABCD", "whsec_…ABCD"),
        ("sk_test_ab", "sk_test_…"),
        ("mongodb://user:pass@db.example.com/app", "mongodb://user:…@db.example.com/app"),
        (None, "(not set)"),
        (["whsec_aaaa1111", "whsec_bbbb2222"], "whsec_…1111, whsec_…2222"),
    ],
)
def test_mask_secret(value, masked):
    assert mask_secret(value) == masked


def test_payments_config_command_masks_secrets():
    settings_dict = {
        **BASE,
        "STRIPE_SECRET_KEY": "sk_test_verysecretkey9876",
        "STRIPE_WEBHOOK_SECRET": "whsec_hidden5555",
    }
    out = io.StringIO()
    with override_settings(SKILLSWAP_PAYMENTS=settings_dict):
        call_command("payments_config", stdout=out)
    report = out.getvalue()
    assert "sk_test_…9876" in report
    assert "verysecretkey" not in report
    assert "whsec_…5555" in report
    assert "hidden" not in report
    assert "PREMIUM_PRICE" in report and "9.99" in report
    assert STRIPE_API_VERSION in report
    assert "pk_test_suite" in report  # publishable keys are public


def test_payments_ensure_indexes_command():
    out = io.StringIO()
    call_command("payments_ensure_indexes", stdout=out)
    text = out.getvalue()
    for collection in ("payments", "payment_profiles", "subscriptions", "webhook_events"):
        assert collection in text
    assert "stripe_session_id_1" in text


def _cache_settings(backend: str, location: str = "") -> dict:
    return {"default": {"BACKEND": backend, "LOCATION": location}}


LOCMEM = _cache_settings("django.core.cache.backends.locmem.LocMemCache")


@pytest.mark.parametrize("seconds", [300, 1])
def test_a_status_cache_each_process_keeps_for_itself_is_refused(seconds):
    from django_skillswap_payments.checks import check_status_cache

    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "STATUS_CACHE_SECONDS": seconds}, CACHES=LOCMEM):
        app_settings.reload()
        (message,) = check_status_cache()
    app_settings.reload()
    assert message.id == "skillswap_payments.E090"
    assert "LocMemCache" in message.msg and "SILENCED_SYSTEM_CHECKS" in message.hint


@pytest.mark.parametrize("backend", ["db.DatabaseCache", "filebased.FileBasedCache"])
def test_a_shared_status_cache_passes(backend, tmp_path):
    from django_skillswap_payments.checks import check_status_cache

    location = str(tmp_path) if backend.startswith("filebased") else "skillswap_cache"
    caches = _cache_settings(f"django.core.cache.backends.{backend}", location)
    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "STATUS_CACHE_SECONDS": 300}, CACHES=caches):
        app_settings.reload()
        assert check_status_cache() == []
    app_settings.reload()


@pytest.mark.parametrize("seconds", [None, 0])
def test_no_status_cache_needs_no_shared_cache(seconds):
    from django_skillswap_payments.checks import check_status_cache

    with override_settings(SKILLSWAP_PAYMENTS={**BASE, "STATUS_CACHE_SECONDS": seconds}, CACHES=LOCMEM):
        app_settings.reload()
        assert check_status_cache() == []
    app_settings.reload()
