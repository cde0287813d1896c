"""The ``payment_profiles`` collection: one payments identity per Django user."""

from __future__ import annotations

from typing import Any

from mongoengine.errors import NotUniqueError

from ..documents import PaymentProfile, utcnow
from ..ids import to_object_id


def profile_for_django_user(django_user_id: str, *, create: bool) -> PaymentProfile | None:
    """The profile of a Django user (by ``str(user.pk)``), created atomically if asked.

    Creation is a single upsert keyed on the unique ``django_user_id``, so
    concurrent first requests end up with the same profile.
    """
    if not create:
        return PaymentProfile.objects(django_user_id=django_user_id).first()
    try:
        return PaymentProfile.objects(django_user_id=django_user_id).modify(
            upsert=True, new=True, set_on_insert__created_at=utcnow()
        )
    except NotUniqueError:
        # A concurrent upsert inserted first; the profile exists now.
        return PaymentProfile.objects(django_user_id=django_user_id).first()


def get_profile(profile_id: Any) -> PaymentProfile | None:
    """The profile with this id (``ObjectId`` or 24-hex string); ``None`` if absent or malformed."""
    oid = to_object_id(profile_id)
    return PaymentProfile.objects(id=oid).first() if oid is not None else None


def profile_for_customer(customer_id: str) -> PaymentProfile | None:
    """The payment profile linked to a Stripe customer id, if any."""
    return PaymentProfile.objects(stripe_customer_id=customer_id).first() if customer_id else None


def save_customer_id(profile: PaymentProfile, customer_id: str) -> str:
    """Remember the Stripe customer of a profile unless one is already stored.

    Returns the customer id now stored (the earlier one if another request
    stored one first).
    """
    updated = PaymentProfile.objects(id=profile.id, stripe_customer_id__exists=False).modify(
        new=True, set__stripe_customer_id=customer_id
    )
    if updated is None:
        updated = PaymentProfile.objects(id=profile.id).first()
    stored = (updated.stripe_customer_id if updated else None) or customer_id
    profile.stripe_customer_id = stored
    return stored
