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
3. **Dispatch** through :data:`HANDLERS` (gathered in :mod:`.registry`) (event type → handler). Types not in
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

from ..errors import (  # defined in errors.py; importable from here as well
    WebhookEventNotFound,
    WebhookNotConfigured,
    WebhookPayloadTooLarge,
    WebhookProcessingFailed,
    WebhookVerificationError,
)
from .delivery import process, receive, replay, verify
from .outcome import FINAL_STATUSES, Outcome, ignored, processed
from .registry import HANDLERS

__all__ = [
    "FINAL_STATUSES",
    "HANDLERS",
    "Outcome",
    "WebhookEventNotFound",
    "WebhookNotConfigured",
    "WebhookPayloadTooLarge",
    "WebhookProcessingFailed",
    "WebhookVerificationError",
    "ignored",
    "process",
    "processed",
    "receive",
    "replay",
    "verify",
]
