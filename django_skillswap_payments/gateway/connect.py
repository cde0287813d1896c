"""Stripe Connect calls: Express accounts, Account Links, Transfers and their reversals.

Like every call of the gateway, each one that creates something carries an
idempotency key derived from our own ids: the profile (and how many times it
was disconnected) for its account, the payment for its payout transfer and
for that transfer's reversal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import stripe
from django.views.decorators.debug import sensitive_variables

from . import _stripe_errors, get_client, payment_metadata

if TYPE_CHECKING:
    from stripe.params import AccountCreateParams, TransferCreateParams


def payout_group(payment: Any) -> str:
    """The ``transfer_group`` tying a tip's payout transfer to the payment."""
    return f"skillswap-payment-{payment.id}"


@sensitive_variables()
def create_express_account(profile: Any, *, generation: int = 0, country: str | None = None) -> stripe.Account:
    """Create the Express account of a profile (one per profile and ``generation``)."""
    metadata = {"profile_id": str(profile.id)}
    django_user_id = getattr(profile, "django_user_id", None)
    if django_user_id:
        metadata["django_user_id"] = str(django_user_id)
    params: AccountCreateParams = {
        "type": "express",
        "metadata": metadata,
        "capabilities": {"card_payments": {"requested": True}, "transfers": {"requested": True}},
    }
    if country:
        params["country"] = country
    key = f"skillswap-connect-account-{profile.id}" + (f"-{generation}" if generation else "")
    with _stripe_errors():
        return get_client().v1.accounts.create(params, {"idempotency_key": key})


@sensitive_variables()
def retrieve_account(account_id: str) -> stripe.Account:
    with _stripe_errors():
        return get_client().v1.accounts.retrieve(account_id)


@sensitive_variables()
def create_account_link(account_id: str, *, refresh_url: str, return_url: str) -> stripe.AccountLink:
    """A single-use onboarding URL for the account (not idempotent: each visit needs a fresh one)."""
    with _stripe_errors():
        return get_client().v1.account_links.create(
            {
                "account": account_id,
                "type": "account_onboarding",
                "refresh_url": refresh_url,
                "return_url": return_url,
            }
        )


@sensitive_variables()
def retrieve_intent_charge(payment_intent_id: str) -> stripe.PaymentIntent:
    """A PaymentIntent with its latest charge expanded (where a destination charge names its transfer)."""
    with _stripe_errors():
        return get_client().v1.payment_intents.retrieve(payment_intent_id, {"expand": ["latest_charge"]})


@sensitive_variables()
def list_payout_transfers(payment: Any) -> stripe.ListObject[stripe.Transfer]:
    """The payout transfers already made for a held tip (found by its ``transfer_group``)."""
    with _stripe_errors():
        return get_client().v1.transfers.list({"transfer_group": payout_group(payment), "limit": 1})


@sensitive_variables()
def create_payout_transfer(payment: Any, *, destination: str, amount_minor: int) -> stripe.Transfer:
    """Pay a held tip out to the recipient's account (idempotent per payment)."""
    params: TransferCreateParams = {
        "amount": int(amount_minor),
        "currency": payment.currency,
        "destination": destination,
        "transfer_group": payout_group(payment),
        "metadata": payment_metadata(payment),
    }
    with _stripe_errors():
        return get_client().v1.transfers.create(params, {"idempotency_key": f"skillswap-payout-{payment.id}"})


@sensitive_variables()
def reverse_payout_transfer(payment: Any) -> stripe.TransferReversal:
    """Take back the whole payout transfer of a refunded held tip (idempotent per payment)."""
    with _stripe_errors():
        return get_client().v1.transfers.reversals.create(
            payment.transfer_id,
            {"metadata": payment_metadata(payment)},
            {"idempotency_key": f"skillswap-payout-reversal-{payment.id}"},
        )
