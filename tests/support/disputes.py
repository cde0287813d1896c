"""Stripe Dispute objects and their signed events, as the dispute tests deliver them."""

from __future__ import annotations

import itertools

from tests.support.stripe_objects import intent_id_for
from tests.support.webhooks import deliver

CREATED_AT = 1_790_000_000
_event_ids = itertools.count(1)


def dispute_object(payment, *, status="needs_response", dispute_id=None, **overrides):
    obj = {
        "id": dispute_id or f"dp_test_{payment.id}",
        "object": "dispute",
        "amount": payment.amount_minor,
        "currency": payment.currency,
        "charge": f"ch_test_{payment.id}",
        "payment_intent": intent_id_for(payment),
        "reason": "fraudulent",
        "status": status,
        "created": CREATED_AT,
        "evidence_details": {"due_by": CREATED_AT + 7 * 86400, "has_evidence": False},
        "livemode": False,
        "metadata": {},
    }
    obj.update(overrides)
    return obj


def send(client, event_type, obj, *, at=CREATED_AT):
    response = deliver(client, event_type, obj, event_id=f"evt_dp_{next(_event_ids)}", created=at)
    assert response.status_code == 200, response.content
    return response
