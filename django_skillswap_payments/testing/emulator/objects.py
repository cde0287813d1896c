"""JSON shapes of the Stripe objects the emulator serves.

Each builder sets the fields the emulator gives meaning to, with the values
Stripe returns for a card payment in a hosted, payment-mode Checkout Session.
:func:`complete` then adds every other field that stripe-python's resource
class declares (``stripe.checkout.Session`` etc.) as ``null``, so clients that
read an attribute we do not simulate get ``None`` rather than an
``AttributeError`` -- the same thing Stripe does for an unset nullable field.

The builders for PaymentIntents, charges and refunds are in
:mod:`.payment_objects`.

Fields Stripe only returns when expanded ("includable"), or only in Connect
or for deleted objects, are listed in :data:`NOT_RETURNED_BY_DEFAULT` and left out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe

from ...errors import InvalidAmount
from ...money import currency_exponent, minor_unit_step

#: Resource class per ``object`` value; the class annotations list the object's fields.
RESOURCE_CLASSES: dict[str, type] = {
    "checkout.session": stripe.checkout.Session,
    "payment_intent": stripe.PaymentIntent,
    "charge": stripe.Charge,
    "refund": stripe.Refund,
    "dispute": stripe.Dispute,
    "customer": stripe.Customer,
    "event": stripe.Event,
    "item": stripe.LineItem,
    "price": stripe.Price,
    "account": stripe.Account,
    "transfer": stripe.Transfer,
    "transfer_reversal": stripe.TransferReversal,
}

#: Declared fields that Stripe leaves out of the default representation.
NOT_RETURNED_BY_DEFAULT: dict[str, frozenset] = {
    "checkout.session": frozenset({"line_items"}),
    "charge": frozenset({"refunds"}),
    "customer": frozenset(
        {
            "cash_balance",
            "deleted",
            "invoice_credit_balance",
            "sources",
            "subscriptions",
            "tax",
            "tax_ids",
        }
    ),
    "event": frozenset({"account", "context"}),
    "item": frozenset({"discounts", "taxes"}),
    "price": frozenset({"currency_options", "deleted", "tiers"}),
    "payment_intent": frozenset(),
    "refund": frozenset(),
    "account": frozenset({"deleted", "external_accounts"}),
    "transfer": frozenset(),
    "transfer_reversal": frozenset(),
}

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$", "inr": "₹"}

#: Smallest amount Stripe will charge, in minor units (its table for the same settlement
#: currency); others default to 50.
MINIMUM_CHARGE = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}


def charge_step(currency: str) -> int:
    """What every charged amount must be a multiple of, in minor units (10 for kwd, 100 for isk)."""
    try:
        return minor_unit_step(currency)
    except InvalidAmount:
        return 1  # the emulator does not check currency codes (see format_amount)


def declared_fields(object_name: str) -> list[str]:
    """Fields the stripe-python resource class declares for ``object_name``, in the default representation."""
    cls = RESOURCE_CLASSES[object_name]
    skipped = NOT_RETURNED_BY_DEFAULT.get(object_name, frozenset())
    return [
        name
        for name in cls.__annotations__
        if not name.startswith("_") and name != "OBJECT_NAME" and name not in skipped
    ]


def complete(obj: dict[str, Any]) -> dict[str, Any]:
    """Add every declared-but-unset field as ``None``, keeping Stripe's alphabetical key order."""
    for name in declared_fields(obj["object"]):
        obj.setdefault(name, None)
    head = {"id": obj.pop("id"), "object": obj.pop("object")}
    return {**head, **dict(sorted(obj.items()))}


def snapshot(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy, so later state changes never leak into an event or a response already handed out."""
    return copy.deepcopy(dict(obj))


def format_amount(amount_minor: int, currency: str) -> str:
    """``999, "usd"`` -> ``"$9.99"``; unknown symbols fall back to ``"9.99 SEK"``."""
    try:
        exponent = currency_exponent(currency)
    except InvalidAmount:
        # Only error messages and hosted pages call this, and the emulator does not
        # check currency codes, so a malformed one is shown with two decimals, not raised.
        exponent = 2
    major = (Decimal(amount_minor) / (Decimal(10) ** exponent)).quantize(
        Decimal(1).scaleb(-exponent)
    )
    text = f"{major:,}"
    symbol = _SYMBOLS.get(currency.lower())
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def round_minor(value: Decimal) -> int:
    """Round a fractional minor-unit amount (``unit_amount_decimal``) the way an invoice line is rounded."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------- builders


def customer(
    *, id: str, created: int, params: Mapping[str, Any], invoice_prefix: str
) -> dict[str, Any]:
    return complete(
        {
            "id": id,
            "object": "customer",
            "address": _address(params.get("address")),
            "balance": params.get("balance", 0),
            "created": created,
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "discount": None,
            "email": params.get("email"),
            "invoice_prefix": invoice_prefix,
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": dict(params.get("metadata") or {}),
            "name": params.get("name"),
            "next_invoice_sequence": 1,
            "phone": params.get("phone"),
            "preferred_locales": list(params.get("preferred_locales") or []),
            "shipping": None,
            "tax_exempt": params.get("tax_exempt", "none"),
            "test_clock": None,
        }
    )


def _address(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not isinstance(value, Mapping):
        return None
    keys = ("city", "country", "line1", "line2", "postal_code", "state")
    return {key: value.get(key) for key in keys}


def price(
    *,
    id: str,
    product_id: str,
    created: int,
    price_data: Mapping[str, Any],
    unit_amount_decimal: Decimal,
) -> dict[str, Any]:
    return complete(
        {
            "id": id,
            "object": "price",
            # Prices created inline from ``price_data`` are archived at once.
            "active": False,
            "billing_scheme": "per_unit",
            "created": created,
            "currency": price_data["currency"].lower(),
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": None,
            "metadata": {},
            "nickname": None,
            "product": product_id,
            "recurring": None,
            "tax_behavior": price_data.get("tax_behavior", "unspecified"),
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "one_time",
            "unit_amount": price_data.get("unit_amount"),
            "unit_amount_decimal": format(unit_amount_decimal.normalize(), "f"),
        }
    )


def line_item(
    *, id: str, price_obj: Mapping[str, Any], description: str, quantity: int, amount: int
) -> dict[str, Any]:
    return complete(
        {
            "id": id,
            "object": "item",
            "adjustable_quantity": None,
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": price_obj["currency"],
            "description": description,
            "metadata": {},
            "price": snapshot(price_obj),
            "quantity": quantity,
        }
    )


def checkout_session(
    *,
    id: str,
    created: int,
    expires_at: int,
    params: Mapping[str, Any],
    amount: int,
    currency: str,
    url: str,
) -> dict[str, Any]:
    customer_id = params.get("customer")
    return complete(
        {
            "id": id,
            "object": "checkout.session",
            "adaptive_pricing": {"enabled": (params.get("adaptive_pricing") or {}).get("enabled") is True},
            "after_expiration": None,
            "allow_promotion_codes": params.get("allow_promotion_codes"),
            "amount_subtotal": amount,
            "amount_total": amount,
            "automatic_tax": {
                "enabled": False,
                "liability": None,
                "provider": None,
                "status": None,
            },
            "billing_address_collection": params.get("billing_address_collection"),
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "client_secret": None,
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": created,
            "currency": currency,
            "currency_conversion": None,
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": customer_id,
            "customer_creation": None
            if customer_id
            else params.get("customer_creation", "if_required"),
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "discounts": [],
            "expires_at": expires_at,
            "invoice": None,
            "invoice_creation": {
                "enabled": False,
                "invoice_data": {
                    "account_tax_ids": None,
                    "custom_fields": None,
                    "description": None,
                    "footer": None,
                    "issuer": None,
                    "metadata": {},
                    "rendering_options": None,
                },
            },
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": dict(params.get("metadata") or {}),
            "mode": "payment",
            "origin_context": None,
            # Since API version 2022-08-01 the PaymentIntent is created when the
            # customer first submits the form, not with the session.
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "if_required",
            "payment_method_configuration_details": None,
            "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
            "payment_method_types": list(params.get("payment_method_types") or ["card"]),
            "payment_status": "unpaid",
            "permissions": None,
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "saved_payment_method_options": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": params.get("submit_type"),
            "subscription": None,
            "success_url": params.get("success_url"),
            "tax_id_collection": {"enabled": False, "required": "never"},
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted_page",
            "url": url,
            "wallet_options": None,
        }
    )


def event(
    *,
    id: str,
    created: int,
    type: str,
    data_object: Mapping[str, Any],
    api_version: str,
    pending_webhooks: int = 0,
    request_id: str | None = None,
    idempotency_key: str | None = None,
    livemode: bool = False,
    previous_attributes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": snapshot(data_object)}
    if previous_attributes:
        data["previous_attributes"] = dict(previous_attributes)
    return complete(
        {
            "id": id,
            "object": "event",
            "api_version": api_version,
            "created": created,
            "data": data,
            "livemode": livemode,
            "pending_webhooks": pending_webhooks,
            "request": {"id": request_id, "idempotency_key": idempotency_key},
            "type": type,
        }
    )


def list_object(url: str, data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
