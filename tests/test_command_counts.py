"""MongoDB commands per operation, counted exactly (like ``assertNumQueries``).

These are the performance budget of the hot paths: a change that adds a
round trip to the status read, a webhook delivery or a history page fails here.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_skillswap_payments import repository, signals
from django_skillswap_payments.documents import Payment
from tests.support.api import HISTORY_URL, STATUS_URL, TIP_HISTORY_URL
from tests.support.commands import assert_mongo_commands
from tests.support.database import pending_payment, profile_of
from tests.support.stripe_objects import session_object
from tests.support.webhooks import post_webhook, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached_status(payments_settings, monkeypatch):
    from django_skillswap_payments.services import premium

    # One process, one clock: a read that starts after the change may store its answer at once.
    monkeypatch.setattr(premium, "CLOCK_MARGIN_SECONDS", 0.0)
    with override_settings(SKILLSWAP_PAYMENTS={**payments_settings, "STATUS_CACHE_SECONDS": 300}):
        yield


def _completion(payment, event_id="evt_count"):
    return signed("checkout.session.completed", session_object(payment), event_id=event_id)


@pytest.mark.parametrize("premium", [False, True], ids=["not-premium", "premium"])
def test_status_is_one_command(alice, alice_client, anon_client, premium):
    payment = pending_payment(profile_of(alice))
    if premium:
        post_webhook(anon_client, *_completion(payment))
    with assert_mongo_commands(1):
        response = alice_client.get(STATUS_URL)
    assert response.json()["is_premium"] is premium


def test_status_of_a_user_without_profile_is_one_command(alice, alice_client):
    with assert_mongo_commands(1):
        assert alice_client.get(STATUS_URL).json()["is_premium"] is False


def test_cached_status_is_no_command_and_a_purchase_shows_at_once(
    alice, alice_client, anon_client, cached_status
):
    payment = pending_payment(profile_of(alice))
    assert alice_client.get(STATUS_URL).json()["is_premium"] is False
    with assert_mongo_commands(0):
        assert alice_client.get(STATUS_URL).json()["is_premium"] is False
    assert post_webhook(anon_client, *_completion(payment)).status_code == 200
    with assert_mongo_commands(1):
        assert alice_client.get(STATUS_URL).json()["is_premium"] is True
    with assert_mongo_commands(0):
        assert alice_client.get(STATUS_URL).json()["is_premium"] is True


def test_a_cached_status_is_dropped_by_a_refund(alice, alice_client, anon_client, cached_status):
    from django_skillswap_payments import services

    payment = pending_payment(profile_of(alice))
    post_webhook(anon_client, *_completion(payment))
    assert alice_client.get(STATUS_URL).json()["is_premium"] is True
    services.mark_payment_refunded(payment.id, refund_id="re_1")
    assert alice_client.get(STATUS_URL).json()["is_premium"] is False


@pytest.mark.parametrize("with_receiver", [False, True], ids=["no-receiver", "receiver"])
def test_first_completion_delivery(alice, anon_client, with_receiver):
    payment = pending_payment(profile_of(alice))
    heard = []
    receiver = lambda sender, payment, **kwargs: heard.append(payment.id)  # noqa: E731
    if with_receiver:
        signals.premium_payment_completed.connect(receiver, weak=False, dispatch_uid="count-receiver")
    try:
        # record, complete (find, check and transition in one write), finish; + clear the flag
        with assert_mongo_commands(4 if with_receiver else 3):
            assert post_webhook(anon_client, *_completion(payment)).status_code == 200
    finally:
        signals.premium_payment_completed.disconnect(dispatch_uid="count-receiver")
    stored = Payment.objects.get(id=payment.id)
    assert stored.status == "completed" and stored.premium_holder == stored.from_user_id
    assert stored.signal_retry_needed is False
    assert heard == ([payment.id] if with_receiver else [])


def test_duplicate_delivery_is_one_command_returning_only_the_status(alice, anon_client):
    payment = pending_payment(profile_of(alice))
    delivery = _completion(payment)
    post_webhook(anon_client, *delivery)
    with assert_mongo_commands(1) as seen:
        assert post_webhook(anon_client, *delivery).status_code == 200
    name, collection, command = seen[0]
    assert (name, collection) == ("findAndModify", "webhook_events")
    assert set(command["fields"]) <= {"_id", "status", "attempts"}


def test_a_mismatched_amount_is_still_refused(alice, anon_client):
    payment = pending_payment(profile_of(alice))
    payload, signature = signed(
        "checkout.session.completed", session_object(payment, amount_total=1), event_id="evt_low"
    )
    assert post_webhook(anon_client, payload, signature).status_code == 200
    stored = Payment.objects.get(id=payment.id)
    assert stored.status == "pending" and stored.metadata["mismatch"]["fields"] == ["amount"]


@pytest.mark.parametrize(
    ("url", "first_page", "later_page"),
    [
        # profile, sent page, received page, both totals in one aggregation; later pages skip
        # the totals and look up the anchor (`before`) once for both lists
        (TIP_HISTORY_URL, 4, 4),
        # profile, page; later pages add the anchor
        (HISTORY_URL, 2, 3),
    ],
    ids=["tip-history", "payment-history"],
)
def test_history_pages(alice, alice_client, bob, url, first_page, later_page):
    sender = profile_of(alice)
    for _ in range(3):
        pending_payment(sender, kind="tip", recipient=profile_of(bob), amount="2.00")
    with assert_mongo_commands(first_page):
        first = alice_client.get(url, {"limit": 2})
    assert first.status_code == 200
    last_id = (first.json().get("tips_sent") or first.json().get("results"))[-1]["_id"]
    with assert_mongo_commands(later_page):
        later = alice_client.get(url, {"limit": 2, "before": last_id})
    assert later.status_code == 200
    if url == TIP_HISTORY_URL:
        assert (first.json()["total_sent"], later.json()["total_sent"]) == (3, None)
    assert repository.count_tips_sent(sender.id) == 3


@pytest.mark.parametrize("premium", [False, True], ids=["not-premium", "premium"])
def test_is_premium_and_premium_required_cost_one_command(alice, anon_client, rf, premium):
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse

    from django_skillswap_payments.api.permissions import IsPremium
    from django_skillswap_payments.decorators import premium_required

    payment = pending_payment(profile_of(alice))
    if premium:
        post_webhook(anon_client, *_completion(payment))
    request = rf.get("/lessons/1/")
    request.user = alice
    with assert_mongo_commands(1):
        assert IsPremium().has_permission(request, None) is premium

    view = premium_required(lambda request: HttpResponse("lesson"))
    with assert_mongo_commands(1):
        if premium:
            assert view(request).content == b"lesson"
        else:
            with pytest.raises(PermissionDenied):
                view(request)


def test_premium_required_sends_anonymous_visitors_to_log_in(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    from django_skillswap_payments.decorators import premium_required

    request = rf.get("/lessons/1/")
    request.user = AnonymousUser()
    with assert_mongo_commands(0):
        response = premium_required(lambda request: HttpResponse("lesson"))(request)
    assert response.status_code == 302 and "next=/lessons/1/" in response["Location"]
