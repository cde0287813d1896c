"""The checkout limit counts checkout starts, not requests; and bodies that are not JSON objects."""

from __future__ import annotations

import json

import pytest
from bson import ObjectId
from django.test import override_settings

from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, TIP_URL
from tests.support.config import payments_config
from tests.support.database import assert_nothing_written, profile_of, snapshot

pytestmark = pytest.mark.django_db

LIMIT = 2
CHECKOUT_URLS = [PREMIUM_URL, TIP_URL]


@pytest.fixture
def limited():
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(CHECKOUT_THROTTLE_RATE=f"{LIMIT}/min")):
        yield


def _tip_body(recipient, **overrides):
    return {"to_user_id": str(recipient.id), "amount": 5, "success_url": SUCCESS_URL,
            "cancel_url": CANCEL_URL, **overrides}


def _post(client, url, body):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


def _rejected_requests(alice, recipient):
    """Requests refused for what they ask, before any Stripe call (status, url, body)."""
    me = str(profile_of(alice).id)
    return [
        (400, TIP_URL, '{"to_user_id": '),
        (400, TIP_URL, "null"),
        (400, TIP_URL, "[]"),
        (400, TIP_URL, {}),
        (400, TIP_URL, _tip_body(recipient, amount="1e2")),
        (400, TIP_URL, _tip_body(recipient, amount=0.5)),  # checked by the service
        (400, TIP_URL, _tip_body(recipient, amount=5000)),
        (400, TIP_URL, _tip_body(recipient, message="\u202eevil")),
        (400, TIP_URL, _tip_body(recipient, success_url="https://evil.example/")),
        (400, TIP_URL, _tip_body(recipient, to_user_id="nope")),
        (400, TIP_URL, _tip_body(recipient, to_user_id=me)),  # tipping yourself
        (404, TIP_URL, _tip_body(recipient, to_user_id=str(ObjectId()))),
        (400, PREMIUM_URL, {"success_url": SUCCESS_URL}),
        (400, PREMIUM_URL, {"success_url": SUCCESS_URL, "cancel_url": "javascript:alert(1)"}),
        (400, PREMIUM_URL, "42"),
    ]


def test_rejected_requests_do_not_use_up_the_allowance(emulated_stripe, limited, alice, alice_client, recipient):
    for _round in range(3):
        for status, url, body in _rejected_requests(alice, recipient):
            assert _post(alice_client, url, body).status_code == status, (url, body)

    starts = [_post(alice_client, TIP_URL, _tip_body(recipient)).status_code for _ in range(LIMIT)]
    assert starts == [200] * LIMIT
    assert _post(alice_client, TIP_URL, _tip_body(recipient)).status_code == 429


@pytest.mark.parametrize("url", CHECKOUT_URLS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_wrong_method_is_405_even_when_the_allowance_is_spent(
    emulated_stripe, limited, alice_client, recipient, url, method
):
    for _ in range(LIMIT):
        assert _post(alice_client, TIP_URL, _tip_body(recipient)).status_code == 200
    assert _post(alice_client, TIP_URL, _tip_body(recipient)).status_code == 429

    response = getattr(alice_client, method)(url)

    assert response.status_code == 405
    assert response.json()["error"] == "Method not allowed"
    assert response["Allow"] == "POST, OPTIONS"


def test_bad_input_is_still_reported_when_the_allowance_is_spent(emulated_stripe, limited, alice_client, recipient):
    for _ in range(LIMIT):
        _post(alice_client, TIP_URL, _tip_body(recipient))

    response = _post(alice_client, TIP_URL, _tip_body(recipient, amount="ten"))
    assert response.status_code == 400
    throttled = _post(alice_client, PREMIUM_URL, {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL})
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0


def test_premium_and_tips_share_the_allowance(emulated_stripe, limited, alice_client, recipient):
    assert _post(alice_client, PREMIUM_URL, {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}).status_code == 200
    assert _post(alice_client, TIP_URL, _tip_body(recipient)).status_code == 200
    assert _post(alice_client, TIP_URL, _tip_body(recipient)).status_code == 429


def test_starts_that_stripe_refuses_are_counted(emulated_stripe, limited, alice_client, recipient):
    # They reached Stripe: retrying them in a loop is what the limit is for.
    emulated_stripe.inject_failure("POST", "/v1/checkout/sessions", times=LIMIT)
    assert [_post(alice_client, TIP_URL, _tip_body(recipient)).status_code for _ in range(LIMIT)] == [502] * LIMIT
    assert _post(alice_client, TIP_URL, _tip_body(recipient)).status_code == 429


# -- bodies that are not JSON objects ----------------------------------------------------

NOT_OBJECTS = ["null", "[]", "[{}]", '[{"success_url": "x"}]', "42", "1.5", "-1", '"x"', '""', "true", "false"]


@pytest.mark.parametrize("url", CHECKOUT_URLS)
@pytest.mark.parametrize("text", NOT_OBJECTS)
def test_body_that_is_not_an_object_gets_a_clear_message(emulated_stripe, alice, alice_client, mongo_database,
                                                          url, text):
    profile_of(alice)
    before = snapshot(mongo_database)

    response = _post(alice_client, url, text)

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid request body", "message": "Request body must be a JSON object"}
    assert emulated_stripe.requests == []
    assert_nothing_written(mongo_database, before)
