"""Checkout Session and PaymentIntent events: completion, failure and expiry of payments."""

from __future__ import annotations

from collections.abc import Callable

from .. import stripe_facts
from ..services import adaptive_pricing, promotions, transitions
from ..stripe_facts import StripeEvent
from .lookups import completion_outcome, intent_payment, session_payment, transition_note
from .outcome import Outcome, ignored, processed


def on_checkout_session_completed(event: StripeEvent) -> Outcome:
    """Checkout finished. Complete the payment if it is paid; delayed methods (e.g. bank debits) wait."""
    session = stripe_facts.checkout_session(event.object)
    if not session.payment_mode:
        return ignored("Not a one-time payment session")
    if session.paid:
        done = transitions.complete_session(session, livemode=event.livemode)
        if done is not None:
            return completion_outcome(done)
    payment = session_payment(session)
    if payment is None:
        return ignored("No payment for this Checkout Session")
    if not session.paid:
        return processed("Awaiting payment (checkout.session.async_payment_succeeded will follow)")
    return completion_outcome(
        transitions.complete_from_session(payment, session, livemode=event.livemode)
    )


def on_checkout_session_async_payment_failed(event: StripeEvent) -> Outcome:
    session = stripe_facts.checkout_session(event.object)
    payment = session_payment(session)
    if payment is None:
        return ignored("No payment for this Checkout Session")
    result = transitions.fail_payment(
        payment, reason="async_payment_failed", payment_intent_id=session.intent_id
    )
    return processed(transition_note(result))


def on_checkout_session_expired(event: StripeEvent) -> Outcome:
    payment = session_payment(stripe_facts.checkout_session(event.object))
    if payment is None:
        return ignored("No payment for this Checkout Session")
    return processed(transition_note(transitions.expire_payment(payment)))


def on_payment_intent_succeeded(event: StripeEvent) -> Outcome:
    """A payment succeeded; its Checkout Session says whether a code or a conversion explains its figures."""
    intent = stripe_facts.payment_intent(event.object)
    payment = intent_payment(intent.id, intent.payment_id)
    if payment is None:
        return ignored("No payment for this PaymentIntent")
    judged = adaptive_pricing.judge_intent_by_session(payment, intent, livemode=event.livemode)
    if judged is not None:
        return completion_outcome(judged)
    return completion_outcome(
        transitions.complete_payment(
            payment,
            payment_intent_id=intent.id,
            amount_minor=intent.amount_minor,
            currency=intent.currency,
            livemode=event.livemode,
            discount=promotions.discount_for_intent(payment, intent.amount_minor),
            customer_id=intent.customer_id,
            charged=intent.charged,
        )
    )


def on_payment_intent_failed(event: StripeEvent) -> Outcome:
    intent = stripe_facts.payment_intent(event.object)
    payment = intent_payment(intent.id, intent.payment_id)
    if payment is None:
        return ignored("No payment for this PaymentIntent")
    # Checkout lets the buyer try again on the same page, so a failed attempt ends nothing:
    # the checkout.session.* events say when the checkout itself is over.
    result = transitions.fail_payment(
        payment,
        reason=intent.failure_message or "payment_failed",
        payment_intent_id=intent.id,
        final=False,
    )
    return processed(transition_note(result))


HANDLERS: dict[str, Callable[[StripeEvent], Outcome]] = {
    "checkout.session.completed": on_checkout_session_completed,
    "checkout.session.async_payment_succeeded": on_checkout_session_completed,
    "checkout.session.async_payment_failed": on_checkout_session_async_payment_failed,
    "checkout.session.expired": on_checkout_session_expired,
    "payment_intent.succeeded": on_payment_intent_succeeded,
    "payment_intent.payment_failed": on_payment_intent_failed,
}
