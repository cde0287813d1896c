"""MongoDB commands and Stripe calls of starting a checkout, counted exactly.

The budget of a premium start: three MongoDB commands (the profile, the
pending payment, the session stored on it) and one Stripe call (the Checkout
Session, which creates the customer itself), for a new user as for a
returning one. A change that adds a round trip fails here.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from django_skillswap_payments.documents import Payment, PaymentProfile
from django_skillswap_payments.repository import checkout_facts
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, TIP_URL
from tests.support.commands import assert_mongo_commands
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import intent_object, session_object
from tests.support.webhooks import post_webhook, signed

pytestmark = pytest.mark.django_db

BODY = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
SESSION_CREATE = ("POST", "/v1/checkout/sessions")


def _stripe_calls(emulator, since: int) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in emulator.requests[since:]]


def _start(client, emulator, *, commands: int, url=PREMIUM_URL, body=BODY, status=200):
    before = len(emulator.requests)
    with assert_mongo_commands(commands):
        response = client.post(url, body, format="json")
    assert response.status_code == status, response.content
    return response.json(), _stripe_calls(emulator, before)


def _pay(emulator, session_id):
    assert emulator.submit_payment(session_id).succeeded


def _profile(user) -> PaymentProfile:
    return PaymentProfile.objects.get(django_user_id=str(user.pk))


def test_premium_checkout_of_a_new_user(emulated_stripe, alice, alice_client):
    body, calls = _start(alice_client, emulated_stripe, commands=3)
    assert calls == [SESSION_CREATE]
    assert body["reused"] is False
    (request,) = emulated_stripe.requests_to(*SESSION_CREATE)
    assert request.params["customer_creation"] == "always" and "customer" not in request.params
    assert request.idempotency_key == f"skillswap-checkout-{Payment.objects.get().id}"


def test_premium_checkout_of_a_returning_user_after_an_abandoned_one(
    emulated_stripe, emulator_webhooks, alice, alice_client
):
    first, _ = _start(alice_client, emulated_stripe, commands=3)
    emulated_stripe.expire_checkout_session(first["session_id"])
    # profile, premium status and open checkout in one read; the pending payment; its session
    second, calls = _start(alice_client, emulated_stripe, commands=3)
    assert calls == [SESSION_CREATE]
    assert second["session_id"] != first["session_id"] and second["reused"] is False


def test_premium_checkout_of_a_user_with_a_customer_passes_it(emulated_stripe, alice, alice_client):
    profile = profile_of(alice)
    customer = emulated_stripe.create_customer({})
    PaymentProfile.objects(id=profile.id).update_one(set__stripe_customer_id=customer["id"])
    cache.clear()  # not remembered in this process: the upsert finds the profile
    _start(alice_client, emulated_stripe, commands=4)
    cache.clear()
    Payment.objects.delete()
    _, calls = _start(alice_client, emulated_stripe, commands=4)
    assert calls == [SESSION_CREATE]
    request = emulated_stripe.requests_to(*SESSION_CREATE)[-1]
    assert request.params["customer"] == customer["id"] and "customer_creation" not in request.params
    Payment.objects.delete()
    _, calls = _start(alice_client, emulated_stripe, commands=3)  # remembered now
    assert calls == [SESSION_CREATE]


def test_the_customer_checkout_created_is_kept_and_passed_next_time(
    emulated_stripe, emulator_webhooks, alice, alice_client, bob
):
    first, _ = _start(alice_client, emulated_stripe, commands=3)
    _pay(emulated_stripe, first["session_id"])
    session = emulated_stripe.get(first["session_id"])
    assert session["customer"].startswith("cus_")
    # kept on the payment by the completion's own write; the profile is not written
    assert Payment.objects.get(stripe_session_id=session["id"]).stripe_customer_id == session["customer"]
    assert _profile(alice).stripe_customer_id is None

    recipient = profile_of(bob)
    tip = {**BODY, "to_user_id": str(recipient.id), "amount": "5.00"}
    # sender (remembered), recipient and the sender's customer in one aggregation, the pending payment, its session
    body, calls = _start(alice_client, emulated_stripe, commands=3, url=TIP_URL, body=tip)
    assert calls == [SESSION_CREATE]
    request = emulated_stripe.requests_to(*SESSION_CREATE)[-1]
    assert request.params["customer"] == session["customer"] and "customer_creation" not in request.params
    assert len(emulated_stripe.all("customer")) == 1


def _paid_tip(emulated_stripe, client, bob) -> str:
    """A paid tip whose Checkout created the sender's customer; that customer's id."""
    tip = {**BODY, "to_user_id": str(profile_of(bob).id), "amount": "5.00"}
    started = client.post(TIP_URL, tip, format="json").json()
    _pay(emulated_stripe, started["session_id"])
    return emulated_stripe.get(started["session_id"])["customer"]


def test_a_premium_checkout_passes_the_customer_an_earlier_tip_created(
    emulated_stripe, emulator_webhooks, alice, alice_client, bob
):
    customer = _paid_tip(emulated_stripe, alice_client, bob)
    # profile, premium status, open checkout and customer in one aggregation; the payment; its session
    _, calls = _start(alice_client, emulated_stripe, commands=3)
    assert calls == [SESSION_CREATE]
    request = emulated_stripe.requests_to(*SESSION_CREATE)[-1]
    assert request.params["customer"] == customer and "customer_creation" not in request.params


@pytest.mark.parametrize("kind", ["premium", "tip"])
def test_a_sender_not_remembered_gets_the_created_customer_too(
    emulated_stripe, emulator_webhooks, alice, alice_client, bob, kind
):
    customer = _paid_tip(emulated_stripe, alice_client, bob)
    cache.clear()  # another process, which never saw this user
    if kind == "premium":
        # the upsert finds the profile; then the one aggregation as for a remembered user
        _, calls = _start(alice_client, emulated_stripe, commands=4)
    else:
        tip = {**BODY, "to_user_id": str(profile_of(bob).id), "amount": "5.00"}
        # recipient, the sender's upsert (found), the sender's customer, the pending payment, its session
        _, calls = _start(alice_client, emulated_stripe, commands=5, url=TIP_URL, body=tip)
    assert calls == [SESSION_CREATE]
    assert emulated_stripe.requests_to(*SESSION_CREATE)[-1].params["customer"] == customer
    assert len(emulated_stripe.all("customer")) == 1


def test_the_oldest_created_customer_is_the_one_passed(emulated_stripe, alice, alice_client, bob):
    profile = profile_of(alice)
    customers = [emulated_stripe.create_customer({})["id"] for _ in range(2)]
    for customer, created in zip(customers, (dt.datetime(2025, 2, 1), dt.datetime(2025, 1, 1)), strict=True):
        payment = pending_payment(profile)
        Payment.objects(id=payment.id).update_one(
            set__stripe_customer_id=customer, set__status="completed", set__created_at=created,
            unset__open_checkout_slot=True,
        )
    tip = {**BODY, "to_user_id": str(profile_of(bob).id), "amount": "5.00"}
    # not remembered: recipient, the sender's upsert (found), the customer, the pending payment, its session
    _start(alice_client, emulated_stripe, commands=5, url=TIP_URL, body=tip)
    assert emulated_stripe.requests_to(*SESSION_CREATE)[-1].params["customer"] == customers[1]
    Payment.objects(transaction_type="tip").delete()
    _start(alice_client, emulated_stripe, commands=3, url=TIP_URL, body=tip)  # remembered: one aggregation
    assert emulated_stripe.requests_to(*SESSION_CREATE)[-1].params["customer"] == customers[1]


def test_premium_checkout_of_a_premium_user_is_refused_after_one_command_and_no_stripe_call(
    emulated_stripe, emulator_webhooks, alice, alice_client
):
    first, _ = _start(alice_client, emulated_stripe, commands=3)
    _pay(emulated_stripe, first["session_id"])
    body, calls = _start(alice_client, emulated_stripe, commands=1, status=400)
    assert calls == [] and body["error"] == "User already has premium access"


def test_an_open_checkout_is_handed_out_again_after_one_read(emulated_stripe, alice, alice_client):
    first, _ = _start(alice_client, emulated_stripe, commands=3)
    second, calls = _start(alice_client, emulated_stripe, commands=1)
    assert calls == [("GET", f"/v1/checkout/sessions/{first['session_id']}")]
    assert second["reused"] is True and second["session_id"] == first["session_id"]


def test_a_remembered_profile_that_is_gone_is_created_again(emulated_stripe, alice, alice_client):
    first, _ = _start(alice_client, emulated_stripe, commands=3)
    old = _profile(alice)
    PaymentProfile.objects.delete()
    Payment.objects.delete()
    # the read finds no profile under the remembered id; the upsert creates it
    _, calls = _start(alice_client, emulated_stripe, commands=4)
    assert calls == [SESSION_CREATE]
    new = _profile(alice)
    assert new.id != old.id and Payment.objects.get().from_user_id == new.id


def test_tip_checkout_of_a_new_sender(emulated_stripe, alice, alice_client, bob):
    recipient = profile_of(bob)
    tip = {**BODY, "to_user_id": str(recipient.id), "amount": "5.00"}
    # recipient, sender's profile (upsert), the pending payment, its session
    _, calls = _start(alice_client, emulated_stripe, commands=4, url=TIP_URL, body=tip)
    assert calls == [SESSION_CREATE]
    request = emulated_stripe.requests_to(*SESSION_CREATE)[-1]
    assert request.params["customer_creation"] == "always"


@pytest.mark.parametrize("created", [False, True], ids=["customer-passed", "customer-created"])
def test_completion_keeps_a_created_customer_in_its_own_write(alice, anon_client, created):
    payment = pending_payment(profile_of(alice))
    extra = {"customer": "cus_created", "customer_creation": "always" if created else None}
    payload, signature = signed("checkout.session.completed", session_object(payment, **extra))
    # record, complete (with the customer Checkout created), finish: nothing more for a first buyer
    with assert_mongo_commands(3):
        assert post_webhook(anon_client, payload, signature).status_code == 200
    assert _profile(alice).stripe_customer_id is None
    assert Payment.objects.get().stripe_customer_id == ("cus_created" if created else None)


def test_the_careful_completion_keeps_a_created_customer_too(alice, anon_client):
    payment = pending_payment(profile_of(alice))
    extra = {"customer": "cus_created", "customer_creation": "always"}
    Payment.objects(id=payment.id).update_one(set__status="expired")  # not the one-write case
    payload, signature = signed("checkout.session.completed", session_object(payment, **extra))
    assert post_webhook(anon_client, payload, signature).status_code == 200
    stored = Payment.objects.get()
    assert (stored.status, stored.stripe_customer_id) == ("completed", "cus_created")


@pytest.mark.parametrize(
    ("customer", "kept"),
    [
        ("cus_intent", "cus_intent"),
        ({"id": "cus_expanded", "object": "customer"}, "cus_expanded"),
        ("", None),
        (None, None),
        (7, None),
        (["cus_a"], None),
        ({"object": "customer"}, None),
        ({"id": {"id": {"id": "cus_deep"}}}, "cus_deep"),
    ],
    ids=["id", "expanded", "empty", "null", "number", "list", "expanded-without-id", "nested"],
)
def test_an_intent_completion_keeps_only_a_customer_id_it_can_read(alice, anon_client, customer, kept):
    payment = pending_payment(profile_of(alice))
    payload, signature = signed("payment_intent.succeeded", intent_object(payment, customer=customer))
    assert post_webhook(anon_client, payload, signature).status_code == 200
    stored = Payment.objects.get()
    assert (stored.status, stored.stripe_customer_id) == ("completed", kept)


def test_a_profile_keeps_its_first_customer(alice, anon_client):
    profile = profile_of(alice)
    PaymentProfile.objects(id=profile.id).update_one(set__stripe_customer_id="cus_first")
    payment = pending_payment(profile)
    session = session_object(payment, customer="cus_second", customer_creation="always")
    assert post_webhook(anon_client, *signed("checkout.session.completed", session)).status_code == 200
    assert _profile(alice).stripe_customer_id == "cus_first"
    assert Payment.objects.get().status == "completed"
    assert checkout_facts.premium_start_facts(profile.id, str(alice.pk)).profile.stripe_customer_id == "cus_first"


def test_tip_checkout_of_a_returning_sender(emulated_stripe, alice, alice_client, bob):
    recipient = profile_of(bob)
    tip = {**BODY, "to_user_id": str(recipient.id), "amount": "5.00"}
    _start(alice_client, emulated_stripe, commands=4, url=TIP_URL, body=tip)
    _, calls = _start(alice_client, emulated_stripe, commands=3, url=TIP_URL, body=tip)
    assert calls == [SESSION_CREATE]
    sent = Payment.objects.order_by("created_at")
    assert [(p.from_user_id, p.to_user_id) for p in sent] == [(_profile(alice).id, recipient.id)] * 2


@pytest.mark.parametrize("to", ["unknown", "self", "malformed"])
def test_a_remembered_sender_gets_the_same_tip_errors(emulated_stripe, alice, alice_client, bob, to):
    tip = {**BODY, "to_user_id": str(profile_of(bob).id), "amount": "5.00"}
    _start(alice_client, emulated_stripe, commands=4, url=TIP_URL, body=tip)
    target = {"unknown": "65a1b2c3d4e5f6a7b8c9d0e1", "self": str(_profile(alice).id), "malformed": "bob"}[to]
    expected = {
        "unknown": (404, "Recipient user not found"),
        "self": (400, "You cannot tip yourself"),
        "malformed": (400, "Invalid user ID format"),
    }[to]
    before = Payment.objects.count()
    response = alice_client.post(TIP_URL, {**tip, "to_user_id": target}, format="json")
    assert (response.status_code, response.json()["error"]) == expected
    assert Payment.objects.count() == before
    assert len(emulated_stripe.requests_to(*SESSION_CREATE)) == 1


def test_a_tip_from_a_sender_whose_remembered_profile_is_gone(emulated_stripe, alice, alice_client, bob):
    recipient = profile_of(bob)
    tip = {**BODY, "to_user_id": str(recipient.id), "amount": "5.00"}
    _start(alice_client, emulated_stripe, commands=4, url=TIP_URL, body=tip)
    PaymentProfile.objects(django_user_id=str(alice.pk)).delete()
    # the read misses the sender; recipient and the sender's upsert as for a new sender
    _start(alice_client, emulated_stripe, commands=5, url=TIP_URL, body=tip)
    assert Payment.objects.order_by("-created_at").first().from_user_id == _profile(alice).id
