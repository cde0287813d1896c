"""Date-range bounds in query strings: ISO 8601 dates and datetimes, read in UTC."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from rest_framework import serializers

from .schema import field_type

# Longer than any ISO 8601 datetime; keeps odd query strings away from the parsers.
MAX_DATE_LENGTH = 64
_DATE_FORMAT_ERROR = "Must be an ISO 8601 date or datetime"
_DATE_RANGE_ERROR = "Date is out of range (years 0001 to 9999, UTC)"
_LAST_INSTANT = dt.datetime.max.replace(tzinfo=dt.timezone.utc)


@field_type("datetime")
class DateBoundField(serializers.Field):
    """A bound of a date range: an ISO 8601 datetime, or a date (UTC days).

    A date alone means the start of that day, or with ``date_is_whole_day``
    the start of the next one, so that an exclusive upper bound of
    ``2024-05-01`` still includes all of May 1st. Naive datetimes are UTC.
    The value is returned in UTC; one that UTC cannot represent (such as
    ``0001-01-01T00:00:00+05:00``) is refused rather than overflowing later.
    """

    def __init__(self, *, date_is_whole_day: bool = False, **kwargs: Any) -> None:
        self.date_is_whole_day = date_is_whole_day
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dt.datetime:
        # Django's parsers accept any Unicode digit ("٢٠٢٤-٠١-٠١"); ISO 8601 means ASCII.
        if not isinstance(data, str) or not data.isascii() or len(data) > MAX_DATE_LENGTH:
            raise serializers.ValidationError(_DATE_FORMAT_ERROR)
        try:
            day = parse_date(data)
            moment = parse_datetime(data) if day is None else None
        except ValueError:  # well-formed but impossible, e.g. 2024-02-30 or 25:00
            raise serializers.ValidationError(_DATE_FORMAT_ERROR) from None
        try:
            if day is not None:
                return self._day_bound(day)
            if moment is None:
                raise serializers.ValidationError(_DATE_FORMAT_ERROR)
            if timezone.is_naive(moment):
                return moment.replace(tzinfo=dt.timezone.utc)
            return moment.astimezone(dt.timezone.utc)
        except OverflowError:
            raise serializers.ValidationError(_DATE_RANGE_ERROR) from None

    def _day_bound(self, day: dt.date) -> dt.datetime:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.timezone.utc)
        if not self.date_is_whole_day:
            return start
        if day == dt.date.max:
            return _LAST_INSTANT
        return start + dt.timedelta(days=1)


def is_date_only(text: Any) -> bool:
    """Whether ``text`` is a date without a time, as :class:`DateBoundField` reads it."""
    try:
        return isinstance(text, str) and text.isascii() and parse_date(text) is not None
    except ValueError:
        return False
