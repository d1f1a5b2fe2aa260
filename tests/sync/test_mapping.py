"""Mapping a room-calendar event to the planner's facts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from roomsync.m365.exceptions import InvalidResponse
from roomsync.m365.models import Event
from roomsync.sync.exceptions import UnusableEventError
from roomsync.sync.mapping import UNTITLED, room_copy_from_event

PARIS = ZoneInfo("Europe/Paris")


def event(**fields: Any) -> Event:
    body: dict[str, Any] = {
        "id": "AAMkRoomCopy",
        "iCalUId": "040000008200E00074C5B7101A82E008",
        "changeKey": "ck",
        "subject": "Ada Lovelace",
        "start": {"dateTime": "2026-11-24T09:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-24T10:00:00.0000000", "timeZone": "UTC"},
        "organizer": {"emailAddress": {"name": "Ada Lovelace", "address": "Ada@Contoso.com"}},
        "lastModifiedDateTime": "2026-11-23T08:00:00Z",
    }
    body.update(fields)
    return Event.model_validate(body)


def test_times_in_utc_are_kept_and_organizer_email_is_lower_cased() -> None:
    copy = room_copy_from_event(event(), zone=PARIS)
    assert copy.start == datetime(2026, 11, 24, 9, tzinfo=UTC)
    assert copy.end == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert copy.organizer_email == "ada@contoso.com"


@pytest.mark.parametrize(
    ("zone", "wall", "utc_hour"),
    [
        # Europe/Paris leaves summer time on 2026-10-25: 09:00 is UTC+2 before, UTC+1 after.
        ("Romance Standard Time", "2026-10-24T09:00:00.0000000", 7),
        ("Europe/Paris", "2026-10-26T09:00:00.0000000", 8),
        # America/New_York starts summer time on 2026-03-08.
        ("Eastern Standard Time", "2026-03-07T09:00:00.0000000", 14),
        ("America/New_York", "2026-03-09T09:00:00.0000000", 13),
    ],
)
def test_windows_and_iana_zones_map_to_utc_across_dst(zone: str, wall: str, utc_hour: int) -> None:
    start = {"dateTime": wall, "timeZone": zone}
    end = {"dateTime": wall.replace("T09", "T10"), "timeZone": zone}
    copy = room_copy_from_event(event(start=start, end=end), zone=PARIS)
    assert copy.start.astimezone(UTC).hour == utc_hour
    assert copy.end - copy.start == (copy.end - copy.start).__class__(hours=1)


def test_all_day_event_blocks_whole_days_in_the_integration_zone() -> None:
    all_day = event(
        isAllDay=True,
        start={"dateTime": "2026-11-24T00:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2026-11-25T00:00:00.0000000", "timeZone": "UTC"},
    )
    copy = room_copy_from_event(all_day, zone=PARIS)
    assert copy.all_day
    assert copy.start == datetime(2026, 11, 23, 23, tzinfo=UTC)
    assert copy.end == datetime(2026, 11, 24, 23, tzinfo=UTC)


def test_deleted_subject_becomes_the_organizer_name_or_a_placeholder() -> None:
    assert room_copy_from_event(event(subject=""), zone=PARIS).subject == "Ada Lovelace"
    anonymous = event(subject=None, organizer=None)
    assert room_copy_from_event(anonymous, zone=PARIS).subject == UNTITLED


@pytest.mark.parametrize(
    ("sensitivity", "private"),
    [("private", True), ("confidential", True), ("personal", False), ("normal", False)],
)
def test_private_and_confidential_meetings_are_private(sensitivity: str, private: bool) -> None:
    assert room_copy_from_event(event(sensitivity=sensitivity), zone=PARIS).private is private


def test_free_cancelled_and_series_facts_are_carried() -> None:
    copy = room_copy_from_event(
        event(showAs="free", isCancelled=True, seriesMasterId="master", type="occurrence"),
        zone=PARIS,
    )
    assert (copy.free, copy.cancelled, copy.series_id) == (True, True, "master")


def test_an_item_without_times_is_unusable() -> None:
    with pytest.raises(UnusableEventError):
        room_copy_from_event(event(start=None), zone=PARIS)


@pytest.mark.parametrize(
    ("wall", "expected"),
    [
        ("2026-11-24T09:00:00.1234567", datetime(2026, 11, 24, 9, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-24T09:00:00", datetime(2026, 11, 24, 9, tzinfo=UTC)),
        ("2026-11-24T09:00:00.5", datetime(2026, 11, 24, 9, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_utc_times_with_any_fraction_read_to_the_microsecond(wall: str, expected: datetime) -> None:
    copy = room_copy_from_event(event(start={"dateTime": wall, "timeZone": "UTC"}), zone=PARIS)
    assert copy.start == expected


def test_a_utc_time_graph_could_not_have_meant_is_an_invalid_response() -> None:
    broken = event(start={"dateTime": "2026-13-24T09:00:00.0000000", "timeZone": "UTC"})
    with pytest.raises(InvalidResponse):
        room_copy_from_event(broken, zone=PARIS)
