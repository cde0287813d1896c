"""Authentication is required everywhere but the webhook; users only ever see their own payments."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.support.api import (
    HISTORY_URL,
    PREMIUM_URL,
    STATUS_URL,
    TIP_HISTORY_URL,
    TIP_URL,
    checkout_url,
    client_for,
)
from tests.support.database import assert_nothing_written, pending_payment, profile_of
from tests.support.stripe_objects import session_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db

PROTECTED = [
    ("post", PREMIUM_URL),
    ("get", STATUS_URL),
    ("post", TIP_URL),
    ("get", TIP_HISTORY_URL),
    ("get", HISTORY_URL),
    ("get", checkout_url("cs_test_123")),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_anonymous_requests_get_401_json(anon_client, mongo_database, method, url):
    response = getattr(anon_client, method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "error": "Authentication required",
        "message": "Authentication credentials were not provided.",
    }
    assert response["WWW-Authenticate"]
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_wrong_basic_credentials_get_401(anon_client, alice, method, url):
    anon_client.credentials(HTTP_AUTHORIZATION="Basic YWxpY2U6d3Jvbmc=")  # alice:wrong
    response = getattr(anon_client, method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.json()["error"] == "Authentication failed"


def test_basic_auth_works_end_to_end(anon_client, alice):
    anon_client.credentials(HTTP_AUTHORIZATION="Basic YWxpY2U6cHc=")  # alice:pw
    assert anon_client.get(STATUS_URL).status_code == 200


def test_inactive_user_is_refused(make_user):
    user = make_user("sleepy")
    user.is_active = False
    user.save()
    assert client_for(user).get(STATUS_URL).status_code == 403


@override_settings(REST_FRAMEWORK={"DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"]})
def test_permissive_host_defaults_do_not_open_the_endpoints(anon_client):
    assert anon_client.get(STATUS_URL).status_code == 401


def test_webhook_does_not_require_user_credentials(anon_client):
    response = deliver(anon_client, "customer.created", {"id": "cus_1", "object": "customer"})
    assert response.status_code == 200


def test_users_only_see_their_own_payments(alice, bob, alice_client):
    bob_client = client_for(bob)
    mine = pending_payment(profile_of(alice))
    theirs = pending_payment(profile_of(bob))
    deliver(alice_client, "checkout.session.completed", session_object(theirs))

    assert alice_client.get(STATUS_URL).json()["is_premium"] is False
    assert bob_client.get(STATUS_URL).json()["is_premium"] is True
    assert [p["_id"] for p in alice_client.get(HISTORY_URL).json()["results"]] == [str(mine.id)]
    assert [p["_id"] for p in bob_client.get(HISTORY_URL).json()["results"]] == [str(theirs.id)]


def test_other_users_checkout_session_is_404(emulated_stripe, alice, bob, alice_client):
    theirs = pending_payment(profile_of(bob))
    profile_of(alice)

    response = alice_client.get(checkout_url(theirs.stripe_session_id))

    assert response.status_code == 404
    assert response.json() == {"error": "Payment not found"}
    assert emulated_stripe.requests == []


def test_tip_history_shows_tips_to_me_but_not_other_peoples_tips(alice, bob, make_user, alice_client):
    carol = make_user("carol")
    me, b, c = profile_of(alice), profile_of(bob), profile_of(carol)
    between_others = pending_payment(b, kind="tip", amount="2", recipient=c)
    deliver(alice_client, "checkout.session.completed", session_object(between_others))

    body = alice_client.get(TIP_HISTORY_URL).json()
    assert body == {
        "tips_sent": [], "tips_received": [], "total_sent": 0, "total_received": 0, "totals_by_currency": []
    }
    assert client_for(carol).get(TIP_HISTORY_URL).json()["total_received"] == 1
    assert me.id != c.id
