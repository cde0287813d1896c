"""Legacy subscriptions: keep the legacy gateway's subscribers premium, in step with Stripe.

Nothing new is sold as a subscription; ``customer.subscription.*`` events only
update the ``subscriptions`` documents of users who already had one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import stripe_facts
from ..documents import Subscription, utcnow
from ..ids import to_object_id
from ..repository import legacy as legacy_store
from ..repository import profiles
from . import premium


@dataclass(frozen=True)
class SubscriptionSync:
    """Outcome of mirroring a Stripe subscription into the legacy ``subscriptions`` collection.

    ``changed`` is false, with a ``reason``, when the event carried nothing
    to store or a newer state was already stored.
    """

    subscription: Subscription | None
    changed: bool
    reason: str | None = None


def _owner(subscription: stripe_facts.SubscriptionFacts) -> Any:
    """Profile id of a subscription: by its Stripe customer, else the ``user_id`` in its metadata."""
    profile = profiles.profile_for_customer(subscription.customer_id) if subscription.customer_id else None
    if profile is not None:
        return profile.id
    return to_object_id(subscription.metadata_user_id)


def sync_legacy_subscription(
    stripe_subscription: stripe_facts.SubscriptionFacts | Mapping[str, Any],
    *,
    event_created: int | None,
) -> SubscriptionSync:
    """Mirror a Stripe subscription (from a ``customer.subscription.*`` event) into ``subscriptions``.

    Stripe does not deliver events in order, so the event's ``created`` time
    (Unix seconds) decides which state is newest: an older event never
    overwrites a newer stored state. The first event of a subscription
    creates its document for the profile linked to its customer (or named by
    ``metadata.user_id``).
    """
    facts = (
        stripe_subscription
        if isinstance(stripe_subscription, stripe_facts.SubscriptionFacts)
        else stripe_facts.subscription(stripe_subscription)
    )
    if not facts.id or not facts.status:
        return SubscriptionSync(None, False, "Subscription without id or status")
    owner = _owner(facts)
    stored = legacy_store.upsert_legacy_subscription(
        facts.id,
        user_id=owner,
        as_of=stripe_facts.timestamp(event_created) or utcnow(),
        status=facts.status,
        stripe_customer_id=facts.customer_id,
        current_period_start=facts.current_period_start,
        current_period_end=facts.current_period_end,
        cancel_at_period_end=facts.cancel_at_period_end,
    )
    if stored is not None:
        premium.forget_premium_status(stored.user_id)
        return SubscriptionSync(stored, True)
    if owner is None and legacy_store.get_legacy_subscription(facts.id) is None:
        return SubscriptionSync(None, False, "No user for this subscription")
    return SubscriptionSync(None, False, "Older than the stored subscription state")
