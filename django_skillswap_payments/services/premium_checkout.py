"""Starting (or resuming) the one-time premium purchase.

A premium purchase may have one open checkout per user, held by the unique
``open_checkout_slot`` index: concurrent starts race for it, one creates the
session and the others return that same session. A declined card does not
end that checkout (the buyer may try again on the same page), so a new start
returns it too; before handing it out again, Stripe is asked whether the
session is still open, and a session Stripe has expired, completed or never
heard of is settled first.

For a Django user with the default profiles, a start costs three MongoDB
commands and one Stripe call: the profile (created by an upsert for a new
user, whose premium status and open checkout need no look; read together
with both in one aggregation for a user whose profile id is remembered), the
pending payment, and the session stored on it. Checkout creates the Stripe
customer itself the first time; that customer is kept on the payment and
passed again by later checkouts (see
:mod:`~django_skillswap_payments.repository.checkout_facts`).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from bson import ObjectId
from mongoengine.errors import NotUniqueError

from .. import users
from ..conf import DEFAULTS, payments_settings
from ..currencies import CurrencyTerms, checkout_terms
from ..documents import STATUS_PENDING, TRANSACTION_PREMIUM, Payment, utcnow
from ..errors import AlreadyPremium, CheckoutInProgress
from ..repository import checkout_facts, profiles
from ..repository import payments as payment_store
from . import premium
from .cancellation import close_checkout, fetch_session, settle_closed_checkout
from .checkout import LOOK_UP_CUSTOMER, CheckoutStart, _age_seconds, _open_session
from .currency_choice import replace_checkout
from .reads import is_premium
from .transitions import REASON_EXPIRED

# A premium slot whose holder has not stored a session id after this long is
# taken to belong to a crashed request and may be reclaimed.
STALE_SLOT_SECONDS = 60
# How long a concurrent premium start waits for the winner's session.
SLOT_WAIT_SECONDS = 5.0
SLOT_POLL_INTERVAL = 0.05
# The open checkout is not known yet: look it up before racing for the slot.
_LOOK = object()


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
    return _start(profile, terms, holder=_LOOK, success_url=success_url, cancel_url=cancel_url)


def _start(
    profile: Any,
    terms: CurrencyTerms,
    *,
    holder: Any,
    success_url: str,
    cancel_url: str,
    created_customer: Any = LOOK_UP_CUSTOMER,
) -> CheckoutStart:
    """The slot race of :func:`start_premium_checkout`, premium already ruled out.

    ``holder`` is the payment already known to hold the slot (``None``: none
    does), or ``_LOOK`` to read it first. Knowing it is an optimisation only:
    the unique slot decides, and a lost insert looks again. ``created_customer``
    is the customer Checkout created for an earlier payment, when already read.
    """
    slot = payment_store.premium_slot(profile.id)
    for _attempt in range(5):
        if holder is _LOOK:
            holder = payment_store.find_open_checkout(slot)
        if holder is not None and holder.currency != terms.currency:
            replace_checkout(holder)
            if is_premium(profile):
                raise AlreadyPremium()
            holder = _LOOK
            continue
        if holder is not None:
            resumed = _resume_holder(holder, profile)
            if resumed is not None:
                return resumed
            holder = _LOOK
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
            holder = _LOOK  # another start took the slot first; use its session
            continue
        return _open_session(
            payment,
            profile,
            product_name=payments_settings.PREMIUM_PRODUCT_NAME,
            success_url=success_url,
            cancel_url=cancel_url,
            created_customer=created_customer,
        )
    raise CheckoutInProgress()


def _resume_holder(holder: Payment, profile: Any) -> CheckoutStart | None:
    """The slot holder's checkout if it can be handed out; ``None`` when the slot must be looked at again."""
    if not holder.stripe_session_id:
        if _age_seconds(holder) > STALE_SLOT_SECONDS:
            payment_store.delete_unstarted_payment(
                holder.id,
                created_before=utcnow() - dt.timedelta(seconds=STALE_SLOT_SECONDS),
            )
            return None
        waited = _wait_for_session(holder.id)
        if waited is None:
            return None
        holder = waited
    resumed = _resume_or_settle(holder)
    if resumed is None and is_premium(profile):
        raise AlreadyPremium()
    return resumed


def start_premium_checkout_for_user(
    user: Any, *, success_url: str, cancel_url: str, currency: str | None = None
) -> CheckoutStart:
    """:func:`start_premium_checkout` for a Django user, whose profile is created on first use.

    With the default profiles, a user whose profile id is remembered
    (:func:`~django_skillswap_payments.services.premium.remembered_profile_id`)
    has profile, premium status and open checkout read in one command; a new
    user's profile is created by one upsert, and a profile created just now
    can be neither premium nor hold a checkout. An unaccepted ``currency``
    is refused before any profile is created.
    """
    terms = checkout_terms(currency)
    if (
        payments_settings.PROFILE_RESOLVER != DEFAULTS["PROFILE_RESOLVER"]
        or not payments_settings.CREATE_PROFILES
        or user is None
        or not getattr(user, "is_authenticated", False)
        or user.pk is None
    ):
        return start_premium_checkout(
            users.resolve_profile(user), success_url=success_url, cancel_url=cancel_url,
            currency=terms.currency,
        )
    django_user_id = str(user.pk)
    urls = {"success_url": success_url, "cancel_url": cancel_url}
    profile_id = premium.remembered_profile_id(django_user_id)
    facts = None
    if profile_id is not None:
        facts = checkout_facts.premium_start_facts(profile_id, django_user_id)
    if facts is None:
        profile, created = profiles.open_profile_for_django_user(django_user_id)
        premium.remember_profile_id(django_user_id, profile.id)
        if created:
            return _start(profile, terms, holder=None, created_customer=None, **urls)
        facts = checkout_facts.premium_start_facts(profile.id, django_user_id)
        if facts is None:  # deleted since the upsert: start as the old way would
            return start_premium_checkout(profile, currency=terms.currency, **urls)
    if facts.premium:
        raise AlreadyPremium()
    return _start(facts.profile, terms, holder=facts.open_checkout, created_customer=facts.created_customer_id,
                  **urls)
