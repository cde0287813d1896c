"""Finding the payment an event is about, and wording the outcome of a transition."""

from __future__ import annotations

from typing import Any

from .. import stripe_facts
from ..documents import Payment
from ..repository import payments as payment_store
from ..services import transitions
from .outcome import Outcome, ignored, processed


def _linked_payment(key: str, stripe_id: str | None, payment_id: str | None) -> Payment | None:
    """The payment stored under a Stripe id, else the one whose id the Stripe object was tagged with.

    ``key`` is the :func:`~.repository.payments.find_payment` lookup of the
    Stripe id (``session_id`` or ``payment_intent_id``).
    """
    lookup: dict[str, Any] = {key: stripe_id}
    payment = payment_store.find_payment(**lookup) if stripe_id else None
    if payment is not None:
        return payment
    payment = payment_store.find_payment(payment_id=payment_id) if payment_id else None
    linked = getattr(payment, f"stripe_{key}", None)
    if linked and linked != stripe_id:
        return None  # tagged with our id but linked to another Stripe object: not ours to act on
    return payment


def session_payment(session: stripe_facts.CheckoutSessionFacts) -> Payment | None:
    return _linked_payment("session_id", session.id, session.payment_id)


def intent_payment(intent_id: str | None, payment_id: str | None) -> Payment | None:
    return _linked_payment("payment_intent_id", intent_id, payment_id)


def completion_outcome(result: transitions.TransitionResult) -> Outcome:
    if result.mismatch:
        fields = ", ".join((result.payment.metadata or {}).get("mismatch", {}).get("fields", [])) or "details"
        return ignored(f"Stripe reported a different {fields} for payment {result.payment.id}; nothing granted")
    if result.duplicate:
        return processed(
            f"payment {result.payment.id} duplicates premium payment {result.payment.duplicate_of}; refunded"
        )
    return processed(transition_note(result))


def transition_note(result: transitions.TransitionResult) -> str | None:
    return None if result.changed else f"payment {result.payment.id} already {result.payment.status}"
