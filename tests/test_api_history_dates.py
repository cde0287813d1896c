"""payments/history/ date filters: whole days, odd dates and dates UTC cannot hold."""

from __future__ import annotations

import datetime as dt

import pytest

from django_skillswap_payments.documents import Payment
from tests.support.api import HISTORY_URL
from tests.support.database import assert_nothing_written, pending_payment, profile_of

pytestmark = pytest.mark.django_db

UTC = dt.timezone.utc
DAY = dt.date(2025, 1, 29)


def _at(moment: dt.datetime, profile) -> str:
    payment = pending_payment(profile)
    Payment.objects(id=payment.id).update_one(set__created_at=moment, unset__open_checkout_slot=True)
    return str(payment.id)


@pytest.fixture
def around_the_day(alice):
    """Payments at the edges of DAY (UTC), by name."""
    me = profile_of(alice)
    start = dt.datetime.combine(DAY, dt.time.min, tzinfo=UTC)
    moments = {
        "day before, last ms": start - dt.timedelta(milliseconds=1),
        "midnight": start,
        "noon": start + dt.timedelta(hours=12),
        "last ms": start + dt.timedelta(days=1, milliseconds=-1),
        "next midnight": start + dt.timedelta(days=1),
    }
    return {name: _at(moment, me) for name, moment in moments.items()}


def _ids(client, **query) -> set[str]:
    response = client.get(HISTORY_URL, query)
    assert response.status_code == 200, response.json()
    return {payment["_id"] for payment in response.json()["results"]}


def _named(payments: dict[str, str], *names: str) -> set[str]:
    return {payments[name] for name in names}


@pytest.mark.parametrize("spelling", ["2025-01-29", "20250129", "2025-W05-3", "2025-1-29"])
def test_same_date_as_from_and_to_lists_that_whole_day(alice_client, around_the_day, spelling):
    found = _ids(alice_client, created_from=spelling, created_to=spelling)
    assert found == _named(around_the_day, "midnight", "noon", "last ms")


def test_date_only_created_to_includes_that_day(alice_client, around_the_day):
    found = _ids(alice_client, created_to="2025-01-29")
    assert found == _named(around_the_day, "day before, last ms", "midnight", "noon", "last ms")


@pytest.mark.parametrize(
    ("created_to", "names"),
    [
        ("2025-01-29T00:00:00Z", ("day before, last ms",)),
        ("2025-01-29T00:00:00", ("day before, last ms",)),
        ("2025-01-29T12:00:00Z", ("day before, last ms", "midnight")),
        ("2025-01-29T23:59:59.999Z", ("day before, last ms", "midnight", "noon")),
        ("2025-01-30T00:00:00+00:00", ("day before, last ms", "midnight", "noon", "last ms")),
        ("2025-01-30T01:00:00+01:00", ("day before, last ms", "midnight", "noon", "last ms")),
    ],
)
def test_datetime_created_to_stays_exclusive(alice_client, around_the_day, created_to, names):
    assert _ids(alice_client, created_to=created_to) == _named(around_the_day, *names)


def test_created_from_date_is_the_start_of_the_day(alice_client, around_the_day):
    found = _ids(alice_client, created_from="2025-01-29")
    assert found == _named(around_the_day, "midnight", "noon", "last ms", "next midnight")


@pytest.mark.parametrize(
    "query",
    [
        {"created_from": "0001-01-01"},
        {"created_from": "0001-01-01T00:00:00"},
        {"created_from": "0001-01-01T00:00:00-05:00"},
        {"created_to": "9999-12-31"},
        {"created_to": "9999-12-31T23:59:59.999999"},
        {"created_to": "9999-12-31T23:59:59+05:00"},
        {"created_from": "0001-01-01", "created_to": "9999-12-31"},
        {"created_from": "2025-01-29T12:00:00Z", "created_to": "2025-01-29"},
        {"created_from": "2025-01-29T00:00:00Z", "created_to": "2025-01-29T00:00:00Z"},
    ],
)
def test_extreme_but_representable_bounds_are_accepted(alice_client, around_the_day, query):
    _ids(alice_client, **query)


ODD_DATES = [
    # outside what UTC can represent once the offset is applied
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T04:59:59.999999+05:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T20:00:00-04:00",
    "9999-12-31T00:01:00-23:59",
    # impossible or out-of-format calendar values
    "2024-02-30",
    "2023-02-29",
    "2024-13-01",
    "2024-00-10",
    "2024-01-32",
    "0000-01-01",
    "10000-01-01",
    "99999-01-01T00:00:00",
    "+002024-01-01",
    "-0001-01-01",
    "2024-01-01T25:00",
    "2024-01-01T10:60",
    "2024-01-01T10:00:60",
    "2024-01-01T00:00:00+24:00",
    "2024-01-01T00:00:00-99:99",
    "2024-W54-1",
    "2024-W01-8",
    # non-ASCII digits and look-alikes
    "٢٠٢٤-٠١-٠١",
    "۲۰۲۴-۰۱-۰۱",
    "２０２４-０１-０１",
    "२०२४-०१-०१",
    "2024-01-01T１０:00:00",
    "2024\u201101-01",
    # not dates at all
    "",
    " ",
    "yesterday",
    "NaN",
    "null",
    "2024-01-01\x00",
    "2024-01-01T10:00:00Z" * 3,
    "1" * 100,
    "2024-01-01T10:00:00." + "1" * 100,
]


@pytest.mark.parametrize("field", ["created_from", "created_to"])
@pytest.mark.parametrize("value", ODD_DATES)
def test_odd_dates_are_a_400_and_write_nothing(alice_client, mongo_database, field, value):
    response = alice_client.get(HISTORY_URL, {field: value})

    assert response.status_code == 400, response.content[:200]
    body = response.json()
    assert body["error"] == "Invalid query parameter"
    assert body["message"].startswith(f"{field}: ")
    assert_nothing_written(mongo_database)


@pytest.mark.parametrize("value", ODD_DATES[:6])
def test_dates_beyond_utc_say_so(alice_client, value):
    response = alice_client.get(HISTORY_URL, {"created_from": value})
    assert response.json()["message"] == "created_from: Date is out of range (years 0001 to 9999, UTC)"


def test_inverted_range_of_a_single_day_is_still_refused(alice_client):
    response = alice_client.get(HISTORY_URL, {"created_from": "2025-01-30", "created_to": "2025-01-29"})
    assert response.status_code == 400
    assert response.json()["message"] == "created_from must not be after created_to"
