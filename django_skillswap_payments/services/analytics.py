"""The operator's revenue report: which ranges may be asked for, and the figures of one.

Days are calendar days in one time zone (UTC unless the caller names another). A range
runs from the start of its ``start`` day to the end of its ``end`` day (both included), cut
into days, ISO weeks (Monday to Sunday, labelled ``2024-W02``) or calendar months. A
payment counts in the period in which its checkout was created, and its later refunds and
disputes count in that same period: a period's refund rate is the share of its paid
payments that were refunded since. Amounts are per currency, never summed across
currencies, and exact (``Decimal``); rates are ``Decimal`` with four places.

Every period of the range is listed, each with a row for every currency that has any
payment in the range (zeros where that period has none), so a chart gets a point per
period and currency.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from typing import Any

from ..errors import PaymentError
from ..money import from_minor_units
from ..repository import analytics as store

GRANULARITIES = ("day", "week", "month")
# The longest range per granularity, in days (both ends included): a year of days,
# about five years of weeks, ten years of months.
MAX_RANGE_DAYS = {"day": 366, "week": 5 * 366, "month": 10 * 366}
DEFAULT_TOP_RECIPIENTS = 10
MAX_TOP_RECIPIENTS = 100
RATE_PLACES = Decimal("0.0001")

_PERIOD_FORMATS = {"day": "%Y-%m-%d", "week": "%G-W%V", "month": "%Y-%m"}
_DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_UTC = "UTC"


class InvalidReportRange(PaymentError):
    """The dates, granularity or time zone of a report cannot be used."""

    code = "invalid_report_range"
    default_error = "Invalid report range"


def parse_day(text: Any, name: str) -> dt.date:
    """A ``YYYY-MM-DD`` calendar date; anything else raises :class:`InvalidReportRange`."""
    if not isinstance(text, str) or not _DAY_PATTERN.fullmatch(text):
        raise InvalidReportRange(message=f"{name} must be a date written YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidReportRange(message=f"{name} is not a calendar date: {text}") from None


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_timezone(name: Any) -> str:
    """An IANA time zone name (``Europe/Paris``) or ``UTC``."""
    if name == _UTC:
        return _UTC
    # Only names from the zone database: ZoneInfo() alone also opens files by relative path.
    if not isinstance(name, str) or name not in _known_zones():
        raise InvalidReportRange(message="tz must be an IANA time zone name such as Europe/Paris, or UTC")
    return name


def utc_bounds(first: dt.date, last: dt.date, timezone: str = _UTC) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants ``[start of first, end of last)`` of whole days in ``timezone``."""
    zone = dt.timezone.utc if timezone == _UTC else zoneinfo.ZoneInfo(timezone)
    try:
        start = dt.datetime.combine(first, dt.time.min, tzinfo=zone).astimezone(dt.timezone.utc)
        if last == dt.date.max:
            return start, dt.datetime.max.replace(tzinfo=dt.timezone.utc)
        after = dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        return start, after.astimezone(dt.timezone.utc)
    except OverflowError:
        raise InvalidReportRange(message="The range must lie within the years 0001 to 9999") from None


@dataclass(frozen=True)
class Period:
    """One period of a report: its label and its first and last day within the range."""

    key: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class ReportRange:
    """A validated range: ``start`` to ``end`` (both included), cut by ``granularity``, in ``timezone``."""

    start: dt.date
    end: dt.date
    granularity: str
    timezone: str = _UTC

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """The UTC instants ``[first, after)`` the range covers."""
        return utc_bounds(self.start, self.end, self.timezone)

    def periods(self) -> list[Period]:
        periods: list[Period] = []
        day = self.start
        while day <= self.end:
            key, last = _period_of(day, self.granularity)
            periods.append(Period(key, day, min(last, self.end)))
            if last >= self.end:
                break
            day = last + dt.timedelta(days=1)
        return periods


def _period_of(day: dt.date, granularity: str) -> tuple[str, dt.date]:
    """The label of the period holding ``day`` and that period's last day."""
    if granularity == "day":
        return day.isoformat(), day
    if granularity == "week":
        year, week, weekday = day.isocalendar()
        return f"{year:04d}-W{week:02d}", day + dt.timedelta(days=7 - weekday)
    following = dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)
    return f"{day.year:04d}-{day.month:02d}", following - dt.timedelta(days=1)


def report_range(start: Any, end: Any, granularity: Any = "day", timezone: Any = _UTC) -> ReportRange:
    """Validate a report's query: dates ``YYYY-MM-DD``, ``start`` not after ``end``, a known
    granularity and a range no longer than :data:`MAX_RANGE_DAYS` allows for it."""
    first, last = parse_day(start, "from"), parse_day(end, "to")
    if granularity not in GRANULARITIES:
        raise InvalidReportRange(message=f"granularity must be one of: {', '.join(GRANULARITIES)}")
    zone = parse_timezone(timezone)
    if first > last:
        raise InvalidReportRange(message="from must not be after to")
    days = (last - first).days + 1
    if days > MAX_RANGE_DAYS[granularity]:
        raise InvalidReportRange(
            message=f"A report by {granularity} covers at most {MAX_RANGE_DAYS[granularity]} days; "
                    f"this range has {days}"
        )
    report = ReportRange(first, last, granularity, zone)
    report.bounds()  # refuses ranges that UTC cannot represent, before any query
    return report


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` to four places (half to even); ``None`` when there is nothing to divide."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, rounding=ROUND_HALF_EVEN)


def average_amount(total_minor: int, count: int, currency: str) -> Decimal | None:
    """The mean of ``count`` amounts totalling ``total_minor``, to the currency's smallest unit."""
    if not count:
        return None
    mean_minor = (Decimal(total_minor) / Decimal(count)).to_integral_value(rounding=ROUND_HALF_EVEN)
    return from_minor_units(int(mean_minor), currency)


_COUNTS = ("checkouts_started", "checkouts_completed", "premium_count", "tip_count",
           "refunded_count", "disputed_count")
_SUMS = ("gross_minor", "refunded_minor", "tip_gross_minor")


def currency_figures(currency: str, row: dict[str, Any] | None) -> dict[str, Any]:
    """The figures of one currency in one period, from a row of
    :func:`~django_skillswap_payments.repository.analytics.period_figures` (``None``: no payments)."""
    row = row or {}
    counts = {name: int(row.get(name) or 0) for name in _COUNTS}
    gross, refunded, tip_gross = (int(row.get(name) or 0) for name in _SUMS)
    paid = counts["checkouts_completed"]
    return {
        "currency": currency,
        "gross": from_minor_units(gross, currency),
        "refunded": from_minor_units(refunded, currency),
        "net": from_minor_units(gross - refunded, currency),
        **counts,
        "conversion_rate": rate(paid, counts["checkouts_started"]),
        "average_tip": average_amount(tip_gross, counts["tip_count"], currency),
        "refund_rate": rate(counts["refunded_count"], paid),
        "dispute_rate": rate(counts["disputed_count"], paid),
    }


def _recipient(row: dict[str, Any]) -> dict[str, Any]:
    currency = row["currency"]
    return {
        "user_id": str(row["user_id"]) if row.get("user_id") is not None else None,
        "django_user_id": row.get("django_user_id"),
        "gross": from_minor_units(int(row["gross_minor"]), currency),
        "refunded": from_minor_units(int(row["refunded_minor"]), currency),
        "net": from_minor_units(int(row["net_minor"]), currency),
        "count": int(row["count"]),
    }


def top_recipients_by_currency(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["currency"], []).append(_recipient(row))
    return [{"currency": currency, "recipients": grouped[currency]} for currency in sorted(grouped)]


def revenue_report(report: ReportRange, *, top: int = DEFAULT_TOP_RECIPIENTS) -> dict[str, Any]:
    """The figures of ``report`` per period and currency, and its top tip recipients.

    Two MongoDB commands, one per section.
    """
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP_RECIPIENTS:
        raise InvalidReportRange(message=f"top must be a whole number from 1 to {MAX_TOP_RECIPIENTS}")
    start, end = report.bounds()
    try:
        rows = store.period_figures(start=start, end=end, timezone=report.timezone,
                                    period_format=_PERIOD_FORMATS[report.granularity])
    except store.UnknownTimeZone:
        raise InvalidReportRange(message=f"tz {report.timezone} is not known to the database") from None
    by_key = {(row["period"], row["currency"]): row for row in rows}
    currencies = sorted({row["currency"] for row in rows})
    periods = [
        {
            "period": period.key,
            "start": period.start,
            "end": period.end,
            "currencies": [currency_figures(code, by_key.get((period.key, code))) for code in currencies],
        }
        for period in report.periods()
    ]
    recipients = store.top_tip_recipients(start=start, end=end, limit=top)
    return {
        "from": report.start,
        "to": report.end,
        "granularity": report.granularity,
        "timezone": report.timezone,
        "currencies": currencies,
        "periods": periods,
        "top_tip_recipients": top_recipients_by_currency(recipients),
    }
