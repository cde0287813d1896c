"""A MongoDB outage: bounded waits, then JSON 503 with ``Retry-After`` (the webhook too, so Stripe retries)."""

from __future__ import annotations

import socket
import time

import mongoengine
import pytest
from django.test import override_settings
from mongoengine.connection import get_connection
from pymongo.errors import (
    AutoReconnect,
    ExecutionTimeout,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)
from rest_framework.test import APIClient

from django_skillswap_payments import conf
from django_skillswap_payments.api.errors import exception_handler
from django_skillswap_payments.checks import check_settings
from django_skillswap_payments.documents import ALL_DOCUMENTS
from tests.support.api import (
    HISTORY_URL,
    PREMIUM_URL,
    STATUS_URL,
    TIP_HISTORY_URL,
    TIP_URL,
    checkout_url,
)
from tests.support.config import payments_config
from tests.support.webhooks import post_webhook, signed

pytestmark = pytest.mark.django_db

OUTAGE_ALIAS = "payments_outage_test"
# Small timeouts so the test is quick; production defaults are a few seconds.
FAST_FAILURE = {"serverSelectionTimeoutMS": 300, "connectTimeoutMS": 300, "socketTimeoutMS": 300}
UNAVAILABLE = "Service temporarily unavailable"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the socket is closed


@pytest.fixture
def mongodb_down():
    """Point the app's documents at a MongoDB server that is not there."""
    config = payments_config(
        MONGO_ALIAS=OUTAGE_ALIAS,
        MONGODB_URI=f"mongodb://127.0.0.1:{_closed_port()}/payments",
        MONGODB_CLIENT_OPTIONS=FAST_FAILURE,
    )
    # MongoEngine caches each document's collection; drop the cache so the new alias is used.
    cached = {document: document.__dict__.get("_collection") for document in ALL_DOCUMENTS}
    for document in ALL_DOCUMENTS:
        document._collection = None
    try:
        with override_settings(SKILLSWAP_PAYMENTS=config):
            yield
    finally:
        for document, collection in cached.items():
            document._collection = collection
        mongoengine.disconnect(OUTAGE_ALIAS)


def _assert_unavailable(response, started: float) -> None:
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == UNAVAILABLE
    assert set(response.json()) == {"error", "message"}
    assert int(response["Retry-After"]) > 0
    assert elapsed < 3, f"answered after {elapsed:.1f}s"


ENDPOINTS = [
    ("get", STATUS_URL, None),
    ("get", TIP_HISTORY_URL, None),
    ("get", HISTORY_URL, None),
    ("get", checkout_url("cs_test_abc123"), None),
    ("post", PREMIUM_URL, {"success_url": "http://testserver/ok", "cancel_url": "http://testserver/no"}),
    ("post", TIP_URL, {"to_user_id": "0123456789abcdef01234567", "amount": 5, "success_url": "http://testserver/ok",
                       "cancel_url": "http://testserver/no"}),
]


@pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS, ids=[url for _, url, _ in ENDPOINTS])
def test_api_answers_json_503_quickly_when_mongodb_is_down(alice, emulated_stripe, mongodb_down, method, url, body):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(alice)
    started = time.monotonic()
    response = getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
    _assert_unavailable(response, started)


def test_webhook_answers_json_503_so_stripe_retries(mongodb_down):
    payload, signature = signed("customer.updated", {"id": "cus_1", "object": "customer"}, event_id="evt_down")
    started = time.monotonic()
    response = post_webhook(APIClient(raise_request_exception=False), payload, signature)
    _assert_unavailable(response, started)


@pytest.mark.parametrize(
    "error",
    [
        ServerSelectionTimeoutError("no servers"),
        AutoReconnect("primary stepped down"),
        NetworkTimeout("timed out"),
        ExecutionTimeout("operation exceeded time limit", code=50),
    ],
    ids=lambda error: type(error).__name__,
)
def test_exception_handler_maps_database_unavailability_to_503(error):
    response = exception_handler(error, {})
    assert response.status_code == 503
    assert response.data["error"] == UNAVAILABLE
    assert response["Retry-After"]


# -- connection options -------------------------------------------------------------------


@pytest.fixture
def lazy_alias():
    alias = "payments_options_test"
    yield alias
    mongoengine.disconnect(alias)


def _registered_options(alias, **settings_overrides):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(MONGO_ALIAS=alias, **settings_overrides)):
        assert conf.ensure_mongo_connection() == alias
    return get_connection(alias).options


def test_connection_from_uri_gets_timeouts_that_fit_a_web_request(lazy_alias):
    options = _registered_options(lazy_alias, MONGODB_URI=f"mongodb://127.0.0.1:{_closed_port()}/x")
    assert options.server_selection_timeout == 5
    assert options.pool_options.connect_timeout == 5
    assert options.pool_options.socket_timeout == 10


def test_timeouts_in_the_uri_win_over_the_defaults(lazy_alias):
    uri = f"mongodb://127.0.0.1:{_closed_port()}/x?serverselectiontimeoutms=1234&socketTimeoutMS=4321"
    options = _registered_options(lazy_alias, MONGODB_URI=uri)
    assert options.server_selection_timeout == 1.234
    assert options.pool_options.socket_timeout == 4.321
    assert options.pool_options.connect_timeout == 5


def test_client_options_setting_wins_over_the_defaults(lazy_alias):
    options = _registered_options(
        lazy_alias,
        MONGODB_URI=f"mongodb://127.0.0.1:{_closed_port()}/x",
        MONGODB_CLIENT_OPTIONS={"SOCKETTIMEOUTMS": 2500, "appname": "shop"},
    )
    assert options.pool_options.socket_timeout == 2.5
    assert options.server_selection_timeout == 5
    assert options.pool_options.metadata["application"]["name"] == "shop"


def test_a_connection_the_host_registered_is_left_alone():
    host_client = get_connection("default")
    with override_settings(
        SKILLSWAP_PAYMENTS=payments_config(MONGO_ALIAS="default", MONGODB_URI="mongodb://127.0.0.1:1/other")
    ):
        assert conf.ensure_mongo_connection() == "default"
    assert get_connection("default") is host_client
    assert host_client.options.server_selection_timeout == 30  # pymongo's default, as the host chose


@pytest.mark.parametrize("value", [["serverSelectionTimeoutMS", 1], "socketTimeoutMS=1", {1: 2}])
def test_client_options_must_be_a_dict_with_text_keys(value):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(MONGODB_CLIENT_OPTIONS=value)):
        assert "skillswap_payments.E004" in [message.id for message in check_settings()]
