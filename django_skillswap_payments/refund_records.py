"""The refunds stored on a payment (``Payment.refunds``) and the statuses a refund goes through.

A refund's ``status`` is Stripe's: ``pending`` or ``succeeded`` refunds count
towards ``Payment.amount_refunded_minor``; ``failed`` and ``canceled`` ones
do not, and are final (a later report of the same refund as pending or
succeeded is an older event arriving late).
"""

from __future__ import annotations

from mongoengine import DateTimeField, EmbeddedDocument, IntField, StringField

REFUND_PENDING = "pending"
REFUND_SUCCEEDED = "succeeded"
REFUND_FAILED = "failed"
REFUND_CANCELED = "canceled"
REFUND_STATUSES = (REFUND_PENDING, REFUND_SUCCEEDED, REFUND_FAILED, REFUND_CANCELED)
# The money of these is not (or no longer) on its way back to the customer.
UNDONE_REFUND_STATUSES = (REFUND_FAILED, REFUND_CANCELED)

# Why a refund was made, as Stripe names the reasons.
REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")


def counted_status(status: str | None) -> str:
    """Stripe's refund status as stored: ``requires_action`` (and anything unknown) is pending."""
    return status if status in REFUND_STATUSES else REFUND_PENDING


class RefundRecord(EmbeddedDocument):
    """One refund of a payment, made through the API or at Stripe (e.g. from its Dashboard)."""

    refund_id = StringField(required=True)
    amount_minor = IntField(required=True, min_value=1)
    reason = StringField(null=True)
    status = StringField(required=True, choices=REFUND_STATUSES)
    created_at = DateTimeField(required=True)
    failure_reason = StringField(null=True)

    meta = {"strict": False}
