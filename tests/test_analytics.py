"""GET payments/analytics/: the revenue report, checked against figures worked out by hand
(tests/support/revenue.py numbers the payments)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from bson import ObjectId

from django_skillswap_payments import strict_json
from django_skillswap_payments.documents import Payment
from django_skillswap_payments.repository import analytics as store
from django_skillswap_payments.services import analytics
from tests.support.api import BASE
from tests.support.commands import assert_mongo_commands
from tests.support.database import snapshot
from tests.support.revenue import R1, R2, R3, figures, payment_document, store_revenue_documents

pytestmark = pytest.mark.django_db

ANALYTICS_URL = BASE + "payments/analytics/"
RANGE = {"from": "2024-01-29", "to": "2024-02-11"}


@pytest.fixture
def dataset():
    return store_revenue_documents()


def report(client, **query):
    response = client.get(ANALYTICS_URL, {**RANGE, **query})
    assert response.status_code == 200, response.content
    return strict_json.loads(response.content.decode(), exact_decimals=True)


def by_period(body):
    return {period["period"]: period for period in body["periods"]}


def test_monthly_figures(staff_client, dataset):
    body = report(staff_client, granularity="month")

    assert (body["from"], body["to"], body["granularity"], body["timezone"]) == (
        "2024-01-29", "2024-02-11", "month", "UTC")
    assert body["currencies"] == ["jpy", "usd"]
    january, february = body["periods"]
    assert (january["period"], january["start"], january["end"]) == ("2024-01", "2024-01-29", "2024-01-31")
    assert (february["period"], february["start"], february["end"]) == ("2024-02", "2024-02-01", "2024-02-11")
    assert january["currencies"] == [
        figures("jpy"),
        # 1 only: 8 and 9 fall outside the range.
        figures("usd", gross="9.99", net="9.99", checkouts_started=1, checkouts_completed=1, premium_count=1,
                conversion_rate="1", refund_rate="0", dispute_rate="0"),
    ]
    assert february["currencies"] == [
        # 11-14: paid 1000 + 333 + 501, 100 of 12 refunded (its failed refund does not count),
        # mean tip 1834 / 3 = 611.33 -> 611, 14's lost dispute counts.
        figures("jpy", gross="1834", refunded="100", net="1734", checkouts_started=4, checkouts_completed=3,
                tip_count=3, refunded_count=1, disputed_count=1, conversion_rate="0.7500",
                average_tip="611", refund_rate="0.3333", dispute_rate="0.3333"),
        # 2-7 (10 is a legacy subscription): paid 500 + 300 + 1000 + 250, refunded 200 + 300,
        # mean tip 2050 / 4 = 512.5 -> 512 (half to even); 7's inquiry is not a dispute.
        figures("usd", gross="20.50", refunded="5.00", net="15.50", checkouts_started=6, checkouts_completed=4,
                tip_count=4, refunded_count=2, disputed_count=1, conversion_rate="0.6667",
                average_tip="5.12", refund_rate="0.5000", dispute_rate="0.2500"),
    ]


def test_amounts_keep_their_digits_in_the_json(staff_client, dataset):
    text = staff_client.get(ANALYTICS_URL, {**RANGE, "granularity": "month"}).content.decode()

    assert '"gross":20.50' in text and '"average_tip":5.12' in text and '"gross":1834,' in text
    assert '"conversion_rate":0.6667' in text and '"refund_rate":null' in text


def test_weekly_figures_follow_iso_weeks(staff_client, dataset):
    body = report(staff_client, granularity="week")

    week5, week6 = body["periods"]
    assert (week5["period"], week5["start"], week5["end"]) == ("2024-W05", "2024-01-29", "2024-02-04")
    assert (week6["period"], week6["start"], week6["end"]) == ("2024-W06", "2024-02-05", "2024-02-11")
    assert week5["currencies"] == [
        figures("jpy", gross="1000", net="1000", checkouts_started=1, checkouts_completed=1, tip_count=1,
                conversion_rate="1", average_tip="1000", refund_rate="0", dispute_rate="0"),
        # 1, 2, 3, 6, 7 (7 at the last second of Sunday); tips 500 + 300 + 250 -> mean 3.50.
        figures("usd", gross="20.49", refunded="5.00", net="15.49", checkouts_started=5, checkouts_completed=4,
                premium_count=1, tip_count=3, refunded_count=2, conversion_rate="0.8", average_tip="3.50",
                refund_rate="0.5", dispute_rate="0"),
    ]
    assert week6["currencies"] == [
        # 12, 13, 14: mean tip (333 + 501) / 2 = 417.
        figures("jpy", gross="834", refunded="100", net="734", checkouts_started=3, checkouts_completed=2,
                tip_count=2, refunded_count=1, disputed_count=1, conversion_rate="0.6667", average_tip="417",
                refund_rate="0.5", dispute_rate="0.5"),
        # 4 (disputed) and 5 (never paid).
        figures("usd", gross="10.00", net="10.00", checkouts_started=2, checkouts_completed=1, tip_count=1,
                disputed_count=1, conversion_rate="0.5", average_tip="10.00", refund_rate="0", dispute_rate="1"),
    ]


def test_daily_figures_list_every_day_of_the_range(staff_client, dataset):
    body = report(staff_client, granularity="day")
    periods = by_period(body)

    assert list(periods) == [(dt.date(2024, 1, 29) + dt.timedelta(days=n)).isoformat() for n in range(14)]
    assert periods["2024-01-29"]["currencies"] == [figures("jpy"), figures("usd")]
    assert periods["2024-01-31"]["currencies"][1]["gross"] == Decimal("9.99")
    # 2 and 3: the first instant of February belongs to February 1st.
    assert periods["2024-02-01"]["currencies"][1] == figures(
        "usd", gross="8.00", refunded="5.00", net="3.00", checkouts_started=2, checkouts_completed=2, tip_count=2,
        refunded_count=2, conversion_rate="1", average_tip="4.00", refund_rate="1", dispute_rate="0")
    assert periods["2024-02-04"]["currencies"][1]["checkouts_started"] == 2
    assert periods["2024-02-11"]["currencies"] == [figures("jpy"), figures("usd")]


def test_a_time_zone_moves_the_day_boundaries(staff_client, dataset):
    body = report(staff_client, granularity="month", tz="Europe/Paris")
    january, february = body["periods"]

    assert body["timezone"] == "Europe/Paris"
    # 9 (23:59 UTC on the 28th) is 00:59 on the 29th in Paris; 1 is already February 1st there.
    assert january["currencies"][1]["gross"] == Decimal("9.99")
    assert february["currencies"][1]["gross"] == Decimal("30.49")
    assert february["currencies"][1]["premium_count"] == 1


def test_top_tip_recipients_by_net_amount_per_currency(staff_client, dataset):
    body = report(staff_client)

    assert body["top_tip_recipients"] == [
        {"currency": "jpy", "recipients": [
            {"user_id": str(R1), "django_user_id": "101", "gross": 1333, "refunded": 100, "net": 1233, "count": 2},
            {"user_id": str(R3), "django_user_id": None, "gross": 501, "refunded": 0, "net": 501, "count": 1},
        ]},
        {"currency": "usd", "recipients": [
            # 6 expired unpaid: not counted.
            {"user_id": str(R2), "django_user_id": "102", "gross": Decimal("12.50"), "refunded": Decimal("0.00"),
             "net": Decimal("12.50"), "count": 2},
            {"user_id": str(R1), "django_user_id": "101", "gross": Decimal("8.00"), "refunded": Decimal("5.00"),
             "net": Decimal("3.00"), "count": 2},
        ]},
    ]
    top_one = report(staff_client, top="1")["top_tip_recipients"]
    assert [[r["user_id"] for r in entry["recipients"]] for entry in top_one] == [[str(R1)], [str(R2)]]


def test_an_empty_range_lists_its_periods_without_currencies(staff_client):
    body = report(staff_client, granularity="week")

    assert body["currencies"] == [] and body["top_tip_recipients"] == []
    assert [(p["period"], p["currencies"]) for p in body["periods"]] == [("2024-W05", []), ("2024-W06", [])]


def test_a_whole_leap_year_by_day_is_allowed(staff_client):
    body = report(staff_client, **{"from": "2024-01-01", "to": "2024-12-31"})

    assert len(body["periods"]) == 366


@pytest.mark.parametrize(("query", "fragment"), [
    ({"from": None}, "from is required"),
    ({"to": None}, "to is required"),
    ({"from": ""}, "from"),
    ({"from": "2024-1-29"}, "YYYY-MM-DD"),
    ({"from": "20240129"}, "YYYY-MM-DD"),
    ({"from": "2024-01-29T00:00:00"}, "YYYY-MM-DD"),
    ({"from": " 2024-01-29"}, "YYYY-MM-DD"),
    ({"from": "\u0662\u0660\u0662\u0664-01-29"}, "YYYY-MM-DD"),
    ({"to": "2024-02-30"}, "not a calendar date"),
    ({"to": "2024-13-01"}, "not a calendar date"),
    ({"from": "0000-01-01"}, "not a calendar date"),
    ({"to": "x" * 500}, "to"),
    ({"granularity": "year"}, "granularity must be one of"),
    ({"granularity": "DAY"}, "granularity must be one of"),
    ({"granularity": ""}, "granularity"),
    ({"tz": "Mars/Olympus"}, "tz must be"),
    ({"tz": "../../etc/passwd"}, "tz must be"),
    ({"tz": "+05:00"}, "tz must be"),
    ({"top": "0"}, "top"),
    ({"top": "101"}, "top"),
    ({"top": "ten"}, "top"),
    ({"top": "1.5"}, "top"),
    ({"from": "2024-02-12", "to": "2024-02-11"}, "from must not be after to"),
    ({"from": "2024-01-01", "to": "2025-01-01"}, "at most 366 days"),
    ({"from": "2020-01-01", "to": "2025-01-06", "granularity": "week"}, "at most 1830 days"),
    ({"from": "2000-01-01", "to": "2010-12-31", "granularity": "month"}, "at most 3660 days"),
    ({"from": "0001-01-01", "to": "0001-01-02", "tz": "Asia/Tokyo"}, "years 0001 to 9999"),
], ids=lambda value: repr(value)[:40])
def test_bad_queries_are_refused_with_a_json_400(staff_client, dataset, mongo_database, query, fragment):
    params = {key: value for key, value in {**RANGE, **query}.items() if value is not None}
    before = snapshot(mongo_database)

    response = staff_client.get(ANALYTICS_URL, params)

    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error", "message"} and fragment in body["message"], body
    assert snapshot(mongo_database) == before


def test_anonymous_callers_get_401(anon_client):
    response = anon_client.get(ANALYTICS_URL, RANGE)

    assert response.status_code == 401
    assert response.json()["error"] == "Authentication required"
    assert response.has_header("WWW-Authenticate")


def test_users_who_are_not_staff_get_403(alice_client):
    response = alice_client.get(ANALYTICS_URL, RANGE)

    assert response.status_code == 403
    assert response.json()["error"] == "Permission denied"


def test_the_route_answers_without_its_trailing_slash(staff_client):
    assert staff_client.get(ANALYTICS_URL.rstrip("/"), RANGE).status_code == 200


# -- one round trip per section, on indexed fields --------------------------------------


@pytest.fixture
def busy_days():
    """Two currencies on each of the first 55 days of 2024: 110 rows of period figures, more than
    the 101 documents of a default first batch."""
    day = dt.datetime(2024, 1, 1, 12, tzinfo=dt.timezone.utc)
    documents = []
    for n in range(55):
        created = (day + dt.timedelta(days=n)).isoformat()[:19]
        documents.append(payment_document("tip", "completed", 100, "usd", created, ObjectId()))
        documents.append(payment_document("premium", "completed", 1000, "jpy", created))
    Payment._get_collection().insert_many(documents)


def test_each_section_is_one_command(busy_days):
    start, end = analytics.utc_bounds(dt.date(2024, 1, 1), dt.date(2024, 12, 31))

    with assert_mongo_commands(1) as commands:
        rows = store.period_figures(start=start, end=end, period_format="%Y-%m-%d")
    assert len(rows) == 110 and commands[0][0] == "aggregate"
    with assert_mongo_commands(1):
        recipients = store.top_tip_recipients(start=start, end=end, limit=50)
    assert len(recipients) == 50


def test_the_endpoint_sends_two_commands(staff_client, busy_days):
    with assert_mongo_commands(2):
        body = report(staff_client, **{"from": "2024-01-01", "to": "2024-12-31"})
    assert body["periods"][54]["currencies"][1]["gross"] == Decimal("1.00")
    assert body["periods"][55]["currencies"][1]["gross"] == Decimal("0.00")


def _declared_payment_indexes():
    return [[name for name, _ in spec["fields"]] for spec in Payment._meta["index_specs"]]


@pytest.mark.parametrize("pipeline", [
    store.period_figures_pipeline(start=dt.datetime(2024, 1, 1), end=dt.datetime(2024, 2, 1),
                                  period_format="%Y-%m", timezone="UTC"),
    store.top_tip_recipients_pipeline(start=dt.datetime(2024, 1, 1), end=dt.datetime(2024, 2, 1), limit=5),
], ids=["periods", "top-recipients"])
def test_each_aggregation_starts_with_a_match_an_index_serves(pipeline):
    match = pipeline[0]["$match"]
    # Equality ($in) fields first, the range last: the order of the declared index.
    assert list(match) in _declared_payment_indexes()
    assert set(match["created_at"]) == {"$gte", "$lt"}
    assert all(set(match[field]) == {"$in"} for field in list(match)[:-1])


def test_a_zone_python_knows_but_the_database_does_not_is_a_400(staff_client, dataset, monkeypatch):
    # MongoDB's zone data may be older than Python's: stand in for that by sending it a name it lacks.
    real_pipeline = store.period_figures_pipeline
    monkeypatch.setattr(store, "period_figures_pipeline",
                        lambda **kwargs: real_pipeline(**{**kwargs, "timezone": "Mars/Olympus"}))

    response = staff_client.get(ANALYTICS_URL, {**RANGE, "tz": "Europe/Paris"})

    assert response.status_code == 400
    assert response.json() == {"error": "Invalid report range",
                               "message": "tz Europe/Paris is not known to the database"}


def test_payments_stored_without_refund_or_dispute_fields(staff_client):
    """Payments as this version's documents store them, none of the refund or dispute fields set."""
    from django_skillswap_payments.testing.factories import PaymentFactory
    from tests.support.revenue import at

    created = at("2024-02-01T08:00:00")
    PaymentFactory(completed=True, created_at=created)
    PaymentFactory(refunded=True, created_at=created)
    PaymentFactory(tip=True, completed=True, created_at=created)
    PaymentFactory(tip=True, failed=True, created_at=created)

    body = report(staff_client, **{"from": "2024-02-01", "to": "2024-02-01"})

    assert body["periods"][0]["currencies"] == [figures(
        "usd", gross="24.98", refunded="9.99", net="14.99", checkouts_started=4, checkouts_completed=3,
        premium_count=2, tip_count=1, refunded_count=1, conversion_rate="0.75", average_tip="5.00",
        refund_rate="0.3333", dispute_rate="0")]


def test_weeks_around_new_year_use_the_iso_week_year(staff_client):
    # December 30th 2024 is the Monday of ISO week 1 of 2025.
    Payment._get_collection().insert_many([
        payment_document("premium", "completed", 999, "usd", "2024-12-29T23:59:59.999"),
        payment_document("premium", "completed", 999, "usd", "2024-12-30T00:00:00"),
    ])

    body = report(staff_client, **{"from": "2024-12-28", "to": "2025-01-05"}, granularity="week")

    assert [(p["period"], p["start"], p["end"], p["currencies"][0]["gross"]) for p in body["periods"]] == [
        ("2024-W52", "2024-12-28", "2024-12-29", Decimal("9.99")),
        ("2025-W01", "2024-12-30", "2025-01-05", Decimal("9.99")),
    ]
