"""Routing: every route with and without its trailing slash, JSON for wrong methods and unknown paths."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from tests.support.api import BASE, CANCEL_URL, SUCCESS_URL
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import session_object
from tests.support.webhooks import signed

pytestmark = pytest.mark.django_db

POST_ONLY = "POST, OPTIONS"
READ_ONLY = "GET, HEAD, OPTIONS"
# route name, canonical path under BASE, Allow header of the route
ROUTES = [
    ("premium-create-checkout", "premium/create-checkout/", POST_ONLY),
    ("subscription-status", "subscription/status/", READ_ONLY),
    ("tip-create", "tip/create/", POST_ONLY),
    ("tip-history", "tip/history/", READ_ONLY),
    ("webhook", "webhook/", "POST"),
    ("checkout-session", "checkout/cs_test_123/", READ_ONLY),
    ("checkout-cancel", "checkout/cs_test_123/cancel/", POST_ONLY),
    ("payment-history", "payments/history/", READ_ONLY),
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


def _spellings(path: str) -> list[str]:
    return [BASE + path, BASE + path.removesuffix("/")]


def _request(client, method: str, url: str, **kwargs):
    return client.generic(method, url, **kwargs)


def _assert_json(response, status: int, error: str | None = None) -> None:
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"].startswith("application/json")
    if error is not None:
        assert response.json()["error"] == error


@pytest.mark.parametrize(("name", "path", "allow"), ROUTES)
def test_reverse_gives_the_canonical_spelling(name, path, allow):
    kwargs = {"session_id": "cs_test_123"} if name.startswith("checkout-") else None
    assert reverse(f"payments:{name}", kwargs=kwargs) == BASE + path


# The webhook is a plain view that answers POST only, and its Allow header says so.
WRONG_METHODS = [
    (path, allow, method)
    for name, path, allow in ROUTES
    for method in METHODS
    if method not in allow.split(", ")
]


@pytest.mark.parametrize(("path", "allow", "method"), WRONG_METHODS)
@pytest.mark.parametrize("slash", [True, False])
def test_wrong_methods_get_405_json_with_allow(alice_client, path, allow, method, slash):
    url = _spellings(path)[0 if slash else 1]

    response = _request(alice_client, method, url)

    assert response.status_code == 405, response.content[:200]
    assert response["Allow"] == allow
    if method != "HEAD":
        _assert_json(response, 405, "Method not allowed")


@pytest.mark.parametrize("url", _spellings("premium/create-checkout/"))
def test_premium_checkout_both_spellings(emulated_stripe, alice_client, url):
    response = alice_client.post(url, {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}, format="json")
    _assert_json(response, 200)
    assert response.json()["session_id"].startswith("cs_")


@pytest.mark.parametrize("url", _spellings("tip/create/"))
def test_tip_both_spellings(emulated_stripe, alice_client, bob, url):
    body = {"to_user_id": str(profile_of(bob).id), "amount": 5, "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
    _assert_json(alice_client.post(url, body, format="json"), 200)


@pytest.mark.parametrize("path", ["subscription/status/", "tip/history/", "payments/history/"])
@pytest.mark.parametrize("slash", [True, False])
def test_reads_both_spellings(alice_client, path, slash):
    url = _spellings(path)[0 if slash else 1]
    _assert_json(alice_client.get(url), 200)
    assert alice_client.head(url).status_code == 200
    _assert_json(alice_client.options(url), 200)


@pytest.mark.parametrize("slash", [True, False])
def test_checkout_session_both_spellings(alice_client, slash):
    # The view answers (no payment of this user has that session), not the catch-all.
    response = alice_client.get(_spellings("checkout/cs_test_unknown/")[0 if slash else 1])
    _assert_json(response, 404, "Payment not found")


@pytest.mark.parametrize("slash", [True, False])
def test_webhook_both_spellings(alice, anon_client, slash):
    payment = pending_payment(profile_of(alice))
    payload, signature = signed("checkout.session.completed", session_object(payment))

    response = anon_client.post(_spellings("webhook/")[0 if slash else 1], data=payload,
                                content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)

    _assert_json(response, 200)
    assert response.json() == {"status": "success"}


@pytest.mark.parametrize("slash", [True, False])
def test_checkout_cancel_both_spellings(alice_client, slash):
    response = alice_client.post(_spellings("checkout/cs_test_unknown/cancel/")[0 if slash else 1])
    _assert_json(response, 404, "Payment not found")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("path", ["tip/create", "premium/create-checkout", "webhook"])
def test_append_slash_sites_never_redirect_or_fail_a_post(alice, debug, path):
    # CommonMiddleware would answer a slashless POST with a 301 (which Stripe counts as a
    # failed delivery), or with a RuntimeError under DEBUG, if the route did not exist.
    # The CSRF middleware must not turn the JSON 404 into its HTML 403 either.
    middleware = ["django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware"]
    client = APIClient(enforce_csrf_checks=True)
    client.force_authenticate(alice)
    client.raise_request_exception = False
    with override_settings(MIDDLEWARE=middleware, APPEND_SLASH=True, DEBUG=debug):
        response = client.post(BASE + path, {}, format="json")
        unknown = client.post(BASE + path + "x", {}, format="json")

    _assert_json(response, 400)
    _assert_json(unknown, 404, "Not found")


UNKNOWN_PATHS = [
    "",
    "nope",
    "nope/",
    "tip",
    "tip/",
    "tip/create/extra/",
    "tip/create//",
    "tip//create/",
    "TIP/CREATE/",
    "Tip/Create",
    "tip/create.json",
    "checkout",
    "checkout/",
    "checkout//",
    "checkout/cs_1/extra/",
    "checkout/cs_1/cancel/x",
    "checkout/cs_1/cancel//",
    "webhook/x",
    "webhooks/",
    "payments/x/",
    "payments/history/x",
    "premium/",
    "premium/create-checkout/x",
    "schema/x",
    "a/b/c/d/e/f/",
    "%2e%2e/",
    "..%2f..%2fetc/passwd",
    "x%0Ay/",
    "%00",
    "%ff%fe/",
    "\u00fcn\u00efcode/",
    "subscription/status/\u202e",
]


@pytest.mark.parametrize("path", UNKNOWN_PATHS)
@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"])
def test_unknown_paths_under_the_prefix_get_json_404(alice_client, anon_client, path, method):
    for client in (alice_client, anon_client):
        response = _request(client, method, BASE + path, data=b"{}", content_type="application/json")
        _assert_json(response, 404, "Not found")
        assert response.json()["message"] == "No payments API endpoint at this path."


@pytest.mark.parametrize("path", UNKNOWN_PATHS[:4])
def test_head_on_unknown_paths_is_404(alice_client, path):
    assert alice_client.head(BASE + path).status_code == 404


def test_paths_outside_the_prefix_are_left_to_the_site(alice_client):
    response = alice_client.get("/elsewhere/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


# -- the schema route --------------------------------------------------------------------

SCHEMA_SPELLINGS = _spellings("schema/")


@pytest.fixture
def spectacular():
    pytest.importorskip("drf_spectacular", reason="the schema route needs the 'openapi' extra")


@pytest.mark.parametrize("url", SCHEMA_SPELLINGS)
def test_schema_both_spellings(spectacular, anon_client, url):
    response = anon_client.get(url, {"format": "json"})
    assert response.status_code == 200
    assert "/api/payments/tip/create/" in response.json()["paths"]
    assert anon_client.get(url).content.startswith(b"openapi: ")


@pytest.mark.parametrize("url", SCHEMA_SPELLINGS)
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE"])
def test_schema_wrong_method_is_405_json(spectacular, anon_client, url, method):
    response = _request(anon_client, method, url)
    _assert_json(response, 405, "Method not allowed")
    assert response["Allow"] == "GET, HEAD, OPTIONS"


@pytest.mark.parametrize("url", SCHEMA_SPELLINGS)
@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png", "text/plain, application/foo"])
def test_schema_unacceptable_accept_is_406_json(spectacular, anon_client, url, accept):
    _assert_json(anon_client.get(url, HTTP_ACCEPT=accept), 406, "Not acceptable")


@pytest.mark.parametrize("url", SCHEMA_SPELLINGS)
@pytest.mark.parametrize("fmt", ["bogus", "html", "xml", "json\x00", "yaml.json", "JSON", "api"])
def test_schema_unknown_format_is_404_json(spectacular, anon_client, url, fmt):
    _assert_json(anon_client.get(url, {"format": fmt}), 404, "Not found")


@pytest.mark.parametrize("url", SCHEMA_SPELLINGS)
@pytest.mark.parametrize("lang", ["xx", "en_US", "../../etc", "\x00", "a" * 500, "de\u202e"])
def test_schema_unknown_language_is_400_json(spectacular, anon_client, url, lang):
    response = anon_client.get(url, {"lang": lang, "format": "json"})
    _assert_json(response, 400, "Invalid request")
    assert response.json()["message"].startswith("lang: ")


@pytest.mark.parametrize("lang", ["en", "de", "zh-hans"])
def test_schema_known_languages_still_work(spectacular, anon_client, lang):
    assert anon_client.get(SCHEMA_SPELLINGS[0], {"lang": lang, "format": "json"}).status_code == 200


def test_schema_bad_credentials_are_json(spectacular, anon_client):
    response = anon_client.get(SCHEMA_SPELLINGS[0], HTTP_AUTHORIZATION="Basic !!!")
    # 401 or 403 depending on whether the site's first authenticator names a scheme.
    _assert_json(response, response.status_code, "Authentication failed")
    assert response.status_code in (401, 403)
