"""Builders and checks shared by the HTTP API and webhook tests (fixtures: ``tests.api_support``).

Webhook deliveries are signed with the real HMAC scheme by
:func:`build_signed_event`, using whichever signing secret the app is
configured with at that moment.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django.conf import settings
from rest_framework.test import APIClient

from django_skillswap_payments import repository
from django_skillswap_payments.conf import payments_settings as app_settings
from django_skillswap_payments.documents import TRANSACTION_PREMIUM, TRANSACTION_TIP
from django_skillswap_payments.testing.webhooks import build_signed_event
from django_skillswap_payments.users import get_or_create_profile

BASE = "/api/payments/"
PREMIUM_URL = BASE + "premium/create-checkout/"
STATUS_URL = BASE + "subscription/status/"
TIP_URL = BASE + "tip/create/"
TIP_HISTORY_URL = BASE + "tip/history/"
HISTORY_URL = BASE + "payments/history/"
WEBHOOK_URL = BASE + "webhook/"
SUCCESS_URL = "http://testserver/dashboard/payments/success"
CANCEL_URL = "http://testserver/dashboard/payments/cancel"
COLLECTIONS = ("payments", "payment_profiles", "subscriptions", "webhook_events")

_ids = itertools.count(1)


def checkout_url(session_id: str) -> str:
    return f"{BASE}checkout/{session_id}/"


def payments_config(**overrides: Any) -> dict[str, Any]:
    return {**settings.SKILLSWAP_PAYMENTS, **overrides}


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def profile_of(user):
    return get_or_create_profile(user)


def collection_counts(database) -> dict[str, int]:
    return {name: database[name].count_documents({}) for name in COLLECTIONS}


def snapshot(database) -> dict[str, list[dict[str, Any]]]:
    """Every stored document of the app's collections, to prove a request wrote nothing."""
    return {name: list(database[name].find({}).sort("_id", 1)) for name in COLLECTIONS}


def assert_nothing_written(database, before: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """Fail unless the app's collections are empty (or exactly as in ``before``)."""
    if before is None:
        counts = collection_counts(database)
        changed = [name for name, count in counts.items() if count]
    else:
        now = snapshot(database)
        changed = [name for name in COLLECTIONS if now[name] != before[name]]
    if changed:
        raise AssertionError(f"documents were written to: {', '.join(changed)}")


# -- stored payments and the Stripe objects that describe them --------------------------


def pending_payment(profile, *, kind: str = TRANSACTION_PREMIUM, amount: str = "9.99", recipient=None,
                    session_id: str | None = None, livemode: bool = False):
    payment = repository.create_pending_payment(
        transaction_type=kind,
        from_user_id=profile.id,
        to_user_id=recipient.id if recipient is not None else None,
        amount=Decimal(amount),
        currency="usd",
        message="thanks" if kind == TRANSACTION_TIP else None,
        open_checkout_slot=repository.premium_slot(profile.id) if kind == TRANSACTION_PREMIUM else None,
    )
    return repository.attach_checkout_session(
        payment.id,
        session_id=session_id or f"cs_test_{next(_ids):06d}{payment.id}",
        checkout_url="https://checkout.stripe.com/c/pay/x",
        customer_id=None,
        livemode=livemode,
    )


def intent_id_for(payment) -> str:
    return f"pi_test_{payment.id}"


def session_object(payment, **overrides: Any) -> dict[str, Any]:
    obj = {
        "id": payment.stripe_session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": "paid",
        "amount_total": payment.amount_minor,
        "currency": payment.currency,
        "payment_intent": intent_id_for(payment),
        "client_reference_id": str(payment.id),
        "metadata": {"payment_id": str(payment.id), "type": payment.transaction_type},
        "livemode": False,
    }
    obj.update(overrides)
    return obj


def intent_object(payment, **overrides: Any) -> dict[str, Any]:
    obj = {
        "id": intent_id_for(payment),
        "object": "payment_intent",
        "amount": payment.amount_minor,
        "amount_received": payment.amount_minor,
        "currency": payment.currency,
        "status": "succeeded",
        "metadata": {"payment_id": str(payment.id), "type": payment.transaction_type},
        "last_payment_error": None,
        "livemode": False,
    }
    obj.update(overrides)
    return obj


def charge_object(payment, **overrides: Any) -> dict[str, Any]:
    obj = {
        "id": f"ch_test_{payment.id}",
        "object": "charge",
        "amount": payment.amount_minor,
        "amount_refunded": payment.amount_minor,
        "currency": payment.currency,
        "payment_intent": intent_id_for(payment),
        "refunded": True,
        "refunds": {"object": "list", "data": [{"id": f"re_test_{payment.id}", "object": "refund"}]},
        "metadata": {},
        "livemode": False,
    }
    obj.update(overrides)
    return obj


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
