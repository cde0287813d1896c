"""Premium status, tip history, payment history and the legacy read helpers."""

import datetime as dt
from decimal import Decimal

import pytest

from django_skillswap_payments import repository, services
from django_skillswap_payments.documents import Payment, PaymentProfile, Subscription

T0 = dt.datetime(2025, 1, 29, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def alice():
    return PaymentProfile(django_user_id="alice").save()


@pytest.fixture
def bob():
    return PaymentProfile(django_user_id="bob").save()


def tip(sender, recipient, amount, status, minutes):
    payment = repository.create_payment_transaction(
        "tip", sender.id, amount, to_user_id=recipient.id, status=status
    )
    Payment.objects(id=payment.id).update_one(set__created_at=T0 + dt.timedelta(minutes=minutes))
    return payment


def ids(payments):
    return [payment.id for payment in payments]


def test_premium_status_shapes(alice):
    assert services.get_premium_status(alice) == {
        "is_premium": False,
        "status": "none",
        "subscription": None,
    }
    payment = repository.create_payment_transaction("premium", alice.id, "9.99", status="completed")
    status = services.get_premium_status(alice)
    assert status == {
        "is_premium": True,
        "status": "active",
        "subscription": {
            "plan_type": "premium",
            "current_period_end": None,
            "current_period_start": status["subscription"]["current_period_start"],
            "cancel_at_period_end": False,
        },
    }
    started = status["subscription"]["current_period_start"]
    assert started.tzinfo is not None
    assert abs(started - payment.completed_at.replace(tzinfo=started.tzinfo)) < dt.timedelta(
        seconds=1
    )


def test_premium_status_from_legacy_subscription(alice):
    Subscription(user_id=alice.id, status="canceled", stripe_subscription_id="sub_old").save()
    assert services.get_premium_status(alice)["is_premium"] is False
    Subscription(
        user_id=alice.id,
        status="active",
        stripe_subscription_id="sub_1",
        current_period_start=T0,
        current_period_end=T0 + dt.timedelta(days=30),
        cancel_at_period_end=True,
    ).save()
    status = services.get_premium_status(alice)
    assert status["is_premium"] is True and status["status"] == "active"
    assert status["subscription"]["current_period_end"] == T0 + dt.timedelta(days=30)
    assert status["subscription"]["cancel_at_period_end"] is True


def test_premium_receipt_is_the_latest_completed_premium_payment(alice):
    assert services.get_premium_status(alice, with_receipt=True).get("receipt") is None
    repository.create_payment_transaction("premium", alice.id, "9.99", status="refunded")
    repository.create_payment_transaction("premium", alice.id, "9.99", status="pending")
    assert services.get_premium_status(alice, with_receipt=True).get("receipt") is None

    older = repository.create_payment_transaction("premium", alice.id, "9.99", status="completed")
    newer = repository.create_payment_transaction("premium", alice.id, "12.50", status="completed")
    Payment.objects(id=older.id).update_one(set__completed_at=T0)
    Payment.objects(id=newer.id).update_one(set__completed_at=T0 + dt.timedelta(days=1))

    receipt = services.get_premium_status(alice, with_receipt=True).get("receipt")
    assert receipt == {"amount": Decimal("12.50"), "currency": "usd", "completed_at": T0 + dt.timedelta(days=1)}
    assert receipt["completed_at"].tzinfo is not None


def test_no_premium_receipt_for_legacy_subscribers(alice):
    Subscription(user_id=alice.id, status="active", stripe_subscription_id="sub_r").save()
    assert services.get_premium_status(alice)["is_premium"] is True
    assert services.get_premium_status(alice, with_receipt=True).get("receipt") is None


def test_tip_history_newest_first_with_totals(alice, bob):
    sent_old = tip(alice, bob, "5", "completed", 1)
    sent_pending = tip(alice, bob, "6", "pending", 2)
    sent_new = tip(alice, bob, "7", "refunded", 3)
    received = tip(bob, alice, "8", "completed", 4)
    tip(bob, alice, "9", "pending", 5)  # unpaid: never shown to the recipient
    history = services.get_tip_history(alice)
    assert ids(history["tips_sent"]) == [sent_new.id, sent_pending.id, sent_old.id]
    assert ids(history["tips_received"]) == [received.id]
    assert (history["total_sent"], history["total_received"]) == (3, 1)
    assert history["tips_sent"][0].amount == Decimal("7.00")


def test_tip_history_pagination(alice, bob):
    tips = [tip(alice, bob, "1", "completed", minutes) for minutes in range(5)]
    newest_first = list(reversed(ids(tips)))
    page1 = services.get_tip_history(alice, limit=2)
    assert ids(page1["tips_sent"]) == newest_first[:2]
    assert page1["total_sent"] == 5
    page2 = services.get_tip_history(alice, limit=2, before=str(page1["tips_sent"][-1].id))
    assert ids(page2["tips_sent"]) == newest_first[2:4]
    page3 = services.get_tip_history(alice, limit=2, before=page2["tips_sent"][-1].id)
    assert ids(page3["tips_sent"]) == newest_first[4:]


def test_pagination_is_stable_for_equal_timestamps(alice, bob):
    tips = [tip(alice, bob, "1", "completed", 0) for _ in range(3)]
    first = repository.tips_sent(alice.id, limit=1)
    rest = repository.tips_sent(alice.id, limit=5, before=first[0].id)
    assert sorted(ids(first + rest)) == sorted(ids(tips))
    assert len(rest) == 2


def test_payment_history_filters(alice, bob):
    premium = repository.create_payment_transaction("premium", alice.id, "9.99", status="completed")
    Payment.objects(id=premium.id).update_one(set__created_at=T0 + dt.timedelta(days=2))
    tip_paid = tip(alice, bob, "3", "completed", 0)
    tip_failed = tip(alice, bob, "4", "failed", 10)
    tip(bob, alice, "5", "completed", 20)  # received, not in alice's own history
    assert ids(services.get_payment_history(alice)) == [premium.id, tip_failed.id, tip_paid.id]
    assert ids(services.get_payment_history(alice, transaction_type="tip")) == [
        tip_failed.id,
        tip_paid.id,
    ]
    assert ids(services.get_payment_history(alice, status="completed")) == [premium.id, tip_paid.id]
    window = services.get_payment_history(
        alice, created_from=T0, created_to=T0 + dt.timedelta(minutes=5)
    )
    assert ids(window) == [tip_paid.id]
    assert len(services.get_payment_history(alice, limit=1)) == 1


def test_legacy_read_helpers(alice, bob):
    given = tip(alice, bob, "2", "completed", 1)
    got = tip(bob, alice, "3", "pending", 2)
    assert ids(repository.get_user_tips_given(str(alice.id))) == [given.id]
    assert ids(repository.get_user_tips_received(alice.id)) == [got.id]
    assert ids(repository.get_user_payment_history(str(alice.id), transaction_type="tip")) == [
        given.id
    ]
    assert repository.get_user_payment_history("bogus") == []
