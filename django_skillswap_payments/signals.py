"""Signals sent after a payment changes status.

Each is sent with ``sender=Payment`` and these keyword arguments:
``payment`` (the updated document), ``from_user_id``, ``to_user_id``
(``None`` for premium), ``amount`` (``Decimal``, major units),
``amount_minor`` (``int``) and ``currency``; ``payment_failed`` adds
``final`` (``bool``).

A signal is sent exactly once per transition: only the caller whose
conditional update changed the document dispatches it, after the database
confirmed the change. Receivers run through ``send_robust``: one that
raises neither stops the others nor undoes the payment; the failure is
logged with the payment id, appended to ``Payment.signal_failures`` and the
payment is flagged for :func:`redispatch`
(``manage.py payments_redispatch_signals``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

from .dispute_records import WON_STATUSES
from .documents import (
    STATUS_COMPLETED,
    STATUS_EXPIRED,
    STATUS_FAILED,
    STATUS_REFUNDED,
    TRANSACTION_TIP,
    Payment,
    utcnow,
)
from .errors import PaymentNotFound
from .repository import disputes as dispute_store
from .repository import payments as payment_store
from .repository import refunds as refund_store

logger = logging.getLogger(__name__)

# A premium purchase was paid: grant premium access.
premium_payment_completed = Signal()
# A tip was paid: notify or credit the recipient.
tip_payment_completed = Signal()
# An attempt to pay failed, or the checkout ended unpaid; ``payment.failure_reason`` says why.
# ``final`` is False while the buyer can still pay on the same Checkout page (a declined card).
payment_failed = Signal()
# A completed payment was refunded: revoke whatever it granted.
payment_refunded = Signal()
# A second premium payment of a user who already had premium was refunded automatically.
# The user keeps premium (through the other payment): revoke nothing, perhaps tell them.
duplicate_payment_refunded = Signal()

SIGNAL_NAMES = {
    premium_payment_completed: "premium_payment_completed",
    tip_payment_completed: "tip_payment_completed",
    payment_failed: "payment_failed",
    payment_refunded: "payment_refunded",
    duplicate_payment_refunded: "duplicate_payment_refunded",
}


# The signals a move to each status may send: which one depends on the payment's type
# (completion) or on whether it is a duplicate (refund), known only after the write.
SIGNALS_BY_STATUS: dict[str, tuple[Signal, ...]] = {
    STATUS_COMPLETED: (premium_payment_completed, tip_payment_completed),
    STATUS_FAILED: (payment_failed,),
    STATUS_EXPIRED: (payment_failed,),
    STATUS_REFUNDED: (payment_refunded, duplicate_payment_refunded),
}


def has_receivers(to_status: str) -> bool:
    """Whether a move to ``to_status`` may send a signal that some receiver listens to.

    When none does, the transition does not raise ``signal_retry_needed``:
    with nobody to tell there is nothing a crash could leave undelivered, and
    dispatching later would reach nobody either. Receivers are connected when
    Django starts (``AppConfig.ready``), before any request; one connected
    between a transition and its dispatch still gets that dispatch, only
    without the crash-safety of the flag.
    """
    return any(signal.has_listeners(Payment) for signal in SIGNALS_BY_STATUS.get(to_status, ()))


def signal_for(payment: Payment) -> Signal | None:
    """The signal that announces the payment's current status.

    ``None`` for ``pending``, and for a duplicate premium payment that is
    completed but not yet refunded: it grants nothing.
    """
    duplicate = payment.duplicate_of is not None
    if payment.status == STATUS_COMPLETED:
        if duplicate:
            return None
        return (
            tip_payment_completed
            if payment.transaction_type == TRANSACTION_TIP
            else premium_payment_completed
        )
    if payment.status in (STATUS_FAILED, STATUS_EXPIRED):
        return payment_failed
    if payment.status == STATUS_REFUNDED:
        return duplicate_payment_refunded if duplicate else payment_refunded
    return None


def is_final_failure(payment: Payment) -> bool:
    """Whether a failed or expired payment's checkout is over (no payment can follow on it)."""
    # Failures stored before finality was recorded ended their checkout.
    return payment.status == STATUS_EXPIRED or payment.failure_final is not False


def _receiver_name(receiver: Any) -> str:
    module = getattr(receiver, "__module__", None) or type(receiver).__module__
    name = getattr(receiver, "__qualname__", None) or type(receiver).__qualname__
    return f"{module}.{name}"


def receiver_failures(
    signal: Signal, payment: Payment, responses: list[tuple[Any, Any]], **about: Any
) -> list[dict[str, Any]]:
    """Log each receiver that raised and return the ``signal_failures`` entries for them.

    ``about`` names what the signal was about beyond the payment (``refund_id``,
    ``dispute_id``); it is logged and kept in each entry.
    """
    failures = []
    context = "".join(f" ({key} {value})" for key, value in about.items())
    for receiver, response in responses:
        if isinstance(response, Exception):
            name = _receiver_name(receiver)
            logger.error(
                "Receiver %s of %s failed for payment %s%s: %r",
                name,
                SIGNAL_NAMES[signal],
                payment.id,
                context,
                response,
                exc_info=(type(response), response, response.__traceback__),
            )
            failures.append(
                {
                    "signal": SIGNAL_NAMES[signal],
                    "receiver": name,
                    **about,
                    "error": f"{type(response).__name__}: {response}",
                    "at": utcnow(),
                }
            )
    return failures


def dispatch(payment: Payment) -> list[tuple[Any, Any]]:
    """Send the signal matching ``payment.status`` to every receiver.

    Call this only after winning the transition. Returns ``send_robust``'s
    ``(receiver, response_or_exception)`` pairs. Receiver exceptions are
    logged and recorded on the payment, never raised.
    """
    signal = signal_for(payment)
    if signal is None:
        if payment.signal_retry_needed:
            # Nothing to announce, so nothing left to re-dispatch.
            payment_store.set_signal_retry_needed(payment.id, False)
            payment.signal_retry_needed = False
        return []
    arguments: dict[str, Any] = {}
    if signal is payment_failed:
        arguments["final"] = is_final_failure(payment)
    responses = signal.send_robust(
        sender=Payment,
        payment=payment,
        from_user_id=payment.from_user_id,
        to_user_id=payment.to_user_id,
        amount=payment.exact_amount,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        **arguments,
    )
    failures = receiver_failures(signal, payment, responses)
    if not failures:
        if payment.signal_retry_needed:
            payment_store.set_signal_retry_needed(payment.id, False)
            payment.signal_retry_needed = False
    else:
        try:
            payment_store.record_signal_failures(payment.id, failures)
        except Exception:
            # The payment itself is already stored; losing the note must not turn into an error.
            logger.exception("Could not record signal failures for payment %s", payment.id)
        else:
            payment.signal_failures = list(payment.signal_failures or []) + failures
            payment.signal_retry_needed = True
    return responses


def redispatch(payment_id: Any) -> list[tuple[Any, Any]]:
    """Send again the signal for the payment's current status.

    Every receiver is called again, so receivers should be idempotent (key
    their work on ``payment.id``). The re-dispatch flag is cleared when all
    receivers succeed and set again otherwise. Raises ``PaymentNotFound``.
    """
    payment = payment_store.get_payment(payment_id)
    if payment is None:
        raise PaymentNotFound()
    payment_store.set_signal_retry_needed(payment.id, False)
    payment.signal_retry_needed = False
    return dispatch(payment)


# -- Stripe Connect (services/connect.py) ----------------------------------------

# A tip's money reached the recipient's connected account: a Stripe transfer exists.
# Sent once per tip with ``payment`` and ``transfer_id`` (``tr_...``); not part of the
# status signals above, so ``payments_redispatch_signals`` does not send it again.
tip_paid_out = Signal()
SIGNAL_NAMES[tip_paid_out] = "tip_paid_out"

# -- refunds ------------------------------------------------------------------------
# Sent with the usual keyword arguments plus ``refund`` (the
# :class:`~django_skillswap_payments.refund_records.RefundRecord`), once per refund:
# only the caller whose write recorded (or undid) the refund sends it.

# A refund was recorded that leaves part of the payment unrefunded
# (``payment.amount_refunded_minor`` says how much went back so far).
payment_partially_refunded = Signal()
# A refund failed or was canceled after it was counted: its amount is no longer refunded.
# The payment's status is not changed; tell the operator, who may refund again.
payment_refund_failed = Signal()

SIGNAL_NAMES[payment_partially_refunded] = "payment_partially_refunded"
SIGNAL_NAMES[payment_refund_failed] = "payment_refund_failed"


def send_refund_signal(signal: Signal, payment: Payment, refund: Any) -> list[tuple[Any, Any]]:
    """Send a refund signal to every receiver; failures are logged and noted on the payment.

    Unlike a status signal it is not flagged for :func:`redispatch`, which
    re-sends the signal of the payment's status, not of one of its refunds.
    """
    responses = signal.send_robust(
        sender=Payment,
        payment=payment,
        refund=refund,
        from_user_id=payment.from_user_id,
        to_user_id=payment.to_user_id,
        amount=payment.exact_amount,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
    )
    for entry in receiver_failures(signal, payment, responses, refund_id=getattr(refund, "refund_id", None)):
        try:
            refund_store.note_signal_failure(payment.id, entry)
        except Exception:
            logger.exception("Could not record signal failures for payment %s", payment.id)
    return responses


# -- disputes: sent by services.disputes, not by a status change (the payment keeps its status) --

# A charge of the payment was disputed (``dispute``: the recorded
# :class:`~django_skillswap_payments.dispute_records.DisputeRecord`). Sent once per dispute.
payment_disputed = Signal()
# A dispute of the payment closed; ``won`` is False when the money went back to the
# cardholder. Sent once per dispute. A lost dispute has already revoked premium
# (``LOST_DISPUTE_REVOKES_PREMIUM``) when this is sent.
dispute_closed = Signal()

SIGNAL_NAMES.update({payment_disputed: "payment_disputed", dispute_closed: "dispute_closed"})


def dispatch_dispute(signal: Signal, payment: Payment, dispute: Any, **arguments: Any) -> list[tuple[Any, Any]]:
    """Send a dispute signal robustly: a receiver that raises is logged and noted on the payment.

    The signal stays in the dispute's ``pending_signals`` (put there by the
    write that recorded or closed the dispute) until every receiver ran, for
    :func:`redispatch_disputes`. Failures go to ``signal_failures`` without
    raising ``signal_retry_needed``: :func:`redispatch` re-sends the signal of
    the payment's *status*, which a dispute does not change.
    """
    responses = signal.send_robust(sender=Payment, payment=payment, dispute=dispute, **arguments)
    failures = receiver_failures(signal, payment, responses, dispute_id=getattr(dispute, "dispute_id", None))
    if failures:
        try:
            dispute_store.note_signal_failures(payment.id, failures)
        except Exception:
            logger.exception("Could not record signal failures for payment %s", payment.id)
    else:
        dispute_store.signal_delivered(payment.id, dispute.dispute_id, SIGNAL_NAMES[signal])
    return responses


def redispatch_disputes(payment_id: Any) -> list[tuple[Any, Any]]:
    """Send again the dispute signals of the payment that did not reach every receiver.

    Like :func:`redispatch`, receivers should be idempotent (key their work
    on ``dispute.dispute_id``). Raises ``PaymentNotFound``.
    """
    payment = payment_store.get_payment(payment_id)
    if payment is None:
        raise PaymentNotFound()
    responses: list[tuple[Any, Any]] = []
    for dispute in payment.disputes:
        pending = list(dispute.pending_signals or [])
        if "payment_disputed" in pending:
            responses += dispatch_dispute(payment_disputed, payment, dispute)
        if "dispute_closed" in pending:
            responses += dispatch_dispute(dispute_closed, payment, dispute, won=dispute.status in WON_STATUSES)
    return responses
