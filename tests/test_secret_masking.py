"""Reports never print a credential: MongoDB URIs, client options, the settings object."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_skillswap_payments import conf
from django_skillswap_payments.conf import PaymentsSettings
from django_skillswap_payments.redaction import (
    mask_client_options,
    mask_secret,
    mask_uri,
    uri_option_names,
)

# Every secret below contains "hush"; nothing shown may contain it.
MARK = "hush"

URIS = [
    # (uri, what must still be shown)
    ("mongodb://app:hushpw@db.example.com/app", "mongodb://app:…@db.example.com/app"),
    (
        "mongodb+srv://app:hushpw@cluster0.example.mongodb.net/skillswap?retryWrites=true&w=majority",
        "mongodb+srv://app:…@cluster0.example.mongodb.net/skillswap?retryWrites=true&w=majority",
    ),
    (
        "mongodb://db1:27017,db2:27017/app?replicaSet=rs0&tls=true&tlsCertificateKeyFile=/etc/client.pem"
        "&tlsCertificateKeyFilePassword=hushtls",
        "mongodb://db1:27017,db2:27017/app?replicaSet=rs0&tls=true&tlsCertificateKeyFile=/etc/client.pem"
        "&tlsCertificateKeyFilePassword=…",
    ),
    (
        "mongodb://AKIAEXAMPLE:hushsecretkey@db.example.com/?authMechanism=MONGODB-AWS"
        "&authMechanismProperties=AWS_SESSION_TOKEN:hushtoken",
        "mongodb://AKIAEXAMPLE:…@db.example.com/?authMechanism=MONGODB-AWS&authMechanismProperties=…",
    ),
    (
        "mongodb://h/app?TLSCERTIFICATEKEYFILEPASSWORD=hush1&AuthMechanismProperties=TOKEN_RESOURCE:hush2",
        "mongodb://h/app?TLSCERTIFICATEKEYFILEPASSWORD=…&AuthMechanismProperties=…",
    ),
    ("mongodb://h/?proxyHost=p&proxyUsername=hushuser&proxyPassword=hushpass", "mongodb://h/?proxyHost=…"),
    ("mongodb://h/?someFutureSecret=hush", "mongodb://h/?someFutureSecret=…"),
    ("mongodb://h/?password=hush&token=hush&apiKey=hush&secret=hush", "mongodb://h/?password=…&token=…"),
    ("mongodb://h/?sslPEMKeyPassword=hush", "mongodb://h/?sslPEMKeyPassword=…"),
    ("mongodb://h/?replicaSet=rs0;tlsCertificateKeyFilePassword=hush", "mongodb://h/?replicaSet=rs0&"),
    ("mongodb://h/?hushflag&w=1", "mongodb://h/?…&w=1"),
    ("mongodb://h/?w=1&&appName=shop", "mongodb://h/?w=1&&appName=shop"),
    ("mongodb://h/app?replicaSet=rs0#hushfragment", "mongodb://h/app?replicaSet=rs0#…"),
    ("mongodb://app:hush%40pw@h/app", "mongodb://app:…@h/app"),
    ("mongodb://app:hushA@hushB@h/app", "mongodb://app:…@h/app"),
    ("mongodb://app:hushA?hushB@h/app", "mongodb://app:…@h/app"),
    ("mongodb://app:hushA?x=hushB@h", "mongodb://app:…@h"),
    ("mongodb://app:hush#A@h/app", "mongodb://app:…@h/app"),
    ("mongodb://app:hushA/hushB@h/app", "mongodb://…"),  # unescaped "/": hidden entirely
    ("mongodb://app:hushA/hushB@h", "mongodb://…"),
    ("mongodb://h?tlsCertificateKeyFilePassword=hush", "mongodb://…"),  # no "/" before the options
    ("mongodb://h/d@hush", "mongodb://…"),
    ("mongodb://app:hush@[::1]:27017/app", "mongodb://app:…@[::1]:27017/app"),
    ("mongodb://app:hush@%2Ftmp%2Fmongodb-27017.sock/app", "mongodb://app:…@%2Ftmp%2Fmongodb-27017.sock/app"),
    ("mongodb://app:@h/app", "mongodb://app:…@h/app"),
    ("mongodb://CN%3Dclient@h/?authMechanism=MONGODB-X509", "mongodb://CN%3Dclient@h/?authMechanism=MONGODB-X509"),
    (" mongodb://app:hush@h/app ", "app:…@h/app"),
    ("http://user:hush@proxy.example.com/", "http://user:…@proxy.example.com/"),
]


@pytest.mark.parametrize(("uri", "shown"), URIS, ids=[uri for uri, _ in URIS])
def test_mask_uri_hides_every_credential(uri, shown):
    masked = mask_secret(uri)
    assert masked == mask_uri(uri)
    assert MARK not in masked
    assert shown in masked


def test_masked_options_keep_their_names_and_harmless_values():
    masked = mask_uri("mongodb://h/app?readPreference=secondaryPreferred&tlsCertificateKeyFilePassword=hush")
    assert masked == "mongodb://h/app?readPreference=secondaryPreferred&tlsCertificateKeyFilePassword=…"


@pytest.mark.parametrize(
    "options",
    [
        {"tlsCertificateKeyFilePassword": "hush"},
        {"authMechanismProperties": {"AWS_SESSION_TOKEN": "hush"}},
        {"password": "hush", "serverSelectionTimeoutMS": 500},
        {"PROXYPASSWORD": "hush"},
        {1: "hush"},
    ],
)
def test_client_options_are_masked_except_harmless_ones(options):
    masked = mask_client_options(options)
    assert MARK not in masked
    assert mask_secret(options) == masked
    if "serverSelectionTimeoutMS" in options:
        assert "'serverSelectionTimeoutMS': 500" in masked


@pytest.mark.parametrize(
    ("uri", "names"),
    [
        ("mongodb://h/app?serverSelectionTimeoutMS=1&W=1", {"serverselectiontimeoutms", "w"}),
        ("mongodb://u:p?socketTimeoutMS=1@h/app", set()),
        ("mongodb://h/app?a=1;b=2#c=3", {"a", "b"}),
        ("mongodb://h", set()),
    ],
)
def test_uri_option_names(uri, names):
    assert uri_option_names(uri) == names


def test_payments_config_masks_uri_credentials(monkeypatch):
    for name in conf.ENV_FALLBACK_KEYS:
        monkeypatch.delenv(name, raising=False)
    uri = (
        "mongodb://app:hushpw@db.example.com/app?replicaSet=rs0&tls=true"
        "&tlsCertificateKeyFilePassword=hushtls&authMechanismProperties=AWS_SESSION_TOKEN:hushtoken"
    )
    out = io.StringIO()
    with override_settings(SKILLSWAP_PAYMENTS={**conf.settings.SKILLSWAP_PAYMENTS, "MONGODB_URI": uri}):
        call_command("payments_config", stdout=out)
    report = out.getvalue()
    assert MARK not in report
    assert "mongodb://app:…@db.example.com/app?replicaSet=rs0&tls=true" in report


SETTINGS_WITH_SECRETS = {
    "STRIPE_SECRET_KEY": "sk_live_abcdefghijklmnophushxyz9",
    "STRIPE_WEBHOOK_SECRET": ["whsec_firsthushone1", "whsec_secondhushtwo2"],
    "STRIPE_PUBLISHABLE_KEY": "pk_live_public",
    "MONGODB_URI": "mongodb://app:hushpw@db.example.com/app?tlsCertificateKeyFilePassword=hushtls&replicaSet=rs0",
    "MONGODB_CLIENT_OPTIONS": {"password": "hushopt", "socketTimeoutMS": 4000},
}


@pytest.mark.parametrize("render", [repr, str], ids=["repr", "str"])
def test_settings_object_never_shows_secrets(render, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_fromENVhush")
    with override_settings(SKILLSWAP_PAYMENTS=SETTINGS_WITH_SECRETS):
        shown = render(PaymentsSettings())
    assert MARK not in shown
    assert "PaymentsSettings" in shown
    assert "sk_live_…xyz9" in shown and "pk_live_public" in shown and "replicaSet=rs0" in shown


def test_settings_object_repr_survives_broken_settings():
    with override_settings(SKILLSWAP_PAYMENTS=["not", "a", "dict"]):
        assert "PaymentsSettings" in repr(PaymentsSettings())
