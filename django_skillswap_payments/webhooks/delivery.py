"""Verify, record and dispatch one delivery; replay a recorded one (see the package docstring)."""

from __future__ import annotations

import logging

from django.views.decorators.debug import sensitive_variables

from .. import gateway
from ..conf import payments_settings
from ..documents import WEBHOOK_FAILED, WebhookEvent
from ..errors import (
    WebhookEventNotFound,
    WebhookNotConfigured,
    WebhookPayloadTooLarge,
    WebhookProcessingFailed,
    WebhookVerificationError,
)
from ..repository import webhook_log
from ..stripe_facts import StripeEvent, event_from_payload
from .outcome import FINAL_STATUSES, Outcome, ignored
from .registry import HANDLERS

logger = logging.getLogger("django_skillswap_payments.webhooks")


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
