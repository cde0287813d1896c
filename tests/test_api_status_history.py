"""GET subscription/status/, tip/history/ and payments/history/: shapes, order, pagination."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from bson import ObjectId

from django_skillswap_payments.documents import Payment
from tests.support.api import HISTORY_URL, STATUS_URL, TIP_HISTORY_URL
from tests.support.database import assert_nothing_written, pending_payment, profile_of
from tests.support.stripe_objects import session_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db

ISO_UTC = "%Y-%m-%dT%H:%M:%S.%fZ"


def _complete(client, payment):
    assert deliver(client, "checkout.session.completed", session_object(payment)).status_code == 200
    return Payment.objects.get(id=payment.id)


def _age(payment, minutes):
    """Backdate a payment so ordering does not depend on insertion speed."""
    created = dt.datetime(2025, 1, 29, 12, 0, tzinfo=dt.timezone.utc) - dt.timedelta(minutes=minutes)
    Payment.objects(id=payment.id).update_one(set__created_at=created)
    return created


def test_status_without_any_payment_is_none_and_writes_nothing(alice_client, mongo_database):
    response = alice_client.get(STATUS_URL)

    assert response.status_code == 200
    assert response.json() == {"is_premium": False, "status": "none", "subscription": None}
    assert_nothing_written(mongo_database)


def test_status_with_pending_payment_is_still_none(alice, alice_client):
    pending_payment(profile_of(alice))
    assert alice_client.get(STATUS_URL).json() == {"is_premium": False, "status": "none", "subscription": None}


def test_status_after_payment_matches_the_legacy_shape(alice, alice_client):
    payment = _complete(alice_client, pending_payment(profile_of(alice)))

    response = alice_client.get(STATUS_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["is_premium"] is True
    assert body["status"] == "active"
    assert body["subscription"] == {
        "plan_type": "premium",
        "current_period_end": None,
        "current_period_start": body["subscription"]["current_period_start"],
        "cancel_at_period_end": False,
    }
    started = dt.datetime.strptime(body["subscription"]["current_period_start"], ISO_UTC)
    assert abs(started.replace(tzinfo=dt.timezone.utc) - payment.completed_at) < dt.timedelta(seconds=1)
    assert set(body) == {"is_premium", "status", "subscription", "receipt"}
    assert body["receipt"]["currency"] == "usd"
    assert b'"amount":9.99' in response.content


def test_tip_history_shape_order_and_totals(alice, bob, alice_client):
    me, other = profile_of(alice), profile_of(bob)
    old = _complete(alice_client, pending_payment(me, kind="tip", amount="10", recipient=other))
    new = pending_payment(me, kind="tip", amount="25.5", recipient=other)
    received = _complete(alice_client, pending_payment(other, kind="tip", amount="3", recipient=me))
    unpaid_received = pending_payment(other, kind="tip", amount="4", recipient=me)
    _age(old, 30), _age(new, 10), _age(received, 20), _age(unpaid_received, 5)

    response = alice_client.get(TIP_HISTORY_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"tips_sent", "tips_received", "total_sent", "total_received", "totals_by_currency"}
    assert [tip["_id"] for tip in body["tips_sent"]] == [str(new.id), str(old.id)]
    assert body["total_sent"] == 2
    # Unpaid tips never show up for the recipient.
    assert [tip["_id"] for tip in body["tips_received"]] == [str(received.id)]
    assert body["total_received"] == 1
    first = body["tips_sent"][0]
    assert first == {
        "_id": str(new.id),
        "from_user_id": str(me.id),
        "to_user_id": str(other.id),
        "amount": 25.5,
        "currency": "usd",
        "status": "pending",
        "message": "thanks",
        "created_at": "2025-01-29T11:50:00Z",
        # Stored without the session's own expiry: Stripe's longest lifetime.
        "expires_at": "2025-01-30T11:50:00Z",
    }
    # Amounts are exact JSON numbers with two decimals.
    assert b'"amount":25.50' in response.content
    assert b'"amount":10.00' in response.content


def test_tip_history_pagination_keeps_the_shape(alice, bob, alice_client):
    me, other = profile_of(alice), profile_of(bob)
    tips = [pending_payment(me, kind="tip", amount="1", recipient=other) for _ in range(3)]
    for minutes, tip in zip((30, 20, 10), tips, strict=True):
        _age(tip, minutes)

    first = alice_client.get(TIP_HISTORY_URL, {"limit": 2}).json()
    assert [t["_id"] for t in first["tips_sent"]] == [str(tips[2].id), str(tips[1].id)]
    assert first["total_sent"] == 3

    second = alice_client.get(TIP_HISTORY_URL, {"limit": 2, "before": first["tips_sent"][-1]["_id"]}).json()
    assert [t["_id"] for t in second["tips_sent"]] == [str(tips[0].id)]
    assert set(second) == {"tips_sent", "tips_received", "total_sent", "total_received", "totals_by_currency"}
    # Totals are counted for the first page only; an unknown `before` is ignored (a first page).
    assert (second["total_sent"], second["total_received"], second["totals_by_currency"]) == (None, None, None)
    unknown = alice_client.get(TIP_HISTORY_URL, {"limit": 2, "before": "0" * 24}).json()
    assert (unknown["tips_sent"], unknown["total_sent"]) == (first["tips_sent"], 3)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"limit": "0"}, "limit: Ensure this value is greater than or equal to 1."),
        ({"limit": "101"}, "limit: Ensure this value is less than or equal to 100."),
        ({"limit": "ten"}, "limit: A valid integer is required."),
        ({"before": "nope"}, "before: Must be a 24-character hexadecimal ObjectId"),
    ],
)
def test_tip_history_bad_query(alice_client, mongo_database, query, message):
    response = alice_client.get(TIP_HISTORY_URL, query)

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid query parameter", "message": message}
    assert_nothing_written(mongo_database)


def test_tip_history_of_new_user_is_empty(alice_client, mongo_database):
    body = alice_client.get(TIP_HISTORY_URL).json()
    assert body == {
        "tips_sent": [], "tips_received": [], "total_sent": 0, "total_received": 0, "totals_by_currency": []
    }
    assert_nothing_written(mongo_database)


def test_payment_history_filters_and_pages(alice, bob, alice_client):
    me, other = profile_of(alice), profile_of(bob)
    premium = _complete(alice_client, pending_payment(me))
    tip_done = _complete(alice_client, pending_payment(me, kind="tip", amount="5", recipient=other))
    tip_open = pending_payment(me, kind="tip", amount="6", recipient=other)
    not_mine = pending_payment(other, kind="tip", amount="7", recipient=me)
    _age(premium, 300), _age(tip_done, 200), _age(tip_open, 100), _age(not_mine, 50)

    everything = alice_client.get(HISTORY_URL).json()
    assert [p["_id"] for p in everything["results"]] == [str(tip_open.id), str(tip_done.id), str(premium.id)]
    assert everything["next_before"] is None
    assert set(everything["results"][0]) >= {"_id", "transaction_type", "amount", "currency", "status", "created_at"}

    tips = alice_client.get(HISTORY_URL, {"type": "tip"}).json()["results"]
    assert [p["_id"] for p in tips] == [str(tip_open.id), str(tip_done.id)]
    completed = alice_client.get(HISTORY_URL, {"status": "completed"}).json()["results"]
    assert [p["_id"] for p in completed] == [str(tip_done.id), str(premium.id)]
    window = alice_client.get(
        HISTORY_URL, {"created_from": "2025-01-29T07:00:01Z", "created_to": "2025-01-29T10:00:00+00:00"}
    ).json()["results"]
    assert [p["_id"] for p in window] == [str(tip_done.id)]
    day = alice_client.get(HISTORY_URL, {"created_from": "2025-01-29"}).json()["results"]
    assert len(day) == 3

    page = alice_client.get(HISTORY_URL, {"limit": 2}).json()
    assert len(page["results"]) == 2
    assert page["next_before"] == str(tip_done.id)
    rest = alice_client.get(HISTORY_URL, {"limit": 2, "before": page["next_before"]}).json()
    assert [p["_id"] for p in rest["results"]] == [str(premium.id)]
    assert rest["next_before"] is None


@pytest.mark.parametrize(
    "query",
    [
        {"type": "gift"},
        {"status": "paid"},
        {"created_from": "yesterday"},
        {"created_from": "2025-02-30"},
        {"created_from": "2025-02-01", "created_to": "2025-01-01"},
        {"before": str(ObjectId())[:-1]},
    ],
)
def test_payment_history_bad_query(alice_client, query):
    response = alice_client.get(HISTORY_URL, query)

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid query parameter"


def test_history_json_is_valid_strict_json(alice, alice_client):
    _complete(alice_client, pending_payment(profile_of(alice)))
    response = alice_client.get(HISTORY_URL)
    body = json.loads(response.content, parse_float=str)
    assert body["results"][0]["amount"] == "9.99"
    assert Payment.objects.get().exact_amount == Decimal("9.99")
