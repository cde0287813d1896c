"""The disputes recorded on a payment: one embedded document per Stripe Dispute (``dp_...``).

Written only by :mod:`django_skillswap_payments.repository.disputes`, whose
conditional updates keep each record at the furthest status Stripe reported
(see there); :data:`CLOSED_STATUSES` are final.
"""

from __future__ import annotations

from mongoengine import DateTimeField, EmbeddedDocument, IntField, ListField, StringField

# Stripe's dispute statuses in the order a dispute moves through them: an inquiry
# (``warning_*``) may turn into a chargeback, never the other way round.
OPEN_STATUS_ORDER = (
    "warning_needs_response",
    "warning_under_review",
    "needs_response",
    "under_review",
)
CLOSED_STATUSES = ("warning_closed", "won", "lost", "prevented")
DISPUTE_STATUSES = OPEN_STATUS_ORDER + CLOSED_STATUSES
# The outcomes that leave the money with the merchant.
WON_STATUSES = ("won", "warning_closed")
LOST = "lost"


class DisputeRecord(EmbeddedDocument):
    """One dispute of a payment's charge, as Stripe last reported it."""

    dispute_id = StringField(required=True)
    amount_minor = IntField(min_value=0)
    currency = StringField()
    reason = StringField()
    # Stripe's status, stored as sent (an unknown new status is kept, and ranks below the known ones).
    status = StringField()
    evidence_due_by = DateTimeField()
    created_at = DateTimeField()
    closed_at = DateTimeField()
    # The ``created`` time of the Stripe event the record was last updated from: among reports
    # of the same status, an older one never overwrites a newer one.
    event_at = DateTimeField()
    # The dispute signals not yet delivered to every receiver: added in the write that
    # records or closes the dispute, removed once every receiver ran (so a process that
    # stops in between leaves them for ``payments_redispatch_signals``).
    pending_signals = ListField(StringField())

    meta = {"strict": False}
