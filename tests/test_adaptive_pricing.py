"""Adaptive Pricing: the checkouts the app opens, and completions of payments Stripe converted.

Stripe's Adaptive Pricing charges the buyer a price converted to their local
currency; the account's Dashboard setting turns it on unless the Checkout
Session says otherwise. Stripe reports a converted payment in two shapes,
both sent here through the real webhook view and the success page:

* sessions created since 2025-03-31: ``amount_total``/``currency`` in the
  site's currency and ``presentment_details`` with what the buyer paid, on
  the session and on its PaymentIntent;
* sessions created before: ``amount_total``/``currency`` in the buyer's
  currency, the site's figures in ``currency_conversion``, and a PaymentIntent
  in the buyer's currency with nothing about the conversion.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core import checks
from django.test import override_settings

from django_skillswap_payments import gateway
from django_skillswap_payments.documents import Payment, WebhookEvent
from tests.support.api import CANCEL_URL, PREMIUM_URL, SUCCESS_URL, TIP_URL, checkout_url
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import intent_object, session_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db

PINNED = None  # the app's own STRIPE_API_VERSION
BASIL = "2025-03-31.basil"
CLOVER = "2025-09-30.clover"
ACACIA = "2024-10-28.acacia"
# What a buyer elsewhere pays for the 9.99 USD premium, in minor units of their currency.
CONVERSIONS = [("eur", 915), ("gbp", 789), ("jpy", 1523), ("chf", 880), ("brl", 5480)]
BOTH_ORDERS = [
    ("checkout.session.completed", "payment_intent.succeeded"),
    ("payment_intent.succeeded", "checkout.session.completed"),
]


def stored(payment):
    return Payment.objects.get(id=payment.id)


def adaptive_settings(**overrides):
    return override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, **overrides})


def presentment(currency, amount):
    return {"presentment_details": {"presentment_amount": amount, "presentment_currency": currency}}


def converted_session_since_2025(payment, currency, amount, **overrides):
    """A session created since 2025-03-31: the site's figures, and what the buyer paid beside them."""
    return session_object(payment, **presentment(currency, amount), **overrides)


def converted_intent_since_2025(payment, currency, amount, **overrides):
    return intent_object(payment, **presentment(currency, amount), **overrides)


def converted_session_before_2025(payment, currency, amount, **overrides):
    """A session created before 2025-03-31: the buyer's figures, the site's in ``currency_conversion``."""
    conversion = {"amount_total": payment.amount_minor, "amount_subtotal": payment.amount_minor,
                  "fx_rate": "0.91591591", "source_currency": payment.currency}
    return session_object(payment, **{"amount_total": amount, "amount_subtotal": amount, "currency": currency,
                                      "currency_conversion": conversion, **overrides})


def converted_intent_before_2025(payment, currency, amount):
    return intent_object(payment, amount=amount, amount_received=amount, currency=currency)


def send(client, event_type, obj, version, **kwargs):
    extra = {"api_version": version} if version else {}
    return deliver(client, event_type, obj, **extra, **kwargs)


# -- the checkouts the app opens ---------------------------------------------------------------


def _start(client, kind, bob=None):
    if kind == "premium":
        return client.post(PREMIUM_URL, {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}, format="json")
    body = {"to_user_id": str(profile_of(bob).id), "amount": "12.50",
            "success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
    return client.post(TIP_URL, body, format="json")


@pytest.mark.parametrize("kind", ["premium", "tip"])
@pytest.mark.parametrize("setting, sent", [(None, False), (False, False), (True, True)])
def test_every_checkout_says_whether_adaptive_pricing_applies(
    emulated_stripe, alice_client, bob, kind, setting, sent
):
    # Left to the Dashboard, an account with Adaptive Pricing on would charge buyers a converted price.
    overrides = {} if setting is None else {"ADAPTIVE_PRICING": setting}
    with adaptive_settings(**overrides):
        response = _start(alice_client, kind, bob)

    assert response.status_code == 200, response.content
    [call] = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert call.params["adaptive_pricing"] == {"enabled": sent}
    session = emulated_stripe.get(response.json()["session_id"])
    assert session["adaptive_pricing"] == {"enabled": sent}


@pytest.mark.parametrize("version", ["2024-10-28.acacia", "2023-10-16", "2020-08-27"])
def test_api_versions_without_the_parameter_do_not_send_it_and_the_check_warns(
    emulated_stripe, alice_client, version
):
    with adaptive_settings(STRIPE_API_VERSION=version):
        response = _start(alice_client, "premium")
        found = checks.run_checks(tags=["skillswap_payments"])

    assert response.status_code == 200, response.content
    [call] = emulated_stripe.requests_to("POST", "/v1/checkout/sessions")
    assert "adaptive_pricing" not in call.params
    assert "skillswap_payments.W100" in [message.id for message in found]


@pytest.mark.parametrize("value", ["yes", 1, 0, "False", "true"])
def test_a_setting_that_is_not_a_boolean_is_reported(value):
    with adaptive_settings(ADAPTIVE_PRICING=value):
        found = checks.run_checks(tags=["skillswap_payments"])
    assert "skillswap_payments.E100" in [message.id for message in found]


def test_the_pinned_api_version_passes_the_checks():
    found = [m.id for m in checks.run_checks(tags=["skillswap_payments"])]
    assert "skillswap_payments.W100" not in found and "skillswap_payments.E100" not in found


# -- completions reported through the webhook --------------------------------------------------


@pytest.mark.parametrize("order", BOTH_ORDERS)
@pytest.mark.parametrize("currency, amount", CONVERSIONS)
@pytest.mark.parametrize("version", [PINNED, CLOVER, BASIL])
def test_a_converted_payment_completes_at_the_site_price_and_keeps_what_the_buyer_paid(
    anon_client, alice, signal_log, order, currency, amount, version
):
    premium = pending_payment(profile_of(alice))
    objects = {
        "checkout.session.completed": converted_session_since_2025(premium, currency, amount),
        "payment_intent.succeeded": converted_intent_since_2025(premium, currency, amount),
    }
    for event_type in order:
        assert send(anon_client, event_type, objects[event_type], version).status_code == 200

    after = stored(premium)
    assert (after.status, after.amount_minor, after.currency) == ("completed", 999, "usd")
    assert (after.charged_amount_minor, after.charged_currency) == (amount, currency)
    assert "mismatch" not in (after.metadata or {})
    assert signal_log == [("premium_payment_completed", str(premium.id))]
    assert sorted(e.status for e in WebhookEvent.objects) == ["processed", "processed"]


@pytest.mark.parametrize("currency, amount", CONVERSIONS)
@pytest.mark.parametrize("version", [ACACIA, BASIL])
def test_a_session_converted_before_2025_completes_from_its_currency_conversion(
    anon_client, alice, bob, signal_log, currency, amount, version
):
    tip = pending_payment(profile_of(alice), kind="tip", amount="12.50", recipient=profile_of(bob))
    assert send(anon_client, "checkout.session.completed",
                converted_session_before_2025(tip, currency, amount), version).status_code == 200
    assert send(anon_client, "payment_intent.succeeded",
                converted_intent_before_2025(tip, currency, amount), version).status_code == 200

    after = stored(tip)
    assert (after.status, after.amount_minor, after.currency) == ("completed", 1250, "usd")
    assert (after.charged_amount_minor, after.charged_currency) == (amount, currency)
    assert signal_log == [("tip_payment_completed", str(tip.id))]
    assert sorted(e.status for e in WebhookEvent.objects) == ["processed", "processed"]


def _started_and_paid(emulated_stripe, client):
    session_id = _start(client, "premium").json()["session_id"]
    assert emulated_stripe.submit_payment(session_id).succeeded
    return Payment.objects.get(stripe_session_id=session_id)


def _stripe_answers(monkeypatch, reshape):
    """Stripe's answer about a session, in the shape ``reshape`` gives the emulator's."""
    real = gateway.retrieve_checkout_session

    def retrieve(session_id, **kwargs):
        answer = real(session_id, **kwargs).to_dict()
        return reshape(answer)

    monkeypatch.setattr(gateway, "retrieve_checkout_session", retrieve)


@pytest.mark.parametrize("with_presentment", [False, True])
@pytest.mark.parametrize("currency, amount", CONVERSIONS)
def test_an_intent_in_the_buyers_currency_arriving_first_is_judged_by_its_session(
    emulated_stripe, anon_client, alice_client, signal_log, monkeypatch, currency, amount, with_presentment
):
    # Before 2025-03-31 the PaymentIntent of a converted checkout names only the buyer's
    # currency: alone it cannot tell a conversion from a wrong report, its session can. The
    # same holds for an intent in the buyer's currency that also lists presentment_details.
    payment = _started_and_paid(emulated_stripe, alice_client)
    signal_log.clear()
    _stripe_answers(monkeypatch, lambda s: {**s, **converted_session_before_2025(payment, currency, amount)})

    intent = converted_intent_before_2025(payment, currency, amount)
    if with_presentment:
        intent.update(presentment(currency, amount))
    intent["id"] = emulated_stripe.get(payment.stripe_session_id)["payment_intent"]
    response = send(anon_client, "payment_intent.succeeded", intent, ACACIA, event_id="evt_pi_first")

    assert response.status_code == 200
    after = stored(payment)
    assert (after.status, after.amount_minor, after.currency) == ("completed", 999, "usd")
    assert (after.charged_amount_minor, after.charged_currency) == (amount, currency)
    assert WebhookEvent.objects.get(stripe_event_id="evt_pi_first").status == "processed"
    assert signal_log == [("premium_payment_completed", str(payment.id))]


def test_an_intent_in_another_currency_before_its_session_is_paid_is_retried_not_dropped(
    emulated_stripe, anon_client, alice_client, signal_log, monkeypatch
):
    session_id = _start(alice_client, "premium").json()["session_id"]
    payment = Payment.objects.get(stripe_session_id=session_id)
    intent = converted_intent_before_2025(payment, "eur", 915)

    response = send(anon_client, "payment_intent.succeeded", intent, ACACIA, event_id="evt_early")

    assert response.status_code >= 500
    assert WebhookEvent.objects.get(stripe_event_id="evt_early").status == "failed"
    assert stored(payment).status == "pending"

    assert emulated_stripe.submit_payment(session_id).succeeded
    _stripe_answers(monkeypatch, lambda s: {**s, **converted_session_before_2025(payment, "eur", 915)})
    assert send(anon_client, "payment_intent.succeeded", intent, ACACIA, event_id="evt_early").status_code == 200

    after = stored(payment)
    assert (after.status, after.charged_amount_minor, after.charged_currency) == ("completed", 915, "eur")
    assert signal_log == [("premium_payment_completed", str(payment.id))]


# -- the mismatch protection stays -------------------------------------------------------------


@pytest.mark.parametrize(
    "make, field",
    [
        # The figures in the site's currency disagree with the payment: whatever was converted.
        (lambda p: converted_session_since_2025(p, "eur", 915, amount_total=1), "amount"),
        (lambda p: converted_session_before_2025(p, "eur", 915, currency_conversion={
            "amount_total": 1, "amount_subtotal": 1, "source_currency": "usd", "fx_rate": "1"}), "amount"),
        (lambda p: converted_session_before_2025(p, "eur", 915, currency_conversion={
            "amount_total": 999, "amount_subtotal": 999, "source_currency": "cad", "fx_rate": "1"}), "currency"),
        # In another currency, with nothing saying what it was converted from.
        (lambda p: session_object(p, amount_total=915, currency="eur"), "currency"),
        # A conversion reported with figures that cannot be stored.
        (lambda p: converted_session_since_2025(p, "euro", 915), "charged"),
        (lambda p: converted_session_since_2025(p, "eur", "915"), "charged"),
        (lambda p: converted_session_since_2025(p, "eur", -5), "charged"),
        (lambda p: converted_session_since_2025(p, None, None), "charged"),
        (lambda p: converted_session_before_2025(p, 7, 915), "charged"),
    ],
)
def test_a_converted_report_that_disagrees_grants_nothing(anon_client, alice, signal_log, make, field):
    premium = pending_payment(profile_of(alice))
    response = deliver(anon_client, "checkout.session.completed", make(premium), event_id="evt_bad")

    assert response.status_code == 200
    after = stored(premium)
    assert after.status == "pending"
    assert field in after.metadata["mismatch"]["fields"]
    assert after.charged_amount_minor is None
    assert WebhookEvent.objects.get(stripe_event_id="evt_bad").status == "ignored"
    assert signal_log == []


def test_an_intent_in_another_currency_whose_session_disagrees_grants_nothing(
    emulated_stripe, anon_client, alice_client, signal_log, monkeypatch
):
    payment = _started_and_paid(emulated_stripe, alice_client)
    signal_log.clear()
    # Stripe's session reports the site's currency and no conversion: the intent's euros are wrong.
    intent = converted_intent_before_2025(payment, "eur", 915)
    intent["id"] = emulated_stripe.get(payment.stripe_session_id)["payment_intent"]
    _stripe_answers(monkeypatch, lambda s: {**s, "amount_total": 1})

    assert send(anon_client, "payment_intent.succeeded", intent, ACACIA).status_code == 200

    after = stored(payment)
    assert after.status == "pending" and after.metadata["mismatch"]["fields"] == ["amount"]
    assert signal_log == []


# -- the success page --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["since_2025", "before_2025"])
@pytest.mark.parametrize("currency, amount", CONVERSIONS)
def test_the_success_page_completes_a_converted_payment(
    emulated_stripe, alice_client, signal_log, monkeypatch, shape, currency, amount
):
    session_id = _start(alice_client, "premium").json()["session_id"]
    assert emulated_stripe.submit_payment(session_id).succeeded
    payment = Payment.objects.get(stripe_session_id=session_id)
    convert = converted_session_since_2025 if shape == "since_2025" else converted_session_before_2025
    _stripe_answers(monkeypatch, lambda s: {**s, **{
        k: v for k, v in convert(payment, currency, amount).items()
        if k in ("amount_total", "amount_subtotal", "currency", "currency_conversion", "presentment_details")
    }})

    response = alice_client.get(checkout_url(session_id))

    assert response.status_code == 200, response.content
    assert response.json() == {"session_id": session_id, "status": "completed", "transaction_type": "premium",
                               "amount": 9.99, "currency": "usd"}
    after = stored(payment)
    assert (after.charged_amount_minor, after.charged_currency) == (amount, currency)
    assert signal_log == [("premium_payment_completed", str(payment.id))]
