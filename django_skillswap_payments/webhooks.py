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
   the table are recorded as ``ignored``.
4. Handlers change payments only through the service transitions, which are
   conditional single-document updates: whichever of the webhook, a
   duplicate delivery or the success-page confirmation gets there first makes
   the change and sends the signal; the others change nothing.

A handler that raises marks the event ``failed`` with the error and surfaces
as :class:`WebhookProcessingFailed`; the HTTP layer answers 5xx so Stripe
delivers the event again, and the next delivery (or
``manage.py payments_replay_webhooks``) processes it. Any other error, such
as the database failing while the event is recorded or its outcome stored,
propagates as well and becomes a 5xx: nothing is acknowledged before it is
stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import gateway, repository, services
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
    WebhookProcessingFailed,
    WebhookVerificationError,
)
from .services import stripe_object_id as _stripe_id

logger = logging.getLogger(__name__)

# Events in these states have had their effect; another delivery must not repeat it.
FINAL_STATUSES = (WEBHOOK_PROCESSED, WEBHOOK_IGNORED)
MAX_EVENT_ID_LENGTH = 255


@dataclass(frozen=True)
class StripeEvent:
    """The parts of a Stripe ``event`` the handlers use, plus the full payload."""

    id: str
    type: str
    livemode: bool
    api_version: str | None
    created: int | None
    payload: Mapping[str, Any]
    # The exact JSON text Stripe signed, stored verbatim so any key survives storage.
    body: str | None = None

    @property
    def object(self) -> dict[str, Any]:
        """``data.object``: the Stripe object the event is about."""
        return self.payload["data"]["object"]


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


def event_from_payload(payload: Any, *, body: str | None = None) -> StripeEvent:
    """Check that ``payload`` is shaped like a Stripe event; raise ``WebhookVerificationError`` if not."""
    if not isinstance(payload, dict):
        raise WebhookVerificationError("Invalid webhook payload", message="The event must be a JSON object")
    event_id, event_type = payload.get("id"), payload.get("type")
    data = payload.get("data")
    if not isinstance(event_id, str) or not event_id or len(event_id) > MAX_EVENT_ID_LENGTH:
        raise WebhookVerificationError("Invalid webhook payload", message="The event has no valid id")
    if not isinstance(event_type, str) or not event_type:
        raise WebhookVerificationError("Invalid webhook payload", message="The event has no type")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise WebhookVerificationError("Invalid webhook payload", message="The event has no data.object")
    created = payload.get("created")
    api_version = payload.get("api_version")
    return StripeEvent(
        id=event_id,
        type=event_type,
        livemode=payload.get("livemode") is True,
        api_version=api_version if isinstance(api_version, str) else None,
        created=created if isinstance(created, int) and not isinstance(created, bool) else None,
        payload=payload,
        body=body,
    )


def verify(body: bytes, signature: str | None) -> StripeEvent:
    """Verify the signature of a raw delivery and parse it into a :class:`StripeEvent`.

    Raises :class:`WebhookNotConfigured` when no signing secret is set and
    ``WebhookVerificationError`` for a missing, wrong or stale signature or a
    body that is not a JSON event.
    """
    secrets = payments_settings.webhook_secrets
    if not secrets:
        raise WebhookNotConfigured()
    payload = gateway.verify_webhook(body, signature, secrets, payments_settings.webhook_tolerance)
    # Verification succeeded, so the body is valid UTF-8.
    text = body.decode("utf-8") if isinstance(body, (bytes, bytearray)) else body
    return event_from_payload(payload, body=text)


# -- receive / process ------------------------------------------------------------


def _record(event: StripeEvent) -> WebhookEvent:
    return repository.record_webhook_event(
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
            repository.finish_webhook_event(event.id, WEBHOOK_FAILED, error=error)
        except Exception:
            logger.exception("Could not mark Stripe event %s as failed", event.id)
        raise WebhookProcessingFailed(event.id, error) from exc
    repository.finish_webhook_event(event.id, outcome.status, error=outcome.note)
    logger.info("Stripe event %s (%s): %s %s", event.id, event.type, outcome.status, outcome.note or "")
    return outcome


def replay(event_id: str, *, force: bool = False) -> Outcome:
    """Process a recorded event again from its stored body (no new signature needed).

    Events already ``processed``/``ignored`` are left alone unless ``force``
    is set; replaying them is harmless anyway because every transition is
    conditional. Raises :class:`WebhookEventNotFound` and
    :class:`WebhookProcessingFailed`.
    """
    stored = repository.get_webhook_event(event_id)
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


def _metadata_payment_id(obj: Mapping[str, Any]) -> Any:
    metadata = obj.get("metadata")
    return metadata.get("payment_id") if isinstance(metadata, Mapping) else None


def _linked_payment(key: str, stripe_id: str | None, payment_id: Any) -> Payment | None:
    """The payment stored under a Stripe id, else the one whose id the Stripe object was tagged with.

    ``key`` is the :func:`repository.find_payment` lookup of the Stripe id
    (``session_id`` or ``payment_intent_id``).
    """
    lookup: dict[str, Any] = {key: stripe_id}
    payment = repository.find_payment(**lookup) if stripe_id else None
    if payment is not None:
        return payment
    payment = repository.find_payment(payment_id=payment_id) if payment_id else None
    linked = getattr(payment, f"stripe_{key}", None)
    if linked and linked != stripe_id:
        return None  # tagged with our id but linked to another Stripe object: not ours to act on
    return payment


def _session_payment(session: Mapping[str, Any]) -> Payment | None:
    """The payment a Checkout Session belongs to: by session id, else by the payment id we tagged it with."""
    payment_id = _metadata_payment_id(session) or session.get("client_reference_id")
    return _linked_payment("session_id", _stripe_id(session.get("id")), payment_id)


def _intent_payment(intent_id: str | None, obj: Mapping[str, Any]) -> Payment | None:
    """The payment of a PaymentIntent: by intent id, else by the payment id in the metadata."""
    return _linked_payment("payment_intent_id", intent_id, _metadata_payment_id(obj))


def _complete(event: StripeEvent, payment: Payment, *, intent_id: str | None, amount: Any,
              currency: Any, session_id: str | None = None) -> Outcome:
    result = services.complete_payment(
        payment,
        payment_intent_id=intent_id,
        amount_minor=amount,
        currency=currency,
        livemode=event.livemode,
        session_id=session_id,
    )
    if result.mismatch:
        fields = ", ".join((result.payment.metadata or {}).get("mismatch", {}).get("fields", [])) or "details"
        return ignored(f"Stripe reported a different {fields} for payment {payment.id}; nothing granted")
    return processed(_transition_note(result))


def _transition_note(result: services.TransitionResult) -> str | None:
    return None if result.changed else f"payment {result.payment.id} already {result.payment.status}"


# -- handlers ----------------------------------------------------------------------


def on_checkout_session_completed(event: StripeEvent) -> Outcome:
    """Checkout finished. Complete the payment if it is paid; delayed methods (e.g. bank debits) wait."""
    session = event.object
    if session.get("mode") != "payment":
        return ignored("Not a one-time payment session")
    payment = _session_payment(session)
    if payment is None:
        return ignored("No payment for this Checkout Session")
    if session.get("payment_status") != "paid":
        return processed("Awaiting payment (checkout.session.async_payment_succeeded will follow)")
    return _complete(
        event,
        payment,
        intent_id=_stripe_id(session.get("payment_intent")),
        amount=session.get("amount_total"),
        currency=session.get("currency"),
        session_id=_stripe_id(session.get("id")),
    )


def on_checkout_session_async_payment_failed(event: StripeEvent) -> Outcome:
    payment = _session_payment(event.object)
    if payment is None:
        return ignored("No payment for this Checkout Session")
    result = services.fail_payment(
        payment,
        reason="async_payment_failed",
        payment_intent_id=_stripe_id(event.object.get("payment_intent")),
    )
    return processed(_transition_note(result))


def on_checkout_session_expired(event: StripeEvent) -> Outcome:
    payment = _session_payment(event.object)
    if payment is None:
        return ignored("No payment for this Checkout Session")
    return processed(_transition_note(services.expire_payment(payment)))


def on_payment_intent_succeeded(event: StripeEvent) -> Outcome:
    intent = event.object
    intent_id = _stripe_id(intent.get("id"))
    payment = _intent_payment(intent_id, intent)
    if payment is None:
        return ignored("No payment for this PaymentIntent")
    received = intent.get("amount_received")
    return _complete(
        event,
        payment,
        intent_id=intent_id,
        amount=received if received else intent.get("amount"),
        currency=intent.get("currency"),
    )


def on_payment_intent_failed(event: StripeEvent) -> Outcome:
    intent = event.object
    intent_id = _stripe_id(intent.get("id"))
    payment = _intent_payment(intent_id, intent)
    if payment is None:
        return ignored("No payment for this PaymentIntent")
    error = intent.get("last_payment_error")
    reason = error.get("message") if isinstance(error, Mapping) else None
    if not isinstance(reason, str):
        reason = None
    result = services.fail_payment(payment, reason=reason or "payment_failed", payment_intent_id=intent_id)
    return processed(_transition_note(result))


def on_charge_refunded(event: StripeEvent) -> Outcome:
    """A full refund revokes what the payment granted; partial refunds are only recorded."""
    charge = event.object
    payment = _intent_payment(_stripe_id(charge.get("payment_intent")), charge)
    if payment is None:
        return ignored("No payment for this charge")
    if charge.get("refunded") is not True:
        return ignored(f"Partial refund of payment {payment.id}; status unchanged")
    refunds = charge.get("refunds")
    data = refunds.get("data") if isinstance(refunds, Mapping) else None
    refund_id = _stripe_id(data[0]) if isinstance(data, list) and data else None
    return processed(_transition_note(services.mark_payment_refunded(payment, refund_id=refund_id)))


def on_subscription_changed(event: StripeEvent) -> Outcome:
    """Keep the legacy ``subscriptions`` collection in step with Stripe."""
    subscription = event.object
    if event.type == "customer.subscription.deleted":
        subscription = {**subscription, "status": "canceled"}
    result = services.sync_legacy_subscription(subscription, event_created=event.created)
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
