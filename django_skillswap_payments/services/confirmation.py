"""The success page's confirmation: ask Stripe about a Checkout Session, act on its answer.

It uses the same conditional transitions as the webhook, so the two can race
safely: whichever arrives first completes the payment and sends the signal.
"""

from __future__ import annotations

from typing import Any

from .. import gateway, stripe_facts
from ..documents import STATUS_COMPLETED, STATUS_PENDING, STATUS_REFUNDED, Payment
from ..errors import PaymentMismatch, PaymentNotFound
from ..repository import payments as payment_store
from .transitions import complete_from_session, expire_payment


def confirm_checkout_session(profile: Any | None, session_id: str) -> Payment:
    """Confirm a checkout from the success page by asking Stripe about the session.

    Only the payment's owner may confirm (``PaymentNotFound`` otherwise, and
    for a user with no profile). A paid session completes the payment; an
    expired one fails it. Raises ``PaymentMismatch`` when Stripe's figures
    differ. Returns the payment as stored afterwards.
    """
    if profile is None or not isinstance(session_id, str) or not session_id.strip():
        raise PaymentNotFound()
    payment = payment_store.find_payment(session_id=session_id.strip(), from_user_id=profile.id)
    if payment is None:
        raise PaymentNotFound()
    if payment.status in (STATUS_COMPLETED, STATUS_REFUNDED):
        return payment
    session = stripe_facts.checkout_session(
        gateway.retrieve_checkout_session(payment.stripe_session_id)
    )
    if session.paid:
        result = complete_from_session(payment, session)
        if result.mismatch:
            raise PaymentMismatch()
        return result.payment
    if session.expired and payment.status == STATUS_PENDING:
        return expire_payment(payment).payment
    return payment
