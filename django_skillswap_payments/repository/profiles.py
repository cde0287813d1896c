"""The ``payment_profiles`` collection: one payments identity per Django user."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from mongoengine.errors import NotUniqueError
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

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


def open_profile_for_django_user(django_user_id: str) -> tuple[PaymentProfile, bool]:
    """The profile of a Django user, created if missing, and whether this call created it.

    One ``findAndModify``: the upsert brings its own ``_id`` and returns the
    document as it was before, so ``None`` means "inserted, with our id" and
    the new profile needs no second read.
    """
    new_id, now = ObjectId(), utcnow()
    collection = PaymentProfile._get_collection()
    try:
        before = collection.find_one_and_update(
            {"django_user_id": django_user_id},
            {"$setOnInsert": {"_id": new_id, "created_at": now}},
            upsert=True,
            return_document=ReturnDocument.BEFORE,
        )
    except DuplicateKeyError:
        # A concurrent upsert inserted first; the profile exists now.
        before = collection.find_one({"django_user_id": django_user_id})
        if before is None:
            raise
    if before is None:
        return PaymentProfile(id=new_id, django_user_id=django_user_id, created_at=now), True
    return PaymentProfile._from_son(before), False


def get_profile(profile_id: Any) -> PaymentProfile | None:
    """The profile with this id (``ObjectId`` or 24-hex string); ``None`` if absent or malformed."""
    oid = to_object_id(profile_id)
    return PaymentProfile.objects(id=oid).first() if oid is not None else None


def profile_for_customer(customer_id: str) -> PaymentProfile | None:
    """The payment profile linked to a Stripe customer id, if any."""
    return PaymentProfile.objects(stripe_customer_id=customer_id).first() if customer_id else None


def forget_missing_customer(profile: PaymentProfile, customer_id: str) -> None:
    """Never pass ``customer_id`` for ``profile`` again: Stripe has no such customer.

    It joins ``missing_stripe_customer_ids`` (which the customer lookups of
    :mod:`.checkout_facts` skip) and leaves ``stripe_customer_id`` if stored
    there; a customer stored since by another request stays. Payments that
    named it keep it: it is what they were paid with.
    """
    PaymentProfile.objects(id=profile.id).update_one(add_to_set__missing_stripe_customer_ids=customer_id)
    PaymentProfile.objects(id=profile.id, stripe_customer_id=customer_id).update_one(unset__stripe_customer_id=True)
    if profile.stripe_customer_id == customer_id:
        profile.stripe_customer_id = None
    profile.missing_stripe_customer_ids = [*(profile.missing_stripe_customer_ids or []), customer_id]


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
