"""Legacy subscriptions: services.sync_legacy_subscription and its single conditional upsert."""

from __future__ import annotations

import datetime as dt

import pytest

from django_skillswap_payments import repository, services
from django_skillswap_payments.documents import PaymentProfile, Subscription

T1, T2, T3 = 1_700_000_000, 1_700_000_100, 1_700_000_200


def _at(seconds):
    return dt.datetime.fromtimestamp(seconds, tz=dt.timezone.utc)


@pytest.fixture
def profile(mongo_database):
    return PaymentProfile(django_user_id="legacy-user", stripe_customer_id="cus_legacy").save()


def _subscription(**overrides):
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_legacy",
        "status": "active",
        "cancel_at_period_end": False,
        "current_period_start": T1,
        "current_period_end": T3,
        "metadata": {},
        **overrides,
    }


def test_first_event_creates_the_subscription_for_the_customers_profile(profile):
    result = services.sync_legacy_subscription(_subscription(), event_created=T1)

    assert result.changed and result.reason is None
    stored = Subscription.objects.get(stripe_subscription_id="sub_1")
    assert (stored.user_id, stored.status, stored.plan_type) == (profile.id, "active", "premium")
    assert stored.current_period_end == _at(T3)
    assert stored.created_at == stored.updated_at == _at(T1)
    assert services.is_premium(profile)


def test_owner_from_metadata_when_the_customer_is_unknown(mongo_database):
    other = PaymentProfile(django_user_id="meta-user").save()
    payload = _subscription(customer="cus_unknown", metadata={"user_id": str(other.id)})

    assert services.sync_legacy_subscription(payload, event_created=T1).changed
    assert Subscription.objects.get(stripe_subscription_id="sub_1").user_id == other.id


def test_without_an_owner_nothing_is_created(mongo_database):
    result = services.sync_legacy_subscription(_subscription(customer="cus_nobody"), event_created=T1)

    assert (result.changed, result.reason) == (False, "No user for this subscription")
    assert Subscription.objects.count() == 0


@pytest.mark.parametrize("payload", [_subscription(id=None), _subscription(status=None), _subscription(status="")])
def test_without_id_or_status_nothing_happens(profile, payload):
    result = services.sync_legacy_subscription(payload, event_created=T1)
    assert (result.changed, result.reason) == (False, "Subscription without id or status")
    assert Subscription.objects.count() == 0


def test_an_older_event_never_overwrites_a_newer_state(profile):
    assert services.sync_legacy_subscription(_subscription(status="canceled"), event_created=T2).changed

    late = services.sync_legacy_subscription(_subscription(status="active"), event_created=T1)

    assert (late.changed, late.reason) == (False, "Older than the stored subscription state")
    assert Subscription.objects.count() == 1  # the losing upsert did not insert a second document
    assert Subscription.objects.get().status == "canceled"
    assert not services.is_premium(profile)


def test_same_second_and_newer_events_apply(profile):
    services.sync_legacy_subscription(_subscription(), event_created=T1)
    assert services.sync_legacy_subscription(_subscription(cancel_at_period_end=True), event_created=T1).changed
    assert Subscription.objects.get().cancel_at_period_end is True
    assert services.sync_legacy_subscription(_subscription(status="past_due"), event_created=T2).changed

    stored = Subscription.objects.get()
    assert (stored.status, stored.cancel_at_period_end) == ("past_due", False)
    assert stored.updated_at == _at(T2)


def test_existing_document_is_updated_even_when_no_owner_can_be_found(profile, mongo_database):
    # e.g. written by the legacy system for a customer this app never linked to a profile
    mongo_database["subscriptions"].insert_one(
        {"user_id": profile.id, "stripe_subscription_id": "sub_1", "status": "active"}
    )
    result = services.sync_legacy_subscription(_subscription(customer="cus_other", status="canceled"), event_created=T1)

    assert result.changed
    stored = Subscription.objects.get()
    assert (stored.user_id, stored.status) == (profile.id, "canceled")  # owner kept


def test_repository_upsert_returns_none_when_stale(profile):
    first = repository.upsert_legacy_subscription("sub_r", user_id=profile.id, as_of=_at(T2), status="active")
    assert first is not None and first.status == "active"

    assert repository.upsert_legacy_subscription("sub_r", user_id=profile.id, as_of=_at(T1), status="canceled") is None
    assert repository.upsert_legacy_subscription("sub_r", user_id=None, as_of=_at(T1), status="canceled") is None
    assert repository.get_legacy_subscription("sub_r").status == "active"
    assert repository.upsert_legacy_subscription("sub_new", user_id=None, as_of=_at(T1), status="active") is None
    assert repository.get_legacy_subscription("sub_new") is None


def test_billing_period_from_items_on_recent_api_versions(profile):
    payload = _subscription(current_period_start=None, current_period_end=None,
                            items={"object": "list", "data": [{"current_period_start": T1, "current_period_end": T3}]})
    services.sync_legacy_subscription(payload, event_created=T1)
    stored = Subscription.objects.get()
    assert (stored.current_period_start, stored.current_period_end) == (
        _at(T1), _at(T3)
    )
