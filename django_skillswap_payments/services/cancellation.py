"""Ending a checkout that was not paid: the cancel page, and open checkouts the app retires.

Stripe is the source of truth. A checkout is closed by expiring its Checkout
Session at Stripe first, and only then the payment (``expired``, announced
by ``payment_failed`` with ``final=True``), so a closed checkout can never be
paid afterwards. When Stripe will not expire the session because it was paid
meanwhile, the payment is completed instead: the money was taken.
"""

from __future__ import annotations

from typing import Any

from .. import gateway, stripe_facts
from ..documents import STATUS_COMPLETED, STATUS_EXPIRED, STATUS_REFUNDED, Payment
from ..errors import CheckoutAlreadyCompleted, GatewayError, PaymentMismatch, PaymentProcessing
from ..repository import payments as payment_store
from .confirmation import is_missing, owned_payment
from .transitions import (
    REASON_ASYNC_FAILED,
    REASON_CANCELED,
    REASON_NOT_FOUND,
    TransitionResult,
    complete_from_session,
    expire_payment,
    fail_payment,
)


def fetch_session(session_id: str) -> stripe_facts.CheckoutSessionFacts | None:
    """Stripe's current view of a Checkout Session (PaymentIntent included); ``None`` if unknown.

    Raises ``GatewayError`` when Stripe cannot be asked.
    """
    try:
        return stripe_facts.checkout_session(
            gateway.retrieve_checkout_session(session_id, expand_payment_intent=True)
        )
    except GatewayError as exc:
        if is_missing(exc):
            return None
        raise


def settle_closed_checkout(
    payment: Payment, session: stripe_facts.CheckoutSessionFacts | None
) -> TransitionResult:
    """Bring a payment in line with a Checkout Session that is no longer open.

    Paid: completed (``PaymentMismatch`` if Stripe's figures differ).
    Expired, or unknown to Stripe (e.g. a test-mode emulator restarted):
    expired. Completed with a delayed payment method that failed: failed for
    good. Raises ``PaymentProcessing`` while such a payment is still clearing.
    """
    if session is None:
        return expire_payment(payment, reason=REASON_NOT_FOUND)
    if session.paid:
        result = complete_from_session(payment, session)
        if result.mismatch:
            raise PaymentMismatch()
        return result
    if session.complete:
        if session.intent_processing:
            raise PaymentProcessing()
        return fail_payment(payment, reason=REASON_ASYNC_FAILED, payment_intent_id=session.intent_id)
    return expire_payment(payment)  # expired at Stripe: by its clock, or by a cancel request


def close_checkout(payment: Payment, *, reason: str) -> TransitionResult:
    """Expire the payment's Checkout Session at Stripe, then the payment (``reason``).

    If Stripe no longer has the session open, the payment follows what it is
    instead (see :func:`settle_closed_checkout`). Raises ``GatewayError`` when
    Stripe cannot be reached: the checkout then stays as it is.
    """
    try:
        gateway.expire_checkout_session(payment.stripe_session_id)
    except GatewayError as exc:
        if exc.kind != "invalid_request":
            raise
        return settle_closed_checkout(payment, fetch_session(payment.stripe_session_id))
    return expire_payment(payment, reason=reason)


def cancel_checkout_session(profile: Any | None, session_id: str) -> Payment:
    """Cancel the caller's unpaid checkout: its session is expired at Stripe, the payment too.

    Only the payment's owner may cancel (``PaymentNotFound`` otherwise).
    Canceling an expired checkout again changes nothing. Raises
    ``CheckoutAlreadyCompleted`` when Stripe already took the payment (which
    is then completed, as the success page would) or is still clearing it.
    Returns the payment as stored afterwards: ``expired``, or ``failed`` when
    the checkout had already ended with a failed delayed payment.
    """
    payment = owned_payment(profile, session_id)
    if payment.status == STATUS_EXPIRED:
        return payment
    if payment.status in (STATUS_COMPLETED, STATUS_REFUNDED):
        raise CheckoutAlreadyCompleted()
    payment_store.note_cancel_request(payment.id)
    try:
        result = close_checkout(payment, reason=REASON_CANCELED)
    except PaymentProcessing as exc:
        raise CheckoutAlreadyCompleted() from exc
    except GatewayError:
        payment_store.note_cancel_request(payment.id, requested=False)  # nothing was canceled
        raise
    if result.payment.status in (STATUS_COMPLETED, STATUS_REFUNDED):
        raise CheckoutAlreadyCompleted()
    return result.payment
