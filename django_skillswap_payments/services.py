"""The payment rules, free of HTTP.

Views and webhook handlers call these functions; they validate input, talk
to Stripe through :mod:`.gateway`, persist through :mod:`.repository` and
announce status changes through :mod:`.signals` — only after the database
confirmed the change.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bson import ObjectId
from mongoengine.errors import NotUniqueError

from . import gateway, repository, signals
from .conf import payments_settings
from .documents import (
    STATUS_COMPLETED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_REFUNDED,
    TRANSACTION_PREMIUM,
    TRANSACTION_TIP,
    Payment,
    PaymentProfile,
    Subscription,
    as_aware,
    utcnow,
)
from .errors import (
    AlreadyPremium,
    CheckoutInProgress,
    GatewayError,
    InvalidAmount,
    InvalidMessage,
    InvalidTransition,
    PaymentMismatch,
    PaymentNotFound,
    SelfTipNotAllowed,
)
from .money import normalize_currency, parse_amount
from .redirects import validate_redirect_url as validate_redirect_url  # part of the service API
from .users import resolve_recipient

logger = logging.getLogger(__name__)

# A premium slot whose holder has not stored a session id after this long is
# taken to belong to a crashed request and may be reclaimed.
STALE_SLOT_SECONDS = 60
# How long a concurrent premium start waits for the winner's session.
SLOT_WAIT_SECONDS = 5.0
SLOT_POLL_INTERVAL = 0.05
SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
# Unicode "format" characters that can disguise text direction.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


@dataclass(frozen=True)
class CheckoutStart:
    """Result of starting a checkout: where to send the user."""

    session_id: str
    url: str
    payment: Payment
    reused: bool = False


@dataclass(frozen=True)
class TransitionResult:
    """Outcome of a status change.

    ``changed`` is true for the one caller whose update happened (and who
    sent the signal); ``mismatch`` is true when Stripe's figures disagreed
    with the stored payment and nothing was granted.
    """

    payment: Payment
    changed: bool
    mismatch: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class SubscriptionSync:
    """Outcome of mirroring a Stripe subscription into the legacy ``subscriptions`` collection.

    ``changed`` is false, with a ``reason``, when the event carried nothing
    to store or a newer state was already stored.
    """

    subscription: Subscription | None
    changed: bool
    reason: str | None = None


# -- helpers ---------------------------------------------------------------


def stripe_object_id(value: Any) -> str | None:
    """An id from a Stripe field that holds either the id or the expanded object."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, Mapping):
        return stripe_object_id(value.get("id"))
    return None


def _timestamp(value: Any) -> dt.datetime | None:
    """A Unix time from Stripe as an aware datetime; ``None`` if absent or out of range."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def with_session_id(success_url: str) -> str:
    """Append ``session_id={CHECKOUT_SESSION_ID}`` so the success page can confirm the payment."""
    if SESSION_ID_PLACEHOLDER in success_url:
        return success_url
    base, hash_mark, fragment = success_url.partition("#")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}session_id={SESSION_ID_PLACEHOLDER}{hash_mark}{fragment}"


def clean_tip_message(message: Any) -> str | None:
    """Strip a tip message and enforce ``TIP_MESSAGE_MAX_LENGTH``; ``None`` when empty.

    Line breaks are allowed; other control characters and direction-override
    characters are rejected. Raises ``InvalidMessage``.
    """
    if message is None:
        return None
    if not isinstance(message, str):
        raise InvalidMessage("Message must be text")
    text = message.replace("\r\n", "\n").strip()
    if not text:
        return None
    limit = payments_settings.tip_message_max_length
    if len(text) > limit:
        raise InvalidMessage(f"Message must be at most {limit} characters")
    for char in text:
        if (unicodedata.category(char) == "Cc" and char != "\n") or char in _BIDI_CONTROLS:
            raise InvalidMessage("Message contains control characters")
    return text


def _plain(value: Any, limit: int = 200) -> Any:
    """A value reported by Stripe, reduced to a scalar that is always safe to store.

    Anything but ``None``/bool/int/str is kept as its (shortened) ``repr``, so a
    malformed report cannot smuggle unstorable keys into ``Payment.metadata``.
    """
    # BSON integers are 64-bit; a bigger one is kept as text.
    if value is None or isinstance(value, bool) or (isinstance(value, int) and -(2**63) <= value < 2**63):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text[:limit]


def _age_seconds(payment: Payment) -> float:
    created = as_aware(payment.created_at) or utcnow()
    return (utcnow() - created).total_seconds()


def _ensure_customer(profile: Any) -> str | None:
    """Stripe customer of the profile, created once for default profiles."""
    existing = getattr(profile, "stripe_customer_id", None)
    if existing:
        return existing
    if not isinstance(profile, PaymentProfile):
        # A site-provided profile without a customer id: let Checkout collect details.
        return None
    customer = gateway.create_customer(profile)
    return repository.save_customer_id(profile, customer.id)


def _open_session(
    payment: Payment,
    profile: Any,
    *,
    product_name: str,
    success_url: str,
    cancel_url: str,
) -> CheckoutStart:
    """Create the Stripe session for a freshly inserted pending payment.

    On any failure the pending payment is deleted before the error
    propagates, so no pending document without a session id is left behind.
    """
    try:
        customer_id = _ensure_customer(profile)
        session = gateway.create_checkout_session(
            payment,
            product_name=product_name,
            success_url=with_session_id(success_url),
            cancel_url=cancel_url,
            customer_id=customer_id,
        )
    except BaseException:
        repository.delete_unstarted_payment(payment.id)
        raise
    stored = repository.attach_checkout_session(
        payment.id,
        session_id=session.id,
        checkout_url=session.url,
        customer_id=customer_id,
        livemode=bool(getattr(session, "livemode", False)),
    )
    if stored is None:
        # The slot was reclaimed as stale while Stripe was slow; do not leave a payable orphan session.
        _expire_quietly(session.id)
        raise CheckoutInProgress()
    return CheckoutStart(
        session_id=stored.stripe_session_id, url=stored.checkout_url, payment=stored
    )


def _expire_quietly(session_id: str) -> None:
    try:
        gateway.expire_checkout_session(session_id)
    except GatewayError as exc:
        logger.warning("Could not expire Checkout Session %s: %s", session_id, exc.error)


# -- premium ---------------------------------------------------------------


def is_premium(profile: Any) -> bool:
    """Whether the profile has a completed premium payment or an active legacy subscription."""
    return (
        repository.has_completed_premium(profile.id)
        or repository.active_legacy_subscription(profile.id) is not None
    )


def get_premium_status(profile: Any, *, with_receipt: bool = False) -> dict[str, Any]:
    """Premium status in the reference shape ``{is_premium, status, subscription}``.

    With ``with_receipt``, a user who paid for premium also gets ``receipt``
    (see :func:`get_premium_receipt`), read with the same query. Datetimes
    are aware UTC ``datetime`` objects; serializers render them.
    """
    payment = repository.latest_completed_premium(profile.id)
    if payment is not None:
        status: dict[str, Any] = {
            "is_premium": True,
            "status": "active",
            "subscription": {
                "plan_type": "premium",
                "current_period_end": None,
                "current_period_start": as_aware(payment.completed_at),
                "cancel_at_period_end": False,
            },
        }
        if with_receipt:
            status["receipt"] = _receipt(payment)
        return status
    legacy = repository.active_legacy_subscription(profile.id)
    if legacy is not None:
        return {
            "is_premium": True,
            "status": legacy.status,
            "subscription": {
                "plan_type": legacy.plan_type or "premium",
                "current_period_end": as_aware(legacy.current_period_end),
                "current_period_start": as_aware(legacy.current_period_start),
                "cancel_at_period_end": bool(legacy.cancel_at_period_end),
            },
        }
    return {"is_premium": False, "status": "none", "subscription": None}


def get_premium_receipt(profile: Any) -> dict[str, Any] | None:
    """``{amount, currency, completed_at}`` of the latest completed premium payment, or ``None``.

    ``amount`` is an exact major-unit ``Decimal`` derived from the minor-unit
    amount; ``completed_at`` is an aware UTC datetime. Users who are premium
    through a legacy subscription have no receipt.
    """
    payment = repository.latest_completed_premium(profile.id)
    return _receipt(payment) if payment is not None else None


def _receipt(payment: Payment) -> dict[str, Any]:
    return {
        "amount": repository.amount_of(payment),
        "currency": payment.currency,
        "completed_at": as_aware(payment.completed_at),
    }


def _billing_period(subscription: Mapping[str, Any], name: str) -> dt.datetime | None:
    # Recent API versions moved the billing period from the subscription to its items.
    value = _timestamp(subscription.get(name))
    if value is None:
        items = subscription.get("items")
        data = items.get("data") if isinstance(items, Mapping) else None
        if isinstance(data, list) and data and isinstance(data[0], Mapping):
            value = _timestamp(data[0].get(name))
    return value


def _subscription_owner(subscription: Mapping[str, Any], customer_id: str | None) -> Any:
    """Profile id of a subscription: by its Stripe customer, else the ``user_id`` in its metadata."""
    profile = repository.profile_for_customer(customer_id) if customer_id else None
    if profile is not None:
        return profile.id
    metadata = subscription.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, Mapping) else None
    return repository.to_object_id(user_id)


def sync_legacy_subscription(
    stripe_subscription: Mapping[str, Any], *, event_created: int | None
) -> SubscriptionSync:
    """Mirror a Stripe subscription (from a ``customer.subscription.*`` event) into ``subscriptions``.

    Stripe does not deliver events in order, so the event's ``created`` time
    (Unix seconds) decides which state is newest: an older event never
    overwrites a newer stored state. The first event of a subscription
    creates its document for the profile linked to its customer (or named by
    ``metadata.user_id``). Legacy subscriptions only keep existing premium
    users premium; nothing new is sold as a subscription.
    """
    subscription_id = stripe_object_id(stripe_subscription.get("id"))
    status = stripe_subscription.get("status")
    if not subscription_id or not isinstance(status, str) or not status:
        return SubscriptionSync(None, False, "Subscription without id or status")
    customer_id = stripe_object_id(stripe_subscription.get("customer"))
    owner = _subscription_owner(stripe_subscription, customer_id)
    stored = repository.upsert_legacy_subscription(
        subscription_id,
        user_id=owner,
        as_of=_timestamp(event_created) or utcnow(),
        status=status,
        stripe_customer_id=customer_id,
        current_period_start=_billing_period(stripe_subscription, "current_period_start"),
        current_period_end=_billing_period(stripe_subscription, "current_period_end"),
        cancel_at_period_end=stripe_subscription.get("cancel_at_period_end") is True,
    )
    if stored is not None:
        return SubscriptionSync(stored, True)
    if owner is None and repository.get_legacy_subscription(subscription_id) is None:
        return SubscriptionSync(None, False, "No user for this subscription")
    return SubscriptionSync(None, False, "Older than the stored subscription state")


def _wait_for_session(payment_id: ObjectId) -> Payment | None:
    """Poll until the competing start stored its session; ``None`` if its payment vanished."""
    deadline = time.monotonic() + SLOT_WAIT_SECONDS
    while time.monotonic() < deadline:
        current = repository.get_payment(payment_id)
        if current is None or current.status != STATUS_PENDING:
            return None
        if current.stripe_session_id:
            return current
        time.sleep(SLOT_POLL_INTERVAL)
    raise CheckoutInProgress()


def _retire_stale_checkout(payment: Payment) -> None:
    """Close an open premium checkout too old to hand out again.

    If Stripe says it was paid after all, it is completed instead (and the
    caller then refuses with ``AlreadyPremium``).
    """
    session = gateway.retrieve_checkout_session(payment.stripe_session_id)
    if getattr(session, "payment_status", None) == "paid":
        _complete_from_session(payment, session)
        return
    if getattr(session, "status", None) == "open":
        _expire_quietly(payment.stripe_session_id)
    expire_payment(payment, reason="checkout_expired")


def start_premium_checkout(profile: Any, *, success_url: str, cancel_url: str) -> CheckoutStart:
    """Start (or resume) the premium purchase of ``profile``.

    Refuses with ``AlreadyPremium`` when the user already has premium. An
    open premium checkout younger than ``CHECKOUT_SESSION_REUSE_SECONDS`` is
    returned again instead of creating a second session. Concurrent starts
    race for the profile's unique ``open_checkout_slot``: one creates the
    Stripe session, the others wait for it and return the same session.
    """
    if is_premium(profile):
        raise AlreadyPremium()
    slot = repository.premium_slot(profile.id)
    reuse_seconds = payments_settings.checkout_session_reuse_seconds
    for _attempt in range(5):
        holder = repository.find_open_checkout(slot)
        if holder is not None:
            if not holder.stripe_session_id:
                if _age_seconds(holder) > STALE_SLOT_SECONDS:
                    repository.delete_unstarted_payment(
                        holder.id,
                        created_before=utcnow() - dt.timedelta(seconds=STALE_SLOT_SECONDS),
                    )
                    continue
                holder = _wait_for_session(holder.id)
                if holder is None:
                    continue
            if _age_seconds(holder) < reuse_seconds:
                return CheckoutStart(
                    session_id=holder.stripe_session_id,
                    url=holder.checkout_url,
                    payment=holder,
                    reused=True,
                )
            _retire_stale_checkout(holder)
            if is_premium(profile):
                raise AlreadyPremium()
            continue
        try:
            payment = repository.create_pending_payment(
                transaction_type=TRANSACTION_PREMIUM,
                from_user_id=profile.id,
                amount=payments_settings.premium_price,
                currency=payments_settings.currency,
                open_checkout_slot=slot,
            )
        except NotUniqueError:
            continue  # another start took the slot first; use its session
        return _open_session(
            payment,
            profile,
            product_name=payments_settings.PREMIUM_PRODUCT_NAME,
            success_url=success_url,
            cancel_url=cancel_url,
        )
    raise CheckoutInProgress()


# -- tips ------------------------------------------------------------------


def start_tip_checkout(
    profile: Any,
    *,
    recipient: Any,
    amount: Any,
    message: Any = None,
    success_url: str,
    cancel_url: str,
) -> CheckoutStart:
    """Start a tip from ``profile`` to ``recipient``.

    ``recipient`` is a resolved profile object or the recipient id string
    (resolved with ``RECIPIENT_RESOLVER``). ``amount`` must lie within
    ``TIP_MIN``..``TIP_MAX`` with at most the currency's decimals. Raises
    ``InvalidAmount``, ``InvalidMessage``, ``InvalidRecipientId``,
    ``RecipientNotFound``, ``SelfTipNotAllowed`` or ``GatewayError``.
    """
    currency = payments_settings.currency
    value = parse_amount(
        amount,
        currency=currency,
        minimum=payments_settings.tip_min,
        maximum=payments_settings.tip_max,
    )
    text = clean_tip_message(message)
    if not hasattr(recipient, "id"):
        recipient = resolve_recipient(recipient)
    if recipient.id == profile.id:
        raise SelfTipNotAllowed()
    payment = repository.create_pending_payment(
        transaction_type=TRANSACTION_TIP,
        from_user_id=profile.id,
        to_user_id=recipient.id,
        amount=value,
        currency=currency,
        message=text,
    )
    return _open_session(
        payment,
        profile,
        product_name=payments_settings.TIP_PRODUCT_NAME,
        success_url=success_url,
        cancel_url=cancel_url,
    )


def get_tip_history(
    profile: Any, *, limit: int = repository.DEFAULT_PAGE_SIZE, before: Any = None
) -> dict[str, Any]:
    """Tips sent and received, newest first, as ``{tips_sent, tips_received, total_sent, total_received}``.

    Sent tips include every status (the sender sees abandoned attempts);
    received tips include only completed and refunded ones, so unpaid
    checkouts never put text in front of the recipient. Totals count all
    matching tips, not just this page. ``before`` is the id of the last tip
    of the previous page (applied to both lists).
    """
    received_statuses = (STATUS_COMPLETED, STATUS_REFUNDED)
    return {
        "tips_sent": repository.tips_sent(profile.id, limit=limit, before=before),
        "tips_received": repository.tips_received(
            profile.id, limit=limit, before=before, statuses=received_statuses
        ),
        "total_sent": repository.count_tips_sent(profile.id),
        "total_received": repository.count_tips_received(profile.id, statuses=received_statuses),
    }


def get_payment_history(
    profile: Any,
    *,
    transaction_type: str | None = None,
    status: str | None = None,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
    limit: int = repository.DEFAULT_PAGE_SIZE,
    before: Any = None,
) -> list[Payment]:
    """Payments made by ``profile``, newest first, filtered and paginated."""
    return repository.payment_history(
        profile.id,
        transaction_type=transaction_type,
        status=status,
        created_from=created_from,
        created_to=created_to,
        limit=limit,
        before=before,
    )


# -- transitions -----------------------------------------------------------


def _load(payment_or_lookup: Any) -> Payment:
    if isinstance(payment_or_lookup, Payment):
        return payment_or_lookup
    if isinstance(payment_or_lookup, Mapping):
        payment = repository.find_payment(**payment_or_lookup)
    else:
        payment = repository.get_payment(payment_or_lookup)
    if payment is None:
        raise PaymentNotFound()
    return payment


def _finish(payment: Payment, updated: Payment | None) -> TransitionResult:
    """Send the signal if this caller won, and report the outcome."""
    if updated is None:
        current = repository.get_payment(payment.id) or payment
        return TransitionResult(payment=current, changed=False)
    signals.dispatch(updated)
    return TransitionResult(payment=updated, changed=True)


def complete_payment(
    payment_or_lookup: Any,
    *,
    payment_intent_id: str | None,
    amount_minor: int,
    currency: str,
    livemode: bool,
    session_id: str | None = None,
) -> TransitionResult:
    """Mark a payment completed with the figures Stripe reported.

    ``payment_or_lookup`` is a ``Payment``, its id, or a lookup mapping for
    :func:`repository.find_payment` (``{"session_id": ...}``). The amount (in
    minor units), currency and livemode must equal the stored payment's;
    otherwise nothing is granted, a note is stored on the payment and the
    result has ``mismatch=True``. Allowed from ``pending`` and ``failed``;
    only the caller whose update wins gets ``changed=True`` and sends
    ``premium_payment_completed`` / ``tip_payment_completed``.
    """
    payment = _load(payment_or_lookup)
    if payment.status not in repository.ALLOWED_PREVIOUS[STATUS_COMPLETED]:
        # Already completed or refunded: a duplicate report, nothing to compare or change.
        return TransitionResult(payment=payment, changed=False)
    problems = []
    if (
        isinstance(amount_minor, bool)
        or not isinstance(amount_minor, int)
        or amount_minor != payment.amount_minor
    ):
        problems.append("amount")
    try:
        if normalize_currency(currency) != payment.currency:
            problems.append("currency")
    except InvalidAmount:
        problems.append("currency")
    if bool(livemode) != bool(payment.livemode):
        problems.append("livemode")
    if problems:
        note = {
            "fields": problems,
            "reported": {
                "amount_minor": _plain(amount_minor),
                "currency": _plain(currency),
                "livemode": bool(livemode),
            },
            "payment_intent_id": payment_intent_id,
            "session_id": session_id,
            "at": utcnow(),
        }
        updated = repository.record_mismatch(payment.id, note)
        if updated is None:
            # Completed meanwhile: this report is a stale duplicate, not a mismatch to act on.
            return TransitionResult(
                payment=repository.get_payment(payment.id) or payment, changed=False
            )
        logger.error(
            "Payment %s: Stripe reported different %s; not completing",
            payment.id,
            ", ".join(problems),
        )
        return TransitionResult(payment=updated, changed=False, mismatch=True, reason="mismatch")
    fields: dict[str, Any] = {}
    if payment_intent_id:
        fields["stripe_payment_intent_id"] = payment_intent_id
    if session_id and not payment.stripe_session_id:
        fields["stripe_session_id"] = session_id
    return _finish(payment, repository.transition(payment.id, STATUS_COMPLETED, set_fields=fields))


def fail_payment(
    payment_or_lookup: Any, *, reason: str, payment_intent_id: str | None = None
) -> TransitionResult:
    """Mark a pending payment failed with ``reason``; sends ``payment_failed`` once."""
    payment = _load(payment_or_lookup)
    fields: dict[str, Any] = {"failure_reason": reason}
    if payment_intent_id and not payment.stripe_payment_intent_id:
        fields["stripe_payment_intent_id"] = payment_intent_id
    return _finish(payment, repository.transition(payment.id, STATUS_FAILED, set_fields=fields))


def expire_payment(payment_or_lookup: Any, *, reason: str = "checkout_expired") -> TransitionResult:
    """Close a pending payment whose Checkout Session expired (a ``failed`` transition)."""
    return fail_payment(payment_or_lookup, reason=reason)


def mark_payment_refunded(
    payment_or_lookup: Any, *, refund_id: str | None = None
) -> TransitionResult:
    """Record a refund Stripe already made (e.g. from a webhook); sends ``payment_refunded`` once."""
    payment = _load(payment_or_lookup)
    fields = {"stripe_refund_id": refund_id} if refund_id else {}
    return _finish(payment, repository.transition(payment.id, STATUS_REFUNDED, set_fields=fields))


def refund_payment(payment_or_lookup: Any, *, reason: str | None = None) -> TransitionResult:
    """Refund a completed payment in full at Stripe, then mark it refunded.

    Raises ``InvalidTransition`` unless the payment is completed, and
    ``GatewayError`` if Stripe refuses. Safe to retry: the Stripe refund is
    idempotent per payment.
    """
    payment = _load(payment_or_lookup)
    if payment.status != STATUS_COMPLETED:
        raise InvalidTransition(
            f"Only completed payments can be refunded (status is {payment.status!r})"
        )
    refund = gateway.create_refund(payment, reason=reason)
    return mark_payment_refunded(payment, refund_id=refund.id)


def _intent_id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return getattr(value, "id", None)


def _complete_from_session(payment: Payment, session: Any) -> TransitionResult:
    return complete_payment(
        payment,
        payment_intent_id=_intent_id(getattr(session, "payment_intent", None)),
        amount_minor=session.amount_total,
        currency=session.currency,
        livemode=bool(session.livemode),
        session_id=session.id,
    )


def confirm_checkout_session(profile: Any, session_id: str) -> Payment:
    """Confirm a checkout from the success page by asking Stripe about the session.

    Only the payment's owner may confirm (``PaymentNotFound`` otherwise). A
    paid session completes the payment through the same conditional
    transition the webhook uses, so the two can race safely; an expired one
    fails it. Raises ``PaymentMismatch`` when Stripe's figures differ.
    Returns the payment as stored afterwards.
    """
    if not isinstance(session_id, str) or not session_id.strip():
        raise PaymentNotFound()
    payment = repository.find_payment(session_id=session_id.strip(), from_user_id=profile.id)
    if payment is None:
        raise PaymentNotFound()
    if payment.status in (STATUS_COMPLETED, STATUS_REFUNDED):
        return payment
    session = gateway.retrieve_checkout_session(payment.stripe_session_id)
    if getattr(session, "payment_status", None) == "paid":
        result = _complete_from_session(payment, session)
        if result.mismatch:
            raise PaymentMismatch()
        return result.payment
    if getattr(session, "status", None) == "expired" and payment.status == STATUS_PENDING:
        return expire_payment(payment).payment
    return payment
