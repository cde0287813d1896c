"""Stripe webhook processing: verify, record, dispatch, transition.

1. **Verify** the ``Stripe-Signature`` header against every configured
   signing secret (several during a rotation). Without a secret nothing is
   processed at all; an unsigned, tampered, stale or unparsable delivery is
   refused before anything is written.
2. **Record** the event under its unique Stripe event id, keeping the exact
   body Stripe sent. A delivery of an event already ``processed`` or
   ``ignored`` stops here, so retries and duplicates have no effect; one
   still ``received`` (its processing never finished) or ``failed`` is
   processed again.
3. **Dispatch** through :data:`HANDLERS` (event type → handler). Types not in
   the table are recorded as ``ignored``. Handlers read the event's object
   only through :mod:`.stripe_facts`.
4. Handlers change payments only through the service transitions
   (:mod:`.services.transitions`), which are conditional single-document
   updates: whichever of the webhook, a duplicate delivery or the
   success-page confirmation gets there first makes the change and sends the
   signal; the others change nothing (see :mod:`.states`).

A handler that raises marks the event ``failed`` with the error and surfaces
as :class:`WebhookProcessingFailed`; the HTTP layer answers 5xx so Stripe
delivers the event again, and the next delivery (or
``manage.py payments_replay_webhooks``) processes it. Any other error, such
as the database failing while the event is recorded or its outcome stored,
propagates as well and becomes a 5xx (a 503 with ``Retry-After`` when MongoDB
is unreachable): nothing is acknowledged before it is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.views.decorators.debug import sensitive_variables

from . import gateway, stripe_facts
from .conf import payments_settings
from .documents import (
    WEBHOOK_FAILED,
    WEBHOOK_IGNORED,
    WEBHOOK_PROCESSED,
    Payment,
    WebhookEvent,
)
from .errors import (  # defined in errors.py; importable from here as well
    WebhookEventNotFound,
    WebhookNotConfigured,
    WebhookPayloadTooLarge,
    WebhookProcessingFailed,
    WebhookVerificationError,
)
from .repository import payments as payment_store
from .repository import webhook_log
from .services import legacy, transitions
from .stripe_facts import StripeEvent, event_from_payload

logger = logging.getLogger(__name__)

# Events in these states have had their effect; another delivery must not repeat it.
FINAL_STATUSES = (WEBHOOK_PROCESSED, WEBHOOK_IGNORED)


@dataclass(frozen=True)
class Outcome:
    """What processing an event amounted to: a webhook event status and an optional note."""

    status: str
    note: str | None = None
    duplicate: bool = False


def processed(note: str | None = None) -> Outcome:
    return Outcome(WEBHOOK_PROCESSED, note)


def ignored(note: str) -> Outcome:
    return Outcome(WEBHOOK_IGNORED, note)


# -- verification -----------------------------------------------------------------


@sensitive_variables("secrets")
def verify(body: bytes, signature: str | None) -> StripeEvent:
    """Verify the signature of a raw delivery and parse it into a :class:`StripeEvent`.

    Raises :class:`WebhookNotConfigured` when no signing secret is set,
    :class:`WebhookPayloadTooLarge` for a body too large to be recorded, and
    ``WebhookVerificationError`` for a missing, wrong or stale signature or a
    body that is not a JSON event.
    """
    secrets = payments_settings.webhook_secrets
    if not secrets:
        raise WebhookNotConfigured()
    if len(body) > webhook_log.MAX_WEBHOOK_BODY_BYTES:
        raise WebhookPayloadTooLarge()
    payload = gateway.verify_webhook(body, signature, secrets, payments_settings.webhook_tolerance)
    # Verification succeeded, so the body is valid UTF-8.
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    return event_from_payload(payload, body=text)


# -- receive / process ------------------------------------------------------------


def _record(event: StripeEvent) -> WebhookEvent:
    return webhook_log.record_webhook_event(
        event_id=event.id,
        event_type=event.type,
        livemode=event.livemode,
        api_version=event.api_version,
        payload=event.payload,
        payload_json=event.body,
    )


def receive(body: bytes, signature: str | None) -> Outcome:
    """Handle one delivery from Stripe: verify, record, then process unless already done."""
    event = verify(body, signature)
    record = _record(event)
    if record.status in FINAL_STATUSES:
        return Outcome(record.status, "duplicate delivery", duplicate=True)
    return process(event)


def process(event: StripeEvent) -> Outcome:
    """Run the handler of a recorded event and store the result on the event record.

    Raises :class:`WebhookProcessingFailed` (after marking the event
    ``failed``) when the handler raises.
    """
    handler = HANDLERS.get(event.type)
    try:
        outcome = handler(event) if handler else ignored(f"Unhandled event type {event.type}")
    except Exception as exc:
        # Any error at all must leave the event retryable rather than lost.
        error = f"{type(exc).__name__}: {exc}"
        logger.exception("Stripe event %s (%s) failed", event.id, event.type)
        try:
            webhook_log.finish_webhook_event(event.id, WEBHOOK_FAILED, error=error)
        except Exception:
            logger.exception("Could not mark Stripe event %s as failed", event.id)
        raise WebhookProcessingFailed(event.id, error) from exc
    webhook_log.finish_webhook_event(event.id, outcome.status, error=outcome.note)
    logger.info("Stripe event %s (%s): %s %s", event.id, event.type, outcome.status, outcome.note or "")
    return outcome


def replay(event_id: str, *, force: bool = False) -> Outcome:
    """Process a recorded event again from its stored body (no new signature needed).

    Events already ``processed``/``ignored`` are left alone unless ``force``
    is set; replaying them is harmless anyway because every transition is
    conditional. Raises :class:`WebhookEventNotFound` and
    :class:`WebhookProcessingFailed`.
    """
    stored = webhook_log.get_webhook_event(event_id)
    if stored is None:
        raise WebhookEventNotFound(event_id)
    if stored.status in FINAL_STATUSES and not force:
        return Outcome(stored.status, "already handled", duplicate=True)
    try:
        event = _stored_event(stored)
    except WebhookVerificationError as exc:
        reason = f"{exc.error}: {exc.message}" if exc.message else exc.error
        raise WebhookProcessingFailed(event_id, f"Stored event is unusable ({reason})") from exc
    _record(event)  # counts the attempt
    return process(event)


def _stored_event(stored: WebhookEvent) -> StripeEvent:
    """Rebuild an event from its record: from the exact body Stripe sent when it was kept."""
    if stored.payload_json:
        return event_from_payload(gateway.parse_event_json(stored.payload_json), body=stored.payload_json)
    # Records without the body (e.g. made by hand or by older versions) only have the dict copy.
    return event_from_payload(dict(stored.payload or {}))


# -- lookups -------------------------------------------------------------------------


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


def _session_payment(session: stripe_facts.CheckoutSessionFacts) -> Payment | None:
    return _linked_payment("session_id", session.id, session.payment_id)


def _intent_payment(intent_id: str | None, payment_id: str | None) -> Payment | None:
    return _linked_payment("payment_intent_id", intent_id, payment_id)


def _completion_outcome(result: transitions.TransitionResult) -> Outcome:
    if result.mismatch:
        fields = ", ".join((result.payment.metadata or {}).get("mismatch", {}).get("fields", [])) or "details"
        return ignored(f"Stripe reported a different {fields} for payment {result.payment.id}; nothing granted")
    if result.duplicate:
        return processed(
            f"payment {result.payment.id} duplicates premium payment {result.payment.duplicate_of}; refunded"
        )
    return processed(_transition_note(result))


def _transition_note(result: transitions.TransitionResult) -> str | None:
    return None if result.changed else f"payment {result.payment.id} already {result.payment.status}"


# -- handlers ----------------------------------------------------------------------


def on_checkout_session_completed(event: StripeEvent) -> Outcome:
    """Checkout finished. Complete the payment if it is paid; delayed methods (e.g. bank debits) wait."""
    session = stripe_facts.checkout_session(event.object)
    if not session.payment_mode:
        return ignored("Not a one-time payment session")
    if session.paid:
        done = transitions.complete_session(session, livemode=event.livemode)
        if done is not None:
            return _completion_outcome(done)
    payment = _session_payment(session)
    if payment is None:
        return ignored("No payment for this Checkout Session")
    if not session.paid:
        return processed("Awaiting payment (checkout.session.async_payment_succeeded will follow)")
    return _completion_outcome(
        transitions.complete_from_session(payment, session, livemode=event.livemode)
    )


def on_checkout_session_async_payment_failed(event: StripeEvent) -> Outcome:
    session = stripe_facts.checkout_session(event.object)
    payment = _session_payment(session)
    if payment is None:
        return ignored("No payment for this Checkout Session")
    result = transitions.fail_payment(
        payment, reason="async_payment_failed", payment_intent_id=session.intent_id
    )
    return processed(_transition_note(result))


def on_checkout_session_expired(event: StripeEvent) -> Outcome:
    payment = _session_payment(stripe_facts.checkout_session(event.object))
    if payment is None:
        return ignored("No payment for this Checkout Session")
    return processed(_transition_note(transitions.expire_payment(payment)))


def on_payment_intent_succeeded(event: StripeEvent) -> Outcome:
    intent = stripe_facts.payment_intent(event.object)
    payment = _intent_payment(intent.id, intent.payment_id)
    if payment is None:
        return ignored("No payment for this PaymentIntent")
    return _completion_outcome(
        transitions.complete_payment(
            payment,
            payment_intent_id=intent.id,
            amount_minor=intent.amount_minor,
            currency=intent.currency,
            livemode=event.livemode,
        )
    )


def on_payment_intent_failed(event: StripeEvent) -> Outcome:
    intent = stripe_facts.payment_intent(event.object)
    payment = _intent_payment(intent.id, intent.payment_id)
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
    return processed(_transition_note(result))


def on_charge_refunded(event: StripeEvent) -> Outcome:
    """A full refund revokes what the payment granted; partial refunds are only recorded."""
    charge = stripe_facts.charge(event.object)
    payment = _intent_payment(charge.intent_id, charge.payment_id)
    if payment is None:
        return ignored("No payment for this charge")
    if not charge.fully_refunded:
        return ignored(f"Partial refund of payment {payment.id}; status unchanged")
    return processed(
        _transition_note(transitions.mark_payment_refunded(payment, refund_id=charge.refund_id))
    )


def on_subscription_changed(event: StripeEvent) -> Outcome:
    """Keep the legacy ``subscriptions`` collection in step with Stripe."""
    subscription = stripe_facts.subscription(
        event.object, deleted=event.type == "customer.subscription.deleted"
    )
    result = legacy.sync_legacy_subscription(subscription, event_created=event.created)
    return processed() if result.changed else ignored(result.reason or "Subscription unchanged")


HANDLERS: dict[str, Callable[[StripeEvent], Outcome]] = {
    "checkout.session.completed": on_checkout_session_completed,
    "checkout.session.async_payment_succeeded": on_checkout_session_completed,
    "checkout.session.async_payment_failed": on_checkout_session_async_payment_failed,
    "checkout.session.expired": on_checkout_session_expired,
    "payment_intent.succeeded": on_payment_intent_succeeded,
    "payment_intent.payment_failed": on_payment_intent_failed,
    "charge.refunded": on_charge_refunded,
    "customer.subscription.updated": on_subscription_changed,
    "customer.subscription.deleted": on_subscription_changed,
}
"""Event type → handler. Handlers return an :class:`Outcome` or raise to get the event retried."""
