"""Stripe Connect calls: Express accounts, Account Links, Transfers and their reversals.

Like every call of the gateway, each one that creates something carries an
idempotency key derived from our own ids: the profile (and how many times it
was disconnected) for its account, the payment (and the recipient's account
generation) for its payout transfer, the payment for that transfer's reversal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import stripe
from django.views.decorators.debug import sensitive_variables

from ..errors import GatewayError
from . import _stripe_errors, get_client, payment_metadata

if TYPE_CHECKING:
    from stripe.params import AccountCreateParams, TransferCreateParams


def payout_group(payment: Any) -> str:
    """The ``transfer_group`` tying a tip's payout transfer to the payment."""
    return f"skillswap-payment-{payment.id}"


def names_missing_account(error: GatewayError, *, in_url: bool = False) -> bool:
    """Whether Stripe refused a request because the connected account it names does not exist.

    An account deleted at Stripe, or one made with the other mode's keys (a
    site moving from test keys to live ones keeps its stored accounts), is
    ``resource_missing`` on the parameter naming it: ``account`` (Account
    Links), ``destination`` (Transfers), ``...[transfer_data][destination]``
    (destination charges). ``in_url``: the request was about the account
    itself (retrieving it), so any ``resource_missing`` is the account's.
    """
    if error.kind != "invalid_request" or error.detail.get("stripe_code") != "resource_missing":
        return False
    param = str(error.detail.get("stripe_param") or "")
    return in_url or param in ("account", "destination") or param.endswith("[destination]")


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
def create_payout_transfer(
    payment: Any, *, destination: str, amount_minor: int, generation: int = 0
) -> stripe.Transfer:
    """Pay a held tip out to the recipient's account (idempotent per payment and ``generation``,
    the recipient's account generation: a new account is a new request, not a replay)."""
    params: TransferCreateParams = {
        "amount": int(amount_minor),
        "currency": payment.currency,
        "destination": destination,
        "transfer_group": payout_group(payment),
        "metadata": payment_metadata(payment),
    }
    with _stripe_errors():
        key = f"skillswap-payout-{payment.id}" + (f"-{generation}" if generation else "")
        return get_client().v1.transfers.create(params, {"idempotency_key": key})


@sensitive_variables()
def reverse_payout_transfer(payment: Any) -> stripe.TransferReversal:
    """Take back the whole payout transfer of a refunded held tip (idempotent per payment)."""
    with _stripe_errors():
        return get_client().v1.transfers.reversals.create(
            payment.transfer_id,
            {"metadata": payment_metadata(payment)},
            {"idempotency_key": f"skillswap-payout-reversal-{payment.id}"},
        )
