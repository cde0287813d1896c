"""Checkouts in several currencies, from the API through Stripe (the emulator) and its webhooks
to the histories, totals and premium receipt: exact in each currency, never mixed."""

from __future__ import annotations

import json
from decimal import Decimal
from types import SimpleNamespace

import pytest
from bson import ObjectId
from django.conf import settings
from django.test import override_settings

from django_skillswap_payments import gateway, repository, services, stripe_facts
from django_skillswap_payments.documents import Payment, PaymentProfile
from django_skillswap_payments.errors import GatewayError
from tests.support.api import (
    CANCEL_URL,
    HISTORY_URL,
    PREMIUM_URL,
    STATUS_URL,
    SUCCESS_URL,
    TIP_HISTORY_URL,
    TIP_URL,
    checkout_url,
    client_for,
)
from tests.support.database import profile_of

pytestmark = pytest.mark.django_db

URLS = {"success_url": SUCCESS_URL, "cancel_url": CANCEL_URL}
CURRENCY_SETTINGS = {
    "CURRENCIES": ["usd", "eur", "jpy", "kwd"],
    "PREMIUM_PRICES": {"eur": "8.99", "jpy": "1500", "kwd": "3.050"},
    "TIP_LIMITS": {"eur": ["1.00", "900.00"], "jpy": ["100", "100000"], "kwd": ["0.500", "300.000"]},
}
# (currency, premium price as the API renders it, in minor units): two-, two-, zero- and three-decimal
PREMIUM_CASES = [
    ("usd", "9.99", 999),
    ("eur", "8.99", 899),
    ("jpy", "1500", 1500),
    ("kwd", "3.050", 3050),
]


@pytest.fixture
def stripe(emulated_stripe, emulator_webhooks):
    """The emulator, its events delivered to the webhook, with four currencies accepted."""
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, **CURRENCY_SETTINGS}):
        yield emulated_stripe


def exact(response) -> dict:
    """The JSON body with numbers as exact ``Decimal`` (as rendered, ``3.050`` stays ``3.050``)."""
    return json.loads(response.content, parse_float=Decimal, parse_int=Decimal)


def start_premium(client, **extra):
    return client.post(PREMIUM_URL, {**URLS, **extra}, format="json")


def tip(client, to, amount, currency=None):
    body = {"to_user_id": str(to.id), "amount": amount, **URLS}
    if currency is not None:
        body["currency"] = currency
    return client.post(TIP_URL, body, format="json")


# -- each currency class, end to end --------------------------------------------------


@pytest.mark.parametrize(("currency", "price", "minor"), PREMIUM_CASES)
def test_premium_in_each_currency_class(stripe, alice, alice_client, currency, price, minor):
    response = start_premium(alice_client, currency=currency.upper())
    assert response.status_code == 200, response.content
    session_id = response.json()["session_id"]
    session = stripe.get(session_id)
    assert (session["currency"], session["amount_total"]) == (currency, minor)

    assert stripe.submit_payment(session_id).succeeded  # the webhook completes it

    status = exact(alice_client.get(STATUS_URL))
    assert status["is_premium"] is True
    assert (status["receipt"]["amount"], status["receipt"]["currency"]) == (Decimal(price), currency)
    assert str(status["receipt"]["amount"]) == price  # the currency's own decimals, no more, no fewer
    [item] = exact(alice_client.get(HISTORY_URL))["results"]
    assert (str(item["amount"]), item["currency"], item["status"]) == (price, currency, "completed")
    confirmed = exact(alice_client.get(checkout_url(session_id)))
    assert (str(confirmed["amount"]), confirmed["currency"], confirmed["status"]) == (price, currency, "completed")
    stored = Payment.objects.get(stripe_session_id=session_id)
    assert (stored.amount_minor, stored.currency, stored.amount) == (minor, currency, Decimal(price))


@pytest.mark.parametrize(
    ("currency", "amount", "shown", "minor"),
    [
        ("usd", "12.5", "12.50", 1250),
        ("eur", 2.5, "2.50", 250),
        ("jpy", "500", "500", 500),
        ("jpy", 1000, "1000", 1000),
        ("kwd", "1.25", "1.250", 1250),
        ("kwd", "0.990", "0.990", 990),
    ],
)
def test_tip_in_each_currency_class(stripe, alice_client, bob, recipient, currency, amount, shown, minor):
    response = tip(alice_client, recipient, amount, currency)
    assert response.status_code == 200, response.content
    session = stripe.get(response.json()["session_id"])
    assert (session["currency"], session["amount_total"]) == (currency, minor)
    assert stripe.submit_payment(session["id"]).succeeded

    sent = exact(alice_client.get(TIP_HISTORY_URL))
    [item] = sent["tips_sent"]
    assert (str(item["amount"]), item["currency"], item["status"]) == (shown, currency, "completed")
    assert sent["totals_by_currency"] == [{
        "currency": currency, "count_sent": 1, "amount_sent": Decimal(shown),
        "count_received": 0, "amount_received": Decimal(0),
    }]
    assert str(sent["totals_by_currency"][0]["amount_sent"]) == shown
    received = exact(client_for(bob).get(TIP_HISTORY_URL))
    assert [(str(t["amount"]), t["currency"]) for t in received["tips_received"]] == [(shown, currency)]
    [entry] = received["totals_by_currency"]
    assert (entry["currency"], str(entry["amount_received"]), entry["count_received"]) == (currency, shown, 1)


def test_without_a_currency_the_first_accepted_one_is_used(stripe, alice_client, recipient):
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, "CURRENCIES": ["jpy", "usd", "eur", "kwd"]}):
        response = tip(alice_client, recipient, "300")
        assert response.status_code == 200, response.content
        assert stripe.get(response.json()["session_id"])["currency"] == "jpy"
        premium = start_premium(alice_client)
        assert stripe.get(premium.json()["session_id"])["amount_total"] == 1500


# -- totals never mix currencies -------------------------------------------------------


def test_tip_totals_are_per_currency_and_never_added_together(stripe, alice_client, bob, recipient):
    paid = [("usd", "10.00"), ("eur", "5.00"), ("eur", "2.50"), ("jpy", "500"), ("kwd", "1.250")]
    for currency, amount in paid:
        assert stripe.submit_payment(tip(alice_client, recipient, amount, currency).json()["session_id"]).succeeded
    assert tip(alice_client, recipient, "7.00", "eur").status_code == 200  # left unpaid
    declined = tip(alice_client, recipient, "300", "jpy").json()["session_id"]
    assert not stripe.submit_payment(declined, "4000 0000 0000 0002").succeeded

    sent = exact(alice_client.get(TIP_HISTORY_URL))
    assert sent["total_sent"] == 7  # counts may be added; amounts are not
    assert [(t["currency"], t["count_sent"], str(t["amount_sent"])) for t in sent["totals_by_currency"]] == [
        ("eur", 3, "7.50"),
        ("jpy", 2, "500"),
        ("kwd", 1, "1.250"),
        ("usd", 1, "10.00"),
    ]
    assert "total_amount" not in json.dumps(json.loads(alice_client.get(TIP_HISTORY_URL).content))

    received = exact(client_for(bob).get(TIP_HISTORY_URL))
    assert received["total_received"] == 5  # the unpaid and the declined tips never reach bob
    assert [(t["currency"], t["count_received"], str(t["amount_received"])) for t in received["totals_by_currency"]] == [
        ("eur", 2, "7.50"),
        ("jpy", 1, "500"),
        ("kwd", 1, "1.250"),
        ("usd", 1, "10.00"),
    ]
    # Every amount carries its currency, in the lists too.
    assert {(t["currency"], str(t["amount"])) for t in received["tips_received"]} == set(paid)


def test_a_refunded_tip_counts_but_adds_no_money(stripe, alice_client, recipient):
    session_id = tip(alice_client, recipient, "700", "jpy").json()["session_id"]
    assert stripe.submit_payment(session_id).succeeded
    services.refund_payment(Payment.objects.get(stripe_session_id=session_id))
    [entry] = exact(alice_client.get(TIP_HISTORY_URL))["totals_by_currency"]
    assert (entry["currency"], entry["count_sent"], entry["amount_sent"]) == ("jpy", 1, Decimal(0))


# -- refused: currencies not accepted, amounts a currency cannot express ------------------


UNSUPPORTED = [
    ("gbp", "currency: Currency 'gbp' is not accepted; use one of: usd, eur, jpy, kwd"),
    ("EURO", "currency: Currency 'EURO' is not accepted; use one of: usd, eur, jpy, kwd"),
    ("", "currency: Currency '' is not accepted; use one of: usd, eur, jpy, kwd"),
    (5, 'currency: Must be a currency code such as "usd"'),
    (True, 'currency: Must be a currency code such as "usd"'),
    (["eur"], 'currency: Must be a currency code such as "usd"'),
    ({"code": "eur"}, 'currency: Must be a currency code such as "usd"'),
]


@pytest.mark.parametrize(("currency", "message"), UNSUPPORTED)
@pytest.mark.parametrize("endpoint", ["premium", "tip"])
def test_a_currency_not_accepted_is_a_400_that_writes_nothing(
    stripe, alice_client, recipient, mongo_database, endpoint, currency, message
):
    profiles_before = PaymentProfile.objects.count()
    if endpoint == "premium":
        response = start_premium(alice_client, currency=currency)
    else:
        response = tip(alice_client, recipient, "5.00", currency)
    assert response.status_code == 400
    assert response.json() == {"error": "Unsupported currency", "message": message}
    assert Payment.objects.count() == 0
    assert PaymentProfile.objects.count() == profiles_before
    assert stripe.requests == []


@pytest.mark.parametrize(
    ("currency", "amount", "message"),
    [
        ("jpy", "100.5", "amount: Amount must be a whole number in this currency"),
        ("jpy", 150.25, "amount: Amount must be a whole number in this currency"),
        ("jpy", "99", "amount: Amount must be between 100 JPY and 100000 JPY"),
        ("kwd", "1.005", "amount: Amount must be a multiple of 0.010 KWD"),
        ("kwd", "1.2345", "amount: Amount must have at most 3 decimal places"),
        ("kwd", "0.490", "amount: Amount must be between 0.500 KWD and 300.000 KWD"),
        ("eur", "1.001", "amount: Amount must have at most 2 decimal places"),
        ("eur", "901", "amount: Amount must be between 1.00 EUR and 900.00 EUR"),
    ],
)
def test_amounts_a_currency_cannot_express_are_refused(stripe, alice_client, recipient, currency, amount, message):
    response = tip(alice_client, recipient, amount, currency)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid tip amount", "message": message}
    assert Payment.objects.count() == 0
    assert stripe.requests == []


@pytest.mark.parametrize(("currency", "amount_minor"), [("kwd", 3055), ("bhd", 1001), ("omr", 999), ("isk", 15050)])
def test_the_emulator_refuses_what_stripe_cannot_charge(emulated_stripe, currency, amount_minor):
    payment = SimpleNamespace(
        id=ObjectId(), transaction_type="tip", from_user_id=ObjectId(), to_user_id=None,
        currency=currency, amount_minor=amount_minor,
    )
    with pytest.raises(GatewayError) as caught:
        gateway.create_checkout_session(payment, product_name="Tip", **URLS)
    assert caught.value.kind == "invalid_request" and "evenly divisible" in caught.value.stripe_message


# -- one premium, whatever the currency ------------------------------------------------


def test_premium_bought_in_one_currency_is_premium_in_all(stripe, alice_client):
    assert stripe.submit_payment(start_premium(alice_client, currency="jpy").json()["session_id"]).succeeded
    for currency in ("usd", "eur", "jpy", "kwd"):
        response = start_premium(alice_client, currency=currency)
        assert (response.status_code, response.json()) == (400, {"error": "User already has premium access"})
    assert len(stripe.all("checkout.session")) == 1


def test_an_open_checkout_is_reused_in_its_currency_and_replaced_in_another(stripe, alice, alice_client):
    usd = start_premium(alice_client).json()
    assert start_premium(alice_client, currency="usd").json()["session_id"] == usd["session_id"]

    eur = start_premium(alice_client, currency="eur").json()

    assert eur["reused"] is False and eur["session_id"] != usd["session_id"]
    replaced = Payment.objects.get(stripe_session_id=usd["session_id"])
    assert (replaced.status, replaced.failure_reason, replaced.open_checkout_slot) == (
        "expired", "checkout_canceled", None,
    )
    assert stripe.get(usd["session_id"])["status"] == "expired"  # the old page takes no money
    assert stripe.submit_payment(usd["session_id"]).status == "closed"
    again = start_premium(alice_client, currency="EUR").json()
    assert (again["session_id"], again["reused"]) == (eur["session_id"], True)

    assert stripe.submit_payment(eur["session_id"]).succeeded
    receipt = exact(alice_client.get(STATUS_URL))["receipt"]
    assert (str(receipt["amount"]), receipt["currency"]) == ("8.99", "eur")
    assert [p.status for p in Payment.objects(from_user_id=profile_of(alice).id).order_by("created_at")] == [
        "expired", "completed",
    ]


def test_switching_currency_after_paying_at_stripe_completes_the_paid_checkout(emulated_stripe, alice, alice_client):
    # No webhook arrives: Stripe took the money for the usd checkout, the app does not know yet.
    with override_settings(SKILLSWAP_PAYMENTS={**settings.SKILLSWAP_PAYMENTS, **CURRENCY_SETTINGS}):
        usd = start_premium(alice_client).json()
        assert emulated_stripe.submit_payment(usd["session_id"]).succeeded

        response = start_premium(alice_client, currency="kwd")

        assert (response.status_code, response.json()) == (400, {"error": "User already has premium access"})
    assert Payment.objects.get(stripe_session_id=usd["session_id"]).status == "completed"
    assert len(emulated_stripe.all("checkout.session")) == 1


def test_a_second_premium_paid_in_another_currency_is_refunded_in_that_currency(stripe, alice, alice_client):
    profile = profile_of(alice)
    first = start_premium(alice_client, currency="usd").json()
    # A second payable session in jpy, past the one-open-checkout rule (a stale page, another server).
    payment = repository.create_pending_payment(
        transaction_type="premium", from_user_id=profile.id, amount=Decimal("1500"), currency="jpy"
    )
    session = stripe_facts.checkout_session(gateway.create_checkout_session(payment, product_name="Premium", **URLS))
    repository.attach_checkout_session(
        payment.id, session_id=session.id, checkout_url=session.url, customer_id=None, livemode=False
    )
    assert stripe.submit_payment(first["session_id"]).succeeded
    assert stripe.submit_payment(session.id).succeeded

    kept = Payment.objects.get(stripe_session_id=first["session_id"])
    duplicate = Payment.objects.get(id=payment.id)
    assert (kept.status, kept.premium_holder) == ("completed", profile.id)
    assert (duplicate.status, duplicate.duplicate_of) == ("refunded", kept.id)
    [refund] = stripe.all("refund")
    assert (refund["amount"], refund["currency"]) == (1500, "jpy")


# -- the price list ------------------------------------------------------------------


def test_the_price_list_names_every_accepted_currency_with_its_terms(stripe, alice_client, anon_client):
    body = exact(alice_client.get("/api/payments/currencies/"))
    assert body["default_currency"] == "usd"
    assert [
        (c["currency"], c["decimals"], str(c["amount_step"]), str(c["premium_price"]), str(c["tip_min"]), str(c["tip_max"]))
        for c in body["currencies"]
    ] == [
        ("usd", 2, "0.01", "9.99", "1.00", "1000.00"),
        ("eur", 2, "0.01", "8.99", "1.00", "900.00"),
        ("jpy", 0, "1", "1500", "100", "100000"),
        ("kwd", 3, "0.010", "3.050", "0.500", "300.000"),
    ]
    assert anon_client.get("/api/payments/currencies/").status_code == 401


def test_the_price_list_of_a_one_currency_site(emulated_stripe, alice_client):
    body = exact(alice_client.get("/api/payments/currencies/"))
    assert body == {
        "default_currency": "usd",
        "currencies": [{
            "currency": "usd", "decimals": 2, "amount_step": Decimal("0.01"),
            "premium_price": Decimal("9.99"), "tip_min": Decimal("1.00"), "tip_max": Decimal("1000.00"),
        }],
    }
