"""factory-boy factories for the payments documents (needs the ``[testing]`` extra).

::

    payment = PaymentFactory()                       # pending $9.99 premium purchase
    tip = PaymentFactory(tip=True, completed=True)   # completed $5.00 tip to a new recipient
    PaymentFactory(tip=True, recipient=profile, amount_minor=1250)
    WebhookEventFactory(type="payment_intent.succeeded")   # a recorded, replayable event

``PaymentFactory`` creates the sender's (and for tips the recipient's)
``PaymentProfile`` unless you pass ``sender=`` / ``recipient=``.  Amounts are
given in minor units; the Decimal ``amount`` is derived from them.
"""

from __future__ import annotations

import json
from typing import Any

import factory
from factory.mongoengine import MongoEngineFactory

from ..documents import (
    STATUS_COMPLETED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_REFUNDED,
    TRANSACTION_PREMIUM,
    TRANSACTION_TIP,
    WEBHOOK_RECEIVED,
    Payment,
    PaymentProfile,
    WebhookEvent,
    utcnow,
)
from ..money import from_minor_units
from ..repository import MAX_PAYLOAD_COPY_CHARS, storable_copy
from .webhooks import DEFAULT_API_VERSION, build_event, encode_event

_ID_PREFIXES = {
    "checkout.session": "cs_test_",
    "payment_intent": "pi_",
    "charge": "ch_",
    "refund": "re_",
    "customer": "cus_",
}


def _minimal_object(event_type: str) -> dict:
    """The smallest ``data.object`` for an event type: ``checkout.session.completed`` -> a session stub."""
    object_name = event_type.rsplit(".", 1)[0]
    return {"id": _ID_PREFIXES.get(object_name, "obj_") + "factory", "object": object_name}


class PaymentProfileFactory(MongoEngineFactory):
    """A payments identity for a Django user id; ``with_customer`` adds a Stripe customer id."""

    class Meta:
        model = PaymentProfile

    django_user_id = factory.Sequence(lambda n: str(1000 + n))
    stripe_customer_id = None

    class Params:
        with_customer = factory.Trait(
            stripe_customer_id=factory.Sequence(lambda n: f"cus_factory{n:06d}")
        )


class PaymentFactory(MongoEngineFactory):
    """A premium purchase by default; traits ``tip``, ``completed``, ``failed``, ``refunded``."""

    class Meta:
        model = Payment
        exclude = ("sender", "recipient")

    sender = factory.SubFactory(PaymentProfileFactory)
    recipient = None

    transaction_type = TRANSACTION_PREMIUM
    from_user_id = factory.SelfAttribute("sender.id")
    to_user_id = factory.LazyAttribute(
        lambda o: o.recipient.id if o.recipient is not None else None
    )
    amount_minor = 999
    currency = "usd"
    amount = factory.LazyAttribute(lambda o: from_minor_units(o.amount_minor, o.currency))
    status = STATUS_PENDING
    stripe_session_id = factory.Sequence(lambda n: f"cs_test_factory{n:06d}")
    checkout_url = factory.LazyAttribute(
        lambda o: f"http://127.0.0.1:12111/c/pay/{o.stripe_session_id}"
    )
    metadata = factory.LazyAttribute(lambda o: {"type": o.transaction_type})

    class Params:
        tip = factory.Trait(
            transaction_type=TRANSACTION_TIP,
            recipient=factory.SubFactory(PaymentProfileFactory),
            amount_minor=500,
            message="Thanks for the lesson!",
        )
        completed = factory.Trait(
            status=STATUS_COMPLETED,
            stripe_payment_intent_id=factory.Sequence(lambda n: f"pi_factory{n:06d}"),
            completed_at=factory.LazyFunction(utcnow),
        )
        failed = factory.Trait(
            status=STATUS_FAILED,
            failure_reason="Your card was declined.",
            failed_at=factory.LazyFunction(utcnow),
        )
        refunded = factory.Trait(
            completed=True,
            status=STATUS_REFUNDED,
            refunded_at=factory.LazyFunction(utcnow),
        )


class WebhookEventFactory(MongoEngineFactory):
    """A recorded Stripe event, stored as the webhook view stores a delivery.

    ``payload_json`` is the exact body (a full event object of ``type``,
    serialised as Stripe does) and ``payload`` its storable dict copy, so a
    replay sees the same event either way.  Pass ``data_object=`` to choose the
    event's ``data.object``, or ``payload_json=`` for a body of your own
    (``payload`` then follows it).
    """

    class Meta:
        model = WebhookEvent
        exclude = ("data_object",)

    stripe_event_id = factory.Sequence(lambda n: f"evt_factory{n:06d}")
    type = "checkout.session.completed"
    livemode = False
    api_version = DEFAULT_API_VERSION
    data_object = factory.LazyAttribute(lambda o: _minimal_object(o.type))
    payload_json = factory.LazyAttribute(
        lambda o: encode_event(
            build_event(
                o.type,
                o.data_object,
                event_id=o.stripe_event_id,
                livemode=o.livemode,
                api_version=o.api_version,
            )
        ).decode("utf-8")
    )
    payload = factory.LazyAttribute(lambda o: _payload_copy(o.payload_json))
    status = WEBHOOK_RECEIVED
    attempts = 0


def _payload_copy(payload_json: str) -> dict[str, Any] | None:
    """The dict copy the app stores next to a body (none for very large bodies)."""
    if len(payload_json) > MAX_PAYLOAD_COPY_CHARS:
        return None
    return storable_copy(json.loads(payload_json))
