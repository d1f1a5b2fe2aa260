"""The finder's form: what a person typed, read into an interval in a building's zone.

The date and the start are wall-clock times of the building's time zone; the end is the
start plus the duration in real time (or the typed end), so a search across a daylight
saving change keeps the length the person asked for. A start that does not exist on that
day (the hour skipped when clocks go forward) is refused next to the field rather than
silently shifted; an ambiguous one (the hour repeated in autumn) is its first occurrence.
Every message names its field; nothing here raises.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_PEOPLE = 1000
DURATIONS = (15, 30, 45, 60, 90, 120, 180, 240, 480)
DEFAULT_DURATION = 60
# How far ahead a person may search: a year covers every real booking window.
HORIZON = timedelta(days=366)


@dataclass(frozen=True)
class Choices:
    """What the form may name: the organization's buildings (id → (name, zone)) and the
    equipment its rooms offer, as shown to the viewer."""

    buildings: Mapping[uuid.UUID, tuple[str, str]]
    equipment: tuple[str, ...]
    max_hours: float


@dataclass
class Search:
    """The typed values (kept to refill the form) and, when they hold, the interval."""

    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    start: datetime | None = None
    end: datetime | None = None
    zone: ZoneInfo = UTC  # type: ignore[assignment]
    building_id: uuid.UUID | None = None
    people: int | None = None
    equipment: tuple[str, ...] = ()
    accessible: bool = False

    @property
    def ready(self) -> bool:
        return not self.errors and self.start is not None and self.end is not None


def default_typed(now_local: datetime) -> dict[str, str]:
    """Tomorrow at the next whole hour of a working day, for an hour."""
    start = max(now_local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1),
                now_local.replace(hour=9, minute=0, second=0, microsecond=0))  # fmt: skip
    if start.hour >= 18:
        start = (start + timedelta(days=1)).replace(hour=9)
    return {
        "date": start.date().isoformat(),
        "start": start.strftime("%H:%M"),
        "duration": str(DEFAULT_DURATION),
        "end": "",
        "people": "",
        "building": "",
        "equipment": "",
    }


def read_search(query: Mapping[str, str], choices: Choices, *, now: datetime) -> Search:
    """``query`` (the form's GET parameters) as a search, or its errors by field."""
    typed = {name: (query.get(name) or "").strip() for name in _FIELDS}
    search = Search(typed=typed, accessible=query.get("accessible") in ("on", "true", "1"))
    _read_building(search, choices)
    _read_people(search)
    _read_equipment(search, choices)
    day = _read_date(search, now)
    start_time = _read_clock(search, "start", "Start", required=True)
    if day is None or start_time is None:
        _compare_clocks(search, start_time)
        return search
    start = _local_instant(search, day, start_time)
    if start is None:
        return search
    end = _read_end(search, day, start, choices.max_hours)
    if end is not None and "start" not in search.errors:
        # In UTC from here on: Python subtracts two times of one zone by their wall clocks.
        search.start, search.end = start.astimezone(UTC), end.astimezone(UTC)
    return search


_FIELDS = ("date", "start", "duration", "end", "people", "building", "equipment")


def _read_building(search: Search, choices: Choices) -> None:
    raw = search.typed["building"]
    if raw:
        try:
            wanted = uuid.UUID(raw)
        except ValueError:
            wanted = None
        if wanted not in choices.buildings:
            search.errors["building"] = "Choose one of the buildings in the list."
            return
        search.building_id = wanted
    search.zone = ZoneInfo(_zone_name(search.building_id, choices))


def _zone_name(building_id: uuid.UUID | None, choices: Choices) -> str:
    """The chosen building's zone; with none chosen, the first building's (by name)."""
    if building_id is not None:
        return choices.buildings[building_id][1]
    ordered = sorted(choices.buildings.values())
    return ordered[0][1] if ordered else "UTC"


def _read_people(search: Search) -> None:
    raw = search.typed["people"].replace(",", "").replace(" ", "")
    if not raw:
        return
    if not raw.isdigit():
        search.errors["people"] = "Enter the number of people as a whole number, such as 6."
    elif int(raw) < 1:
        search.errors["people"] = "At least 1 person: enter how many people will attend."
    elif int(raw) > MAX_PEOPLE:
        search.errors["people"] = (
            f"No room here holds more than {MAX_PEOPLE:,} people: enter {MAX_PEOPLE:,} or fewer."
        )
    else:
        search.people = int(raw)


def _read_equipment(search: Search, choices: Choices) -> None:
    raw = search.typed["equipment"]
    if not raw:
        return
    known = {name.casefold(): name for name in choices.equipment}
    if raw.casefold() not in known:
        offered = ", ".join(choices.equipment[:8]) or "none listed"
        search.errors["equipment"] = f"No room offers “{raw}”. Rooms here offer: {offered}."
        return
    search.equipment = (known[raw.casefold()],)


def _read_date(search: Search, now: datetime) -> date | None:
    raw = search.typed["date"]
    if not raw:
        search.errors["date"] = "Enter the date of the meeting."
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        search.errors["date"] = "Enter the date as year-month-day, such as 2026-03-27."
        return None
    today = now.astimezone(search.zone).date()
    if day < today:
        search.errors["date"] = "That date has passed: choose today or a later day."
    elif day > (now + HORIZON).date():
        last = (now + HORIZON).date()
        search.errors["date"] = f"Rooms can be booked up to a year ahead, until {last:%-d %B %Y}."
    return None if "date" in search.errors else day


def _read_clock(search: Search, name: str, label: str, *, required: bool) -> time | None:
    raw = search.typed[name]
    if not raw:
        if required:
            search.errors[name] = f"Enter the {label.lower()} time, such as 10:00."
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        search.errors[name] = f"Enter the {label.lower()} time as hours:minutes, such as 10:00."
        return None


def _local_instant(search: Search, day: date, clock: time) -> datetime | None:
    """``day`` at ``clock`` in the zone, or None (with the start's error) if the clocks
    skip that time on that day."""
    local = datetime.combine(day, clock, search.zone)
    if local.astimezone(UTC).astimezone(search.zone).replace(tzinfo=None) != local.replace(
        tzinfo=None
    ):
        search.errors["start"] = (
            f"{clock:%H:%M} does not exist on {day:%-d %B} in {search.zone.key}: the clocks "
            "go forward that night. Choose a time an hour later."
        )
        return None
    return local


def _compare_clocks(search: Search, start_time: time | None) -> None:
    """Without a valid day, the end is still checked against the start as typed."""
    end_time = _read_clock(search, "end", "End", required=False)
    if start_time is not None and end_time is not None and end_time <= start_time:
        search.errors["end"] = "The end must be after the start."


def _read_end(search: Search, day: date, start: datetime, max_hours: float) -> datetime | None:
    end_time = _read_clock(search, "end", "End", required=False)
    if "end" in search.errors:
        return None
    if end_time is not None:
        end = datetime.combine(day, end_time, search.zone)
        if end.astimezone(UTC) <= start.astimezone(UTC):
            search.errors["end"] = "The end must be after the start."
            return None
    else:
        by_duration = _end_by_duration(search, start)
        if by_duration is None:
            return None
        end = by_duration
    if end.astimezone(UTC) - start.astimezone(UTC) > timedelta(hours=max_hours):
        field_name = "end" if end_time is not None else "duration"
        search.errors[field_name] = f"A booking may last at most {max_hours:g} hours."
        return None
    return end


def _end_by_duration(search: Search, start: datetime) -> datetime | None:
    raw = search.typed["duration"] or str(DEFAULT_DURATION)
    if not raw.isdigit() or int(raw) < 1:
        search.errors["duration"] = "Choose how long the meeting lasts."
        return None
    # Real elapsed time: an hour from 01:30 on the night clocks change is still an hour.
    end_utc = start.astimezone(UTC) + timedelta(minutes=int(raw))
    return end_utc.astimezone(search.zone)
