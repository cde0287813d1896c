"""Everything premium status needs, read in one aggregation.

A user is premium through their latest completed premium payment (never a
duplicate, nor one whose premium a lost dispute revoked) or, for users of the legacy gateway, an active subscription. The
two live in different collections; ``$unionWith`` (MongoDB 4.4+) reads both in
one command, and ``$lookup`` adds the profile itself when the caller only
knows the Django user. Each branch is an equality match followed by a sort on
a declared index (see ``documents.py``), limited to one document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from ..documents import (
    STATUS_COMPLETED,
    TRANSACTION_PREMIUM,
    Payment,
    PaymentProfile,
    Subscription,
)


@dataclass(frozen=True)
class PremiumFacts:
    """The profile id (``None``: no profile), and the documents that make it premium, if any."""

    profile_id: ObjectId | None
    payment: Payment | None = None
    subscription: Subscription | None = None


def _payment_stages(profile_id: Any) -> list[dict[str, Any]]:
    return [
        {"$match": {
            "from_user_id": profile_id,
            "transaction_type": TRANSACTION_PREMIUM,
            "status": STATUS_COMPLETED,
            "duplicate_of": None,
            # A lost dispute took it back (LOST_DISPUTE_REVOKES_PREMIUM).
            "premium_revoked_at": None,
        }},
        {"$sort": {"completed_at": -1}},
        {"$limit": 1},
    ]


def _subscription_stages(profile_id: Any) -> list[dict[str, Any]]:
    return [
        {"$match": {"user_id": profile_id, "status": "active"}},
        {"$sort": {"updated_at": -1}},
        {"$limit": 1},
    ]


def premium_facts(profile_id: ObjectId) -> PremiumFacts:
    """The premium payment and active legacy subscription of a profile, in one command."""
    pipeline = [
        *_payment_stages(profile_id),
        {"$unionWith": {
            "coll": Subscription._get_collection_name(),
            "pipeline": _subscription_stages(profile_id),
        }},
    ]
    payment = subscription = None
    for document in Payment._get_collection().aggregate(pipeline):
        if "transaction_type" in document:
            payment = Payment._from_son(document)
        else:
            subscription = Subscription._from_son(document)
    return PremiumFacts(profile_id, payment, subscription)


def premium_facts_of_django_user(django_user_id: str) -> PremiumFacts:
    """:func:`premium_facts` for the default profile of a Django user, found in the same command."""
    pipeline = [
        {"$match": {"django_user_id": django_user_id}},
        {"$limit": 1},
        {"$project": {"_id": 1}},
        {"$lookup": {
            "from": Payment._get_collection_name(),
            "let": {"profile": "$_id"},
            "pipeline": _payment_stages_by_variable(),
            "as": "payments",
        }},
        {"$lookup": {
            "from": Subscription._get_collection_name(),
            "let": {"profile": "$_id"},
            "pipeline": _subscription_stages_by_variable(),
            "as": "subscriptions",
        }},
    ]
    for document in PaymentProfile._get_collection().aggregate(pipeline):
        payments, subscriptions = document.get("payments") or [], document.get("subscriptions") or []
        return PremiumFacts(
            document["_id"],
            Payment._from_son(payments[0]) if payments else None,
            Subscription._from_son(subscriptions[0]) if subscriptions else None,
        )
    return PremiumFacts(None)


def _payment_stages_by_variable() -> list[dict[str, Any]]:
    stages = _payment_stages(None)
    match = dict(stages[0]["$match"])
    del match["from_user_id"]
    stages[0] = {"$match": {**match, "$expr": {"$eq": ["$from_user_id", "$$profile"]}}}
    return stages


def _subscription_stages_by_variable() -> list[dict[str, Any]]:
    stages = _subscription_stages(None)
    stages[0] = {"$match": {"status": "active", "$expr": {"$eq": ["$user_id", "$$profile"]}}}
    return stages
