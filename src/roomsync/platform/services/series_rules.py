"""A recurring booking's pattern in Graph's ``patternedRecurrence`` shape, checked and
expanded into its occurrences' dates.

The shape follows Microsoft's api-reference/v1.0/resources/patternedrecurrence.md,
recurrencepattern.md and recurrencerange.md: ``pattern`` (``type``, ``interval``,
``daysOfWeek``, ``dayOfMonth``, ``index``, ``firstDayOfWeek``) and ``range`` (``type``,
``startDate``, ``endDate`` or ``numberOfOccurrences``). Supported: ``daily``, ``weekly``,
``absoluteMonthly`` and ``relativeMonthly``, ending on a date (``endDate``) or after a
number of occurrences (``numbered``). An ``absoluteMonthly`` day that a month lacks (the
31st in April) skips that month, as Graph does. ``relativeMonthly`` picks the ``index``-th
day of the month that is one of ``daysOfWeek`` (so ``first`` of Monday..Friday is the first
weekday of the month). Dates are wall-clock dates in the building's time zone; the caller
puts the first occurrence's local time of day on each.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from roomsync.platform.exceptions import InvalidInputError

MAX_OCCURRENCES = 200
MAX_SPAN_DAYS = 2 * 366
MAX_INTERVAL = 99
PATTERN_TYPES = ("daily", "weekly", "absoluteMonthly", "relativeMonthly")
RANGE_TYPES = ("endDate", "numbered")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
INDEXES = ("first", "second", "third", "fourth", "last")

_PATTERN = "recurrence.pattern"
_RANGE = "recurrence.range"


@dataclass(frozen=True)
class Recurrence:
    """A checked pattern; ``end_date`` or ``count`` bounds it (never both, never neither)."""

    type: str
    interval: int
    days_of_week: frozenset[int]
    day_of_month: int | None
    index: str
    first_day_of_week: int
    start_date: date
    end_date: date | None
    count: int | None

    def as_graph(self) -> dict[str, Any]:
        """The pattern as Graph's ``patternedRecurrence`` JSON."""
        pattern: dict[str, Any] = {"type": self.type, "interval": self.interval}
        if self.days_of_week:
            pattern["daysOfWeek"] = [WEEKDAYS[day] for day in sorted(self.days_of_week)]
        if self.type == "weekly":
            pattern["firstDayOfWeek"] = WEEKDAYS[self.first_day_of_week]
        if self.day_of_month is not None:
            pattern["dayOfMonth"] = self.day_of_month
        if self.type == "relativeMonthly":
            pattern["index"] = self.index
        range_: dict[str, Any] = {"startDate": self.start_date.isoformat()}
        if self.end_date is not None:
            range_ |= {"type": "endDate", "endDate": self.end_date.isoformat()}
        else:
            range_ |= {"type": "numbered", "numberOfOccurrences": self.count}
        return {"pattern": pattern, "range": range_}


def parse_recurrence(raw: Any, *, first_date: date) -> Recurrence:
    """Check ``raw`` (the request's ``recurrence``); ``first_date`` is the local date of the
    booking's ``start``, which ``range.startDate`` must equal when given."""
    if not isinstance(raw, dict):
        raise InvalidInputError(
            "recurrence must be an object with pattern and range.", field="recurrence"
        )
    pattern = _object(raw.get("pattern"), _PATTERN)
    range_ = _object(raw.get("range"), _RANGE)
    kind = pattern.get("type")
    if kind not in PATTERN_TYPES:
        raise InvalidInputError(
            f"{_PATTERN}.type must be one of {', '.join(PATTERN_TYPES)}.", field=f"{_PATTERN}.type"
        )
    interval = pattern.get("interval", 1)
    if (
        not isinstance(interval, int)
        or isinstance(interval, bool)
        or not 1 <= interval <= MAX_INTERVAL
    ):
        raise InvalidInputError(
            f"{_PATTERN}.interval must be a whole number from 1 to {MAX_INTERVAL}.",
            field=f"{_PATTERN}.interval",
        )
    days = _days_of_week(pattern.get("daysOfWeek"))
    if kind in ("daily", "absoluteMonthly") and days:
        raise InvalidInputError(
            f"{_PATTERN}.daysOfWeek does not apply to a {kind} pattern.",
            field=f"{_PATTERN}.daysOfWeek",
        )
    if kind in ("weekly", "relativeMonthly") and not days:
        raise InvalidInputError(
            f"{_PATTERN}.daysOfWeek must name at least one day for a {kind} pattern.",
            field=f"{_PATTERN}.daysOfWeek",
        )
    day_of_month = pattern.get("dayOfMonth")
    if kind == "absoluteMonthly":
        if (
            not isinstance(day_of_month, int)
            or isinstance(day_of_month, bool)
            or not 1 <= day_of_month <= 31
        ):
            raise InvalidInputError(
                f"{_PATTERN}.dayOfMonth must be a day from 1 to 31.", field=f"{_PATTERN}.dayOfMonth"
            )
    else:
        day_of_month = None
    index = pattern.get("index", "first")
    if index not in INDEXES:
        raise InvalidInputError(
            f"{_PATTERN}.index must be one of {', '.join(INDEXES)}.", field=f"{_PATTERN}.index"
        )
    first_day = _weekday(pattern.get("firstDayOfWeek", "sunday"), f"{_PATTERN}.firstDayOfWeek")
    return Recurrence(
        type=kind,
        interval=interval,
        days_of_week=days,
        day_of_month=day_of_month,
        index=index,
        first_day_of_week=first_day,
        **_range(range_, first_date),
    )


def occurrence_dates(recurrence: Recurrence) -> list[date]:
    """The local dates of every occurrence, in order; 422 when there are none or more than
    :data:`MAX_OCCURRENCES`."""
    last_day = recurrence.start_date + timedelta(days=MAX_SPAN_DAYS)
    if recurrence.end_date is not None:
        last_day = recurrence.end_date
    limit = recurrence.count if recurrence.count is not None else MAX_OCCURRENCES + 1
    dates: list[date] = []
    for day in _candidates(recurrence, last_day):
        dates.append(day)
        if len(dates) >= limit:
            break
    if not dates:
        raise InvalidInputError(
            "The pattern yields no occurrence between range.startDate and its end.",
            field=_PATTERN,
        )
    if recurrence.count is not None and len(dates) < recurrence.count:
        raise InvalidInputError(
            "A series may span at most two years: fewer occurrences fit in that time.",
            field=f"{_RANGE}.numberOfOccurrences",
        )
    if len(dates) > MAX_OCCURRENCES:
        raise InvalidInputError(
            f"A series may have at most {MAX_OCCURRENCES} occurrences.", field=f"{_RANGE}.endDate"
        )
    return dates


def _candidates(recurrence: Recurrence, last_day: date) -> Any:
    start = recurrence.start_date
    day = start
    while day <= last_day:
        if _matches(recurrence, day):
            yield day
        day += timedelta(days=1)


def _matches(recurrence: Recurrence, day: date) -> bool:
    start = recurrence.start_date
    if recurrence.type == "daily":
        return (day - start).days % recurrence.interval == 0
    if recurrence.type == "weekly":
        if day.weekday() not in recurrence.days_of_week:
            return False
        week_start = _week_start(start, recurrence.first_day_of_week)
        return ((day - week_start).days // 7) % recurrence.interval == 0
    months = (day.year - start.year) * 12 + day.month - start.month
    if months % recurrence.interval != 0:
        return False
    if recurrence.type == "absoluteMonthly":
        return day.day == recurrence.day_of_month
    return day == _relative_day(day.year, day.month, recurrence.days_of_week, recurrence.index)


def _relative_day(year: int, month: int, days: frozenset[int], index: str) -> date:
    length = calendar.monthrange(year, month)[1]
    chosen = [
        date(year, month, d) for d in range(1, length + 1) if date(year, month, d).weekday() in days
    ]
    return chosen[-1] if index == "last" else chosen[INDEXES.index(index)]


def _week_start(day: date, first_day_of_week: int) -> date:
    return day - timedelta(days=(day.weekday() - first_day_of_week) % 7)


def _range(range_: dict[str, Any], first_date: date) -> dict[str, Any]:
    kind = range_.get("type")
    if kind == "noEnd":
        raise InvalidInputError(
            "A series must end: give range.type endDate or numbered (open-ended series are "
            "not taken).",
            field=f"{_RANGE}.type",
        )
    if kind not in RANGE_TYPES:
        raise InvalidInputError(
            f"{_RANGE}.type must be one of {', '.join(RANGE_TYPES)}.", field=f"{_RANGE}.type"
        )
    start_date = first_date
    if range_.get("startDate") is not None:
        start_date = _date(range_["startDate"], f"{_RANGE}.startDate")
        if start_date != first_date:
            raise InvalidInputError(
                f"{_RANGE}.startDate must be the date of start in the building's time zone "
                f"({first_date.isoformat()}).",
                field=f"{_RANGE}.startDate",
            )
    if kind == "endDate":
        end_date = _date(range_.get("endDate"), f"{_RANGE}.endDate")
        if end_date < start_date:
            raise InvalidInputError(
                f"{_RANGE}.endDate must not be before range.startDate.", field=f"{_RANGE}.endDate"
            )
        if (end_date - start_date).days > MAX_SPAN_DAYS:
            raise InvalidInputError(
                f"A series may span at most two years ({_RANGE}.endDate).",
                field=f"{_RANGE}.endDate",
            )
        return {"start_date": start_date, "end_date": end_date, "count": None}
    count = range_.get("numberOfOccurrences")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_OCCURRENCES:
        raise InvalidInputError(
            f"{_RANGE}.numberOfOccurrences must be a whole number from 1 to {MAX_OCCURRENCES}.",
            field=f"{_RANGE}.numberOfOccurrences",
        )
    return {"start_date": start_date, "end_date": None, "count": count}


def _object(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInputError(f"{field} must be an object.", field=field)
    return value


def _days_of_week(value: Any) -> frozenset[int]:
    field = f"{_PATTERN}.daysOfWeek"
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        raise InvalidInputError(f"{field} must be a list of day names.", field=field)
    return frozenset(_weekday(item, field) for item in value)


def _weekday(value: Any, field: str) -> int:
    if not isinstance(value, str) or value.lower() not in WEEKDAYS:
        raise InvalidInputError(f"{field} must name days such as monday or sunday.", field=field)
    return WEEKDAYS.index(value.lower())


def _date(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{field} must be a date such as 2030-01-31.", field=field
        ) from None
