"""A Stripe customer that no longer exists never blocks a checkout.

A customer deleted in the Dashboard, or one made with test keys when the site
now runs on live keys, is stored on a profile or named by an earlier payment.
Passing it to Checkout makes Stripe refuse the session (``resource_missing``
on ``customer``): before, that user could never pay again. Now the session is
opened again without it (one more Stripe call, under its own idempotency
key), Checkout creates a new customer, and the missing one is never passed
again.
"""

from __future__ import annotations

import pytest
from bson import ObjectId
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import override_settings

from django_skillswap_payments.documents import Payment, PaymentProfile
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, TIP_URL
from tests.support.database import pending_payment, profile_of

pytestmark = pytest.mark.django_db

BODY = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
SESSION_CREATE = ("POST", "/v1/checkout/sessions")
GONE = "cus_deletedInTheDashboard"


def _profile(user) -> PaymentProfile:
    return PaymentProfile.objects.get(django_user_id=str(user.pk))


def _tip_body(recipient) -> dict:
    return {**BODY, "to_user_id": str(recipient.id), "amount": "5.00"}


def _session_requests(emulator, since: int = 0):
    return emulator.requests_to(*SESSION_CREATE)[since:]


def _payment_naming(profile, customer: str) -> Payment:
    """A completed earlier payment of ``profile`` that Checkout made with ``customer``."""
    payment = pending_payment(profile)
    Payment.objects(id=payment.id).update_one(
        set__stripe_customer_id=customer, set__status="completed", unset__open_checkout_slot=True
    )
    return payment


def _assert_replaced(emulator, since: int, *, payment_id, missing: str):
    refused, sent = _session_requests(emulator, since)
    assert refused.params["customer"] == missing and refused.status == 400
    assert "customer" not in sent.params and sent.params["customer_creation"] == "always"
    assert sent.status == 200
    assert refused.idempotency_key == f"skillswap-checkout-{payment_id}"
    assert sent.idempotency_key == f"skillswap-checkout-{payment_id}-without-{missing}"


@pytest.mark.parametrize("remembered", [True, False], ids=["remembered", "another-process"])
def test_a_premium_checkout_goes_on_without_a_customer_stripe_does_not_have(
    emulated_stripe, emulator_webhooks, alice, alice_client, remembered
):
    PaymentProfile.objects(id=profile_of(alice).id).update_one(set__stripe_customer_id=GONE)
    if not remembered:
        cache.clear()
    response = alice_client.post(PREMIUM_URL, BODY, format="json")
    assert response.status_code == 200, response.content
    payment = Payment.objects.get(stripe_session_id=response.json()["session_id"])
    _assert_replaced(emulated_stripe, 0, payment_id=payment.id, missing=GONE)
    profile = _profile(alice)
    assert profile.stripe_customer_id is None and profile.missing_stripe_customer_ids == [GONE]
    assert payment.stripe_customer_id is None

    # The buyer pays: the new customer Checkout created is kept, and passed from then on.
    assert emulated_stripe.submit_payment(response.json()["session_id"]).succeeded
    created = emulated_stripe.get(response.json()["session_id"])["customer"]
    assert created.startswith("cus_") and created != GONE
    before = len(_session_requests(emulated_stripe))
    tip = alice_client.post(TIP_URL, _tip_body(PaymentProfile(django_user_id="bob").save()), format="json")
    assert tip.status_code == 200, tip.content
    (request,) = _session_requests(emulated_stripe, before)
    assert request.params["customer"] == created


@pytest.mark.parametrize("remembered", [True, False], ids=["remembered", "another-process"])
def test_a_missing_customer_named_by_an_earlier_payment_is_skipped_from_then_on(
    emulated_stripe, alice, alice_client, bob, remembered
):
    profile, recipient = profile_of(alice), profile_of(bob)
    _payment_naming(profile, GONE)
    if not remembered:
        cache.clear()
    first = alice_client.post(TIP_URL, _tip_body(recipient), format="json")
    assert first.status_code == 200, first.content
    tip = Payment.objects.get(stripe_session_id=first.json()["session_id"])
    _assert_replaced(emulated_stripe, 0, payment_id=tip.id, missing=GONE)
    assert _profile(alice).missing_stripe_customer_ids == [GONE]
    # the earlier payment keeps the customer it was paid with
    assert Payment.objects(stripe_customer_id=GONE).count() == 1

    # Never passed again, from any process: one Stripe call, which lets Checkout create a customer.
    for forget_memory in (False, True):
        if forget_memory:
            cache.clear()
        before = len(_session_requests(emulated_stripe))
        again = alice_client.post(TIP_URL, _tip_body(recipient), format="json")
        assert again.status_code == 200, again.content
        (request,) = _session_requests(emulated_stripe, before)
        assert "customer" not in request.params and request.params["customer_creation"] == "always"


def test_a_customer_that_exists_is_passed_even_after_another_went_missing(emulated_stripe, alice, alice_client, bob):
    profile = profile_of(alice)
    live = emulated_stripe.create_customer({})["id"]
    _payment_naming(profile, GONE)
    assert alice_client.post(TIP_URL, _tip_body(profile_of(bob)), format="json").status_code == 200
    later = _payment_naming(profile, live)  # newer than the missing one
    assert later.created_at > Payment.objects.get(stripe_customer_id=GONE).created_at
    before = len(_session_requests(emulated_stripe))
    assert alice_client.post(TIP_URL, _tip_body(profile_of(bob)), format="json").status_code == 200
    (request,) = _session_requests(emulated_stripe, before)
    assert request.params["customer"] == live


def test_the_recipients_missing_customers_are_not_the_senders(emulated_stripe, alice, alice_client, bob):
    sender, recipient = profile_of(alice), profile_of(bob)
    customer = emulated_stripe.create_customer({})["id"]
    _payment_naming(sender, customer)
    PaymentProfile.objects(id=recipient.id).update_one(set__missing_stripe_customer_ids=[customer])
    assert alice_client.post(TIP_URL, _tip_body(recipient), format="json").status_code == 200
    (request,) = _session_requests(emulated_stripe)
    assert request.params["customer"] == customer


def test_other_refusals_are_not_retried(emulated_stripe, alice, alice_client):
    PaymentProfile.objects(id=profile_of(alice).id).update_one(set__stripe_customer_id=GONE)
    for code in ("parameter_invalid_empty", None):
        emulated_stripe.inject_failure("POST", "/v1/checkout/sessions", status=400,
                                       error_type="invalid_request_error", message="Refused", code=code)
        response = alice_client.post(PREMIUM_URL, BODY, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["error"] == "Stripe error: Refused"
    assert len(_session_requests(emulated_stripe)) == 2
    assert _profile(alice).stripe_customer_id == GONE and not _profile(alice).missing_stripe_customer_ids
    assert Payment.objects.count() == 0


def test_a_second_refusal_is_the_answer(emulated_stripe, alice, alice_client):
    """Stripe refuses the session opened without the customer too: that refusal is the answer,
    no third call is made, and no payment is left behind."""
    PaymentProfile.objects(id=profile_of(alice).id).update_one(set__stripe_customer_id=GONE)
    with pytest.MonkeyPatch.context() as patch:
        from django_skillswap_payments import gateway

        real = gateway.create_checkout_session

        def refuse_the_replacement(payment, **kwargs):
            if kwargs.get("replacing_missing_customer"):
                emulated_stripe.inject_failure("POST", "/v1/checkout/sessions", status=400,
                                               error_type="invalid_request_error", message="Refused again")
            return real(payment, **kwargs)

        patch.setattr(gateway, "create_checkout_session", refuse_the_replacement)
        response = alice_client.post(PREMIUM_URL, BODY, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == "Stripe error: Refused again"
    assert len(_session_requests(emulated_stripe)) == 2
    assert Payment.objects.count() == 0


class SiteProfile:
    """A profile a site keeps itself (``PROFILE_RESOLVER``), whose customer is gone."""

    def __init__(self, user):
        self.id = ObjectId(f"{int(user.pk):024x}")
        self.stripe_customer_id = GONE


def site_profile(user, create=True):
    return SiteProfile(user) if getattr(user, "is_authenticated", False) else None


def test_a_site_profile_is_left_to_the_site(emulated_stripe, alice, alice_client, bob, caplog):
    recipient = profile_of(bob)
    # Inside the emulator's own override, so that leaving restores exactly what it found.
    site_hooks = {**django_settings.SKILLSWAP_PAYMENTS, "PROFILE_RESOLVER": "tests.test_missing_customers.site_profile"}
    with override_settings(SKILLSWAP_PAYMENTS=site_hooks):
        response = alice_client.post(TIP_URL, _tip_body(recipient), format="json")
    assert response.status_code == 200, response.content
    refused, sent = _session_requests(emulated_stripe)
    assert refused.params["customer"] == GONE
    # Checkout collects the details as Stripe does by default; nothing of the site's is written
    assert "customer" not in sent.params and "customer_creation" not in sent.params
    assert PaymentProfile.objects(django_user_id=str(alice.pk)).count() == 0
    assert f"Stripe has no customer {GONE}" in caplog.text and "the site's profile still names it" in caplog.text
