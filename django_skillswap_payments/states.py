"""The payment state table: which status may follow which, and what each change records.

::

    pending ──> completed ──> refunded
       │           ▲
       └─> failed ─┘      (a failed attempt may still be paid, if Stripe says so)

Exactly once, in one place: every status change is a single conditional
``findAndModify`` whose filter is ``_id = X and status in sources`` (see
:func:`django_skillswap_payments.repository.payments.transition`). Of any number of
concurrent callers — duplicate or reordered webhook deliveries, the success
page racing the webhook, several server processes — exactly one gets the
document back; only that caller sends the signal. No multi-document
transaction is needed, so any MongoDB deployment gives this guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass

from .documents import STATUS_COMPLETED, STATUS_FAILED, STATUS_PENDING, STATUS_REFUNDED


@dataclass(frozen=True)
class Transition:
    """A move to ``target``: allowed only from ``sources``; stamps ``timestamp_field``."""

    target: str
    sources: tuple[str, ...]
    timestamp_field: str


TRANSITIONS: dict[str, Transition] = {
    t.target: t
    for t in (
        Transition(STATUS_COMPLETED, (STATUS_PENDING, STATUS_FAILED), "completed_at"),
        Transition(STATUS_FAILED, (STATUS_PENDING,), "failed_at"),
        Transition(STATUS_REFUNDED, (STATUS_COMPLETED,), "refunded_at"),
    )
}

# target status -> statuses it may be reached from
ALLOWED_PREVIOUS: dict[str, tuple[str, ...]] = {
    target: transition.sources for target, transition in TRANSITIONS.items()
}
# target status -> the timestamp field it sets
TIMESTAMP_FIELD: dict[str, str] = {
    target: transition.timestamp_field for target, transition in TRANSITIONS.items()
}
