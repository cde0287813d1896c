"""The Stripe emulator's API, driven by the unmodified stripe library through the in-process client."""

from __future__ import annotations

import asyncio
import json

import pytest
import stripe
import stripe.params as P
import stripe.params.checkout as CP

from django_skillswap_payments.testing.emulator import DEFAULT_PUBLIC_URL, StripeEmulator, objects
from django_skillswap_payments.testing.emulator.api import ROUTES, handle_api_request
from django_skillswap_payments.testing.emulator.params import annotation_kinds
from django_skillswap_payments.testing.webhooks import DEFAULT_API_VERSION
from tests.support.stripe_objects import line_items

API_KEY = "sk_test_emulator"
NOW = 1_800_000_000


def session_params(**overrides):
    params = {
        "mode": "payment",
        "line_items": line_items(),
        "client_reference_id": "payment-1",
        "metadata": {"type": "premium", "payment_id": "payment-1"},
        "payment_intent_data": {"metadata": {"type": "premium", "payment_id": "payment-1"}},
        "success_url": "https://shop.example.com/done?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example.com/cancel",
    }
    params.update(overrides)
    return params


class FakeClock:
    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def emulator():
    return StripeEmulator(seed=7, clock=FakeClock(), webhook_delivery="sync")


@pytest.fixture
def client(emulator):
    return stripe.StripeClient(
        API_KEY,
        http_client=emulator.http_client(),
        stripe_version=DEFAULT_API_VERSION,
        max_network_retries=0,
    )


def raw(emulator, method, path, *, query="", body=b"", key=API_KEY, headers=None):
    """Call the emulator below the stripe library, to see exact statuses and bodies."""
    all_headers = {"Authorization": f"Bearer {key}"} if key else {}
    all_headers.update(headers or {})
    return handle_api_request(
        emulator,
        method,
        path,
        query=query,
        body=body,
        headers=all_headers,
        base_url=DEFAULT_PUBLIC_URL,
    )


def paid_session(emulator, client, **overrides):
    session = client.v1.checkout.sessions.create(session_params(**overrides))
    assert emulator.submit_payment(session.id, "4242 4242 4242 4242").succeeded
    return client.v1.checkout.sessions.retrieve(session.id)


# --------------------------------------------------------------------------- customers


def test_customer_create_and_retrieve(client):
    created = client.v1.customers.create(
        {"email": "ada@example.com", "name": "Ada", "metadata": {"profile_id": "p1"}}
    )

    assert isinstance(created, stripe.Customer)
    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.livemode is False
    assert created.created == NOW
    assert created.email == "ada@example.com"
    assert created.metadata.to_dict() == {"profile_id": "p1"}

    fetched = client.v1.customers.retrieve(created.id)
    assert fetched.to_dict() == created.to_dict()


def test_unknown_customer_is_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.customers.retrieve("cus_missing")

    error = excinfo.value
    assert error.http_status == 404
    assert error.code == "resource_missing"
    assert error.param == "id"
    assert error.user_message == "No such customer: 'cus_missing'"


# --------------------------------------------------------------------------- checkout sessions


def test_checkout_session_create_has_stripe_shape(client):
    session = client.v1.checkout.sessions.create(session_params())

    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.livemode is False
    assert session.created == NOW
    assert session.expires_at == NOW + 24 * 3600
    assert (session.mode, session.status, session.payment_status) == ("payment", "open", "unpaid")
    assert (session.amount_subtotal, session.amount_total, session.currency) == (999, 999, "usd")
    assert session.payment_intent is None
    assert session.client_reference_id == "payment-1"
    assert session.customer is None
    assert session.metadata.to_dict() == {"type": "premium", "payment_id": "payment-1"}
    assert session.success_url == "https://shop.example.com/done?session_id={CHECKOUT_SESSION_ID}"
    assert session.cancel_url == "https://shop.example.com/cancel"
    assert session.url == f"{DEFAULT_PUBLIC_URL}/c/pay/{session.id}"


def test_checkout_session_with_customer_and_several_items(client):
    customer = client.v1.customers.create({"email": "ada@example.com"})
    items = [
        {
            "price_data": {"currency": "eur", "unit_amount": 250, "product_data": {"name": "Tip"}},
            "quantity": 3,
        },
        {
            "price_data": {
                "currency": "eur",
                "unit_amount_decimal": "100.5",
                "product_data": {"name": "Fee"},
            },
            "quantity": 1,
        },
    ]
    session = client.v1.checkout.sessions.create(
        session_params(customer=customer.id, line_items=items)
    )

    assert session.customer == customer.id
    assert session.currency == "eur"
    assert session.amount_total == 3 * 250 + 101  # fractional minor units round half up

    line_items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.description, i.quantity, i.amount_total) for i in line_items.data] == [
        ("Tip", 3, 750),
        ("Fee", 1, 101),
    ]
    assert line_items.data[0].price.unit_amount == 250
    assert line_items.data[0].object == "item"


def test_checkout_session_retrieve_unknown_is_404(client):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert excinfo.value.http_status == 404
    assert excinfo.value.user_message == "No such checkout.session: 'cs_test_missing'"


def test_checkout_session_list_filters_and_paginates(emulator, client):
    first = client.v1.checkout.sessions.create(session_params())
    emulator.advance_time(1)
    second = client.v1.checkout.sessions.create(session_params())
    emulator.advance_time(1)
    third = client.v1.checkout.sessions.create(session_params())
    emulator.submit_payment(second.id, "4242424242424242")

    page = client.v1.checkout.sessions.list({"limit": 2})
    assert [s.id for s in page.data] == [third.id, second.id]
    assert page.has_more is True
    assert page.url == "/v1/checkout/sessions"

    rest = client.v1.checkout.sessions.list({"limit": 2, "starting_after": second.id})
    assert [s.id for s in rest.data] == [first.id]
    assert rest.has_more is False

    before = client.v1.checkout.sessions.list({"ending_before": first.id, "limit": 1})
    assert [s.id for s in before.data] == [second.id]

    paid = client.v1.checkout.sessions.list({"status": "complete"})
    assert [s.id for s in paid.data] == [second.id]
    intent_id = emulator.get(second.id)["payment_intent"]
    by_intent = client.v1.checkout.sessions.list({"payment_intent": intent_id})
    assert [s.id for s in by_intent.data] == [second.id]
    created = client.v1.checkout.sessions.list({"created": {"gte": NOW + 1}})
    assert [s.id for s in created.data] == [third.id, second.id]


def test_list_iterates_with_auto_paging(client):
    ids = {client.v1.checkout.sessions.create(session_params()).id for _ in range(5)}
    seen = {s.id for s in client.v1.checkout.sessions.list({"limit": 2}).auto_paging_iter()}
    assert seen == ids


def test_checkout_session_expire(emulator, client):
    session = client.v1.checkout.sessions.create(session_params())

    expired = client.v1.checkout.sessions.expire(session.id)

    assert (expired.status, expired.url) == ("expired", None)
    assert [e["type"] for e in emulator.events()] == ["checkout.session.expired"]
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.checkout.sessions.expire(session.id)
    assert excinfo.value.http_status == 400
    assert 'has a status of "expired"' in excinfo.value.user_message


def test_session_expires_when_the_clock_passes_expires_at(emulator, client):
    session = client.v1.checkout.sessions.create(session_params(expires_at=NOW + 3600))
    emulator.submit_payment(session.id, "4000000000000002")  # creates the PaymentIntent

    emulator.advance_time(3599)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
    emulator.advance_time(1)

    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    intent = client.v1.payment_intents.retrieve(emulator.get(session.id)["payment_intent"])
    assert (intent.status, intent.cancellation_reason) == ("canceled", "abandoned")
    assert [e["type"] for e in emulator.events()][-2:] == [
        "payment_intent.canceled",
        "checkout.session.expired",
    ]
    assert emulator.submit_payment(session.id, "4242424242424242").status == "closed"


@pytest.mark.parametrize(
    ("overrides", "message", "param"),
    [
        ({"expires_at": NOW + 60}, "at least 30 minutes", "expires_at"),
        ({"expires_at": NOW + 25 * 3600}, "less than 24 hours", "expires_at"),
        ({"success_url": "not-a-url"}, "Not a valid URL", "success_url"),
        ({"customer": "cus_missing"}, "No such customer: 'cus_missing'", "customer"),
        ({"metadata": {"note": "x" * 501}}, "up to 500 characters", "metadata[note]"),
        ({"line_items": []}, "Missing required param: line_items.", "line_items"),
        (
            {"line_items": [{"price": "price_123", "quantity": 1}]},
            "No such price: 'price_123'",
            "line_items[0][price]",
        ),
        (
            {"line_items": line_items(10, "x")},
            "must add up to at least $0.50 usd",
            "line_items",
        ),
        (
            {
                "line_items": [
                    {
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": 999,
                            "product_data": {"name": "x"},
                        }
                    }
                ]
            },
            "Missing required param: line_items[0][quantity].",
            "line_items[0][quantity]",
        ),
        ({"mode": "subscription"}, "does not simulate `mode=subscription`", "mode"),
        ({"discounts": [{"coupon": "half"}]}, "does not simulate `discounts`", "discounts"),
    ],
)
def test_checkout_session_business_rules(client, overrides, message, param):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.checkout.sessions.create(session_params(**overrides))
    assert excinfo.value.http_status == 400
    assert message in excinfo.value.user_message
    assert excinfo.value.param == param


# --------------------------------------------------------------------------- payment flow and objects


def test_successful_payment_creates_intent_and_charge(emulator, client):
    session = paid_session(emulator, client)

    assert (session.status, session.payment_status, session.url) == ("complete", "paid", None)
    intent = client.v1.payment_intents.retrieve(session.payment_intent)
    assert isinstance(intent, stripe.PaymentIntent)
    assert intent.id.startswith("pi_")
    assert (intent.status, intent.amount, intent.amount_received, intent.currency) == (
        "succeeded",
        999,
        999,
        "usd",
    )
    assert intent.metadata.to_dict() == {"type": "premium", "payment_id": "payment-1"}
    assert intent.latest_charge.startswith("ch_")
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.paid, charge.amount, charge.payment_intent) == (
        "succeeded",
        True,
        999,
        intent.id,
    )
    assert charge.payment_method_details.card.last4 == "4242"
    assert [e["type"] for e in emulator.events()] == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]


def test_decline_then_retry_on_the_same_session(emulator, client):
    session = client.v1.checkout.sessions.create(session_params())

    declined = emulator.submit_payment(session.id, "4000 0000 0000 0002")
    assert (declined.status, declined.error_code, declined.decline_code) == (
        "declined",
        "card_declined",
        "generic_decline",
    )
    intent = client.v1.payment_intents.retrieve(declined.payment_intent)
    assert intent.status == "requires_payment_method"
    assert intent.last_payment_error.message == "Your card was declined."
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"

    assert emulator.submit_payment(session.id, "4242 4242 4242 4242").succeeded
    intent = client.v1.payment_intents.retrieve(declined.payment_intent)
    assert (intent.status, intent.last_payment_error) == ("succeeded", None)
    types = [e["type"] for e in emulator.events()]
    assert types == [
        "payment_intent.created",
        "charge.failed",
        "payment_intent.payment_failed",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    failed_event = emulator.events("payment_intent.payment_failed")[0]
    assert failed_event["data"]["object"]["last_payment_error"]["code"] == "card_declined"


@pytest.mark.parametrize(
    ("approve", "final_status"), [(True, "succeeded"), (False, "requires_payment_method")]
)
def test_authentication_card(emulator, client, approve, final_status):
    session = client.v1.checkout.sessions.create(session_params())

    pending = emulator.submit_payment(session.id, "4000 0025 0000 3155")
    assert pending.status == "requires_action"
    assert pending.redirect_url.endswith(f"/c/pay/{session.id}/authenticate")
    assert client.v1.payment_intents.retrieve(pending.payment_intent).status == "requires_action"

    outcome = emulator.authenticate(session.id, approve=approve)

    intent = client.v1.payment_intents.retrieve(pending.payment_intent)
    assert intent.status == final_status
    if approve:
        assert outcome.succeeded
        assert outcome.redirect_url == f"https://shop.example.com/done?session_id={session.id}"
    else:
        assert outcome.error_code == "payment_intent_authentication_failure"
        assert intent.last_payment_error.code == "payment_intent_authentication_failure"
        assert emulator.events()[-1]["type"] == "payment_intent.payment_failed"


def test_card_form_errors_charge_nothing(emulator, client):
    session = client.v1.checkout.sessions.create(session_params())

    assert (
        emulator.submit_payment(session.id, "4242 4242 4242 4241").error_code == "incorrect_number"
    )
    assert (
        emulator.submit_payment(session.id, "4242424242424242", expiry="01 / 20").field
        == "cardExpiry"
    )
    assert emulator.submit_payment(session.id, "4242424242424242", cvc="1").field == "cardCvc"
    assert emulator.events() == []
    assert client.v1.checkout.sessions.retrieve(session.id).payment_intent is None


def test_customer_creation_always_creates_a_customer_on_payment(emulator, client):
    session = paid_session(
        emulator, client, customer_creation="always", customer_email="ada@example.com"
    )

    customer = client.v1.customers.retrieve(session.customer)
    assert customer.email == "ada@example.com"
    assert session.customer_details.email == "ada@example.com"


@pytest.mark.parametrize(
    "object_name", ["checkout.session", "payment_intent", "charge", "refund", "customer", "event"]
)
def test_objects_carry_every_field_stripe_python_declares(emulator, client, object_name):
    customer = client.v1.customers.create({"email": "ada@example.com"})
    session = paid_session(emulator, client, customer=customer.id)
    client.v1.refunds.create({"payment_intent": session.payment_intent, "amount": 100})

    stored = emulator.all(object_name)
    assert stored
    expected = set(objects.declared_fields(object_name))
    for obj in stored:
        assert expected <= set(obj), f"{object_name} lacks {sorted(expected - set(obj))}"
        assert obj["object"] == object_name
        assert obj.get("livemode") in (False, None)


def test_retrieve_with_expand(emulator, client):
    session = paid_session(emulator, client)

    expanded = client.v1.checkout.sessions.retrieve(
        session.id, {"expand": ["payment_intent.latest_charge", "line_items"]}
    )

    assert isinstance(expanded.payment_intent, stripe.PaymentIntent)
    assert isinstance(expanded.payment_intent.latest_charge, stripe.Charge)
    assert expanded.line_items.data[0].description == "SkillSwap Premium"
    listed = client.v1.checkout.sessions.list({"expand": ["data.payment_intent"]})
    assert listed.data[0].payment_intent.id == session.payment_intent
    with pytest.raises(stripe.InvalidRequestError, match=r"cannot be expanded \(success_url\)"):
        client.v1.checkout.sessions.retrieve(session.id, {"expand": ["success_url"]})
    with pytest.raises(stripe.InvalidRequestError, match="data.payment_intent"):
        client.v1.checkout.sessions.list({"expand": ["payment_intent"]})


# --------------------------------------------------------------------------- refunds


def test_full_refund(emulator, client):
    session = paid_session(emulator, client)

    refund = client.v1.refunds.create(
        {"payment_intent": session.payment_intent, "reason": "requested_by_customer"}
    )

    assert isinstance(refund, stripe.Refund)
    assert refund.id.startswith("re_")
    assert (refund.amount, refund.currency, refund.status, refund.reason) == (
        999,
        "usd",
        "succeeded",
        "requested_by_customer",
    )
    assert refund.payment_intent == session.payment_intent
    assert client.v1.refunds.retrieve(refund.id).id == refund.id
    charge = client.v1.charges.retrieve(refund.charge)
    assert (charge.amount_refunded, charge.refunded) == (999, True)
    assert [e["type"] for e in emulator.events()][-2:] == ["refund.created", "charge.refunded"]
    refunded_event = emulator.events("charge.refunded")[0]
    assert refunded_event["data"]["previous_attributes"] == {
        "amount_refunded": 0,
        "refunded": False,
    }

    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.refunds.create({"payment_intent": session.payment_intent})
    assert excinfo.value.code == "charge_already_refunded"


def test_partial_refunds_up_to_the_charge(emulator, client):
    session = paid_session(emulator, client)
    charge_id = client.v1.payment_intents.retrieve(session.payment_intent).latest_charge

    client.v1.refunds.create({"charge": charge_id, "amount": 400})
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.refunds.create({"charge": charge_id, "amount": 600})
    assert excinfo.value.code == "amount_too_large"
    assert "($6.00)" in excinfo.value.user_message and "($5.99)" in excinfo.value.user_message
    client.v1.refunds.create({"charge": charge_id})

    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded) == (999, True)


def test_refund_needs_a_successful_payment(emulator, client):
    session = client.v1.checkout.sessions.create(session_params())
    declined = emulator.submit_payment(session.id, "4000000000000002")

    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.refunds.create({"payment_intent": declined.payment_intent})
    assert excinfo.value.code == "charge_not_refundable"
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.refunds.create({"payment_intent": "pi_missing"})
    assert (excinfo.value.http_status, excinfo.value.code) == (400, "resource_missing")


# --------------------------------------------------------------------------- events


def test_events_retrieve_and_list(emulator, client):
    session = paid_session(emulator, client)

    events = client.v1.events.list()
    assert [e.type for e in events.data] == [
        "checkout.session.completed",
        "payment_intent.succeeded",
        "charge.succeeded",
        "payment_intent.created",
    ]
    completed = client.v1.events.retrieve(events.data[0].id)
    assert isinstance(completed, stripe.Event)
    assert completed.id.startswith("evt_")
    assert completed.api_version == DEFAULT_API_VERSION
    assert completed.data.object.id == session.id
    assert completed.livemode is False
    assert [e.type for e in client.v1.events.list({"type": "payment_intent.*"}).data] == [
        "payment_intent.succeeded",
        "payment_intent.created",
    ]
    assert [e.type for e in client.v1.events.list({"types": ["charge.succeeded"]}).data] == [
        "charge.succeeded"
    ]


def test_event_data_is_a_snapshot(emulator, client):
    session = paid_session(emulator, client)

    created = emulator.events("payment_intent.created")[0]
    assert created["data"]["object"]["status"] == "requires_payment_method"
    assert client.v1.payment_intents.retrieve(session.payment_intent).status == "succeeded"


def test_events_caused_by_an_api_request_name_it(emulator, client):
    paid = paid_session(emulator, client)
    client.v1.refunds.create(
        {"payment_intent": paid.payment_intent}, {"idempotency_key": "refund-1"}
    )

    event = emulator.events("refund.created")[0]
    assert event["request"]["idempotency_key"] == "refund-1"
    assert event["request"]["id"].startswith("req_")
    assert emulator.events("charge.succeeded")[0]["request"] == {
        "id": None,
        "idempotency_key": None,
    }


# --------------------------------------------------------------------------- idempotency


def test_same_idempotency_key_and_params_returns_the_same_object(emulator, client):
    first = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "checkout-1"})
    second = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "checkout-1"})

    assert first.id == second.id
    assert len(emulator.all("checkout.session")) == 1
    replay = emulator.requests_to("POST", "/v1/checkout/sessions")[-1]
    assert replay.replayed is True
    assert second.last_response.headers["Idempotent-Replayed"] == "true"


def test_same_idempotency_key_with_other_params_is_an_idempotency_error(emulator, client):
    client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "checkout-1"})

    with pytest.raises(stripe.IdempotencyError) as excinfo:
        client.v1.checkout.sessions.create(
            session_params(client_reference_id="other"), {"idempotency_key": "checkout-1"}
        )

    assert excinfo.value.http_status == 400
    assert excinfo.value.json_body["error"]["type"] == "idempotency_error"
    assert "same parameters" in excinfo.value.user_message
    with pytest.raises(stripe.IdempotencyError, match="same endpoint"):
        client.v1.customers.create({}, {"idempotency_key": "checkout-1"})
    assert len(emulator.all("checkout.session")) == 1


def test_idempotent_errors_replay_but_validation_failures_do_not_stick(emulator, client):
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(
            {"line_items": [{"name": "x"}]}, {"idempotency_key": "k"}
        )
    # The invalid request never executed, so the key is still free.
    created = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "k"})
    assert created.id.startswith("cs_test_")

    with pytest.raises(stripe.InvalidRequestError) as first:
        client.v1.checkout.sessions.create(
            session_params(customer="cus_missing"), {"idempotency_key": "k2"}
        )
    client.v1.customers.create({})  # state changes in between do not alter the stored answer
    with pytest.raises(stripe.InvalidRequestError) as second:
        client.v1.checkout.sessions.create(
            session_params(customer="cus_missing"), {"idempotency_key": "k2"}
        )
    assert first.value.json_body == second.value.json_body


# --------------------------------------------------------------------------- validation and errors


def test_unknown_parameter_is_rejected_with_stripes_message(client):
    params = session_params()
    params["line_items"][0]["name"] = "SkillSwap Premium"

    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.checkout.sessions.create(params)

    assert excinfo.value.http_status == 400
    assert excinfo.value.user_message == "Received unknown parameter: line_items[0][name]"
    assert excinfo.value.param == "line_items[0][name]"
    assert excinfo.value.code == "parameter_unknown"


@pytest.mark.parametrize(
    ("mutate", "message", "code"),
    [
        (
            lambda p: p["line_items"][0]["price_data"].pop("currency"),
            "Missing required param: line_items[0][price_data][currency].",
            "parameter_missing",
        ),
        (
            lambda p: p.update(expires_at="soon"),
            "Invalid integer: soon",
            "parameter_invalid_integer",
        ),
        (lambda p: p.update(allow_promotion_codes="maybe"), "Invalid boolean: maybe", None),
        (
            lambda p: p.update(
                payment_method_options={"sofort": {"setup_future_usage": "off_session"}}
            ),
            "Invalid payment_method_options[sofort][setup_future_usage]: must be one of none",
            None,
        ),
        (lambda p: p.update(payment_intent_data="premium"), "Invalid object", None),
        (
            lambda p: p.update(customer=""),
            "You passed an empty string for 'customer'.",
            "parameter_invalid_empty",
        ),
        (lambda p: p.update(metadata={"a": {"b": "c"}}), "Invalid string", None),
    ],
)
def test_parameters_are_validated_against_stripe_pythons_types(client, mutate, message, code):
    params = session_params()
    mutate(params)

    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.checkout.sessions.create(params)

    assert excinfo.value.http_status == 400
    assert excinfo.value.user_message.startswith(message)
    assert excinfo.value.code == code


def test_request_options_are_not_wire_parameters(emulator):
    response = raw(emulator, "POST", "/v1/customers", body=b"idempotency_key=abc")
    assert response.status == 400
    assert response.json()["error"]["message"] == "Received unknown parameter: idempotency_key"


def test_get_parameters_are_validated_too(emulator):
    response = raw(emulator, "GET", "/v1/events", query="limit=3&colour=blue")
    assert response.status == 400
    assert response.json()["error"]["param"] == "colour"
    response = raw(emulator, "GET", "/v1/events", query="limit=500")
    assert (response.status, response.json()["error"]["param"]) == (400, "limit")


def test_error_body_shape(emulator):
    response = raw(emulator, "POST", "/v1/checkout/sessions", body=b"line_items[0][name]=x")

    assert response.status == 400
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Request-Id"].startswith("req_")
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "parameter_unknown"
    assert error["param"] == "line_items[0][name]"
    assert error["message"] == "Received unknown parameter: line_items[0][name]"
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/parameter-unknown"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/nope"), ("POST", "/v1/events"), ("DELETE", "/v1/customers/cus_1")],
)
def test_unknown_endpoint_is_404(emulator, method, path):
    response = raw(emulator, method, path)

    assert response.status == 404
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"Unrecognized request URL ({method}: {path}).")


def test_unknown_endpoint_through_the_stripe_library(client):
    with pytest.raises(stripe.InvalidRequestError) as excinfo:
        client.v1.payment_links.list()
    assert excinfo.value.http_status == 404


def test_authentication(emulator):
    missing = raw(emulator, "GET", "/v1/events", key=None)
    assert missing.status == 401
    assert "You did not provide an API key" in missing.json()["error"]["message"]

    live = raw(emulator, "GET", "/v1/events", key="sk_live_abcdefgh1234")
    assert live.status == 401
    assert live.json()["error"]["message"] == "Invalid API Key provided: sk_live_********1234"

    basic = raw(
        emulator, "GET", "/v1/events", key=None, headers={"Authorization": "Basic c2tfdGVzdF94eXo6"}
    )
    assert basic.status == 200


def test_restricted_api_keys():
    emulator = StripeEmulator(api_keys=["sk_test_only"])
    assert raw(emulator, "GET", "/v1/events", key="sk_test_only").status == 200
    assert raw(emulator, "GET", "/v1/events", key="sk_test_other").status == 401
    with pytest.raises(stripe.AuthenticationError):
        emulator.stripe_client("sk_test_other").v1.events.list()


def test_every_route_schema_is_fully_understood():
    for route in ROUTES:
        kinds = annotation_kinds(route.params_class)
        unknown = {
            k
            for k in kinds
            if k.startswith("scalar:")
            and k
            not in ("scalar:str", "scalar:int", "scalar:bool", "scalar:float", "scalar:Decimal")
        }
        assert not unknown, f"{route.params_class.__name__} has unhandled annotations {unknown}"


def test_routes_use_the_stripe_python_params_types():
    names = {route.params_class for route in ROUTES}
    assert {
        CP.SessionCreateParams,
        CP.SessionListParams,
        P.RefundCreateParams,
        P.EventListParams,
    } <= names


# --------------------------------------------------------------------------- recording, failures, async


def test_requests_are_recorded_with_typed_params(emulator, client):
    client.v1.checkout.sessions.create(session_params(), {"idempotency_key": "checkout-payment-1"})

    (request,) = emulator.requests_to("POST", "/v1/checkout/sessions")
    assert request.status == 200
    assert request.idempotency_key == "checkout-payment-1"
    assert request.api_key == API_KEY
    assert request.stripe_version == DEFAULT_API_VERSION
    assert request.params["line_items"][0]["price_data"] == {
        "currency": "usd",
        "unit_amount": 999,
        "product_data": {"name": "SkillSwap Premium"},
    }
    assert request.params["payment_intent_data"] == {
        "metadata": {"type": "premium", "payment_id": "payment-1"}
    }


def test_injected_api_failure(emulator, client):
    emulator.inject_failure("POST", "/v1/checkout/sessions", status=500, message="boom")

    with pytest.raises(stripe.APIError, match="boom"):
        client.v1.checkout.sessions.create(session_params())
    assert client.v1.checkout.sessions.create(session_params()).status == "open"


def test_injected_network_failure(emulator, client):
    emulator.inject_failure("GET", "/v1/payment_intents/", network=True, times=2)

    for _ in range(2):
        with pytest.raises(stripe.APIConnectionError):
            client.v1.payment_intents.retrieve("pi_any")
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve("pi_any")


def test_async_client_calls(client):
    async def scenario():
        customer = await client.v1.customers.create_async({"email": "async@example.com"})
        return await client.v1.customers.retrieve_async(customer.id)

    assert asyncio.run(scenario()).email == "async@example.com"


def test_seeded_emulators_generate_the_same_ids():
    def ids(seed):
        client = StripeEmulator(seed=seed, clock=FakeClock()).stripe_client()
        return client.v1.customers.create({}).id, client.v1.checkout.sessions.create(
            session_params()
        ).id

    assert ids(3) == ids(3)
    assert ids(3) != ids(4)


def test_in_process_webhooks_are_signed(emulator, client):
    received = []
    emulator.add_webhook_endpoint(
        lambda payload, headers: received.append((payload, headers)) or 200, "whsec_abc"
    )

    paid_session(emulator, client)

    types = []
    for payload, headers in received:
        event = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], "whsec_abc")
        types.append(event.type)
    assert types == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
        "checkout.session.completed",
    ]
    assert json.loads(received[-1][0])["pending_webhooks"] == 1


class CountingObjects(dict):
    """The emulator's object table, counting how many stored objects a call looks at."""

    reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.reads += 1
        return super().get(key, default)


def test_a_call_does_not_look_at_every_stored_session(emulator, client):
    sessions = [client.v1.checkout.sessions.create(session_params()) for _ in range(200)]
    emulator._objects = CountingObjects(emulator._objects)
    client.v1.checkout.sessions.retrieve(sessions[0].id)
    client.v1.checkout.sessions.create(session_params())
    assert emulator._objects.reads < 20


def test_sessions_due_together_expire_in_creation_order(emulator, client):
    later = client.v1.checkout.sessions.create(session_params(expires_at=NOW + 7200))
    sooner = client.v1.checkout.sessions.create(session_params(expires_at=NOW + 3600))
    paid = client.v1.checkout.sessions.create(session_params(expires_at=NOW + 1800))
    assert emulator.submit_payment(paid.id).succeeded
    emulator.advance_time(3600)
    assert [e["data"]["object"]["id"] for e in emulator.events("checkout.session.expired")] == [sooner.id]
    emulator.advance_time(3 * 3600)
    expired = [e["data"]["object"]["id"] for e in emulator.events("checkout.session.expired")]
    assert expired == [sooner.id, later.id]
    assert emulator.get(paid.id)["status"] == "complete"


def test_sessions_loaded_from_a_state_file_still_expire(tmp_path):
    clock = FakeClock()
    first = StripeEmulator(seed=7, clock=clock, webhook_delivery="sync", state_file=tmp_path / "state.json")
    session = first.stripe_client(API_KEY).v1.checkout.sessions.create(session_params(expires_at=NOW + 3600))
    again = StripeEmulator(seed=7, clock=clock, webhook_delivery="sync", state_file=tmp_path / "state.json")
    again.advance_time(3600)
    assert again.get(session.id)["status"] == "expired"
