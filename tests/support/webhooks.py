"""Webhook deliveries to the app's view, signed with the real HMAC scheme by
:func:`build_signed_event`, using whichever signing secret the app is
configured with at that moment.
"""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from django_skillswap_payments.conf import payments_settings as app_settings
from django_skillswap_payments.testing.webhooks import build_signed_event
from tests.support.api import WEBHOOK_URL


def configured_secret() -> str:
    return app_settings.webhook_secrets[0]


def signed(event_type: str, obj: dict[str, Any], *, secret: str | None = None, **kwargs: Any):
    """``(payload bytes, Stripe-Signature header)`` for an event about ``obj``."""
    payload, headers = build_signed_event(event_type, obj, secret or configured_secret(), **kwargs)
    return payload, headers["Stripe-Signature"]


def post_webhook(client: APIClient, payload: bytes, signature: str | None):
    extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client.post(WEBHOOK_URL, data=payload, content_type="application/json", **extra)


def deliver(client: APIClient, event_type: str, obj: dict[str, Any], **kwargs: Any):
    payload, signature = signed(event_type, obj, **kwargs)
    return post_webhook(client, payload, signature)
