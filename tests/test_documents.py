"""Document schema and the unique indexes that make duplicates impossible."""

from decimal import Decimal

import pytest
from bson import Decimal128, ObjectId
from mongoengine.errors import NotUniqueError

from django_skillswap_payments import repository
from django_skillswap_payments.documents import (
    ALL_DOCUMENTS,
    Payment,
    PaymentProfile,
    Subscription,
    WebhookEvent,
)


def make_payment(**overrides):
    fields = {
        "transaction_type": "tip",
        "from_user_id": ObjectId(),
        "to_user_id": ObjectId(),
        "amount": Decimal("5.00"),
        "currency": "usd",
    }
    fields.update(overrides)
    return repository.create_pending_payment(**fields)


def test_collections_match_the_legacy_system_and_indexes_are_not_automatic():
    assert Payment._get_collection_name() == "payments"
    assert Subscription._get_collection_name() == "subscriptions"
    assert PaymentProfile._get_collection_name() == "payment_profiles"
    assert WebhookEvent._get_collection_name() == "webhook_events"
    for document in ALL_DOCUMENTS:
        assert document._meta["auto_create_index"] is False


def test_ensure_indexes_is_idempotent_and_complete():
    first = repository.ensure_indexes()
    assert repository.ensure_indexes() == first
    info = Payment._get_collection().index_information()
    assert [key for key, _ in info["from_user_id_1_transaction_type_1_status_1_created_at_-1__id_-1"]["key"]] == [
        "from_user_id",
        "transaction_type",
        "status",
        "created_at",
        "_id",
    ]
    assert "created_at_-1__id_-1" in info  # the staff list, newest first
    for name in ("stripe_session_id_1", "stripe_payment_intent_id_1", "open_checkout_slot_1"):
        assert info[name]["unique"] and info[name]["sparse"], name
    assert WebhookEvent._get_collection().index_information()["stripe_event_id_1"]["unique"]


def test_money_is_stored_exactly():
    payment = make_payment(amount=Decimal("10.10"))
    raw = Payment._get_collection().find_one({"_id": payment.id})
    assert raw["amount"] == Decimal128("10.10")
    assert raw["amount_minor"] == 1010
    assert raw["status"] == "pending"
    assert Payment.objects.get(id=payment.id).amount == Decimal("10.10")


def test_premium_payment_stores_null_recipient_like_the_legacy_system():
    payment = make_payment(transaction_type="premium", to_user_id=None)
    raw = Payment._get_collection().find_one({"_id": payment.id})
    assert "to_user_id" in raw and raw["to_user_id"] is None


def test_duplicate_session_id_is_rejected_but_many_without_are_fine():
    make_payment()
    make_payment()  # both without a session id: sparse index allows it
    repository.create_payment_transaction("tip", ObjectId(), "1.00", stripe_session_id="cs_test_1")
    with pytest.raises(NotUniqueError):
        repository.create_payment_transaction(
            "tip", ObjectId(), "1.00", stripe_session_id="cs_test_1"
        )


def test_duplicate_payment_intent_is_rejected():
    repository.create_payment_transaction(
        "tip", ObjectId(), "1.00", stripe_payment_intent_id="pi_1"
    )
    with pytest.raises(NotUniqueError):
        repository.create_payment_transaction(
            "tip", ObjectId(), "2.00", stripe_payment_intent_id="pi_1"
        )


def test_one_open_checkout_slot_per_profile():
    owner = ObjectId()
    slot = repository.premium_slot(owner)
    make_payment(transaction_type="premium", to_user_id=None, open_checkout_slot=slot)
    with pytest.raises(NotUniqueError):
        make_payment(transaction_type="premium", to_user_id=None, open_checkout_slot=slot)


def test_profiles_are_unique_per_django_user_and_customer():
    PaymentProfile(django_user_id="7").save()
    PaymentProfile(django_user_id="8").save()  # neither has a customer yet
    with pytest.raises(NotUniqueError):
        PaymentProfile(django_user_id="7").save()
    PaymentProfile(django_user_id="9", stripe_customer_id="cus_1").save()
    with pytest.raises(NotUniqueError):
        PaymentProfile(django_user_id="10", stripe_customer_id="cus_1").save()


def test_webhook_events_and_subscriptions_are_unique():
    WebhookEvent(stripe_event_id="evt_1", type="checkout.session.completed").save()
    with pytest.raises(NotUniqueError):
        WebhookEvent(stripe_event_id="evt_1", type="checkout.session.completed").save()
    Subscription(user_id=ObjectId(), stripe_subscription_id="sub_1", status="active").save()
    with pytest.raises(NotUniqueError):
        Subscription(user_id=ObjectId(), stripe_subscription_id="sub_1", status="active").save()


def test_legacy_create_helper():
    sender, recipient = ObjectId(), ObjectId()
    payment = repository.create_payment_transaction(
        "tip",
        str(sender),
        10.5,
        to_user_id=str(recipient),
        status="completed",
        metadata={"note": "x"},
    )
    assert payment.amount == Decimal("10.50") and payment.amount_minor == 1050
    assert payment.completed_at is not None
    stored = Payment.objects.get(id=payment.id)
    assert stored.from_user_id == sender and stored.to_user_id == recipient
    assert stored.exact_amount == Decimal("10.50") and stored.status == "completed"
    with pytest.raises(ValueError):
        repository.create_payment_transaction("tip", sender, "1", status="bogus")
