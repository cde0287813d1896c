"""What the tests store in MongoDB and check there: pending payments, profiles, and proof
that a request wrote nothing."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from django_skillswap_payments import repository
from django_skillswap_payments.documents import TRANSACTION_PREMIUM, TRANSACTION_TIP
from django_skillswap_payments.users import get_or_create_profile

COLLECTIONS = ("payments", "payment_profiles", "subscriptions", "webhook_events")

_ids = itertools.count(1)


def profile_of(user):
    return get_or_create_profile(user)


def collection_counts(database) -> dict[str, int]:
    return {name: database[name].count_documents({}) for name in COLLECTIONS}


def snapshot(database) -> dict[str, list[dict[str, Any]]]:
    """Every stored document of the app's collections, to prove a request wrote nothing."""
    return {name: list(database[name].find({}).sort("_id", 1)) for name in COLLECTIONS}


def assert_nothing_written(database, before: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """Fail unless the app's collections are empty (or exactly as in ``before``)."""
    if before is None:
        counts = collection_counts(database)
        changed = [name for name, count in counts.items() if count]
    else:
        now = snapshot(database)
        changed = [name for name in COLLECTIONS if now[name] != before[name]]
    if changed:
        raise AssertionError(f"documents were written to: {', '.join(changed)}")


def pending_payment(profile, *, kind: str = TRANSACTION_PREMIUM, amount: str = "9.99", recipient=None,
                    session_id: str | None = None, livemode: bool = False):
    """A stored pending payment with a Checkout Session attached, as a started checkout leaves it."""
    payment = repository.create_pending_payment(
        transaction_type=kind,
        from_user_id=profile.id,
        to_user_id=recipient.id if recipient is not None else None,
        amount=Decimal(amount),
        currency="usd",
        message="thanks" if kind == TRANSACTION_TIP else None,
        open_checkout_slot=repository.premium_slot(profile.id) if kind == TRANSACTION_PREMIUM else None,
    )
    return repository.attach_checkout_session(
        payment.id,
        session_id=session_id or f"cs_test_{next(_ids):06d}{payment.id}",
        checkout_url="https://checkout.stripe.com/c/pay/x",
        customer_id=None,
        livemode=livemode,
    )
