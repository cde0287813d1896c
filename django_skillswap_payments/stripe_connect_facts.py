"""Stripe Connect objects, reduced to the facts the app acts on.

The Connect part of :mod:`django_skillswap_payments.stripe_facts` (kept apart
so neither module grows past its size): connected accounts, the account an
event happened on, and the transfer a destination charge made. The same rules
hold: nothing here talks to Stripe or the database, and a field of the wrong
type is read as absent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .stripe_facts import StripeEvent, _metadata, _text, as_mapping, stripe_id, timestamp

# Requirement names are short dotted paths; a longer text is not Stripe's.
MAX_REQUIREMENT_LENGTH = 200
MAX_REQUIREMENTS = 100


@dataclass(frozen=True)
class AccountFacts:
    """A connected account: can it be paid, and what does Stripe still need from its holder."""

    id: str | None
    details_submitted: bool
    charges_enabled: bool
    payouts_enabled: bool
    requirements_due: tuple[str, ...]


def _requirements_due(account: Mapping[str, Any]) -> tuple[str, ...]:
    requirements = as_mapping(account.get("requirements"))
    due = requirements.get("currently_due")
    if not isinstance(due, list):
        return ()
    names = [item for item in due if isinstance(item, str) and 0 < len(item) <= MAX_REQUIREMENT_LENGTH]
    return tuple(names[:MAX_REQUIREMENTS])


def account(obj: Any) -> AccountFacts:
    data = as_mapping(obj)
    return AccountFacts(
        id=stripe_id(data.get("id")) if data.get("object") in (None, "account") else None,
        details_submitted=data.get("details_submitted") is True,
        charges_enabled=data.get("charges_enabled") is True,
        payouts_enabled=data.get("payouts_enabled") is True,
        requirements_due=_requirements_due(data),
    )


def event_account(event: StripeEvent) -> str | None:
    """The connected account a Connect event happened on (the envelope's ``account``)."""
    value = event.payload.get("account")
    return value if isinstance(value, str) and value.startswith("acct_") else None


@dataclass(frozen=True)
class DestinationChargeFacts:
    """What a charge says about its transfer to a connected account."""

    charge_id: str | None
    intent_id: str | None
    payment_id: str | None
    succeeded: bool
    # The transfer Stripe made to the destination; None for a charge that moved nothing.
    transfer_id: str | None
    destination: str | None


def destination_charge(obj: Any) -> DestinationChargeFacts:
    data = as_mapping(obj)
    transfer_data = as_mapping(data.get("transfer_data"))
    return DestinationChargeFacts(
        charge_id=stripe_id(data.get("id")),
        intent_id=stripe_id(data.get("payment_intent")),
        payment_id=_text(_metadata(data).get("payment_id")),
        succeeded=data.get("status") == "succeeded",
        transfer_id=stripe_id(data.get("transfer")),
        destination=stripe_id(transfer_data.get("destination")),
    )


def intent_charge(obj: Any) -> DestinationChargeFacts:
    """:func:`destination_charge` of a PaymentIntent's expanded ``latest_charge``."""
    return destination_charge(as_mapping(obj).get("latest_charge"))


@dataclass(frozen=True)
class AccountLinkFacts:
    """Where to send the user to onboard, and until when that URL works."""

    url: str | None
    expires_at: dt.datetime | None


def account_link(obj: Any) -> AccountLinkFacts:
    data = as_mapping(obj)
    return AccountLinkFacts(
        url=_text(data.get("url")), expires_at=timestamp(data.get("expires_at"))
    )


def first_listed_id(listing: Any) -> str | None:
    """The id of the first object of a Stripe list (``{"object": "list", "data": [...]}``)."""
    data = as_mapping(listing).get("data")
    return stripe_id(data[0]) if isinstance(data, list) and data else None
