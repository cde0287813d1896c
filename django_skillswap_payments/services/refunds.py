"""Refunds, full or partial: made by staff through the API, or at Stripe (its Dashboard) and reported.

Every refund lands the same way, whoever made it: recorded once per Stripe
refund id on the payment (``refunds``, ``amount_refunded_minor``), then
:func:`_after_counted` decides whether the payment moves to ``refunded`` (the
whole amount is back, or ``PARTIAL_REFUND_REVOKES_PREMIUM`` for premium) and
which signal is sent, by the one caller whose write recorded the refund.

A refund asked for here is *reserved* first (:func:`.repository.refunds.reserve`):
concurrent requests for the same payment can never ask Stripe for more than
was paid. Stripe is asked with an idempotency key derived from the payment
and what was asked of it before, failed refunds included
(:func:`.gateway.refund_idempotency_key`);
when Stripe refuses, or cannot be reached, the hold is dropped and nothing is
recorded (a retry of the request reuses the key, so a refund Stripe made
without our hearing of it is answered, not made twice).

A refund that fails later (``refund.failed``; Stripe's test card
4000 0000 0000 5126 does this) takes back only its own amount from
``amount_refunded_minor``. The payment's status is left as it is: a premium
that refund revoked stays revoked rather than being granted again without
anyone deciding so. ``payment_refund_failed`` tells the operator, who may
refund what is left again (a ``refunded`` payment with money left is still
refundable).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from .. import gateway, signals, stripe_facts
from ..conf import SETTINGS_NAME, payments_settings
from ..documents import STATUS_COMPLETED, STATUS_REFUNDED, Payment, utcnow
from ..errors import (
    GatewayError,
    PaymentError,
    PaymentNotFound,
    PaymentNotRefundable,
    RefundExceedsRemainder,
)
from ..money import format_amount, from_minor_units, parse_amount, to_minor_units
from ..refund_records import (
    REFUND_REASONS,
    UNDONE_REFUND_STATUSES,
    RefundRecord,
    counted_status,
)
from ..repository import payments as payment_store
from ..repository import refunds as refund_store
from ..states import REFUNDABLE
from . import transitions

logger = logging.getLogger("django_skillswap_payments.services")


def partial_refund_revokes_premium() -> bool:
    """``PARTIAL_REFUND_REVOKES_PREMIUM``: whether any refund of a premium payment revokes premium."""
    value = payments_settings.PARTIAL_REFUND_REVOKES_PREMIUM
    if not isinstance(value, bool):
        raise ImproperlyConfigured(
            f"{SETTINGS_NAME}['PARTIAL_REFUND_REVOKES_PREMIUM'] must be True or False, got {value!r}"
        )
    return value


@dataclass(frozen=True)
class RefundOutcome:
    """A refund and where it left its payment.

    ``refunded_now``: this call moved the payment to ``refunded`` (and sent
    ``payment_refunded``/``duplicate_payment_refunded``).
    """

    payment: Payment
    refund: RefundRecord | None
    refunded_now: bool = False


# -- what is left to refund -----------------------------------------------------------


def refundable_remainder(payment: Payment) -> int:
    """What may still be refunded, in minor units: the amount less refunds and live holds."""
    counted = int(payment.amount_refunded_minor or 0) + refund_store.held_by_others(payment)
    return max(0, int(payment.amount_minor) - counted)


def _check_refundable(payment: Payment) -> int:
    remainder = refundable_remainder(payment)
    # A payment refunded before refunds were recorded one by one has no records: it was refunded in full.
    spent = payment.status == STATUS_REFUNDED and (remainder == 0 or not payment.refunds)
    if payment.status not in REFUNDABLE or spent:
        raise PaymentNotRefundable(
            message=f"Only completed payments can be refunded (status is {payment.status!r})"
            if payment.status not in REFUNDABLE
            else "The whole payment has been refunded already"
        )
    return remainder


def _amount_minor(payment: Payment, amount: Any) -> int:
    return to_minor_units(parse_amount(amount, currency=payment.currency), payment.currency)


def _exceeds(payment: Payment, remainder: int) -> RefundExceedsRemainder:
    return RefundExceedsRemainder(
        message=f"At most {format_amount(from_minor_units(remainder, payment.currency), payment.currency)} "
        "can be refunded",
        detail={"refundable": str(from_minor_units(remainder, payment.currency))},
    )


# -- refunding through Stripe -------------------------------------------------------------


def refund_payment_amount(payment_id: Any, *, amount: Any = None, reason: str | None = None) -> Payment:
    """Refund ``amount`` (major units; default: all that is left) of a payment; the staff endpoint's rule.

    Raises ``PaymentNotFound``, ``PaymentNotRefundable`` (nothing left, or not
    completed), ``InvalidAmount``, ``RefundExceedsRemainder``, or
    ``GatewayError`` when Stripe refuses (nothing recorded then).
    """
    payment = payment_store.get_payment(payment_id)
    if payment is None:
        raise PaymentNotFound()
    if reason is not None and reason not in REFUND_REASONS:
        raise PaymentError("Invalid refund reason", message=f"reason must be one of {', '.join(REFUND_REASONS)}")
    remainder = _check_refundable(payment)
    amount_minor = remainder if amount is None else _amount_minor(payment, amount)
    if amount_minor > remainder:
        raise _exceeds(payment, remainder)
    return refund_amount(payment, amount_minor, reason=reason).payment


def refund_amount(payment: Payment, amount_minor: int, *, reason: str | None = None) -> RefundOutcome:
    """Reserve ``amount_minor``, refund it at Stripe, record it; see the module docstring."""
    token = uuid.uuid4().hex
    held = refund_store.reserve(payment.id, amount_minor, token)
    if held is None:
        current = payment_store.get_payment(payment.id)
        if current is None:
            raise PaymentNotFound()
        raise _exceeds(current, _check_refundable(current))
    before = refund_store.asked_before(held, token)
    try:
        answer = gateway.create_refund(
            held, reason=reason, amount_minor=amount_minor, refunded_before_minor=before
        )
    except BaseException:
        refund_store.release(payment.id, token)
        raise
    facts = stripe_facts.refund(answer)
    return record_refund(held, facts, token=token, amount_minor=amount_minor, reason=reason)


def refund_remainder(payment: Payment, *, reason: str | None = None) -> RefundOutcome:
    """Refund all that is left of ``payment`` (the full refund of :func:`.transitions.refund_payment`)."""
    remainder = _check_refundable(payment)
    if remainder == 0:
        # Counted in full already (a process stopped before moving the status): only the move is missing.
        return RefundOutcome(payment=payment, refund=None, refunded_now=_settle_status(payment)[1])
    return refund_amount(payment, remainder, reason=reason)


# -- recording ----------------------------------------------------------------------------


def _record_of(facts: stripe_facts.RefundFacts, *, amount_minor: int | None, reason: str | None) -> dict[str, Any]:
    created = facts.created or utcnow()
    return {
        "refund_id": facts.id,
        "amount_minor": facts.amount_minor or amount_minor,
        "reason": facts.reason or reason,
        "status": counted_status(facts.status),
        "created_at": created,
        "failure_reason": facts.failure_reason,
    }


def record_refund(
    payment: Payment,
    facts: stripe_facts.RefundFacts,
    *,
    token: str | None = None,
    amount_minor: int | None = None,
    reason: str | None = None,
) -> RefundOutcome:
    """Record a refund Stripe made, or apply its new status if it is recorded already.

    ``token``: the hold of the request that asked for it, dropped in the same
    write. ``amount_minor``/``reason`` stand in for what Stripe's answer
    lacks. Idempotent: a refund already recorded changes nothing, unless it
    has since failed (see :func:`_apply_status`).
    """
    record = _record_of(facts, amount_minor=amount_minor, reason=reason)
    if not record["refund_id"] or not record["amount_minor"]:
        if token is not None:
            refund_store.release(payment.id, token)
        raise GatewayError("api", "Stripe's refund has no id or amount")
    counted = record["status"] not in UNDONE_REFUND_STATUSES
    updated = refund_store.add_refund(payment.id, record, counted=counted, token=token)
    if updated is None:
        if token is not None:
            refund_store.release(payment.id, token)
        return _apply_status(payment, facts)
    refund = _find(updated, record["refund_id"])
    if not counted:
        return RefundOutcome(payment=updated, refund=refund)
    return _after_counted(updated, refund)


def _find(payment: Payment, refund_id: str) -> RefundRecord | None:
    return next((r for r in payment.refunds or [] if r.refund_id == refund_id), None)


def _after_counted(payment: Payment, refund: RefundRecord | None) -> RefundOutcome:
    """The refund was counted by this caller: move the status if due, then send the signals."""
    payment, refunded_now = _settle_status(payment, refund)
    if int(payment.amount_refunded_minor or 0) < int(payment.amount_minor):
        signals.send_refund_signal(signals.payment_partially_refunded, payment, refund)
    return RefundOutcome(payment=payment, refund=refund, refunded_now=refunded_now)


def _settle_status(payment: Payment, refund: RefundRecord | None = None) -> tuple[Payment, bool]:
    """Move a completed payment to ``refunded`` when its refunds call for it; the winner sends the signal."""
    if payment.status != STATUS_COMPLETED:
        return payment, False
    full = int(payment.amount_refunded_minor or 0) >= int(payment.amount_minor)
    revokes = payment.is_premium and int(payment.amount_refunded_minor or 0) > 0 and partial_refund_revokes_premium()
    if not (full or revokes):
        return payment, False
    # Checked again in the write: a refund failing meanwhile may have taken its amount back.
    condition = (
        {"$expr": {"$gte": [{"$ifNull": ["$amount_refunded_minor", 0]}, "$amount_minor"]}}
        if full
        else {"amount_refunded_minor": {"$gt": 0}}
    )
    fields = {"stripe_refund_id": refund.refund_id} if refund is not None else {}
    updated = payment_store.transition(
        payment.id, STATUS_REFUNDED, set_fields=fields, condition=condition,
        flag_signal=signals.has_receivers(STATUS_REFUNDED),
    )
    result = transitions.announce_if_won(payment, updated)
    if result.changed:
        _reverse_payout(result.payment)
    return result.payment, result.changed


def _reverse_payout(payment: Payment) -> None:
    """A refunded Connect tip takes the recipient's share back (see ``connect.reverse_payout``).

    The refund itself already happened at Stripe and is recorded: a transfer
    reversal Stripe refuses now is left to the next ``payments_pay_out_held_tips``
    run rather than turned into an error for the refund.
    """
    from . import connect

    try:
        connect.reverse_payout(payment)
    except GatewayError:
        logger.exception("Could not reverse the payout of refunded payment %s; will retry", payment.id)


def _apply_status(payment: Payment, facts: stripe_facts.RefundFacts) -> RefundOutcome:
    """A refund recorded before is reported again: apply a failure once, else only its new status."""
    current = payment_store.get_payment(payment.id) or payment
    stored = _find(current, facts.id or "")
    if stored is None or stored.status in UNDONE_REFUND_STATUSES:
        return RefundOutcome(payment=current, refund=stored)  # failed and canceled are final
    status = counted_status(facts.status)
    if status in UNDONE_REFUND_STATUSES:
        undone = refund_store.undo_refund(
            current.id, stored.refund_id, stored.amount_minor, status=status, failure_reason=facts.failure_reason
        )
        if undone is None:
            return RefundOutcome(payment=payment_store.get_payment(current.id) or current, refund=stored)
        refund = _find(undone, stored.refund_id)
        logger.warning(
            "Refund %s of payment %s %s (%s); %s minor units are no longer refunded",
            stored.refund_id, current.id, status, facts.failure_reason, stored.amount_minor,
        )
        signals.send_refund_signal(signals.payment_refund_failed, undone, refund)
        return RefundOutcome(payment=undone, refund=refund)
    if status != stored.status:
        current = refund_store.set_refund_status(current.id, stored.refund_id, status) or current
    # A stop between counting a refund and moving the status is finished by any later report.
    current, refunded_now = _settle_status(current, stored)
    return RefundOutcome(payment=current, refund=_find(current, stored.refund_id), refunded_now=refunded_now)


# -- reports from Stripe ------------------------------------------------------------------


def record_reported_refund(payment: Payment, facts: stripe_facts.RefundFacts, *, failed: bool = False) -> RefundOutcome:
    """A refund event (``refund.created``/``updated``/``failed``): record it or its new status.

    ``failed``: the event says the refund failed, whatever status its object shows.
    """
    if failed and counted_status(facts.status) not in UNDONE_REFUND_STATUSES:
        facts = _with_status(facts, "failed")
    return record_refund(payment, facts)


def _with_status(facts: stripe_facts.RefundFacts, status: str) -> stripe_facts.RefundFacts:
    return replace(facts, status=status)


def reconcile_charge(payment: Payment, charge: stripe_facts.ChargeFacts) -> Payment:
    """``charge.refunded``: record the charge's refunds we do not know yet.

    The refunds listed on the charge are recorded first (older API versions
    list them). When Stripe counted more refunded than we do, the charge's
    refunds are fetched from Stripe and recorded as they are now (a late event
    about a refund that has failed since changes nothing). Only a charge
    without an id, reported fully refunded, is taken at its word.
    """
    for listed in charge.refunds:
        if listed.id and listed.amount_minor:
            record_refund(payment, listed)
    current = payment_store.get_payment(payment.id) or payment
    behind = charge.amount_refunded_minor is not None and charge.amount_refunded_minor > int(
        current.amount_refunded_minor or 0
    )
    if not behind:
        return current
    if charge.id:
        for found in gateway.list_refunds(charge.id):
            record_refund(current, stripe_facts.refund(found))
        return payment_store.get_payment(payment.id) or current
    if charge.fully_refunded:
        return transitions.mark_payment_refunded(current, refund_id=charge.refund_id).payment
    return current


def refunded_amount(payment: Payment) -> Decimal:
    """What was refunded of the payment, in major units (``Decimal``).

    A payment refunded before refunds were recorded one by one has neither
    records nor ``amount_refunded_minor``: it was refunded in full.
    """
    if payment.status == STATUS_REFUNDED and not payment.refunds and not payment.amount_refunded_minor:
        return payment.exact_amount
    return from_minor_units(int(payment.amount_refunded_minor or 0), payment.currency)
