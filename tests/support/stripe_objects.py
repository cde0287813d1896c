"""Stripe's side of a payment: the Checkout line items the app asks for, and the
Session, PaymentIntent and Charge objects Stripe sends back in events."""

from __future__ import annotations

from typing import Any


def line_items(
    unit_amount: int = 999, name: str = "SkillSwap Premium", *, currency: str = "usd", quantity: int = 1
) -> list[dict[str, Any]]:
    """One Checkout line item priced inline, as the app sends it (default: the premium purchase).

    A new list on every call, so a test may change it.
    """
    return [
        {
            "price_data": {"currency": currency, "unit_amount": unit_amount, "product_data": {"name": name}},
            "quantity": quantity,
        }
    ]


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
        # API versions before 2022-11-15 list the charge's refunds; later ones leave the list out.
        "refunds": {"object": "list", "data": [refund_object(payment)]},
        "metadata": {},
        "livemode": False,
    }
    obj.update(overrides)
    return obj


def refund_object(payment, **overrides: Any) -> dict[str, Any]:
    """A succeeded refund of the whole payment, as Stripe sends it in ``refund.*`` events."""
    obj = {
        "id": f"re_test_{payment.id}",
        "object": "refund",
        "amount": payment.amount_minor,
        "charge": f"ch_test_{payment.id}",
        "created": 1_767_225_600,
        "currency": payment.currency,
        "payment_intent": payment.stripe_payment_intent_id or intent_id_for(payment),
        "reason": None,
        "status": "succeeded",
        "failure_reason": None,
        "metadata": {},
    }
    obj.update(overrides)
    return obj
