"""Status changes of a payment, each announced by its signal exactly once.

Every function here takes a :class:`~django_skillswap_payments.documents.Payment`
(or its id, or a lookup mapping for
:func:`~django_skillswap_payments.repository.find_payment`) and makes one
conditional update through :func:`~django_skillswap_payments.repository.payments.transition`;
only the caller whose update changed the document sends the signal (the
exactly-once story is told in :mod:`django_skillswap_payments.states`).

A premium payment that completes while its payer already holds premium
through another payment is a duplicate: it sends no completion signal and is
refunded at Stripe here. Until that refund succeeds it stays completed and
flagged (``duplicate_of``); every later report of its completion (a webhook
redelivery, a replay, the success page) tries the refund again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pymongo.errors import DuplicateKeyError

from .. import signals, stripe_facts
from ..documents import (
    STATUS_COMPLETED,
    STATUS_EXPIRED,
    STATUS_FAILED,
    STATUS_REFUNDED,
    Payment,
    utcnow,
)
from ..errors import (
    GatewayError,
    InvalidAmount,
    InvalidTransition,
    PaymentNotFound,
    PaymentNotRefundable,
    RefundExceedsRemainder,
)
from ..money import normalize_currency
from ..repository import completion
from ..repository import payments as payment_store
from ..states import ALLOWED_PREVIOUS, REFUNDABLE
from ..stripe_currency_facts import ChargedFacts
from . import connect, premium, promotions
from .mismatch import charged_fields, mismatched_fields, storable

logger = logging.getLogger("django_skillswap_payments.services")

# failure_reason of a payment whose checkout ended unpaid
REASON_EXPIRED = "checkout_expired"
REASON_CANCELED = "checkout_canceled"
REASON_NOT_FOUND = "checkout_not_found"
REASON_ASYNC_FAILED = "async_payment_failed"


@dataclass(frozen=True)
class TransitionResult:
    """Outcome of a status change.

    ``changed`` is true for the one caller whose update happened (and who
    sent the signal); ``mismatch`` is true when Stripe's figures disagreed
    with the stored payment and nothing was granted; ``duplicate`` is true
    when the payment is a second premium payment, refunded by this call
    (``changed``) or before it.
    """

    payment: Payment
    changed: bool
    mismatch: bool = False
    reason: str | None = None
    duplicate: bool = False


def _load(payment_or_lookup: Any) -> Payment:
    if isinstance(payment_or_lookup, Payment):
        return payment_or_lookup
    if isinstance(payment_or_lookup, Mapping):
        payment = payment_store.find_payment(**payment_or_lookup)
    else:
        payment = payment_store.get_payment(payment_or_lookup)
    if payment is None:
        raise PaymentNotFound()
    return payment


def _announce(updated: Payment) -> None:
    """After winning a transition: drop the payer's cached premium status, then send the signal."""
    if updated.is_premium:
        premium.forget_premium_status(updated.from_user_id)
    signals.dispatch(updated)
    connect.after_completion(updated)


def _finish(payment: Payment, updated: Payment | None) -> TransitionResult:
    """Send the signal if this caller won, and report the outcome."""
    if updated is None:
        current = payment_store.get_payment(payment.id) or payment
        return TransitionResult(payment=current, changed=False)
    _announce(updated)
    return TransitionResult(payment=updated, changed=True)


announce_if_won = _finish


def complete_payment(
    payment_or_lookup: Any,
    *,
    payment_intent_id: str | None,
    amount_minor: int,
    currency: str,
    livemode: bool,
    session_id: str | None = None,
    discount: stripe_facts.DiscountFacts | None = None,
    customer_id: str | None = None,
    charged: ChargedFacts | None = None,
) -> TransitionResult:
    """Mark a payment completed with the figures Stripe reported.

    ``customer_id`` is the Stripe customer that paid: a payment started
    without one keeps the customer Checkout created, so later checkouts of
    the payer pass it again (no write to the profile is needed).

    The amount (in minor units), currency and livemode must equal the stored
    payment's, or the amount be the list price less a promotion code's
    ``discount`` that accounts for the difference exactly (see
    :mod:`.promotions`); otherwise nothing is granted, a note is stored on the
    payment and the result has ``mismatch=True``. Allowed from ``pending``,
    ``failed`` and ``expired``; only the caller whose update wins gets
    ``changed=True`` and sends ``premium_payment_completed`` /
    ``tip_payment_completed``. A second premium payment of the same user is
    refunded instead (``duplicate=True``, see the module docstring); raises
    ``GatewayError`` when Stripe refuses that refund, so the report is retried.
    ``charged`` is what the buyer paid when Adaptive Pricing converted the
    price; it is stored with the payment (see :func:`.mismatch.charged_fields`).
    """
    payment = _load(payment_or_lookup)
    if _awaits_duplicate_refund(payment):
        return refund_duplicate(payment)
    if payment.status not in ALLOWED_PREVIOUS[STATUS_COMPLETED]:
        # Already completed or refunded: a duplicate report, nothing to compare or change.
        return TransitionResult(payment=payment, changed=False)
    amount_fields = promotions.completion_fields(payment, amount_minor, discount)
    problems = mismatched_fields(payment, amount_fields, currency, livemode)
    charged_to_buyer = charged_fields(payment.currency, charged)
    if charged_to_buyer is None:
        problems.append("charged")
    if problems:
        reported = {
            "amount_minor": amount_minor,
            "currency": currency,
            **promotions.reported_figures(discount),
            **({"charged_amount_minor": charged.amount_minor, "charged_currency": charged.currency}
               if charged else {}),
        }
        note = {
            "fields": problems,
            "reported": {
                **{name: storable(value) for name, value in reported.items()},
                "livemode": bool(livemode),
            },
            "payment_intent_id": payment_intent_id,
            "session_id": session_id,
            "at": utcnow(),
        }
        updated = payment_store.record_mismatch(payment.id, note)
        if updated is None:
            # Completed meanwhile: this report is a stale duplicate, not a mismatch to act on.
            return TransitionResult(
                payment=payment_store.get_payment(payment.id) or payment, changed=False
            )
        logger.error(
            "Payment %s: Stripe reported different %s; not completing",
            payment.id,
            ", ".join(problems),
        )
        return TransitionResult(payment=updated, changed=False, mismatch=True, reason="mismatch")
    fields: dict[str, Any] = {**(amount_fields or {}), **(charged_to_buyer or {})}
    if payment_intent_id:
        fields["stripe_payment_intent_id"] = payment_intent_id
    if session_id and not payment.stripe_session_id:
        fields["stripe_session_id"] = session_id
    if customer_id and not payment.stripe_customer_id:
        fields["stripe_customer_id"] = customer_id
    updated = payment_store.transition(
        payment.id, STATUS_COMPLETED, set_fields=fields, flag_signal=signals.has_receivers(STATUS_COMPLETED)
    )
    if updated is None:
        current = payment_store.get_payment(payment.id) or payment
        if _awaits_duplicate_refund(current):
            # Whoever completed it may have failed to refund it: try again.
            return refund_duplicate(current)
        return TransitionResult(payment=current, changed=False)
    if updated.duplicate_of is not None:
        _announce(updated)  # announces nothing: a duplicate grants nothing
        return refund_duplicate(updated)
    _announce(updated)
    return TransitionResult(payment=updated, changed=True)


def _awaits_duplicate_refund(payment: Payment) -> bool:
    return payment.status == STATUS_COMPLETED and payment.duplicate_of is not None


def refund_duplicate(payment: Payment) -> TransitionResult:
    """Refund a duplicate premium payment at Stripe and mark it refunded.

    Sends ``duplicate_payment_refunded`` (never ``payment_refunded``: the
    user keeps premium through the other payment). Safe to repeat: the
    refund goes through :func:`.refunds.refund_remainder` (an amount held
    once, an idempotent Stripe refund) and the status change is conditional.
    Raises ``GatewayError`` if Stripe refuses; the payment then stays
    completed and flagged for the next attempt. A duplicate a promotion code
    made free charged nothing: it is only marked refunded.
    """
    from . import refunds

    if promotions.nothing_charged(payment):
        result = mark_payment_refunded(payment)
        return TransitionResult(payment=result.payment, changed=result.changed, duplicate=True)
    try:
        outcome = refunds.refund_remainder(payment, reason="duplicate")
    except (PaymentNotRefundable, RefundExceedsRemainder):
        # Refunded already, or a concurrent attempt holds the amount: that attempt finishes it.
        current = payment_store.get_payment(payment.id) or payment
        return TransitionResult(payment=current, changed=False, duplicate=True)
    except GatewayError as exc:
        if exc.detail.get("stripe_code") != "charge_already_refunded":
            raise
        # An operator refunded it at Stripe first: the money is back either way.
        result = mark_payment_refunded(payment)
        return TransitionResult(payment=result.payment, changed=result.changed, duplicate=True)
    return TransitionResult(payment=outcome.payment, changed=outcome.refunded_now, duplicate=True)


def complete_from_session(
    payment: Payment, session: stripe_facts.CheckoutSessionFacts, *, livemode: bool | None = None
) -> TransitionResult:
    """Complete ``payment`` with the figures of its paid Checkout Session.

    ``livemode`` overrides the session's own flag (a webhook trusts its event's).
    """
    return complete_payment(
        payment,
        payment_intent_id=session.intent_id,
        amount_minor=session.amount_minor,
        currency=session.currency,
        livemode=session.livemode if livemode is None else livemode,
        session_id=session.id,
        discount=session.discount,
        customer_id=session.created_customer_id,
        charged=session.charged,
    )


def complete_session(
    session: stripe_facts.CheckoutSessionFacts, *, livemode: bool
) -> TransitionResult | None:
    """Complete the payment of a paid session in one write, if it is the common case.

    The common case: the payment is stored under the session id, awaits
    completion and has the reported amount, currency and ``livemode``
    (:func:`~django_skillswap_payments.repository.completion.complete_by_session`
    checks all of it in the write's filter). Returns ``None`` for everything
    else — a mismatch, a report already applied, a duplicate premium — which
    the caller hands to :func:`complete_from_session` to tell apart.
    """
    amount = session.amount_minor
    if session.discount.reported:
        return None  # a promotion code: the careful path judges the discount
    if not session.id or isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount < 2**63:
        return None  # not a storable amount: certainly a mismatch, told by the careful path
    try:
        currency = normalize_currency(session.currency)
    except InvalidAmount:
        return None
    charged_to_buyer = charged_fields(currency, session.charged)
    if charged_to_buyer is None:
        return None  # an unusable report of what the buyer paid: the careful path records it
    fields = {"stripe_payment_intent_id": session.intent_id} if session.intent_id else {}
    fields.update(charged_to_buyer)
    if session.created_customer_id:
        fields["stripe_customer_id"] = session.created_customer_id
    try:
        updated = completion.complete_by_session(
            session.id,
            amount_minor=amount,
            currency=currency,
            livemode=livemode,
            set_fields=fields,
            flag_signal=signals.has_receivers(STATUS_COMPLETED),
        )
    except DuplicateKeyError:
        return None  # premium held by another payment (or the intent id taken): the careful path
    if updated is None:
        return None
    _announce(updated)
    return TransitionResult(payment=updated, changed=True)


def fail_payment(
    payment_or_lookup: Any,
    *,
    reason: str,
    payment_intent_id: str | None = None,
    final: bool = True,
) -> TransitionResult:
    """Mark a payment failed with ``reason``; sends ``payment_failed`` (with ``final``) once.

    ``final=False`` is a declined attempt on a checkout Stripe may still take
    a payment on: the payment keeps its open-checkout slot, so the user's next
    premium start returns the same session. A final failure ends the checkout.
    See :mod:`django_skillswap_payments.states` for the statuses each may follow.
    """
    payment = _load(payment_or_lookup)
    fields: dict[str, Any] = {"failure_reason": reason}
    if payment_intent_id and not payment.stripe_payment_intent_id:
        fields["stripe_payment_intent_id"] = payment_intent_id
    return _finish(
        payment,
        payment_store.transition(
            payment.id, STATUS_FAILED, set_fields=fields, retryable=not final,
            flag_signal=signals.has_receivers(STATUS_FAILED),
        ),
    )


def expire_payment(payment_or_lookup: Any, *, reason: str | None = None) -> TransitionResult:
    """Close a pending or failed payment whose checkout ended unpaid; sends ``payment_failed``
    with ``final=True`` once.

    ``reason`` defaults to ``checkout_canceled`` when the buyer asked to
    cancel (Stripe's expiry notice may arrive before the cancel request's own
    answer), ``checkout_expired`` otherwise.
    """
    payment = _load(payment_or_lookup)
    if reason is None:
        reason = REASON_CANCELED if payment.cancel_requested_at else REASON_EXPIRED
    return _finish(
        payment,
        payment_store.transition(
            payment.id, STATUS_EXPIRED, set_fields={"failure_reason": reason},
            flag_signal=signals.has_receivers(STATUS_EXPIRED),
        ),
    )


def mark_payment_refunded(
    payment_or_lookup: Any, *, refund_id: str | None = None
) -> TransitionResult:
    """Record that Stripe refunded the whole payment (e.g. a webhook); sends ``payment_refunded`` once.

    The whole amount is counted as refunded; the part not recorded yet is
    recorded under ``refund_id`` when given.
    """
    from ..repository import refunds as refund_store

    payment = _load(payment_or_lookup)
    if payment.status in REFUNDABLE:
        payment = refund_store.settle_in_full(payment.id, refund_id, created_at=utcnow()) or payment
    fields = {"stripe_refund_id": refund_id} if refund_id else {}
    updated = payment_store.transition(
        payment.id, STATUS_REFUNDED, set_fields=fields, flag_signal=signals.has_receivers(STATUS_REFUNDED)
    )
    result = _finish(payment, updated)
    if not result.changed and refund_id and result.payment.status == STATUS_REFUNDED:
        # Marked refunded by a report that did not name the refund (e.g. its charge.refunded).
        result = replace(result, payment=payment_store.note_refund_id(payment.id, refund_id) or result.payment)
    return result


def refund_payment(payment_or_lookup: Any, *, reason: str | None = None) -> TransitionResult:
    """Refund all that is left of a completed payment at Stripe, then mark it refunded.

    Raises ``InvalidTransition`` unless the payment is completed, and
    ``GatewayError`` if Stripe refuses. Safe to retry: the Stripe refund is
    idempotent (see :mod:`.refunds`).
    """
    from . import refunds

    payment = _load(payment_or_lookup)
    if payment.status != STATUS_COMPLETED:
        raise InvalidTransition(
            f"Only completed payments can be refunded (status is {payment.status!r})"
        )
    if payment.duplicate_of is not None:
        return refund_duplicate(payment)
    if promotions.nothing_charged(payment):
        # A promotion code made it free: there is no charge to refund, only the grant to revoke.
        return mark_payment_refunded(payment)
    outcome = refunds.refund_remainder(payment, reason=reason)
    return TransitionResult(payment=outcome.payment, changed=outcome.refunded_now)
