"""A host project's test of its own premium receiver, exactly as docs/testing.md shows it.

Keep this file and the snippet in docs/testing.md identical: the docs promise
that the example runs as is.
"""

# tests/test_premium_receiver.py
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from django_skillswap_payments.documents import PaymentProfile
from django_skillswap_payments.signals import premium_payment_completed
from django_skillswap_payments.testing.factories import PaymentFactory, PaymentProfileFactory

SUCCESS_URL = "http://testserver/dashboard/payments/success"
CANCEL_URL = "http://testserver/dashboard/payments/cancel"


# --- the receiver under test ---------------------------------------------------
# In your project it lives in your own app (e.g. accounts/receivers.py) and is
# connected in AppConfig.ready(); it is inlined here so the example runs as is.
def grant_premium(sender, payment, from_user_id, **kwargs):
    profile = PaymentProfile.objects.get(id=from_user_id)
    user = get_user_model().objects.get(pk=profile.django_user_id)
    group, _ = Group.objects.get_or_create(name="premium")
    user.groups.add(group)  # idempotent: a re-dispatch adds nothing twice


@pytest.fixture
def calls():
    """Connect the receiver for one test and record every call it gets."""
    seen = []

    def receiver(sender, payment, **kwargs):
        seen.append(payment.id)
        grant_premium(sender, payment=payment, **kwargs)

    premium_payment_completed.connect(receiver, dispatch_uid="test-grant-premium")
    yield seen
    premium_payment_completed.disconnect(dispatch_uid="test-grant-premium")


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", password="pw")


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)  # works whatever your DRF authentication classes are
    return client


def start_premium_checkout(api):
    response = api.post(
        "/api/payments/premium/create-checkout/",
        {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()["session_id"]


# --- 1. the whole purchase: API -> hosted page -> signed webhooks -> receiver ----
@pytest.mark.django_db
def test_paying_for_premium_puts_the_user_in_the_premium_group(
    api, user, calls, stripe_emulator, payments_settings, emulator_webhooks
):
    # Stripe delivers at least once and in any order; make that visible.
    stripe_emulator.webhooks.configure(repeat=3, shuffle=True)
    session_id = start_premium_checkout(api)

    outcome = stripe_emulator.submit_payment(session_id, "4242 4242 4242 4242")

    assert outcome.succeeded
    assert len(calls) == 1  # 3 copies each of 3 events -> one signal
    assert user.groups.filter(name="premium").exists()
    assert api.get("/api/payments/subscription/status/").json()["is_premium"] is True


# --- 2. a declined card grants nothing --------------------------------------------
@pytest.mark.django_db
def test_a_declined_card_grants_nothing(
    api, user, calls, stripe_emulator, payments_settings, emulator_webhooks
):
    session_id = start_premium_checkout(api)

    outcome = stripe_emulator.submit_payment(session_id, "4000 0000 0000 0002")

    assert outcome.status == "declined"
    assert calls == []
    assert not user.groups.filter(name="premium").exists()


# --- 3. just the webhook: a stored payment and one signed event -------------------
@pytest.mark.django_db
def test_a_signed_checkout_event_completes_a_stored_payment(
    user, calls, payments_settings, signed_webhook
):
    profile = PaymentProfileFactory(django_user_id=str(user.pk))
    payment = PaymentFactory(sender=profile)  # pending 9.99 usd premium purchase
    session = {
        "id": payment.stripe_session_id,
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "status": "complete",
        "amount_total": payment.amount_minor,
        "currency": payment.currency,
        "payment_intent": "pi_test_docs_example",
        "metadata": {"payment_id": str(payment.id), "type": "premium"},
    }

    first = signed_webhook("checkout.session.completed", session, event_id="evt_docs_1")
    again = signed_webhook("checkout.session.completed", session, event_id="evt_docs_1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert calls == [payment.id]  # the duplicate delivery changed nothing
    payment.reload()
    assert payment.status == "completed"
    assert user.groups.filter(name="premium").exists()
