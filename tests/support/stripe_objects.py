"""Stripe objects describing a stored payment, as Stripe would send them in an event."""

from __future__ import annotations

from typing import Any


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
