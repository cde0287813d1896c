"""The one redirect-URL check every caller shares (services and the HTTP API)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_skillswap_payments import redirects, services
from django_skillswap_payments.errors import InvalidRedirectUrl
from tests.support.config import payments_config
from tests.test_api_redirects import HOSTILE


@pytest.mark.parametrize("url", HOSTILE)
def test_service_validator_refuses_what_the_api_refuses(url):
    # No HTTP layer in between: the service-level check alone must catch these.
    with pytest.raises(InvalidRedirectUrl):
        services.validate_redirect_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example\\@testserver/",
        "http://user@testserver/",
        "http://user:pw@testserver/",
        "http://:pw@testserver/",
        "http://testserver/\tx",
        "http://testserver/ x",
        "http://testserver/\x00",
        "http://testserver/\x7f",
        "http://testserver:0/",
        "http://testserver:-1/",
        "http://testserver:port/",
        "http://testserver:65536/",
        "http://ｔestserver/",
        "http://testserver\u3002evil.example/",
    ],
)
def test_credentials_backslashes_control_chars_bad_ports_and_lookalike_hosts(url):
    with pytest.raises(InvalidRedirectUrl):
        services.validate_redirect_url(url, allowed_hosts=["testserver", ".testserver"])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://testserver/ok", "https://testserver/ok"),
        ("Http://testserver/Path?Q=1#Frag", "http://testserver/Path?Q=1#Frag"),
        ("https://TESTSERVER/ok", "https://TESTSERVER/ok"),
        ("https://testserver:8443/ok?session_id={CHECKOUT_SESSION_ID}",
         "https://testserver:8443/ok?session_id={CHECKOUT_SESSION_ID}"),
    ],
)
def test_scheme_is_lower_cased_and_the_rest_kept(url, expected):
    assert services.validate_redirect_url(url, allowed_hosts=["testserver"]) == expected


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://shop.example.com/done", True),
        ("http://sub.shop.example.com/done", True),
        ("https://evil.example.net/done", False),
        ("javascript:alert(1)", False),
        ("/relative/path", False),
        ("", False),
    ],
)
def test_validate_redirect_url(url, ok):
    allowed = ["shop.example.com", ".shop.example.com"]
    if ok:
        assert services.validate_redirect_url(url, allowed_hosts=allowed) == url
    else:
        with pytest.raises(InvalidRedirectUrl):
            services.validate_redirect_url(url, allowed_hosts=allowed)


def test_default_hosts_are_django_allowed_hosts():
    assert services.validate_redirect_url("https://shop.example.com/ok") == "https://shop.example.com/ok"
    with pytest.raises(InvalidRedirectUrl):
        services.validate_redirect_url("https://app.internal/ok")


def test_request_host_is_deprecated_and_widens_nothing():
    with pytest.warns(DeprecationWarning, match="request_host is ignored"):
        with pytest.raises(InvalidRedirectUrl):
            services.validate_redirect_url("https://app.internal/ok", request_host="app.internal")
    with override_settings(ALLOWED_HOSTS=["*"]), pytest.warns(DeprecationWarning):
        assert redirects.allowed_redirect_hosts("evil.example") == []


def test_wildcard_in_django_allowed_hosts_is_ignored():
    with override_settings(ALLOWED_HOSTS=["*", "shop.example.com", ".example.org"]):
        assert redirects.allowed_redirect_hosts() == ["shop.example.com", ".example.org"]
        assert services.validate_redirect_url("https://a.example.org/ok")
        with pytest.raises(InvalidRedirectUrl):
            services.validate_redirect_url("https://evil.example/")


@pytest.mark.parametrize(
    ("allowed_hosts", "debug", "expected"),
    [
        ([], True, [".localhost", "127.0.0.1", "[::1]"]),
        ([], False, []),
        (["*"], True, []),
        (["api.example.com"], True, ["api.example.com"]),
    ],
)
def test_debug_without_allowed_hosts_follows_djangos_local_defaults(allowed_hosts, debug, expected):
    with override_settings(ALLOWED_HOSTS=allowed_hosts, DEBUG=debug):
        assert redirects.allowed_redirect_hosts() == expected


@pytest.mark.parametrize("url", ["http://testserver/\ud800", "http://testserver/ok?x=\udfff#\udbff"])
def test_lone_surrogates_are_refused(url):
    with pytest.raises(InvalidRedirectUrl, match="not allowed"):
        services.validate_redirect_url(url)


def test_wildcard_in_allowed_redirect_hosts_is_honoured():
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(ALLOWED_REDIRECT_HOSTS=["*"])):
        assert services.validate_redirect_url("https://anywhere.example/") == "https://anywhere.example/"
        with pytest.raises(InvalidRedirectUrl):
            services.validate_redirect_url("https://user@anywhere.example/")


def test_ipv6_hosts_match_with_or_without_brackets():
    assert services.validate_redirect_url("http://[::1]:8000/ok", allowed_hosts=["[::1]"])
    assert services.validate_redirect_url("http://[::1]/ok", allowed_hosts=["::1"])
