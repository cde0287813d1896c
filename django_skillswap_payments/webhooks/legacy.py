"""Subscription events, kept for sites that sold premium as a subscription before."""

from __future__ import annotations

from collections.abc import Callable

from .. import stripe_facts
from ..services import legacy
from ..stripe_facts import StripeEvent
from .outcome import Outcome, ignored, processed


def on_subscription_changed(event: StripeEvent) -> Outcome:
    """Keep the legacy ``subscriptions`` collection in step with Stripe."""
    subscription = stripe_facts.subscription(
        event.object, deleted=event.type == "customer.subscription.deleted"
    )
    result = legacy.sync_legacy_subscription(subscription, event_created=event.created)
    return processed() if result.changed else ignored(result.reason or "Subscription unchanged")


HANDLERS: dict[str, Callable[[StripeEvent], Outcome]] = {
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_changed,
}
