"""Starting a checkout: a pending payment, then its Stripe Checkout Session.

This module starts tips and holds what every start shares: the checks of
amounts and messages, and :func:`_open_session`, which creates the Stripe
session for a pending payment. The premium purchase and its
one-open-checkout rule are :mod:`.premium_checkout`. A pending payment that
never got its session (Stripe refused, the process died) is deleted or
reclaimed, never left payable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .. import gateway, stripe_facts, users
from ..conf import DEFAULTS, payments_settings
from ..currencies import CurrencyTerms, checkout_terms
from ..documents import TRANSACTION_TIP, Payment, PaymentProfile, as_aware, utcnow
from ..errors import (
    CheckoutInProgress,
    GatewayError,
    RecipientNotFound,
    SelfTipNotAllowed,
)
from ..ids import to_object_id
from ..money import parse_amount
from ..repository import checkout_facts, profiles
from ..repository import payments as payment_store
from . import adaptive_pricing, connect, premium
from .promotions import offers_promotion_codes
from .tip_messages import clean_tip_message

logger = logging.getLogger("django_skillswap_payments.services")

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


# The customer Checkout created for a profile is not known yet: look for it before opening a session.
LOOK_UP_CUSTOMER: Any = object()


def _customer_of(profile: Any, created_customer: Any = LOOK_UP_CUSTOMER) -> tuple[str | None, bool]:
    """The profile's Stripe customer, or whether Checkout should create one.

    A customer stored on the profile comes first; then the one Checkout
    created for an earlier payment of a default profile (``created_customer``
    when the caller read it already, see
    :mod:`~django_skillswap_payments.repository.checkout_facts`). A default
    profile with neither has Checkout create it (no call of our own). A
    site-provided profile without a customer id lets Checkout collect the
    details, as Stripe does by default.
    """
    existing = getattr(profile, "stripe_customer_id", None)
    if existing:
        return existing, False
    if not isinstance(profile, PaymentProfile):
        return None, False
    if created_customer is LOOK_UP_CUSTOMER:
        created_customer = checkout_facts.created_customer_of(profile.id, profile.missing_stripe_customer_ids)
    return (created_customer, False) if created_customer else (None, True)


def _expire_quietly(session_id: str) -> None:
    try:
        gateway.expire_checkout_session(session_id)
    except GatewayError as exc:
        logger.warning("Could not expire Checkout Session %s: %s", session_id, exc.error)


def _replace_missing_customer(payment: Payment, profile: Any, missing: str, request: dict[str, Any]) -> Any:
    """Open the session again without ``missing``, the customer Stripe does not have.

    A default profile remembers it as missing, so no checkout passes it again,
    and gets a new customer from Checkout, kept by the completion as any
    created customer is. A profile the site provides is left as it is: its
    customer is the site's to fix, and Checkout collects the details meanwhile.
    """
    stored = isinstance(profile, PaymentProfile)
    if stored:
        profiles.forget_missing_customer(profile, missing)
    logger.warning(
        "Stripe has no customer %s (deleted, or made with the other mode's keys); checkout %s goes on "
        "without it%s", missing, payment.id, "" if stored else " (the site's profile still names it)",
    )
    return gateway.create_checkout_session(
        payment, customer_id=None, create_customer=stored, replacing_missing_customer=missing, **request
    )


def _open_session(
    payment: Payment,
    profile: Any,
    *,
    product_name: str,
    success_url: str,
    cancel_url: str,
    created_customer: Any = LOOK_UP_CUSTOMER,
) -> CheckoutStart:
    """Create the Stripe session for a freshly inserted pending payment.

    On any failure the pending payment is deleted before the error
    propagates, so no pending document without a session id is left behind.
    """
    try:
        customer_id, create_customer = _customer_of(profile, created_customer)
        request: dict[str, Any] = {
            "product_name": product_name,
            "success_url": with_session_id(success_url),
            "cancel_url": cancel_url,
            "allow_promotion_codes": offers_promotion_codes(payment),
            "adaptive_pricing": adaptive_pricing.session_setting(),
        }
        try:
            created = gateway.create_checkout_session(
                payment, customer_id=customer_id, create_customer=create_customer, **request
            )
        except GatewayError as error:
            if not customer_id or not gateway.names_missing_customer(error):
                raise
            created = _replace_missing_customer(payment, profile, customer_id, request)
            customer_id = None
        session = stripe_facts.checkout_session(created)
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
    sender, recipient, created_customer = _tip_parties(user, to_user_id, value, terms.currency)
    return _open_tip(sender, recipient, terms, value, text, success_url=success_url, cancel_url=cancel_url,
                     created_customer=created_customer)


def _tip_parties(user: Any, to_user_id: Any, value: Decimal, currency: str) -> tuple[Any, Any, Any]:
    """Sender and recipient profiles, and the sender's created customer when it was read with them.

    With the default profiles, a sender whose profile id is remembered costs
    one command: both profiles by id and the customer of the sender's
    earlier payments, in one aggregation. A stale or missing memory falls
    back to the resolvers (recipient first, then the sender's upsert), which
    give the same answers and errors; a profile the upsert just created has
    no earlier payment to look at.
    """
    defaults = all(getattr(payments_settings, name) == DEFAULTS[name]
                   for name in ("PROFILE_RESOLVER", "RECIPIENT_RESOLVER"))
    if not defaults or not payments_settings.CREATE_PROFILES:
        recipient = users.resolve_recipient(to_user_id)
        connect.tip_payment_fields(recipient, value, currency)  # refuses before any write
        return users.resolve_profile(user), recipient, LOOK_UP_CUSTOMER
    signed_in = getattr(user, "is_authenticated", False) and user.pk is not None
    if signed_in and isinstance(to_user_id, str):
        sender_id, recipient_id = premium.remembered_profile_id(str(user.pk)), to_object_id(to_user_id.strip())
        if sender_id is not None and recipient_id is not None:
            found, created_customer = checkout_facts.tip_parties(sender_id, recipient_id)
            sender = found.get(sender_id)
            if sender is not None and sender.django_user_id == str(user.pk):
                if recipient_id not in found:
                    raise RecipientNotFound()
                return sender, found[recipient_id], created_customer
    recipient = users.resolve_recipient(to_user_id)
    connect.tip_payment_fields(recipient, value, currency)  # refuses before any write
    if not signed_in:
        return users.resolve_profile(user), recipient, LOOK_UP_CUSTOMER
    sender, created = profiles.open_profile_for_django_user(str(user.pk))
    premium.remember_profile_id(str(user.pk), sender.id)
    return sender, recipient, (None if created else LOOK_UP_CUSTOMER)


def _open_tip(
    profile: Any,
    recipient: Any,
    terms: CurrencyTerms,
    amount: Decimal,
    message: str | None,
    *,
    success_url: str,
    cancel_url: str,
    created_customer: Any = LOOK_UP_CUSTOMER,
) -> CheckoutStart:
    if recipient.id == profile.id:
        raise SelfTipNotAllowed()
    payout = connect.tip_payment_fields(recipient, amount, terms.currency)
    payment = payment_store.create_pending_payment(
        transaction_type=TRANSACTION_TIP,
        from_user_id=profile.id,
        to_user_id=recipient.id,
        amount=amount,
        currency=terms.currency,
        message=message,
        **payout,
    )
    try:
        return _open_session(
            payment,
            profile,
            product_name=payments_settings.TIP_PRODUCT_NAME,
            success_url=success_url,
            cancel_url=cancel_url,
            created_customer=created_customer,
        )
    except GatewayError as error:
        if not connect.forgot_missing_destination(payout, error):
            raise
    # The recipient's lost account is forgotten: routed again, the tip is refused or held.
    return _open_tip(profile, recipient, terms, amount, message, success_url=success_url, cancel_url=cancel_url)
