"""The success page's confirmation: ask Stripe about a Checkout Session, act on its answer.

It uses the same conditional transitions as the webhook, so the two can race
safely: whichever arrives first completes the payment and sends the signal.
A session Stripe does not have (deleted, or made with the other mode's keys:
a database moved from test to live keeps its session ids) can never be paid,
so its payment is expired, as the cancel page and a new premium start do.
"""

from __future__ import annotations

import logging
from typing import Any

from .. import gateway, stripe_facts
from ..documents import (
    STATUS_COMPLETED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_REFUNDED,
    Payment,
)
from ..errors import GatewayError, PaymentMismatch, PaymentNotFound
from ..repository import payments as payment_store
from .transitions import REASON_NOT_FOUND, complete_from_session, expire_payment, refund_duplicate

logger = logging.getLogger("django_skillswap_payments.services")


def is_missing(error: GatewayError) -> bool:
    """Whether Stripe answered that the object asked for does not exist."""
    return error.kind == "invalid_request" and (
        error.detail.get("stripe_code") == "resource_missing" or error.detail.get("http_status") == 404
    )


def owned_payment(profile: Any | None, session_id: str) -> Payment:
    """The payment of ``profile`` whose Checkout Session is ``session_id``, or ``PaymentNotFound``."""
    if profile is None or not isinstance(session_id, str) or not session_id.strip():
        raise PaymentNotFound()
    payment = payment_store.find_payment(session_id=session_id.strip(), from_user_id=profile.id)
    if payment is None:
        raise PaymentNotFound()
    return payment


def confirm_checkout_session(profile: Any | None, session_id: str) -> Payment:
    """Confirm a checkout from the success page by asking Stripe about the session.

    Only the payment's owner may confirm (``PaymentNotFound`` otherwise, and
    for a user with no profile). A paid session completes the payment; an
    expired one expires it. Raises ``PaymentMismatch`` when Stripe's figures
    differ. A session Stripe does not have expires the payment
    (``checkout_not_found``). Returns the payment as stored afterwards.
    """
    payment = owned_payment(profile, session_id)
    if payment.status == STATUS_COMPLETED and payment.duplicate_of is not None:
        return _retry_duplicate_refund(payment)
    if payment.status in (STATUS_COMPLETED, STATUS_REFUNDED):
        return payment
    try:
        session = stripe_facts.checkout_session(gateway.retrieve_checkout_session(payment.stripe_session_id))
    except GatewayError as exc:
        if not is_missing(exc):
            raise
        if payment.status not in (STATUS_PENDING, STATUS_FAILED):
            return payment
        logger.warning("Stripe has no Checkout Session %s (deleted, or made with the other mode's keys); "
                       "payment %s expires", payment.stripe_session_id, payment.id)
        return expire_payment(payment, reason=REASON_NOT_FOUND).payment
    if session.paid:
        try:
            result = complete_from_session(payment, session)
        except GatewayError as exc:
            # Completed as a duplicate, but Stripe refused the refund for now.
            logger.warning("Refund of duplicate payment %s failed: %s", payment.id, exc.error)
            return payment_store.get_payment(payment.id) or payment
        if result.mismatch:
            raise PaymentMismatch()
        return result.payment
    if session.expired and payment.status in (STATUS_PENDING, STATUS_FAILED):
        return expire_payment(payment).payment
    return payment


def _retry_duplicate_refund(payment: Payment) -> Payment:
    """A duplicate whose refund failed before: try again; the buyer sees it completed meanwhile."""
    try:
        return refund_duplicate(payment).payment
    except GatewayError as exc:
        logger.warning("Refund of duplicate payment %s failed again: %s", payment.id, exc.error)
        return payment
