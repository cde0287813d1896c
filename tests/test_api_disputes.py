"""GET payments/disputes/: the staff list of disputed payments."""

from __future__ import annotations

import pytest
from django.test import override_settings

from django_skillswap_payments.dispute_records import DISPUTE_STATUSES
from django_skillswap_payments.documents import Payment
from tests.support.api import BASE, client_for
from tests.support.database import assert_nothing_written, pending_payment, profile_of, snapshot
from tests.support.disputes import CREATED_AT, dispute_object, send
from tests.support.stripe_objects import session_object
from tests.support.webhooks import deliver

pytestmark = pytest.mark.django_db

DISPUTES_URL = BASE + "payments/disputes/"


def disputed(anon_client, profile, *, status="needs_response", created=CREATED_AT, kind="premium", recipient=None):
    payment = pending_payment(profile, kind=kind, amount="12.50" if kind == "tip" else "9.99", recipient=recipient)
    deliver(anon_client, "checkout.session.completed", session_object(payment))
    send(anon_client, "charge.dispute.created", dispute_object(payment, status=status, created=created), at=created)
    return payment


def test_anonymous_callers_get_401(anon_client):
    response = anon_client.get(DISPUTES_URL)

    assert response.status_code == 401
    assert response.json()["error"] == "Authentication required"


def test_users_who_are_not_staff_get_403(alice_client):
    response = alice_client.get(DISPUTES_URL)

    assert response.status_code == 403
    assert response.json()["error"] == "Permission denied"


def test_the_staff_permission_setting_decides_who_is_staff(alice, payments_settings):
    with override_settings(SKILLSWAP_PAYMENTS={**payments_settings,
                                               "STAFF_PERMISSION": "rest_framework.permissions.IsAuthenticated"}):
        assert client_for(alice).get(DISPUTES_URL).status_code == 200


def test_lists_each_disputed_payment_with_its_dispute(staff_client, anon_client, alice, bob):
    tip = disputed(anon_client, profile_of(alice), kind="tip", recipient=profile_of(bob), created=CREATED_AT + 5)
    pending_payment(profile_of(bob))  # not disputed: not listed

    body = staff_client.get(DISPUTES_URL).json()

    assert body["next_before"] is None
    assert body["results"] == [{
        "payment_id": str(tip.id),
        "transaction_type": "tip",
        "from_user_id": str(profile_of(alice).id),
        "to_user_id": str(profile_of(bob).id),
        "payment_status": "completed",
        "dispute_id": f"dp_test_{tip.id}",
        "amount": 12.5,
        "currency": "usd",
        "reason": "fraudulent",
        "status": "needs_response",
        "evidence_due_by": "2026-09-28T14:13:20Z",
        "created_at": "2026-09-21T14:13:25Z",
        "closed_at": None,
        "premium_revoked_at": None,
    }]


def test_newest_dispute_first_and_filtered_by_status(staff_client, anon_client, make_user):
    statuses = ["needs_response", "lost", "needs_response", "won", "under_review"]
    payments = [
        disputed(anon_client, profile_of(make_user()), status=status, created=CREATED_AT + 10 * i)
        for i, status in enumerate(statuses)
    ]

    listed = [item["payment_id"] for item in staff_client.get(DISPUTES_URL).json()["results"]]
    assert listed == [str(p.id) for p in reversed(payments)]

    needs_response = staff_client.get(DISPUTES_URL, {"status": "needs_response"}).json()["results"]
    assert [item["payment_id"] for item in needs_response] == [str(payments[2].id), str(payments[0].id)]
    lost = staff_client.get(DISPUTES_URL, {"status": "lost"}).json()["results"]
    assert [(item["payment_id"], item["status"]) for item in lost] == [(str(payments[1].id), "lost")]
    assert lost[0]["closed_at"] is not None and lost[0]["premium_revoked_at"] is not None


def test_pages_follow_each_other_without_gaps_or_repeats(staff_client, anon_client, make_user):
    # Two pairs share their creation second: the payment id breaks the tie.
    times = [CREATED_AT, CREATED_AT, CREATED_AT + 1, CREATED_AT + 1, CREATED_AT + 2]
    payments = [disputed(anon_client, profile_of(make_user()), created=t) for t in times]
    expected = [str(p.id) for p in sorted(payments, key=lambda p: (times[payments.index(p)], p.id), reverse=True)]

    seen, before, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"before": before} if before else {})}
        body = staff_client.get(DISPUTES_URL, params).json()
        seen += [item["payment_id"] for item in body["results"]]
        pages += 1
        before = body["next_before"]
        if before is None:
            break
    assert seen == expected
    assert pages == 3


@pytest.mark.parametrize("query", [
    {"status": "open"},
    {"status": "LOST"},
    {"status": ""},
    {"status": "completed"},
    {"limit": "0"},
    {"limit": "101"},
    {"limit": "ten"},
    {"before": "not-an-id"},
    {"before": "0" * 23},
])
def test_bad_query_parameters_get_400_json(staff_client, anon_client, alice, mongo_database, query):
    disputed(anon_client, profile_of(alice))
    before = snapshot(mongo_database)

    response = staff_client.get(DISPUTES_URL, query)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "Invalid query parameter"
    assert next(iter(query)) in response.json()["message"]
    assert_nothing_written(mongo_database, before)


@pytest.mark.parametrize("status", DISPUTE_STATUSES)
def test_every_stripe_status_is_a_valid_filter(staff_client, status):
    assert staff_client.get(DISPUTES_URL, {"status": status}).status_code == 200


def test_the_list_query_uses_the_declared_index(anon_client, alice):
    disputed(anon_client, profile_of(alice))
    keys = [index["key"] for index in Payment._get_collection().index_information().values()]
    assert [("dispute_status", 1), ("disputed_at", -1), ("_id", -1)] in keys
    assert [("disputed_at", -1), ("_id", -1)] in keys
