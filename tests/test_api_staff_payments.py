"""GET payments/: every user's payments, for staff only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from bson import ObjectId

from django_skillswap_payments import repository

URL = "/api/payments/payments/"


def make(kind: str, status: str = "completed"):
    return repository.create_payment_transaction(
        kind,
        ObjectId(),
        Decimal("5.00"),
        to_user_id=ObjectId() if kind == "tip" else None,
        status=status,
    )


def test_anonymous_callers_are_asked_to_authenticate(anon_client):
    response = anon_client.get(URL)
    assert response.status_code == 401
    assert response.json()["error"]


def test_users_who_are_not_staff_are_refused(alice_client):
    make("premium")
    response = alice_client.get(URL)
    assert response.status_code == 403
    body = response.json()
    assert body["error"] and "_id" not in response.content.decode()


def test_staff_see_every_users_payments_newest_first(staff_client):
    made = [make("premium"), make("tip"), make("tip", status="failed")]
    response = staff_client.get(URL)
    assert response.status_code == 200
    ids = [item["_id"] for item in response.json()["results"]]
    assert ids == [str(payment.id) for payment in reversed(made)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("type=tip", {"tip"}), ("type=premium", {"premium"}), ("status=failed", {"failed"})],
)
def test_staff_filter_by_type_and_status(staff_client, query, expected):
    make("premium")
    make("tip")
    make("tip", status="failed")
    results = staff_client.get(f"{URL}?{query}").json()["results"]
    key = "transaction_type" if query.startswith("type") else "status"
    assert results and {item[key] for item in results} == expected


def test_pages_continue_from_the_last_id(staff_client):
    made = [make("tip") for _ in range(5)]
    first = staff_client.get(f"{URL}?limit=2").json()
    second = staff_client.get(f"{URL}?limit=2&before={first['next_before']}").json()
    assert [item["_id"] for item in first["results"] + second["results"]] == [
        str(payment.id) for payment in reversed(made)
    ][:4]


@pytest.mark.parametrize(
    "query", ["type=gift", "status=lost", "limit=0", "limit=abc", "before=xyz", "created_from=yesterday"]
)
def test_bad_filters_are_a_400(staff_client, query):
    response = staff_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json()["error"]
