"""The app's HTTP API as the tests call it: endpoint URLs, redirect targets and API clients."""

from __future__ import annotations

from rest_framework.test import APIClient

BASE = "/api/payments/"
PREMIUM_URL = BASE + "premium/create-checkout/"
STATUS_URL = BASE + "subscription/status/"
TIP_URL = BASE + "tip/create/"
TIP_HISTORY_URL = BASE + "tip/history/"
HISTORY_URL = BASE + "payments/history/"
WEBHOOK_URL = BASE + "webhook/"
SUCCESS_URL = "http://testserver/dashboard/payments/success"
CANCEL_URL = "http://testserver/dashboard/payments/cancel"


def checkout_url(session_id: str) -> str:
    return f"{BASE}checkout/{session_id}/"


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client
