"""Stripe calls of the disputes concern."""

from __future__ import annotations

import stripe
from django.views.decorators.debug import sensitive_variables

from . import _stripe_errors, get_client


@sensitive_variables()
def retrieve_payment_intent(intent_id: str) -> stripe.PaymentIntent:
    """Fetch the PaymentIntent of a disputed charge, for the payment id in its metadata."""
    with _stripe_errors():
        return get_client().v1.payment_intents.retrieve(intent_id)
