"""What the legacy payment gateway left behind, kept working.

- the ``subscriptions`` collection: legacy recurring subscriptions that keep
  their users premium, mirrored from Stripe's ``customer.subscription.*`` events;
- the legacy gateway's helper functions (``create_payment_transaction`` ...),
  for code written against it — they only persist and send no signal;
- :func:`backfill_minor_units`, which gives the legacy float amounts exact minor units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bson import Decimal128, ObjectId
from mongoengine.errors import NotUniqueError
from mongoengine.queryset.visitor import Q

from ..documents import PAYMENT_STATUSES, STATUS_PENDING, Payment, Subscription, utcnow
from ..errors import InvalidAmount
from ..ids import to_object_id
from ..money import normalize_currency, parse_amount, to_minor_units
from ..states import TIMESTAMP_FIELD
from .history import DEFAULT_PAGE_SIZE, payment_history, tips_received, tips_sent
from .payments import transition

# -- legacy subscriptions ------------------------------------------------------


def active_legacy_subscription(user_id: ObjectId) -> Subscription | None:
    """An ``active`` legacy subscription of the user, if one exists."""
    return Subscription.objects(user_id=user_id, status="active").order_by("-updated_at").first()


def get_legacy_subscription(stripe_subscription_id: str) -> Subscription | None:
    """The legacy subscription stored under a Stripe subscription id, if any."""
    return Subscription.objects(stripe_subscription_id=stripe_subscription_id).first()


def upsert_legacy_subscription(
    stripe_subscription_id: str,
    *,
    user_id: ObjectId | None,
    as_of: dt.datetime,
    status: str,
    stripe_customer_id: str | None = None,
    current_period_start: dt.datetime | None = None,
    current_period_end: dt.datetime | None = None,
    cancel_at_period_end: bool = False,
) -> Subscription | None:
    """Store Stripe's state of a legacy subscription unless a newer state is stored.

    One conditional ``findAndModify`` on the subscription id that matches
    only when the stored ``updated_at`` is not after ``as_of`` (or missing),
    and sets ``updated_at`` to ``as_of``: out-of-order deliveries can never
    put an older state over a newer one. With ``user_id`` it is an upsert, so
    the first event creates the document; when the stored state is newer, the
    upsert's insert collides with the unique ``stripe_subscription_id`` index
    and nothing changes. Returns the document as stored afterwards, or
    ``None`` when nothing changed (a newer state is stored, or there is no
    document and no ``user_id`` to create one for).
    """
    updates: dict[str, Any] = {
        "set__status": status,
        "set__stripe_customer_id": stripe_customer_id,
        "set__current_period_start": current_period_start,
        "set__current_period_end": current_period_end,
        "set__cancel_at_period_end": bool(cancel_at_period_end),
        "set__updated_at": as_of,
    }
    query = Subscription.objects(
        Q(stripe_subscription_id=stripe_subscription_id)
        & (Q(updated_at__lte=as_of) | Q(updated_at=None))
    )
    if user_id is None:
        return query.modify(new=True, **updates)
    try:
        return query.modify(
            upsert=True,
            new=True,
            set_on_insert__user_id=user_id,
            set_on_insert__plan_type="premium",
            set_on_insert__created_at=as_of,
            **updates,
        )
    except NotUniqueError:
        return None


# -- the legacy gateway's helpers -------------------------------------------


def create_payment_transaction(
    transaction_type: str,
    from_user_id: Any,
    amount: Any,
    currency: str = "usd",
    to_user_id: Any = None,
    stripe_session_id: str | None = None,
    stripe_payment_intent_id: str | None = None,
    status: str = STATUS_PENDING,
    metadata: Mapping[str, Any] | None = None,
) -> Payment:
    """Create a payment record, as the legacy gateway's helper did.

    ``amount`` is in major units (``"9.99"``, ``Decimal("9.99")``, ``9.99``)
    and is parsed exactly; ``from_user_id``/``to_user_id`` are ObjectIds or
    their hex strings. Returns the saved :class:`Payment` (``str(payment.id)``
    is the id the legacy gateway returned). Sends no signal.
    """
    if status not in PAYMENT_STATUSES:
        raise ValueError(f"unknown payment status {status!r}")
    code = normalize_currency(currency)
    value = parse_amount(amount, currency=code)
    now = utcnow()
    payment = Payment(
        transaction_type=transaction_type,
        from_user_id=to_object_id(from_user_id) or from_user_id,
        to_user_id=to_object_id(to_user_id) if to_user_id else None,
        amount=value,
        amount_minor=to_minor_units(value, code),
        currency=code,
        stripe_session_id=stripe_session_id,
        stripe_payment_intent_id=stripe_payment_intent_id,
        status=status,
        metadata=dict(metadata or {}),
        created_at=now,
        updated_at=now,
    )
    if status in TIMESTAMP_FIELD:
        setattr(payment, TIMESTAMP_FIELD[status], now)
    payment.save(force_insert=True)
    return payment


def update_payment_transaction_status(
    payment_id: Any,
    status: str,
    stripe_payment_intent_id: str | None = None,
    failure_reason: str | None = None,
) -> Payment | None:
    """Change a payment's status through the state machine, as the legacy helper did.

    Only legal transitions happen (see :data:`ALLOWED_PREVIOUS`); returns the
    updated payment, or ``None`` when the payment is absent or its current
    status does not allow the change. Sends no signal — use
    :func:`django_skillswap_payments.services.complete_payment` and friends
    for that.
    """
    oid = to_object_id(payment_id)
    if oid is None:
        return None
    fields: dict[str, Any] = {}
    if stripe_payment_intent_id:
        fields["stripe_payment_intent_id"] = stripe_payment_intent_id
    if failure_reason:
        fields["failure_reason"] = failure_reason
    return transition(oid, status, set_fields=fields)


def get_user_payment_history(
    user_id: Any, transaction_type: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> list[Payment]:
    """Payments made by a user, newest first, optionally of one ``transaction_type``."""
    oid = to_object_id(user_id)
    return payment_history(oid, transaction_type=transaction_type, limit=limit) if oid else []


def get_user_tips_received(user_id: Any, limit: int = DEFAULT_PAGE_SIZE) -> list[Payment]:
    """Tips a user received (every status), newest first."""
    oid = to_object_id(user_id)
    return tips_received(oid, limit=limit) if oid else []


def get_user_tips_given(user_id: Any, limit: int = DEFAULT_PAGE_SIZE) -> list[Payment]:
    """Tips a user gave (every status), newest first."""
    oid = to_object_id(user_id)
    return tips_sent(oid, limit=limit) if oid else []


# -- payments written by the legacy gateway ----------------------------------


@dataclass(frozen=True)
class BackfillReport:
    """What :func:`backfill_minor_units` did: ids updated, and ids skipped with the reason."""

    updated: list[ObjectId]
    skipped: list[tuple[ObjectId, str]]


def backfill_minor_units(*, dry_run: bool = False, limit: int | None = None) -> BackfillReport:
    """Give payments written by the legacy gateway an exact ``amount_minor``.

    The legacy gateway stored ``amount`` as a binary float (``9.99``) and no
    minor units, which this app treats as the source of truth. Each such
    document gets ``amount_minor`` from the shortest decimal form of its float
    (``repr``, never float arithmetic), ``amount`` as Decimal128 and a
    normalised ``currency`` (``usd`` when missing). The update is conditional
    on ``amount_minor`` still being absent, so running it twice, or on several
    servers at once, is safe. Amounts that are not a positive number with at
    most the currency's decimals are left as they are and reported.
    """
    collection = Payment._get_collection()
    cursor = collection.find({"amount_minor": {"$exists": False}}, {"amount": 1, "currency": 1})
    if limit:
        cursor = cursor.limit(limit)
    updated: list[ObjectId] = []
    skipped: list[tuple[ObjectId, str]] = []
    for raw in cursor:
        value = raw.get("amount")
        if isinstance(value, Decimal128):
            value = value.to_decimal()
        try:
            currency = normalize_currency(raw.get("currency") or "usd")
            amount = parse_amount(value, currency=currency)
        except InvalidAmount as exc:
            skipped.append((raw["_id"], exc.error))
            continue
        if not dry_run:
            result = collection.update_one(
                {"_id": raw["_id"], "amount_minor": {"$exists": False}},
                {
                    "$set": {
                        "amount": Decimal128(amount),
                        "amount_minor": to_minor_units(amount, currency),
                        "currency": currency,
                    }
                },
            )
            if not result.modified_count:
                continue  # another run got there first
        updated.append(raw["_id"])
    return BackfillReport(updated=updated, skipped=skipped)
