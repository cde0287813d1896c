"""The payment state table: which status may follow which, and what each change records.

::

    pending ──────────────> completed ──> refunded
       │  │                   ▲   ▲
       │  └─> failed ─────────┘   │     (a declined attempt may still be paid, if Stripe says so)
       │        │                 │
       └────────┴──> expired ─────┘     (a session paid in a race with its expiry still completes)

A ``failed`` payment is *retryable* while its Checkout Session is still open
at Stripe (a declined card: the buyer may try another card on the same page)
and *final* otherwise (an asynchronous payment method failed). A retryable
failure keeps the user's one open premium checkout; a final failure, an
expiry, a completion and a refund end the checkout and release it. A
retryable failure may later become final (``failed`` → ``failed``), expire or
complete; a final one may only still complete or expire.

Exactly once, in one place: every status change is a single conditional
``findAndModify`` whose filter is ``_id = X and status in sources`` (see
:func:`django_skillswap_payments.repository.payments.transition`). Of any number of
concurrent callers — duplicate or reordered webhook deliveries, the success
page racing the webhook, several server processes — exactly one gets the
document back; only that caller sends the signal. No multi-document
transaction is needed, so any MongoDB deployment gives this guarantee.

At most one completed premium per user, in the same way: the write that
completes a premium payment also claims the user's unique ``premium_holder``
key (a unique sparse index), and a refund gives it back. A second premium
payment that completes anyway (two Checkout Sessions paid, whatever the
route) cannot claim it: it is completed as a duplicate, announced by no
completion signal, and refunded automatically.

Refunds may be partial: ``amount_refunded_minor`` counts the money given back
and ``refunds`` lists each refund. A payment moves to ``refunded`` (which
revokes what it granted) when its refunds reach the whole amount, or at the
first refund of a premium payment when ``PARTIAL_REFUND_REVOKES_PREMIUM`` is
on; until then it stays ``completed``. The rest of a ``refunded`` payment
(what a partial refund or a failed refund left) may still be refunded, which
changes no status. A refund that fails later gives back only its amount: the
status stays where it is, so nothing is granted again behind the operator's
back (see :mod:`django_skillswap_payments.services.refunds`).
"""

from __future__ import annotations

from dataclasses import dataclass

from .documents import (
    STATUS_COMPLETED,
    STATUS_EXPIRED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_REFUNDED,
)


@dataclass(frozen=True)
class Transition:
    """A move to ``target``: allowed only from ``sources``; stamps ``timestamp_field``.

    ``ends_checkout``: the move closes the payment's checkout, releasing the
    user's open-checkout slot (for ``failed``: the failure is final).
    ``retryable_failures_only``: among the sources, ``failed`` counts only
    while that failure is retryable.
    """

    target: str
    sources: tuple[str, ...]
    timestamp_field: str
    ends_checkout: bool = True
    retryable_failures_only: bool = False


COMPLETE = Transition(
    STATUS_COMPLETED, (STATUS_PENDING, STATUS_FAILED, STATUS_EXPIRED), "completed_at"
)
FAIL = Transition(
    STATUS_FAILED, (STATUS_PENDING, STATUS_FAILED), "failed_at", retryable_failures_only=True
)
# A declined attempt on a Checkout Session Stripe still has open: the same
# session can still be paid, so the checkout (and its slot) goes on.
DECLINE = Transition(STATUS_FAILED, (STATUS_PENDING,), "failed_at", ends_checkout=False)
EXPIRE = Transition(STATUS_EXPIRED, (STATUS_PENDING, STATUS_FAILED), "expired_at")
REFUND = Transition(STATUS_REFUNDED, (STATUS_COMPLETED,), "refunded_at")

# Statuses in which money may still be given back (a ``refunded`` one: only what is left of it).
REFUNDABLE = (STATUS_COMPLETED, STATUS_REFUNDED)

# The move to each status (a decline is the retryable variant of ``failed``).
TRANSITIONS: dict[str, Transition] = {t.target: t for t in (COMPLETE, FAIL, EXPIRE, REFUND)}

# target status -> statuses it may be reached from
ALLOWED_PREVIOUS: dict[str, tuple[str, ...]] = {
    target: transition.sources for target, transition in TRANSITIONS.items()
}
# target status -> the timestamp field it sets
TIMESTAMP_FIELD: dict[str, str] = {
    target: transition.timestamp_field for target, transition in TRANSITIONS.items()
}
