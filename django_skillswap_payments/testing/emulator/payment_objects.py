"""JSON shapes of the objects that move money: PaymentIntents, charges and refunds.

Like the builders in :mod:`.objects`, each sets the fields the emulator gives
meaning to and lets :func:`.objects.complete` add the rest as ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .objects import complete


def payment_intent(
    *,
    id: str,
    created: int,
    amount: int,
    currency: str,
    customer: str | None,
    client_secret: str,
    payment_intent_data: Mapping[str, Any],
) -> dict[str, Any]:
    return complete(
        {
            "id": id,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_details": {"tip": {}},
            "amount_received": 0,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": None,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": "automatic_async",
            "client_secret": client_secret,
            "confirmation_method": "automatic",
            "created": created,
            "currency": currency,
            "customer": customer,
            "description": payment_intent_data.get("description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": dict(payment_intent_data.get("metadata") or {}),
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": None,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": ["card"],
            "processing": None,
            "receipt_email": payment_intent_data.get("receipt_email"),
            "review": None,
            "setup_future_usage": payment_intent_data.get("setup_future_usage"),
            "shipping": None,
            "source": None,
            "statement_descriptor": payment_intent_data.get("statement_descriptor"),
            "statement_descriptor_suffix": payment_intent_data.get("statement_descriptor_suffix"),
            "status": "requires_payment_method",
            "transfer_data": None,
            "transfer_group": None,
        }
    )


def card_details(card: Mapping[str, Any]) -> dict[str, Any]:
    """``payment_method_details.card`` / ``last_payment_error.payment_method.card``."""
    return {
        "brand": card["brand"],
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": "pass",
        },
        "country": "US",
        "exp_month": card["exp_month"],
        "exp_year": card["exp_year"],
        "fingerprint": card["fingerprint"],
        "funding": card["funding"],
        "last4": card["last4"],
        "network": card["brand"],
        "three_d_secure": None,
        "wallet": None,
    }


def billing_details(*, email: str | None, name: str | None) -> dict[str, Any]:
    return {
        "address": {
            key: None for key in ("city", "country", "line1", "line2", "postal_code", "state")
        },
        "email": email,
        "name": name,
        "phone": None,
        "tax_id": None,
    }


def session_customer_details(*, email: str | None, name: str | None) -> dict[str, Any]:
    """A completed Checkout Session's ``customer_details``: what the buyer typed on the page."""
    return {
        "address": dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state")),
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def charge(
    *,
    id: str,
    created: int,
    intent: Mapping[str, Any],
    card: Mapping[str, Any],
    payment_method_id: str,
    balance_transaction: str | None,
    email: str | None,
    name: str | None,
    failure: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A card charge for ``intent``; ``failure`` (code, decline_code, message) makes it a declined one."""
    succeeded = failure is None
    if succeeded:
        outcome = {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    else:
        outcome = {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "declined_by_network",
            "reason": failure.get("decline_code") or failure["code"],
            "risk_level": "normal",
            "risk_score": 45,
            "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined",
        }
    three_d_secure = card.get("three_d_secure")
    details = card_details(card)
    if three_d_secure:
        details["three_d_secure"] = {
            "authentication_flow": "challenge",
            "result": "authenticated",
            "version": "2.2.0",
        }
    return complete(
        {
            "id": id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_captured": intent["amount"] if succeeded else 0,
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": balance_transaction,
            "billing_details": billing_details(email=email, name=name),
            "calculated_statement_descriptor": "STRIPE EMULATOR",
            "captured": succeeded,
            "created": created,
            "currency": intent["currency"],
            "customer": intent["customer"],
            "description": intent["description"],
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": None if succeeded else failure["code"],
            "failure_message": None if succeeded else failure["message"],
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(intent["metadata"]),
            "on_behalf_of": None,
            "outcome": outcome,
            "paid": succeeded,
            "payment_intent": intent["id"],
            "payment_method": payment_method_id,
            "payment_method_details": {"card": details, "type": "card"},
            "radar_options": {},
            "receipt_email": intent["receipt_email"],
            "receipt_number": None,
            "receipt_url": f"https://pay.stripe.com/receipts/payment/{id}" if succeeded else None,
            "refunded": False,
            "review": None,
            "shipping": None,
            "source": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": "succeeded" if succeeded else "failed",
            "transfer_data": None,
            "transfer_group": None,
        }
    )


def refund(
    *,
    id: str,
    created: int,
    charge_obj: Mapping[str, Any],
    amount: int,
    balance_transaction: str,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    return complete(
        {
            "id": id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": balance_transaction,
            "charge": charge_obj["id"],
            "created": created,
            "currency": charge_obj["currency"],
            "destination_details": {
                "card": {
                    "reference_status": "pending",
                    "reference_type": "acquirer_reference_number",
                    "type": "refund",
                },
                "type": "card",
            },
            "metadata": dict(params.get("metadata") or {}),
            "payment_intent": charge_obj["payment_intent"],
            "reason": params.get("reason"),
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
    )
