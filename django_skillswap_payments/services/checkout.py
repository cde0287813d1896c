"""Starting a checkout: a pending payment, then its Stripe Checkout Session.

Every checkout is in one of the accepted currencies (``currencies.checkout_terms``),
which sets its price or tip limits. A premium purchase may have one open
checkout per user, whatever its currency, held by the unique
``open_checkout_slot`` index: concurrent starts race for it, one creates the
session and the others return that same session. A declined card does not
end that checkout (the buyer may try again on the same page), so a new start
returns it too; before handing it out again, Stripe is asked whether the
session is still open, and a session Stripe has expired, completed or never
heard of is settled first. Tips have no such limit.
A pending payment that never got its session (Stripe refused, the process
died) is deleted or reclaimed, never left payable.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bson import ObjectId
from mongoengine.errors import NotUniqueError

from .. import gateway, stripe_facts, users
from ..conf import payments_settings
from ..currencies import CurrencyTerms, checkout_terms
from ..documents import (
    STATUS_PENDING,
    TRANSACTION_PREMIUM,
    TRANSACTION_TIP,
    Payment,
    PaymentProfile,
    as_aware,
    utcnow,
)
from ..errors import (
    AlreadyPremium,
    CheckoutInProgress,
    GatewayError,
    SelfTipNotAllowed,
)
from ..money import parse_amount
from ..repository import payments as payment_store
from ..repository import profiles
from .cancellation import close_checkout, fetch_session, settle_closed_checkout
from .currency_choice import replace_checkout
from .reads import is_premium
from .tip_messages import clean_tip_message
from .transitions import REASON_EXPIRED

logger = logging.getLogger("django_skillswap_payments.services")

# A premium slot whose holder has not stored a session id after this long is
# taken to belong to a crashed request and may be reclaimed.
STALE_SLOT_SECONDS = 60
# How long a concurrent premium start waits for the winner's session.
SLOT_WAIT_SECONDS = 5.0
SLOT_POLL_INTERVAL = 0.05
SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"


@dataclass(frozen=True)
class CheckoutStart:
    """Result of starting a checkout: where to send the user.

    ``reused`` tells that an open checkout was returned instead of a new one;
    ``success_url`` and ``cancel_url`` are the ones that session uses (those
    of the request that created it, whatever a later request asked for).
    """

    session_id: str
    url: str
    payment: Payment
    reused: bool = False
    success_url: str | None = None
    cancel_url: str | None = None


def with_session_id(success_url: str) -> str:
    """Append ``session_id={CHECKOUT_SESSION_ID}`` so the success page can confirm the payment."""
    if SESSION_ID_PLACEHOLDER in success_url:
        return success_url
    base, hash_mark, fragment = success_url.partition("#")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}session_id={SESSION_ID_PLACEHOLDER}{hash_mark}{fragment}"


def parse_tip_amount(amount: Any, terms: CurrencyTerms | None = None) -> Decimal:
    """A tip amount within the currency's tip limits that the currency can express.

    ``terms`` default to the default currency's (``TIP_MIN``..``TIP_MAX`` in the one-currency form).
    """
    terms = terms or checkout_terms()
    return parse_amount(amount, currency=terms.currency, minimum=terms.tip_min, maximum=terms.tip_max)


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
    customer_id = stripe_facts.stripe_id(gateway.create_customer(profile))
    return profiles.save_customer_id(profile, customer_id) if customer_id else None


def _expire_quietly(session_id: str) -> None:
    try:
        gateway.expire_checkout_session(session_id)
    except GatewayError as exc:
        logger.warning("Could not expire Checkout Session %s: %s", session_id, exc.error)


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
        session = stripe_facts.checkout_session(
            gateway.create_checkout_session(
                payment,
                product_name=product_name,
                success_url=with_session_id(success_url),
                cancel_url=cancel_url,
                customer_id=customer_id,
            )
        )
        if not session.id:
            raise GatewayError("api", "Stripe returned a Checkout Session without an id")
    except BaseException:
        payment_store.delete_unstarted_payment(payment.id)
        raise
    stored = payment_store.attach_checkout_session(
        payment.id,
        session_id=session.id,
        checkout_url=session.url,
        customer_id=customer_id,
        livemode=session.livemode,
        success_url=session.success_url or with_session_id(success_url),
        cancel_url=session.cancel_url or cancel_url,
        expires_at=session.expires_at,
    )
    if stored is None:
        # The slot was reclaimed as stale while Stripe was slow; do not leave a payable orphan session.
        _expire_quietly(session.id)
        raise CheckoutInProgress()
    return CheckoutStart(
        session_id=stored.stripe_session_id,
        url=stored.checkout_url,
        payment=stored,
        success_url=stored.success_url,
        cancel_url=stored.cancel_url,
    )


# -- premium ---------------------------------------------------------------


def _wait_for_session(payment_id: ObjectId) -> Payment | None:
    """Poll until the competing start stored its session; ``None`` if its payment vanished."""
    deadline = time.monotonic() + SLOT_WAIT_SECONDS
    while time.monotonic() < deadline:
        current = payment_store.get_payment(payment_id)
        if current is None or current.status != STATUS_PENDING:
            return None
        if current.stripe_session_id:
            return current
        time.sleep(SLOT_POLL_INTERVAL)
    raise CheckoutInProgress()


def _resume_or_settle(holder: Payment) -> CheckoutStart | None:
    """The holder's checkout to hand out again, if Stripe still has it open; else settle it.

    Too old to hand out (``CHECKOUT_SESSION_REUSE_SECONDS``): expired at
    Stripe and here. Otherwise the session is fetched: open → returned;
    paid, expired, failed or unknown to Stripe → the payment follows suit
    (``None`` is returned and the caller looks again).
    """
    if _age_seconds(holder) >= payments_settings.checkout_session_reuse_seconds:
        close_checkout(holder, reason=REASON_EXPIRED)
        return None
    session = fetch_session(holder.stripe_session_id)
    if session is None or not session.open:
        settle_closed_checkout(holder, session)
        return None
    return CheckoutStart(
        session_id=holder.stripe_session_id,
        url=holder.checkout_url or session.url or "",
        payment=holder,
        reused=True,
        success_url=session.success_url or holder.success_url,
        cancel_url=session.cancel_url or holder.cancel_url,
    )


def start_premium_checkout(
    profile: Any, *, success_url: str, cancel_url: str, currency: str | None = None
) -> CheckoutStart:
    """Start (or resume) the premium purchase of ``profile``.

    Refuses with ``AlreadyPremium`` when the user already has premium. An
    open premium checkout (also after a declined card) younger than
    ``CHECKOUT_SESSION_REUSE_SECONDS`` and still open at Stripe is returned
    again (``reused=True``) instead of creating a second session. Concurrent
    starts race for the profile's unique ``open_checkout_slot``: one creates
    the Stripe session, the others wait for it and return the same session.
    Raises ``PaymentProcessing`` while the open checkout's delayed payment
    method is still clearing, and ``GatewayError`` when Stripe cannot be asked.
    ``currency`` (default: the first accepted) must be accepted (``UnsupportedCurrency``);
    an open checkout in another currency is canceled first (:func:`.currency_choice.replace_checkout`).
    """
    terms = checkout_terms(currency)
    if is_premium(profile):
        raise AlreadyPremium()
    slot = payment_store.premium_slot(profile.id)
    for _attempt in range(5):
        holder = payment_store.find_open_checkout(slot)
        if holder is not None:
            if not holder.stripe_session_id:
                if _age_seconds(holder) > STALE_SLOT_SECONDS:
                    payment_store.delete_unstarted_payment(
                        holder.id,
                        created_before=utcnow() - dt.timedelta(seconds=STALE_SLOT_SECONDS),
                    )
                    continue
                holder = _wait_for_session(holder.id)
                if holder is None:
                    continue
            if holder.currency != terms.currency:
                replace_checkout(holder)
                if is_premium(profile):
                    raise AlreadyPremium()
                continue
            resumed = _resume_or_settle(holder)
            if resumed is not None:
                return resumed
            if is_premium(profile):
                raise AlreadyPremium()
            continue
        try:
            payment = payment_store.create_pending_payment(
                transaction_type=TRANSACTION_PREMIUM,
                from_user_id=profile.id,
                amount=terms.premium_price,
                currency=terms.currency,
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


def start_premium_checkout_for_user(
    user: Any, *, success_url: str, cancel_url: str, currency: str | None = None
) -> CheckoutStart:
    """:func:`start_premium_checkout` for a Django user, whose profile is created on first use."""
    terms = checkout_terms(currency)  # an unaccepted currency creates no profile
    return start_premium_checkout(
        users.resolve_profile(user), success_url=success_url, cancel_url=cancel_url, currency=terms.currency
    )


# -- tips ------------------------------------------------------------------


def start_tip_checkout(
    profile: Any,
    *,
    recipient: Any,
    amount: Any,
    message: Any = None,
    success_url: str,
    cancel_url: str,
    currency: str | None = None,
) -> CheckoutStart:
    """Start a tip from ``profile`` to ``recipient``.

    ``recipient`` is a resolved profile object or the recipient id string
    (resolved with ``RECIPIENT_RESOLVER``). ``amount`` must lie within
    the tip limits of ``currency`` (default: the first accepted) and be
    expressible in it. Raises ``UnsupportedCurrency``, ``InvalidAmount``,
    ``InvalidMessage``, ``InvalidRecipientId``, ``RecipientNotFound``,
    ``SelfTipNotAllowed`` or ``GatewayError``.
    """
    terms = checkout_terms(currency)
    value = parse_tip_amount(amount, terms)
    text = clean_tip_message(message)
    if not hasattr(recipient, "id"):
        recipient = users.resolve_recipient(recipient)
    return _open_tip(profile, recipient, terms, value, text, success_url=success_url, cancel_url=cancel_url)


def start_tip_checkout_for_user(
    user: Any,
    *,
    to_user_id: Any,
    amount: Any,
    message: Any = None,
    success_url: str,
    cancel_url: str,
    currency: str | None = None,
) -> CheckoutStart:
    """:func:`start_tip_checkout` for a Django user.

    Everything about the tip is checked before the sender's profile is
    created, so a tip that cannot be made writes nothing.
    """
    terms = checkout_terms(currency)
    value = parse_tip_amount(amount, terms)
    text = clean_tip_message(message)
    recipient = users.resolve_recipient(to_user_id)
    return _open_tip(
        users.resolve_profile(user), recipient, terms, value, text,
        success_url=success_url, cancel_url=cancel_url,
    )


def _open_tip(
    profile: Any,
    recipient: Any,
    terms: CurrencyTerms,
    amount: Decimal,
    message: str | None,
    *,
    success_url: str,
    cancel_url: str,
) -> CheckoutStart:
    if recipient.id == profile.id:
        raise SelfTipNotAllowed()
    payment = payment_store.create_pending_payment(
        transaction_type=TRANSACTION_TIP,
        from_user_id=profile.id,
        to_user_id=recipient.id,
        amount=amount,
        currency=terms.currency,
        message=message,
    )
    return _open_session(
        payment,
        profile,
        product_name=payments_settings.TIP_PRODUCT_NAME,
        success_url=success_url,
        cancel_url=cancel_url,
    )
