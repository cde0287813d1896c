"""Request bodies built to break the parser: deep nesting, lone surrogates, oversized bodies.

Each one must get a 4xx JSON error and leave the database exactly as it was
(no sender profile created on the way).
"""

from __future__ import annotations

import json

import pytest
from django.test import override_settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.test import APIClient

from django_skillswap_payments.api import views
from django_skillswap_payments.api.content import MAX_BODY_BYTES, MAX_NESTING_DEPTH
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, TIP_URL
from tests.support.database import assert_nothing_written, snapshot

pytestmark = pytest.mark.django_db

QUOTE = '"'


@pytest.fixture
def client(alice_client):
    # A 500 must show up as a response to assert on, not as an exception in the test.
    alice_client.raise_request_exception = False
    return alice_client


def _tip_fields(recipient) -> dict[str, str]:
    return {
        "to_user_id": json.dumps(str(recipient.id)),
        "amount": "10",
        "message": '"Thanks!"',
        "success_url": json.dumps(SUCCESS_URL),
        "cancel_url": json.dumps(CANCEL_URL),
    }


def _object(fields: dict[str, str]) -> str:
    """A JSON object from already-encoded values (so raw escapes reach the parser as written).

    Keys are plain names, or already-encoded JSON strings when they start with a quote.
    """
    members = [f"{key if key.startswith(QUOTE) else json.dumps(key)}: {value}" for key, value in fields.items()]
    return "{" + ", ".join(members) + "}"


def _post_raw(client, url: str, text: str | bytes, content_type: str = "application/json"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(url, data=data, content_type=content_type)


def _assert_json_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == error


# -- nesting ------------------------------------------------------------------------


def _nested(depth: int, kind: str) -> str:
    opening = {"array": "[" * depth, "object": '{"a":' * depth,
               "mixed": "".join('[{"a":' for _ in range(depth // 2)) + "[" * (depth % 2)}[kind]
    closing = "".join({"[": "]", ":": "}"}[char] for char in opening if char in "[:")[::-1]
    return opening + "1" + closing


@pytest.mark.parametrize("kind", ["array", "object", "mixed"])
@pytest.mark.parametrize("depth", [MAX_NESTING_DEPTH + 1, 100, 1_000, 5_000, 10_000])
@pytest.mark.parametrize("where", ["whole body", "amount", "message", "unknown key"])
def test_deep_nesting_is_a_parse_error(client, recipient, mongo_database, kind, depth, where):
    nested = _nested(depth, kind)
    fields = _tip_fields(recipient)
    if where == "whole body":
        text = nested
    elif where == "unknown key":
        text = _object({**fields, "extra": nested})
    else:
        text = _object({**fields, where: nested})
    assert len(text) <= MAX_BODY_BYTES
    before = snapshot(mongo_database)

    response = _post_raw(client, TIP_URL, text)

    _assert_json_error(response, 400, "Malformed request body")
    assert "nested deeper" in response.json()["message"]
    assert_nothing_written(mongo_database, before)


@pytest.mark.parametrize("kind", ["array", "object", "mixed"])
def test_deepest_body_that_fits_under_the_cap(client, mongo_database, kind):
    # As deep as 64 KiB of brackets allows: far past the C parser's recursion limit.
    depth = MAX_BODY_BYTES // 2 - 1 if kind == "array" else MAX_BODY_BYTES // 7
    text = _nested(depth, kind)
    assert len(text) <= MAX_BODY_BYTES

    response = _post_raw(client, PREMIUM_URL, text)

    _assert_json_error(response, 400, "Malformed request body")
    assert_nothing_written(mongo_database)


def test_nesting_up_to_the_limit_reaches_validation(client, recipient, mongo_database):
    before = snapshot(mongo_database)
    text = _object({**_tip_fields(recipient), "amount": _nested(MAX_NESTING_DEPTH - 1, "array")})

    response = _post_raw(client, TIP_URL, text)

    _assert_json_error(response, 400, "Invalid tip amount")
    assert_nothing_written(mongo_database, before)


@pytest.mark.parametrize("text", ["[" * 200, "]" * 200 + "[", "\\[" * 100, '"' + "[" * 200])
def test_brackets_inside_strings_do_not_count(emulated_stripe, client, recipient, text):
    fields = {**_tip_fields(recipient), "message": json.dumps(text)}
    response = _post_raw(client, TIP_URL, _object(fields))
    assert response.status_code == 200, response.json()


# -- lone surrogates ------------------------------------------------------------------

SURROGATE_ESCAPES = ["\\ud800", "\\uDBFF", "\\udc00", "\\uDFFF", "\\ude00\\ud83d", "x\\ud83d", "\\ud83d\\u0041"]


@pytest.mark.parametrize("escape", SURROGATE_ESCAPES)
@pytest.mark.parametrize("field", ["to_user_id", "message", "success_url", "cancel_url", "amount"])
def test_lone_surrogate_in_any_tip_field(emulated_stripe, client, recipient, mongo_database, escape, field):
    fields = _tip_fields(recipient)
    original = json.loads(fields[field]) if field != "amount" else "10"
    fields[field] = '"' + json.dumps(str(original))[1:-1] + escape + '"'
    before = snapshot(mongo_database)

    response = _post_raw(client, TIP_URL, _object(fields))

    _assert_json_error(response, 400, "Malformed request body")
    assert "surrogate" in response.json()["message"]
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)


@pytest.mark.parametrize("escape", SURROGATE_ESCAPES)
@pytest.mark.parametrize("place", ["key", "nested key", "nested value", "list item"])
def test_lone_surrogate_anywhere_in_the_body(emulated_stripe, client, mongo_database, escape, place):
    fields = {"success_url": json.dumps(SUCCESS_URL), "cancel_url": json.dumps(CANCEL_URL)}
    bad = f'"a{escape}"'
    extra = {"key": (bad, "1"), "nested key": ('"x"', "{" + bad + ": 1}"),
             "nested value": ('"x"', '{"y": ' + bad + "}"), "list item": ('"x"', "[1, " + bad + "]")}[place]
    text = _object({**fields, extra[0]: extra[1]})

    response = _post_raw(client, PREMIUM_URL, text)

    _assert_json_error(response, 400, "Malformed request body")
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database)


def test_surrogate_pairs_are_ordinary_text(emulated_stripe, client, recipient):
    fields = {**_tip_fields(recipient), "message": '"thanks \\ud83d\\ude00"'}
    response = _post_raw(client, TIP_URL, _object(fields))
    assert response.status_code == 200, response.json()


# -- body size ------------------------------------------------------------------------


def _padded(text: str, size: int) -> bytes:
    # Whitespace is valid JSON anywhere between tokens, so any size can be reached.
    return (text + " " * (size - len(text))).encode()


def test_body_of_exactly_the_cap_is_parsed(emulated_stripe, client, mongo_database):
    body = json.dumps({"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL})
    response = _post_raw(client, PREMIUM_URL, _padded(body, MAX_BODY_BYTES))
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    "size",
    [MAX_BODY_BYTES + 1, MAX_BODY_BYTES + 4096, 2_621_440 - 1, 2_621_440, 2_621_440 + 1, 10 * 1024 * 1024],
)
@pytest.mark.parametrize("url", [PREMIUM_URL, TIP_URL])
def test_oversized_bodies_get_the_documented_413(client, mongo_database, size, url):
    body = json.dumps({"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL})

    response = _post_raw(client, url, _padded(body, size))

    _assert_json_error(response, 413, "Request body too large")
    assert_nothing_written(mongo_database)


def test_413_also_below_a_smaller_django_upload_limit(client, mongo_database):
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
        response = _post_raw(client, PREMIUM_URL, _padded("{}", 4096))
        assert response.status_code == 400  # under our cap: parsed, then refused as missing fields
        response = _post_raw(client, PREMIUM_URL, _padded("{}", MAX_BODY_BYTES + 1))
    _assert_json_error(response, 413, "Request body too large")
    assert_nothing_written(mongo_database)


class BodyReadingAuthentication(BaseAuthentication):
    """Like request-signing schemes: reads the raw body, so Django's upload limit fires first."""

    def authenticate(self, request):
        request._request.body  # noqa: B018 - the read is the point
        return None


@pytest.mark.parametrize("size", [2_621_440 + 1, 10 * 1024 * 1024])
def test_django_upload_limit_hit_before_the_parser_is_413_json(monkeypatch, mongo_database, size):
    monkeypatch.setattr(views.PremiumCheckoutView, "authentication_classes", (BodyReadingAuthentication,))
    client = APIClient()
    client.raise_request_exception = False

    response = _post_raw(client, PREMIUM_URL, _padded("{}", size))

    _assert_json_error(response, 413, "Request body too large")
    assert_nothing_written(mongo_database)
