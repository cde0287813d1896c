"""All reads and writes of payment documents.

No multi-document transactions are used. Correctness comes from unique
indexes (session id, payment intent id, open premium checkout slot, Stripe
event id) and from conditional single-document updates: every status change
is one ``findAndModify`` whose filter names the allowed previous states, so
of several concurrent callers exactly one gets the document back.

The functions named after the reference backend's helpers
(``create_payment_transaction`` ...) are kept for code written against it.
They only persist; signals are sent by :mod:`~django_skillswap_payments.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId
from bson.errors import InvalidId
from mongoengine.errors import NotUniqueError
from mongoengine.queryset.visitor import Q

from .documents import (
    ALL_DOCUMENTS,
    PAYMENT_STATUSES,
    STATUS_COMPLETED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_REFUNDED,
    TRANSACTION_PREMIUM,
    TRANSACTION_TIP,
    WEBHOOK_FAILED,
    WEBHOOK_RECEIVED,
    Payment,
    PaymentProfile,
    Subscription,
    WebhookEvent,
    utcnow,
)
from .errors import InvalidAmount, InvalidTransition
from .money import from_minor_units, normalize_currency, parse_amount, to_minor_units

# target status -> statuses it may be reached from
ALLOWED_PREVIOUS: dict[str, tuple[str, ...]] = {
    STATUS_COMPLETED: (STATUS_PENDING, STATUS_FAILED),
    STATUS_FAILED: (STATUS_PENDING,),
    STATUS_REFUNDED: (STATUS_COMPLETED,),
}
TIMESTAMP_FIELD = {
    STATUS_COMPLETED: "completed_at",
    STATUS_FAILED: "failed_at",
    STATUS_REFUNDED: "refunded_at",
}
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50

__all__ = [
    "BackfillReport",
    "backfill_minor_units",
    "ALLOWED_PREVIOUS",
    "NotUniqueError",
    "ensure_indexes",
    "to_object_id",
    "premium_slot",
    "get_payment",
    "find_payment",
    "create_pending_payment",
    "attach_checkout_session",
    "delete_unstarted_payment",
    "find_open_checkout",
    "transition",
    "record_mismatch",
    "record_signal_failures",
    "set_signal_retry_needed",
    "payments_needing_signal_retry",
    "has_completed_premium",
    "latest_completed_premium",
    "active_legacy_subscription",
    "get_legacy_subscription",
    "upsert_legacy_subscription",
    "profile_for_customer",
    "save_customer_id",
    "tips_sent",
    "tips_received",
    "count_tips_sent",
    "count_tips_received",
    "payment_history",
    "storable_copy",
    "record_webhook_event",
    "get_webhook_event",
    "finish_webhook_event",
    "webhook_events",
    "create_payment_transaction",
    "update_payment_transaction_status",
    "get_user_payment_history",
    "get_user_tips_received",
    "get_user_tips_given",
]


# -- setup -----------------------------------------------------------------


def ensure_indexes() -> dict[str, list[str]]:
    """Create every index the documents declare; return index names per collection.

    Safe to run repeatedly (MongoDB ignores indexes that already exist).
    """
    created: dict[str, list[str]] = {}
    for document in ALL_DOCUMENTS:
        document.ensure_indexes()
        collection = document._get_collection()
        created[collection.name] = sorted(collection.index_information())
    return created


def to_object_id(value: Any) -> ObjectId | None:
    """Return ``value`` as an ``ObjectId``, or ``None`` if it is not a valid id."""
    if isinstance(value, ObjectId):
        return value
    if isinstance(value, str) and len(value) == 24:
        try:
            return ObjectId(value)
        except InvalidId:
            return None
    return None


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
    extra_filter: Mapping[str, Any] | None = None,
) -> Payment | None:
    """Move a payment to ``to_status`` if its current status allows it.

    One conditional ``findAndModify``: matches ``_id`` and
    ``status in ALLOWED_PREVIOUS[to_status]``, sets the status, its timestamp
    and ``set_fields``, and releases the premium checkout slot. Returns the
    updated payment for the single caller whose update matched, ``None`` for
    everyone else (already moved, illegal from the current state, or absent).
    Raises :class:`~django_skillswap_payments.errors.InvalidTransition` for a
    target status nothing can move to (e.g. ``pending``).
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
    query: dict[str, Any] = {"id": payment_id, "status__in": ALLOWED_PREVIOUS[to_status]}
    query.update(extra_filter or {})
    return Payment.objects(**query).modify(new=True, **updates)


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


# -- history ---------------------------------------------------------------


def _page(queryset, *, limit: int, before: Any = None):
    """Newest-first page of ``queryset`` ending just before the payment id ``before``."""
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    if before is not None:
        anchor = get_payment(before)
        if anchor is not None:
            queryset = queryset.filter(
                Q(created_at__lt=anchor.created_at)
                | (Q(created_at=anchor.created_at) & Q(id__lt=anchor.id))
            )
    return list(queryset.order_by("-created_at", "-id").limit(limit))


def _tips_sent_query(user_id: ObjectId, statuses: Iterable[str] | None = None):
    query = Payment.objects(from_user_id=user_id, transaction_type=TRANSACTION_TIP)
    return query.filter(status__in=list(statuses)) if statuses else query


def _tips_received_query(user_id: ObjectId, statuses: Iterable[str] | None = None):
    query = Payment.objects(to_user_id=user_id, transaction_type=TRANSACTION_TIP)
    return query.filter(status__in=list(statuses)) if statuses else query


def tips_sent(
    user_id: ObjectId,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    before: Any = None,
    statuses: Iterable[str] | None = None,
) -> list[Payment]:
    """Tips the user sent, newest first; ``before`` is the id of the last tip of the previous page."""
    return _page(_tips_sent_query(user_id, statuses), limit=limit, before=before)


def tips_received(
    user_id: ObjectId,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    before: Any = None,
    statuses: Iterable[str] | None = None,
) -> list[Payment]:
    """Tips the user received, newest first; paginated like :func:`tips_sent`."""
    return _page(_tips_received_query(user_id, statuses), limit=limit, before=before)


def count_tips_sent(user_id: ObjectId, statuses: Iterable[str] | None = None) -> int:
    """Number of tips the user sent (optionally only in ``statuses``)."""
    return _tips_sent_query(user_id, statuses).count()


def count_tips_received(user_id: ObjectId, statuses: Iterable[str] | None = None) -> int:
    """Number of tips the user received (optionally only in ``statuses``)."""
    return _tips_received_query(user_id, statuses).count()


def payment_history(
    user_id: ObjectId,
    *,
    transaction_type: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    before: Any = None,
) -> list[Payment]:
    """Payments made by the user, newest first, filtered and paginated.

    ``created_from`` is inclusive, ``created_to`` exclusive.
    """
    query = Payment.objects(from_user_id=user_id)
    if transaction_type:
        query = query.filter(transaction_type=transaction_type)
    if status:
        query = query.filter(status=status)
    if created_from is not None:
        query = query.filter(created_at__gte=created_from)
    if created_to is not None:
        query = query.filter(created_at__lt=created_to)
    return _page(query, limit=limit, before=before)


# -- webhook event log -----------------------------------------------------


# MongoDB refuses field names with "." or a leading "$" (older servers always,
# newer ones in updates), and BSON cannot hold a NUL in one; the dict copy of an
# event replaces them with these look-alikes, which the exact JSON body kept
# alongside does not need.
_KEY_ESCAPES = {".": "\uff0e", "$": "\uff04", "\x00": "\u2400"}
# The dict copy is skipped for bodies this large or nested this deep, so that
# storing the event can never fail on MongoDB's 16 MB document or 100-level nesting limits.
MAX_PAYLOAD_COPY_CHARS = 4 * 1024 * 1024
MAX_PAYLOAD_COPY_DEPTH = 40


class _TooDeep(Exception):
    pass


def _storable_key(key: Any) -> str:
    text = str(key).replace(".", _KEY_ESCAPES["."]).replace("\x00", _KEY_ESCAPES["\x00"])
    if text.startswith("$"):
        text = _KEY_ESCAPES["$"] + text[1:]
    return text or "\uff3f"  # an empty key is refused too


def _storable(value: Any, depth: int) -> Any:
    if depth > MAX_PAYLOAD_COPY_DEPTH:
        raise _TooDeep
    if isinstance(value, Mapping):
        return {_storable_key(key): _storable(item, depth + 1) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_storable(item, depth + 1) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return str(value)  # BSON integers are 64-bit
    return value


def storable_copy(payload: Mapping[str, Any]) -> dict[str, Any] | None:
    """``payload`` with every key MongoDB cannot store escaped; ``None`` if nested too deep.

    ``"a.b"`` becomes ``"a\uff0eb"``, ``"$c"`` becomes ``"\uff04c"`` and a NUL
    character in a key becomes ``"\u2400"`` (BSON keys cannot hold one); integers
    beyond 64 bits become strings; other values are unchanged.
    """
    try:
        return _storable(payload, 0)
    except _TooDeep:
        return None


def record_webhook_event(
    *,
    event_id: str,
    event_type: str,
    livemode: bool,
    api_version: str | None,
    payload: Mapping[str, Any],
    payload_json: str | None = None,
) -> WebhookEvent:
    """Record a delivery of a Stripe event and count the attempt.

    The first delivery inserts the event (status ``received``) with
    ``payload_json``, the exact body Stripe sent, and a storable copy of
    ``payload`` (see :func:`storable_copy`); later deliveries of the same
    event id only increment ``attempts``. The caller skips events whose
    returned status is already ``processed`` or ``ignored``.
    """
    fields: dict[str, Any] = {
        "set_on_insert__type": event_type,
        "set_on_insert__livemode": bool(livemode),
        "set_on_insert__api_version": api_version,
        "set_on_insert__status": WEBHOOK_RECEIVED,
        "set_on_insert__received_at": utcnow(),
        "inc__attempts": 1,
    }
    if payload_json is not None:
        fields["set_on_insert__payload_json"] = payload_json
    copy = None if payload_json and len(payload_json) > MAX_PAYLOAD_COPY_CHARS else storable_copy(payload)
    if copy is not None:
        fields["set_on_insert__payload"] = copy
    try:
        return WebhookEvent.objects(stripe_event_id=event_id).modify(
            upsert=True, new=True, **fields
        )
    except NotUniqueError:
        # Two concurrent first deliveries: the other insert won, so this one is an update.
        return WebhookEvent.objects(stripe_event_id=event_id).modify(new=True, inc__attempts=1)


def get_webhook_event(event_id: str) -> WebhookEvent | None:
    """The recorded event with this Stripe event id, if any."""
    return WebhookEvent.objects(stripe_event_id=event_id).first()


def finish_webhook_event(
    event_id: str, status: str, *, error: str | None = None
) -> WebhookEvent | None:
    """Mark a recorded event ``processed``, ``ignored`` or ``failed`` (with the error text)."""
    return WebhookEvent.objects(stripe_event_id=event_id).modify(
        new=True,
        set__status=status,
        set__last_error=error,
        set__processed_at=utcnow(),
    )


def webhook_events(
    *, statuses: Iterable[str] = (WEBHOOK_FAILED,), limit: int = 100
) -> list[WebhookEvent]:
    """Recorded events in ``statuses`` (failed ones by default), oldest first."""
    return list(
        WebhookEvent.objects(status__in=list(statuses)).order_by("received_at").limit(limit)
    )


# -- reference-compatible helpers -------------------------------------------


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
    """Create a payment record, as the reference backend's helper did.

    ``amount`` is in major units (``"9.99"``, ``Decimal("9.99")``, ``9.99``)
    and is parsed exactly; ``from_user_id``/``to_user_id`` are ObjectIds or
    their hex strings. Returns the saved :class:`Payment` (``str(payment.id)``
    is the id the reference returned). Sends no signal.
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
    """Change a payment's status through the state machine, as the reference helper did.

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


def amount_of(payment: Payment) -> Decimal:
    """Exact major-unit amount of a payment, derived from ``amount_minor``."""
    return from_minor_units(payment.amount_minor, payment.currency)


# -- payments written by the original system ---------------------------------


@dataclass(frozen=True)
class BackfillReport:
    """What :func:`backfill_minor_units` did: ids updated, and ids skipped with the reason."""

    updated: list[ObjectId]
    skipped: list[tuple[ObjectId, str]]


def backfill_minor_units(*, dry_run: bool = False, limit: int | None = None) -> BackfillReport:
    """Give payments written by the original system an exact ``amount_minor``.

    The original gateway stored ``amount`` as a binary float (``9.99``) and no
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
