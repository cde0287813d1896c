"""What a premium checkout start needs to know, read in one aggregation.

Starting a premium checkout for a known profile asks three things: the
profile itself (its Stripe customer), whether it is premium already, and
which payment holds its open checkout slot. With the profile id known, each
is an equality match on a declared index, so one ``aggregate`` on
``payment_profiles`` answers all three with ``$lookup`` sub-pipelines whose
filters are constants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId

from ..documents import Payment, PaymentProfile, Subscription
from .payments import premium_slot
from .premium_status import _payment_stages, _subscription_stages

_LOOKUP_FIELDS = ("premium_payments", "active_subscriptions", "open_checkouts")


@dataclass(frozen=True)
class PremiumStartFacts:
    """The profile, whether it holds premium, and the payment holding its open checkout (if any)."""

    profile: PaymentProfile
    premium: bool
    open_checkout: Payment | None


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
    ]
    for document in PaymentProfile._get_collection().aggregate(pipeline):
        found = {name: document.pop(name, None) or [] for name in _LOOKUP_FIELDS}
        holders = found["open_checkouts"]
        return PremiumStartFacts(
            profile=PaymentProfile._from_son(document),
            premium=bool(found["premium_payments"] or found["active_subscriptions"]),
            open_checkout=Payment._from_son(holders[0]) if holders else None,
        )
    return None
