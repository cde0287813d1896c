"""Webhook signature verification with real Stripe-Signature headers."""

from __future__ import annotations

import json
import time

import pytest
from django.test import override_settings

from django_skillswap_payments.testing.webhooks import build_event, encode_event, sign_payload
from tests.support.config import payments_config
from tests.support.database import assert_nothing_written, pending_payment, profile_of, snapshot
from tests.support.stripe_objects import session_object
from tests.support.webhooks import configured_secret, post_webhook, signed

pytestmark = pytest.mark.django_db

UNKNOWN = {"id": "cus_1", "object": "customer"}


def _payload(event_id="evt_sig", obj=UNKNOWN, event_type="customer.created"):
    return encode_event(build_event(event_type, obj, event_id=event_id))


def test_valid_signature_is_accepted(anon_client, mongo_database):
    payload = _payload()
    response = post_webhook(anon_client, payload, sign_payload(payload, configured_secret()))

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert mongo_database["webhook_events"].count_documents({"stripe_event_id": "evt_sig"}) == 1


def test_tampered_body_is_refused(anon_client, alice, mongo_database, signal_log):
    payment = pending_payment(profile_of(alice))
    payload, signature = signed("checkout.session.completed", session_object(payment))
    tampered = payload.replace(b'"amount_total": 999', b'"amount_total": 1')
    assert tampered != payload
    before = snapshot(mongo_database)

    response = post_webhook(anon_client, tampered, signature)

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid webhook signature"}
    assert_nothing_written(mongo_database, before)
    assert signal_log == []


def test_stale_signature_is_refused(anon_client, mongo_database):
    payload = _payload()
    old = int(time.time()) - 301
    response = post_webhook(anon_client, payload, sign_payload(payload, configured_secret(), timestamp=old))

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid webhook signature"
    assert_nothing_written(mongo_database)


def test_signature_within_tolerance_is_accepted(anon_client):
    payload = _payload()
    recent = int(time.time()) - 200
    assert post_webhook(anon_client, payload, sign_payload(payload, configured_secret(), timestamp=recent)).status_code == 200


def test_wrong_secret_is_refused(anon_client, mongo_database):
    payload = _payload()
    response = post_webhook(anon_client, payload, sign_payload(payload, "whsec_someone_else"))

    assert response.status_code == 400
    assert_nothing_written(mongo_database)


def test_rotated_secrets_both_verify(anon_client, mongo_database):
    config = payments_config(STRIPE_WEBHOOK_SECRET=["whsec_new", "whsec_old"])
    with override_settings(SKILLSWAP_PAYMENTS=config):
        for index, secret in enumerate(["whsec_new", "whsec_old"]):
            payload = _payload(event_id=f"evt_rot{index}")
            assert post_webhook(anon_client, payload, sign_payload(payload, secret)).status_code == 200
        payload = _payload(event_id="evt_rot_bad")
        assert post_webhook(anon_client, payload, sign_payload(payload, "whsec_retired_long_ago")).status_code == 400
    assert mongo_database["webhook_events"].count_documents({}) == 2


def test_comma_separated_secret_setting_rotates_too(anon_client):
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(STRIPE_WEBHOOK_SECRET="whsec_a, whsec_b")):
        payload = _payload()
        assert post_webhook(anon_client, payload, sign_payload(payload, "whsec_b")).status_code == 200


def test_missing_header_is_refused(anon_client, mongo_database):
    response = post_webhook(anon_client, _payload(), None)

    assert response.status_code == 400
    assert response.json()["error"] == "Missing Stripe-Signature header"
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize("header", ["", "garbage", "t=abc,v1=00", "t=123", "v1=deadbeef"])
def test_malformed_header_is_refused(anon_client, mongo_database, header):
    response = post_webhook(anon_client, _payload(), header)

    assert response.status_code == 400
    assert set(response.json()) <= {"error", "message"}
    assert_nothing_written(mongo_database)


def test_signed_non_json_body_is_refused(anon_client, mongo_database):
    body = b"this is not json"
    response = post_webhook(anon_client, body, sign_payload(body, configured_secret()))

    assert response.status_code == 400
    assert response.json()["error"].startswith("Invalid webhook payload")
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2, 3]",
        b'"evt_1"',
        b"42",
        b"null",
        b'{"id": "evt_1", "type": "customer.created"}',
        b'{"id": 5, "type": "customer.created", "data": {"object": {}}}',
        b'{"id": "evt_1", "type": "x", "data": {"object": {"amount": NaN}}}',
        b"\xff\xfe not utf-8",
    ],
)
def test_signed_body_that_is_not_an_event_is_refused(anon_client, mongo_database, body):
    response = post_webhook(anon_client, body, sign_payload(body.decode("latin-1"), configured_secret()))

    assert response.status_code == 400
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize(
    "body",
    [
        rb'{"id": "evt_1", "type": "x.y", "data": {"object": {"name": "\ud800"}}}',
        rb'{"id": "evt_1", "type": "x.y", "data": {"object": {"\udc00": 1}}}',
        rb'{"id": "evt_\ud800", "type": "x.y", "data": {"object": {}}}',
        rb'{"id": "evt_1", "type": "x.y", "api_version": "\udfff", "data": {"object": {}}}',
    ],
    ids=["value", "key", "event-id", "api-version"],
)
def test_signed_event_with_a_lone_surrogate_escape_is_refused(anon_client, mongo_database, body):
    # Found by the API fuzzer: such a body verified, then failed to encode for MongoDB (HTML 500).
    response = post_webhook(anon_client, body, sign_payload(body, configured_secret()))

    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid webhook payload",
        "message": "The event contains an invalid Unicode escape",
    }
    assert_nothing_written(mongo_database)


def test_signed_event_with_a_surrogate_pair_escape_is_accepted(anon_client, mongo_database):
    body = rb'{"id": "evt_pair", "type": "x.y", "data": {"object": {"name": "\ud83d\ude00"}}}'
    response = post_webhook(anon_client, body, sign_payload(body, configured_secret()))

    assert response.status_code == 200
    stored = mongo_database["webhook_events"].find_one({"stripe_event_id": "evt_pair"})
    assert stored["payload"]["data"]["object"]["name"] == "\U0001f600"


def test_one_megabyte_event_is_verified_and_recorded(anon_client, mongo_database):
    big = {**UNKNOWN, "metadata": {"blob": "x" * (1024 * 1024)}}
    payload = _payload(event_id="evt_big", obj=big)
    assert len(payload) > 1024 * 1024

    response = post_webhook(anon_client, payload, sign_payload(payload, configured_secret()))

    assert response.status_code == 200
    assert mongo_database["webhook_events"].count_documents({"stripe_event_id": "evt_big"}) == 1


def test_one_megabyte_body_with_bad_signature_is_refused(anon_client, mongo_database):
    payload = json.dumps({"id": "evt_big", "type": "x", "data": {"object": {"pad": "y" * 1024 * 1024}}}).encode()
    response = post_webhook(anon_client, payload, sign_payload(payload + b" ", configured_secret()))

    assert response.status_code == 400
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize("secret", [None, "", []])
def test_no_secret_configured_refuses_every_event(anon_client, mongo_database, monkeypatch, secret):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    payload = _payload()
    with override_settings(SKILLSWAP_PAYMENTS=payments_config(STRIPE_WEBHOOK_SECRET=secret)):
        # Even a body "signed" with an empty key must not be processed.
        response = post_webhook(anon_client, payload, sign_payload(payload, ""))

    assert response.status_code == 500
    assert response.json()["error"] == "Webhook secret not configured"
    assert_nothing_written(mongo_database)


def test_webhook_needs_no_user_credentials_but_only_accepts_post(anon_client):
    response = anon_client.get("/api/payments/webhook/")
    assert response.status_code == 405
    assert response.json()["error"] == "Method not allowed"
