"""Expanding ``patternedRecurrence`` into occurrences (event resource, recurrencePattern).

Patterns: daily, weekly, absoluteMonthly, relativeMonthly, absoluteYearly,
relativeYearly. Ranges: endDate (inclusive), noEnd, numbered. Dates are computed in the
series' local zone (``range.recurrenceTimeZone``, else the start zone) so a 09:00 series
stays at 09:00 across daylight-saving changes. Exceptions and cancelled occurrences come
from the master's overrides; the series master itself is never listed.
"""

from __future__ import annotations

import calendar as cal
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from graphsim.calendar.model import EventItem, EventType, Instance
from graphsim.errors import bad_request
from graphsim.ids import occurrence_id
from graphsim.timezones import zone

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PATTERN_TYPES = frozenset(
    {"daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly"}
)
RANGE_TYPES = frozenset({"endDate", "noEnd", "numbered"})
INDEXES = ("first", "second", "third", "fourth", "last")
_MAX_OCCURRENCES = 20_000
_MAX_PERIODS = 50_000


def validate(recurrence: Any) -> dict[str, Any]:
    """The recurrence as given, after the checks Outlook makes; 400 otherwise."""
    if not isinstance(recurrence, dict):
        raise bad_request("The property 'recurrence' must be a patternedRecurrence object.")
    pattern, rng = recurrence.get("pattern") or {}, recurrence.get("range") or {}
    if pattern.get("type") not in PATTERN_TYPES:
        raise bad_request(f"Recurrence pattern type '{pattern.get('type')}' is not valid.")
    if rng.get("type") not in RANGE_TYPES or not rng.get("startDate"):
        raise bad_request("The recurrence range needs a type and a startDate.")
    if pattern["type"] in {"weekly", "relativeMonthly", "relativeYearly"} and not pattern.get(
        "daysOfWeek"
    ):
        raise bad_request("This recurrence pattern needs daysOfWeek.")
    if rng["type"] == "endDate" and not rng.get("endDate"):
        raise bad_request("A recurrence range of type endDate needs an endDate.")
    if rng["type"] == "numbered" and int(rng.get("numberOfOccurrences") or 0) < 1:
        raise bad_request("A numbered recurrence range needs numberOfOccurrences >= 1.")
    if int(pattern.get("interval") or 1) < 1:
        raise bad_request("The recurrence interval must be at least 1.")
    return recurrence


def normalized(recurrence: dict[str, Any], start_zone: str) -> dict[str, Any]:
    """The recurrence with every documented property present, as Graph returns it."""
    pattern, rng = recurrence["pattern"], recurrence["range"]
    return {
        "pattern": {
            "type": pattern["type"],
            "interval": int(pattern.get("interval") or 1),
            "month": int(pattern.get("month") or 0),
            "dayOfMonth": int(pattern.get("dayOfMonth") or 0),
            "daysOfWeek": list(pattern.get("daysOfWeek") or []),
            "firstDayOfWeek": pattern.get("firstDayOfWeek") or "sunday",
            "index": pattern.get("index") or "first",
        },
        "range": {
            "type": rng["type"],
            "startDate": rng["startDate"],
            "endDate": rng.get("endDate") or "0001-01-01",
            "recurrenceTimeZone": rng.get("recurrenceTimeZone") or start_zone,
            "numberOfOccurrences": int(rng.get("numberOfOccurrences") or 0),
        },
    }


def instances(item: EventItem, window_start: datetime, window_end: datetime) -> list[Instance]:
    """The instances of ``item`` overlapping ``[window_start, window_end)``."""
    if item.recurrence is None:
        overlaps = item.start < window_end and item.end > window_start
        return [Instance(item, item.id, EventType.SINGLE_INSTANCE, item.start, item.end)] * overlaps
    found: list[Instance] = []
    overridden = {o.original_start for o in item.overrides}
    for original in original_starts(item, window_start - (item.end - item.start), window_end):
        if original not in overridden and original + (item.end - item.start) > window_start:
            found.append(_occurrence(item, original))
    for override in item.overrides:
        if not override.cancelled and override.start < window_end and override.end > window_start:
            found.append(
                Instance(
                    item,
                    occurrence_id(item.id, override.original_start),
                    EventType.EXCEPTION,
                    override.start,
                    override.end,
                    override.original_start,
                    override,
                )
            )
    return found


def _occurrence(item: EventItem, original: datetime) -> Instance:
    end = original + (item.end - item.start)
    oid = occurrence_id(item.id, original)
    return Instance(item, oid, EventType.OCCURRENCE, original, end, original)


def is_occurrence_start(item: EventItem, original: datetime) -> bool:
    """Whether ``original`` is an original start of one of the series' occurrences."""
    return original in set(original_starts(item, original, original + timedelta(seconds=1)))


def original_starts(item: EventItem, lower: datetime, upper: datetime) -> Iterator[datetime]:
    """Original occurrence starts (UTC) with ``lower <= start < upper``."""
    assert item.recurrence is not None  # callers check is_series
    pattern, rng = item.recurrence["pattern"], item.recurrence["range"]
    tz = zone(rng.get("recurrenceTimeZone") or item.start_zone)
    local_start = item.start.astimezone(tz)
    first = date.fromisoformat(rng["startDate"])
    last = date.fromisoformat(rng["endDate"]) if rng["type"] == "endDate" else date.max
    limit = int(rng.get("numberOfOccurrences") or 0) if rng["type"] == "numbered" else None
    skip_to = None if limit else (lower.astimezone(tz) - timedelta(days=1)).date()
    count = 0
    for day in _dates(pattern, first, skip_to):
        if day > last or count >= (limit or _MAX_OCCURRENCES):
            return
        instant = datetime.combine(day, local_start.timetz().replace(tzinfo=tz)).astimezone(UTC)
        if day < first or instant < item.start:
            continue
        count += 1
        if instant >= upper:
            return
        if instant >= lower:
            yield instant


def _dates(pattern: dict[str, Any], first: date, skip_to: date | None) -> Iterator[date]:
    kind, interval = pattern["type"], int(pattern.get("interval") or 1)
    if kind == "daily":
        return _daily(first, interval, skip_to)
    if kind == "weekly":
        return _weekly(pattern, first, interval, skip_to)
    months = interval if kind.endswith("Monthly") else 12 * interval
    return _monthly(pattern, first, months, skip_to)


def _daily(first: date, interval: int, skip_to: date | None) -> Iterator[date]:
    step = 0 if skip_to is None else max(0, (skip_to - first).days // interval)
    day = first + timedelta(days=step * interval)
    for _ in range(_MAX_PERIODS):
        yield day
        day += timedelta(days=interval)


def _weekly(
    pattern: dict[str, Any], first: date, interval: int, skip: date | None
) -> Iterator[date]:
    week_start_day = WEEKDAYS.index(pattern.get("firstDayOfWeek") or "sunday")
    week = first - timedelta(days=(first.weekday() - week_start_day) % 7)
    if skip is not None and skip > week:
        week += timedelta(weeks=((skip - week).days // 7 // interval) * interval)
    offsets = sorted(
        (WEEKDAYS.index(d.lower()) - week_start_day) % 7 for d in pattern["daysOfWeek"]
    )
    for _ in range(_MAX_PERIODS):
        for offset in offsets:
            yield week + timedelta(days=offset)
        week += timedelta(weeks=interval)


def _monthly(
    pattern: dict[str, Any], first: date, months: int, skip: date | None
) -> Iterator[date]:
    year, month = first.year, first.month
    if pattern["type"].endswith("Yearly") and pattern.get("month"):
        month = int(pattern["month"])
        year = year if month >= first.month else year + 1
    if skip is not None and (skip.year, skip.month) > (year, month):
        gap = (skip.year - year) * 12 + skip.month - month
        year, month = _add_months(year, month, (gap // months) * months)
    for _ in range(_MAX_PERIODS):
        day = _month_day(pattern, year, month)
        if day is not None:
            yield day
        year, month = _add_months(year, month, months)


def _add_months(year: int, month: int, count: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + count
    return total // 12, total % 12 + 1


def _month_day(pattern: dict[str, Any], year: int, month: int) -> date | None:
    days_in_month = cal.monthrange(year, month)[1]
    if pattern["type"].startswith("absolute"):
        day = int(pattern.get("dayOfMonth") or 1)
        return date(year, month, day) if day <= days_in_month else None
    wanted = {WEEKDAYS.index(d.lower()) for d in pattern["daysOfWeek"]}
    matches = [
        date(year, month, d)
        for d in range(1, days_in_month + 1)
        if date(year, month, d).weekday() in wanted
    ]
    index = INDEXES.index(pattern.get("index") or "first")
    if index == len(INDEXES) - 1:
        return matches[-1]
    return matches[index] if index < len(matches) else None
