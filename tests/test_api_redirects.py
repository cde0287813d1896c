"""success_url / cancel_url: no open redirects."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, TIP_URL
from tests.support.config import payments_config
from tests.support.database import assert_nothing_written, profile_of, snapshot

pytestmark = pytest.mark.django_db

HOSTILE = [
    "https://evil.example/success",
    "http://testserver.evil.example/x",
    "http://evil.example/?next=http://testserver/",
    "javascript:alert(1)",
    "JavaScript://testserver/%0Aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/path",
    "///evil.example",
    "/relative/path",
    "http:///evil.example",
    "http://testserver@evil.example/",
    "http://user:pass@testserver/",
    "http://evil.example\\@testserver/",
    "http://evil.example\\.testserver/",
    "http://testserver:80@evil.example/",
    "http://evil.example#@testserver",
    "http://evil.example?@testserver",
    "ftp://testserver/file",
    "file:///etc/passwd",
    "mailto:admin@testserver",
    "http:\\\\evil.example",
    " http://testserver/",
    "http://test server/",
    "http://testserver\t.evil/",
    "http://testserver:99999/",
    "",
    "http://" + "a" * 2050 + ".testserver/",
]


def _start(client, success=SUCCESS_URL, cancel=CANCEL_URL):
    return client.post(PREMIUM_URL, {"success_url": success, "cancel_url": cancel}, format="json")


@pytest.mark.parametrize("url", HOSTILE)
@pytest.mark.parametrize("field", ["success", "cancel"])
def test_hostile_redirects_are_rejected(emulated_stripe, alice_client, mongo_database, url, field):
    response = _start(alice_client, **{field: url})

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid redirect URL"
    assert response.json()["message"].startswith(f"{field}_url")
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize(
    "url",
    [
        "http://testserver/dashboard/payments/success?session_id={CHECKOUT_SESSION_ID}",
        "https://localhost:3000/dashboard/payments/success",
        "https://SHOP.Example.COM/thanks#top",
        "http://127.0.0.1:8000/ok",
    ],
)
def test_allowed_hosts_and_placeholder_are_accepted(emulated_stripe, alice_client, url):
    assert _start(alice_client, success=url).status_code == 200


def test_wildcard_allowed_hosts_does_not_allow_everything(emulated_stripe, alice_client):
    with override_settings(ALLOWED_HOSTS=["*"]):
        assert _start(alice_client, success="https://evil.example/").status_code == 400
        # Behind "*" even the request's own host is only what the client claims.
        assert _start(alice_client).status_code == 400
    with override_settings(ALLOWED_HOSTS=["*", "testserver"]):
        assert _start(alice_client).status_code == 200


# Hosts an attacker can name in the Host header once ALLOWED_HOSTS lets any host in.
HOSTILE_HOST_HEADERS = [
    "evil.example",
    "EVIL.example",
    "evil.example:8443",
    "evil.example.",
    "testserver.evil.example",
    "shop.example.com.evil.example",
    "localhost.evil.example",
    "evil-testserver",
    "127.0.0.2",
    "169.254.169.254",
    "10.0.0.1:8080",
    "[::1]",
    "[::ffff:7f00:1]",
    "xn--80ak6aa92e.com",
    "a" * 63 + ".example",
]


def _url_on(host: str, path: str) -> str:
    return f"https://{host}/{path}"


@pytest.mark.parametrize("host", HOSTILE_HOST_HEADERS)
@pytest.mark.parametrize("allowed_hosts", [["*"], ["*", "testserver"], ["testserver", "*"]])
@pytest.mark.parametrize("forwarded", [False, True])
def test_host_header_never_vouches_for_a_redirect(emulated_stripe, alice_client, mongo_database,
                                                   host, allowed_hosts, forwarded):
    # The request claims the attacker's host (directly, or through a trusted-proxy header)
    # and asks to be sent back there.
    bare = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    headers = {"HTTP_X_FORWARDED_HOST": host} if forwarded else {"HTTP_HOST": host}
    with override_settings(ALLOWED_HOSTS=allowed_hosts, USE_X_FORWARDED_HOST=forwarded):
        for success, cancel in [(_url_on(bare, "ok"), CANCEL_URL), (SUCCESS_URL, _url_on(bare, "no")),
                                (_url_on(bare, "ok"), _url_on(bare, "no"))]:
            response = alice_client.post(PREMIUM_URL, {"success_url": success, "cancel_url": cancel},
                                         format="json", **headers)
            assert response.status_code == 400, (host, response.content[:200])
            assert response.json()["error"] == "Invalid redirect URL"
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize("host", HOSTILE_HOST_HEADERS[:6])
def test_host_header_does_not_open_tips_either(emulated_stripe, alice_client, bob, mongo_database, host):
    recipient = profile_of(bob)
    before = snapshot(mongo_database)
    body = {"to_user_id": str(recipient.id), "amount": 5, "success_url": f"https://{host}/ok",
            "cancel_url": f"https://{host}/no"}
    with override_settings(ALLOWED_HOSTS=["*"]):
        response = alice_client.post(TIP_URL, body, format="json", HTTP_HOST=host)

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid redirect URL"
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)


def test_a_pinned_domain_family_is_trusted_whatever_the_host_header(emulated_stripe, alice_client):
    with override_settings(ALLOWED_HOSTS=[".example.com", "*"]):
        ok = alice_client.post(PREMIUM_URL, {"success_url": "https://app.example.com/ok",
                                             "cancel_url": "https://example.com/no"},
                               format="json", HTTP_HOST="evil.example")
        assert ok.status_code == 200
        refused = alice_client.post(PREMIUM_URL, {"success_url": "https://evil.example/ok",
                                                  "cancel_url": "https://example.com/no"},
                                    format="json", HTTP_HOST="evil.example")
        assert refused.status_code == 400


def test_explicit_redirect_hosts_replace_the_defaults(emulated_stripe, alice_client):
    config = payments_config(ALLOWED_REDIRECT_HOSTS=["app.example.org", ".cdn.example.org"])
    with override_settings(SKILLSWAP_PAYMENTS=config):
        assert _start(alice_client).status_code == 400  # testserver no longer allowed
        ok = _start(alice_client, success="https://app.example.org/ok", cancel="https://x.cdn.example.org/no")
        assert ok.status_code == 200
        assert _start(alice_client, success="https://app.example.org.evil/ok",
                      cancel="https://app.example.org/no").status_code == 400


def test_api_passes_a_lower_cased_scheme_to_stripe(emulated_stripe, alice_client):
    response = alice_client.post(
        PREMIUM_URL, {"success_url": "HTTP://testserver/done", "cancel_url": CANCEL_URL}, format="json"
    )

    assert response.status_code == 200
    (call,) = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert call.params["success_url"].startswith("http://testserver/done")
