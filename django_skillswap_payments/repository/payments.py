"""The ``payments`` collection: checkout lifecycle, status transitions, signal bookkeeping.

Every status change is one conditional ``findAndModify`` following the table
in :mod:`django_skillswap_payments.states`, so of several concurrent callers
exactly one gets the document back. The one open premium checkout a user may
have is held by the unique ``open_checkout_slot`` index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from bson import ObjectId

from ..documents import (
    STATUS_COMPLETED,
    STATUS_PENDING,
    TRANSACTION_PREMIUM,
    Payment,
    utcnow,
)
from ..errors import InvalidTransition
from ..ids import to_object_id
from ..money import normalize_currency, to_minor_units
from ..states import ALLOWED_PREVIOUS, TIMESTAMP_FIELD


def premium_slot(profile_id: ObjectId) -> str:
    """Key of the single open premium checkout a profile may have."""
    return f"premium:{profile_id}"


# -- lookups ---------------------------------------------------------------


def get_payment(payment_id: Any) -> Payment | None:
    """Fetch a payment by id (``ObjectId`` or 24-hex string); ``None`` if absent or malformed."""
    oid = to_object_id(payment_id)
    if oid is None:
        return None
    return Payment.objects(id=oid).first()


def find_payment(
    *,
    payment_id: Any = None,
    session_id: str | None = None,
    payment_intent_id: str | None = None,
    from_user_id: ObjectId | None = None,
) -> Payment | None:
    """Find one payment by our id, Checkout Session id or PaymentIntent id.

    The first identifier given wins; ``from_user_id`` further restricts the
    match to one owner.
    """
    query: dict[str, Any] = {}
    if payment_id is not None:
        oid = to_object_id(payment_id)
        if oid is None:
            return None
        query["id"] = oid
    elif session_id:
        query["stripe_session_id"] = session_id
    elif payment_intent_id:
        query["stripe_payment_intent_id"] = payment_intent_id
    else:
        return None
    if from_user_id is not None:
        query["from_user_id"] = from_user_id
    return Payment.objects(**query).first()


# -- checkout lifecycle ----------------------------------------------------


def create_pending_payment(
    *,
    transaction_type: str,
    from_user_id: ObjectId,
    amount: Decimal,
    currency: str,
    to_user_id: ObjectId | None = None,
    message: str | None = None,
    open_checkout_slot: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Payment:
    """Insert a new ``pending`` payment.

    Raises ``mongoengine.errors.NotUniqueError`` when ``open_checkout_slot``
    is already held by another pending payment.
    """
    code = normalize_currency(currency)
    now = utcnow()
    payment = Payment(
        transaction_type=transaction_type,
        from_user_id=from_user_id,
        to_user_id=to_user_id,
        amount=amount,
        amount_minor=to_minor_units(amount, code),
        currency=code,
        message=message or None,
        status=STATUS_PENDING,
        metadata=dict(metadata or {}),
        open_checkout_slot=open_checkout_slot,
        created_at=now,
        updated_at=now,
    )
    payment.save(force_insert=True)
    return payment


def attach_checkout_session(
    payment_id: ObjectId,
    *,
    session_id: str,
    checkout_url: str | None,
    customer_id: str | None,
    livemode: bool,
) -> Payment | None:
    """Store the Checkout Session on a still-pending payment; ``None`` if it is gone or moved on."""
    updates: dict[str, Any] = {
        "set__stripe_session_id": session_id,
        "set__checkout_url": checkout_url,
        "set__livemode": bool(livemode),
        "set__updated_at": utcnow(),
    }
    if customer_id:
        updates["set__stripe_customer_id"] = customer_id
    return Payment.objects(
        id=payment_id, status=STATUS_PENDING, stripe_session_id__exists=False
    ).modify(new=True, **updates)


def delete_unstarted_payment(
    payment_id: ObjectId, *, created_before: dt.datetime | None = None
) -> bool:
    """Delete a pending payment that never got a Checkout Session.

    Used when creating the session failed, and to reclaim a premium slot held
    by a process that died mid-start (``created_before``). Returns whether a
    document was deleted; a payment that already has a session is never touched.
    """
    query: dict[str, Any] = {
        "id": payment_id,
        "status": STATUS_PENDING,
        "stripe_session_id__exists": False,
    }
    if created_before is not None:
        query["created_at__lt"] = created_before
    return Payment.objects(**query).delete() > 0


def find_open_checkout(slot: str) -> Payment | None:
    """The pending payment currently holding ``slot``, if any."""
    return Payment.objects(open_checkout_slot=slot).first()


# -- transitions -----------------------------------------------------------


def transition(
    payment_id: ObjectId,
    to_status: str,
    *,
    set_fields: Mapping[str, Any] | None = None,
) -> Payment | None:
    """Move a payment to ``to_status`` if its current status allows it.

    One conditional ``findAndModify``: matches ``_id`` and
    ``status in ALLOWED_PREVIOUS[to_status]``, sets the status, its timestamp
    and ``set_fields``, and releases the premium checkout slot. Returns the
    updated payment for the single caller whose update matched, ``None`` for
    everyone else (already moved, illegal from the current state, or absent).
    Raises :class:`~django_skillswap_payments.errors.InvalidTransition` for a
    target status nothing can move to (e.g. ``pending``). The table lives in
    :mod:`django_skillswap_payments.states`.
    """
    if to_status not in ALLOWED_PREVIOUS:
        raise InvalidTransition(f"No payment can move to status {to_status!r}")
    now = utcnow()
    updates: dict[str, Any] = {
        "set__status": to_status,
        "set__updated_at": now,
        f"set__{TIMESTAMP_FIELD[to_status]}": now,
        "unset__open_checkout_slot": True,
        # Raised in the same write as the status, cleared once every receiver ran: a process
        # that dies between the two leaves the flag set, so the signal can be re-dispatched.
        "set__signal_retry_needed": True,
    }
    for field, value in (set_fields or {}).items():
        updates[f"set__{field}"] = value
    return Payment.objects(id=payment_id, status__in=ALLOWED_PREVIOUS[to_status]).modify(
        new=True, **updates
    )


def record_mismatch(payment_id: ObjectId, note: Mapping[str, Any]) -> Payment | None:
    """Note on a not-yet-completed payment that Stripe reported different money details.

    The status is left unchanged. Returns ``None`` when the payment is
    already completed or refunded (a late duplicate report, nothing to note).
    """
    return Payment.objects(id=payment_id, status__in=ALLOWED_PREVIOUS[STATUS_COMPLETED]).modify(
        new=True,
        set__failure_reason="mismatch",
        set__metadata__mismatch=dict(note),
        set__updated_at=utcnow(),
    )


def record_signal_failures(payment_id: ObjectId, failures: Iterable[Mapping[str, Any]]) -> None:
    """Append receiver failures to ``signal_failures`` and flag the payment for re-dispatch."""
    entries = [dict(entry) for entry in failures]
    if not entries:
        return
    Payment.objects(id=payment_id).update_one(
        push_all__signal_failures=entries, set__signal_retry_needed=True
    )


def set_signal_retry_needed(payment_id: ObjectId, needed: bool) -> None:
    """Set or clear the re-dispatch flag."""
    Payment.objects(id=payment_id).update_one(set__signal_retry_needed=bool(needed))


def payments_needing_signal_retry(limit: int = 100, *, settled_seconds: int = 0) -> list[Payment]:
    """Payments whose signal did not reach every receiver, oldest first.

    That is a receiver that raised, or a process that stopped between the
    transition and the dispatch. ``settled_seconds`` skips payments changed
    more recently than that, whose first dispatch may still be running.
    """
    query: dict[str, Any] = {"signal_retry_needed": True}
    if settled_seconds:
        query["updated_at__lt"] = utcnow() - dt.timedelta(seconds=settled_seconds)
    return list(Payment.objects(**query).order_by("updated_at").limit(limit))


# -- premium status --------------------------------------------------------


def latest_completed_premium(user_id: ObjectId) -> Payment | None:
    """The most recent completed premium payment of a user, if any."""
    return (
        Payment.objects(
            from_user_id=user_id, transaction_type=TRANSACTION_PREMIUM, status=STATUS_COMPLETED
        )
        .order_by("-completed_at")
        .first()
    )


def has_completed_premium(user_id: ObjectId) -> bool:
    """Whether the user holds a completed (not refunded) premium payment."""
    return (
        Payment.objects(
            from_user_id=user_id, transaction_type=TRANSACTION_PREMIUM, status=STATUS_COMPLETED
        ).first()
        is not None
    )
