"""The finder's form and timeline as pure functions: wall-clock times of the building's
zone, real durations across a daylight saving change, and bars laid out on instants."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from roomsync.web.pages.occupant import timeline
from roomsync.web.pages.occupant.search_form import Choices, read_search
from roomsync.web.pages.occupant.timeline import DASH

PARIS = ZoneInfo("Europe/Paris")
HQ = uuid.UUID(int=1)
CHOICES = Choices(buildings={HQ: ("HQ", "Europe/Paris")}, equipment=("Display",), max_hours=8)
NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
SPRING = date(2027, 3, 28)  # clocks go from 02:00 to 03:00 in Paris
AUTUMN = date(2027, 10, 31)  # clocks go from 03:00 back to 02:00


def search(**typed: str):  # type: ignore[no-untyped-def]
    return read_search({"building": str(HQ), "duration": "60", **typed}, CHOICES, now=NOW)


def test_the_start_is_the_buildings_wall_clock() -> None:
    found = search(date="2027-03-10", start="10:00")
    assert found.ready
    assert found.start == datetime(2027, 3, 10, 9, tzinfo=UTC)


def test_a_duration_is_real_time_across_the_spring_change() -> None:
    found = search(date=SPRING.isoformat(), start="01:30", duration="120")
    assert found.start is not None
    assert found.end is not None
    assert found.end - found.start == timedelta(hours=2)
    assert found.end.astimezone(PARIS).strftime("%H:%M") == "04:30"


def test_a_typed_end_across_the_autumn_change_counts_the_repeated_hour() -> None:
    found = search(date=AUTUMN.isoformat(), start="01:00", end="04:00")
    assert found.start is not None
    assert found.end is not None
    assert found.end - found.start == timedelta(hours=4)


def test_a_start_the_clocks_skip_is_refused_next_to_the_start() -> None:
    found = search(date=SPRING.isoformat(), start="02:30")
    assert not found.ready
    assert "does not exist" in found.errors["start"]


def test_the_longest_booking_is_the_settings_own() -> None:
    assert (
        "at most 8 hours"
        in search(date="2027-03-10", start="09:00", duration="540").errors["duration"]
    )


def test_equipment_is_matched_whatever_its_case() -> None:
    assert search(date="2027-03-10", start="09:00", equipment="display").equipment == ("Display",)


def test_the_timeline_marks_only_the_hours_a_clock_shows_on_a_23_hour_day() -> None:
    slot = (datetime(2027, 3, 28, 1, tzinfo=PARIS), datetime(2027, 3, 28, 4, tzinfo=PARIS))
    span = timeline.window(SPRING, PARIS, slot)
    day = timeline.lay_out([], span=span, zone=PARIS, slot=slot, fits=timedelta(hours=1))
    labels = [label for _, label in day.hours]
    assert labels[:3] == ["01", "03", "04"]
    assert day.chosen is not None
    # 01:00 to 04:00 local is two real hours of the 18 from 01:00 to 20:00.
    assert round(day.chosen.width, 2) == round(2 / 18 * 100, 2)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, 10, hour, minute, tzinfo=PARIS)


def test_free_gaps_too_short_for_the_meeting_are_not_offered() -> None:
    on = date(2027, 3, 10)
    span = timeline.window(on, PARIS, None)
    busy = [
        timeline.Busy(at(9), at(10), "A", None, "confirmed"),
        timeline.Busy(at(10, 30), at(19), "B", None, "pending"),
    ]
    day = timeline.lay_out(busy, span=span, zone=PARIS, slot=None, fits=timedelta(hours=1))
    assert [gap.label for gap in day.free] == [f"Free 07:00{DASH}09:00", f"Free 19:00{DASH}20:00"]
    assert "(waiting for the room)" in day.busy[1].label


def test_every_field_is_checked_even_when_the_date_is_wrong() -> None:
    found = search(date="2027-02-30", start="11:00", end="10:00", people="0")
    assert set(found.errors) == {"date", "end", "people"}
