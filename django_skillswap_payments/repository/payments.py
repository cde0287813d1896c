"""The ``payments`` collection: checkout lifecycle, status transitions, signal bookkeeping.

Every status change is one conditional ``findAndModify`` following the table
in :mod:`django_skillswap_payments.states`, so of several concurrent callers
exactly one gets the document back. The one open premium checkout a user may
have is held by the unique ``open_checkout_slot`` index, the one completed
premium payment by the unique ``premium_holder`` index.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from bson import ObjectId
from mongoengine.errors import NotUniqueError
from mongoengine.queryset.visitor import Q

from ..documents import (
    STATUS_COMPLETED,
    STATUS_EXPIRED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_REFUNDED,
    TRANSACTION_PREMIUM,
    Payment,
    utcnow,
)
from ..errors import InvalidTransition
from ..ids import to_object_id
from ..money import normalize_currency, to_minor_units
from ..states import ALLOWED_PREVIOUS, DECLINE, TRANSITIONS, Transition

logger = logging.getLogger(__name__)


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
    **payout: Any,
) -> Payment:
    """Insert a new ``pending`` payment; ``payout`` holds the Connect routing of a tip.

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
        **payout,
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
    success_url: str | None = None,
    cancel_url: str | None = None,
    expires_at: dt.datetime | None = None,
) -> Payment | None:
    """Store the Checkout Session on a still-pending payment; ``None`` if it is gone or moved on."""
    updates: dict[str, Any] = {
        "set__stripe_session_id": session_id,
        "set__checkout_url": checkout_url,
        "set__livemode": bool(livemode),
        "set__updated_at": utcnow(),
    }
    optional = {
        "stripe_customer_id": customer_id,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "checkout_expires_at": expires_at,
    }
    updates.update({f"set__{field}": value for field, value in optional.items() if value})
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
    """The payment currently holding ``slot`` (pending, or failed with a retryable decline), if any."""
    return Payment.objects(open_checkout_slot=slot).first()


# -- transitions -----------------------------------------------------------


def transition(
    payment_id: ObjectId,
    to_status: str,
    *,
    set_fields: Mapping[str, Any] | None = None,
    retryable: bool = False,
    flag_signal: bool = True,
) -> Payment | None:
    """Move a payment to ``to_status`` if its current status allows it.

    One conditional ``findAndModify``: matches ``_id`` and a status the
    table in :mod:`django_skillswap_payments.states` allows, sets the status,
    its timestamp and ``set_fields``, and releases the premium checkout slot
    unless the move is a ``retryable`` failure (a declined attempt on a
    session Stripe still has open). Completing clears the failure details of
    earlier attempts and, for premium, claims the payer's ``premium_holder``
    key (see :func:`_complete`). ``flag_signal`` raises ``signal_retry_needed``
    in the same write (pass ``False`` when the signal has no receivers, see
    :func:`django_skillswap_payments.signals.has_receivers`). Returns the updated payment for the single
    caller whose update matched, ``None`` for everyone else (already moved,
    illegal from the current state, or absent). Raises
    :class:`~django_skillswap_payments.errors.InvalidTransition` for a target
    status nothing can move to (e.g. ``pending``), or ``retryable`` with
    another target than ``failed``.
    """
    if to_status not in TRANSITIONS or (retryable and to_status != STATUS_FAILED):
        raise InvalidTransition(f"No payment can move to status {to_status!r}")
    move = DECLINE if retryable else TRANSITIONS[to_status]
    now = utcnow()
    updates: dict[str, Any] = {
        "set__status": to_status,
        "set__updated_at": now,
        f"set__{move.timestamp_field}": now,
    }
    if flag_signal:
        # Raised in the same write as the status, cleared once every receiver ran: a process
        # that dies between the two leaves the flag set, so the signal can be re-dispatched.
        updates["set__signal_retry_needed"] = True
    if move.ends_checkout:
        updates["unset__open_checkout_slot"] = True
    if to_status == STATUS_FAILED:
        updates["set__failure_final"] = move.ends_checkout
    elif to_status == STATUS_COMPLETED:
        # Whatever an earlier attempt left (a decline, a mismatched report) is no longer true.
        updates.update(
            unset__failure_reason=True, unset__failure_final=True, unset__metadata__mismatch=True
        )
    elif to_status == STATUS_REFUNDED:
        updates["unset__premium_holder"] = True
    for field, value in (set_fields or {}).items():
        updates[f"set__{field}"] = value
    query = Payment.objects(_source_filter(payment_id, move))
    if to_status == STATUS_COMPLETED:
        return _complete(payment_id, query, updates)
    return query.modify(new=True, **updates)


def _source_filter(payment_id: ObjectId, move: Transition) -> Q:
    if not move.retryable_failures_only:
        return Q(id=payment_id, status__in=move.sources)
    others = [status for status in move.sources if status != STATUS_FAILED]
    return Q(id=payment_id) & (Q(status__in=others) | Q(status=STATUS_FAILED, failure_final=False))


def _complete(payment_id: ObjectId, query: Any, updates: dict[str, Any]) -> Payment | None:
    """Complete a payment; a premium one claims its payer's unique ``premium_holder`` key.

    The key is set in the completing write itself. When another payment of
    the same payer holds it, the unique index refuses the write, and the
    payment is completed without the key, marked ``duplicate_of`` the holder
    (the caller refunds it). The payer and type of a payment never change,
    so reading them first is safe.
    """
    payment = Payment.objects(id=payment_id).only("transaction_type", "from_user_id").first()
    if payment is None or payment.transaction_type != TRANSACTION_PREMIUM:
        return query.modify(new=True, **updates)
    for _attempt in range(3):
        try:
            return query.modify(new=True, set__premium_holder=payment.from_user_id, **updates)
        except NotUniqueError:
            holder = premium_holder_of(payment.from_user_id)
        if holder is not None:
            logger.error(
                "Payment %s: premium of %s is already held by payment %s; completing it as a duplicate",
                payment_id, payment.from_user_id, holder.id,
            )
            return query.modify(new=True, set__duplicate_of=holder.id, **updates)
        # The holder was refunded in between: the key is free again.
    raise NotUniqueError(f"Could not claim premium for payment {payment_id}")


def premium_holder_of(user_id: ObjectId) -> Payment | None:
    """The completed premium payment holding the user's premium, if any."""
    return Payment.objects(premium_holder=user_id).first()


def adopt_premium_holders() -> list[ObjectId]:
    """Give completed premium payments stored without the ``premium_holder`` key their key.

    For payments completed before the key existed; the oldest payment of a
    user wins. Returns the ids of completed premium payments that could not
    take the key because their payer already holds premium through another
    one (left as they are, and logged for an operator to refund).
    """
    duplicates: list[ObjectId] = []
    adopt = Payment.objects(
        transaction_type=TRANSACTION_PREMIUM,
        status=STATUS_COMPLETED,
        premium_holder=None,
        duplicate_of=None,
    )
    for payment in adopt.order_by("completed_at", "id").only("id", "from_user_id"):
        try:
            Payment.objects(id=payment.id, status=STATUS_COMPLETED, premium_holder=None).update_one(
                set__premium_holder=payment.from_user_id
            )
        except NotUniqueError:
            logger.warning(
                "Payment %s is a second completed premium payment of %s; refund one of them",
                payment.id, payment.from_user_id,
            )
            duplicates.append(payment.id)
    return duplicates


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


def note_cancel_request(payment_id: ObjectId, requested: bool = True) -> None:
    """Record (or withdraw) the buyer's request to cancel a checkout that is not over yet."""
    query = Payment.objects(id=payment_id, status__in=ALLOWED_PREVIOUS[STATUS_EXPIRED])
    if requested:
        query.update_one(set__cancel_requested_at=utcnow())
    else:
        query.update_one(unset__cancel_requested_at=True)


def note_refund_id(payment_id: ObjectId, refund_id: str) -> Payment | None:
    """Store the Stripe refund id on a refunded payment that has none yet."""
    return Payment.objects(
        id=payment_id, status=STATUS_REFUNDED, stripe_refund_id__exists=False
    ).modify(new=True, set__stripe_refund_id=refund_id)


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
    """The most recent completed premium payment of a user, if any (never a duplicate)."""
    return (
        Payment.objects(
            from_user_id=user_id,
            transaction_type=TRANSACTION_PREMIUM,
            status=STATUS_COMPLETED,
            duplicate_of=None,
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
