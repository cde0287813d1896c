"""What a checkout start needs to know, read in one aggregation.

Starting a premium checkout for a known profile asks four things: the
profile itself, whether it is premium already, which payment holds its open
checkout slot, and which Stripe customer to pass. With the profile id known,
each is an equality match on a declared index, so one ``aggregate`` on
``payment_profiles`` answers all of them with ``$lookup`` sub-pipelines whose
filters are constants. A tip start reads sender and recipient the same way.

The Stripe customer: a profile stores one only when the site (or an older
release) set it. A customer Checkout created (``customer_creation="always"``)
is kept on the payment it paid for, in the completion's own write, so a
completion needs no write to the profile; later checkouts find it there,
oldest first, inside the aggregation they run anyway, skipping the customers
Stripe said it does not have (the profile's ``missing_stripe_customer_ids``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from ..documents import WITH_CUSTOMER, Payment, PaymentProfile, Subscription
from .payments import premium_slot
from .premium_status import _payment_stages, _subscription_stages

_LOOKUP_FIELDS = ("premium_payments", "active_subscriptions", "open_checkouts", "created_customers")


def _created_customer_stages(profile_id: ObjectId, missing: Any) -> list[dict[str, Any]]:
    """The oldest payment of the profile that names a Stripe customer not in ``missing`` (a list,
    or an expression giving one), only that field."""
    return [
        {"$match": {"from_user_id": profile_id, **WITH_CUSTOMER}},
        # Rarely any: checked on the few payments the index yields, before the limit.
        {"$match": {"$expr": {"$eq": [{"$in": ["$stripe_customer_id", missing]}, False]}}},
        {"$sort": {"created_at": 1, "_id": 1}},
        {"$limit": 1},
        {"$project": {"_id": 0, "stripe_customer_id": 1}},
    ]


def _created_customer_lookup(profile_id: ObjectId) -> dict[str, Any]:
    """The created customer of ``profile_id``, looked up from that profile's own document."""
    return {"$lookup": {
        "from": Payment._get_collection_name(),
        "let": {"missing": {"$ifNull": ["$missing_stripe_customer_ids", []]}},
        "pipeline": _created_customer_stages(profile_id, "$$missing"),
        "as": "created_customers",
    }}


def _customer_in(found: list[dict[str, Any]]) -> str | None:
    """The customer of what ``_created_customer_stages`` found (at most one payment)."""
    return (found[0].get("stripe_customer_id") or None) if found else None


def created_customer_of(profile_id: ObjectId, missing: list[str] | None = None) -> str | None:
    """The Stripe customer Checkout created for the profile, from its oldest payment naming one
    that is not in ``missing``."""
    found = Payment._get_collection().aggregate(_created_customer_stages(profile_id, list(missing or [])))
    return _customer_in(list(found))


@dataclass(frozen=True)
class PremiumStartFacts:
    """The profile, whether it holds premium, the payment holding its open checkout (if any),
    and the Stripe customer Checkout created for one of its earlier payments (if any)."""

    profile: PaymentProfile
    premium: bool
    open_checkout: Payment | None
    created_customer_id: str | None = None


def premium_start_facts(profile_id: ObjectId, django_user_id: str) -> PremiumStartFacts | None:
    """The facts of the profile ``profile_id`` of the Django user; ``None`` when no such profile exists."""
    only_id = {"$project": {"_id": 1}}
    pipeline: list[dict[str, Any]] = [
        {"$match": {"_id": profile_id, "django_user_id": django_user_id}},
        {"$limit": 1},
        {"$lookup": {
            "from": Payment._get_collection_name(),
            "pipeline": [*_payment_stages(profile_id), only_id],
            "as": "premium_payments",
        }},
        {"$lookup": {
            "from": Subscription._get_collection_name(),
            "pipeline": [*_subscription_stages(profile_id), only_id],
            "as": "active_subscriptions",
        }},
        {"$lookup": {
            "from": Payment._get_collection_name(),
            "pipeline": [{"$match": {"open_checkout_slot": premium_slot(profile_id)}}, {"$limit": 1}],
            "as": "open_checkouts",
        }},
        _created_customer_lookup(profile_id),
    ]
    for document in PaymentProfile._get_collection().aggregate(pipeline):
        found = {name: document.pop(name, None) or [] for name in _LOOKUP_FIELDS}
        holders = found["open_checkouts"]
        return PremiumStartFacts(
            profile=PaymentProfile._from_son(document),
            premium=bool(found["premium_payments"] or found["active_subscriptions"]),
            open_checkout=Payment._from_son(holders[0]) if holders else None,
            created_customer_id=_customer_in(found["created_customers"]),
        )
    return None


def tip_parties(sender_id: ObjectId, recipient_id: ObjectId) -> tuple[dict[ObjectId, PaymentProfile], str | None]:
    """The profiles among sender and recipient that exist, by id, and the sender's created customer."""
    pipeline = [
        {"$match": {"_id": {"$in": list({sender_id, recipient_id})}}},
        _created_customer_lookup(sender_id),
    ]
    profiles: dict[ObjectId, PaymentProfile] = {}
    customer = None
    for document in PaymentProfile._get_collection().aggregate(pipeline):
        found = document.pop("created_customers", None) or []
        if document["_id"] == sender_id:  # looked up with the sender's own missing customers
            customer = _customer_in(found)
        profiles[document["_id"]] = PaymentProfile._from_son(document)
    return profiles, customer
