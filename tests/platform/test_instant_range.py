"""Every door into the booking rules refuses an instant outside the years 1900..2999
before converting it to UTC, so year 1 and year 9999 never overflow and never reach a
room mailbox; what Outlook already holds is taken as it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from roomsync.platform.enums import ChangeSource
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.services.booking_rules import checked_interval
from roomsync.platform.services.validation import check_time_zone

DAY = timedelta(hours=24)


@pytest.mark.parametrize(
    ("start", "field"),
    [
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), "start"),
        (datetime(9999, 12, 31, 22, tzinfo=timezone(timedelta(hours=-5))), "start"),
        (datetime(1899, 12, 31, 23, tzinfo=UTC), "start"),
    ],
)
def test_a_platform_booking_outside_the_years_is_refused_saying_why(
    start: datetime, field: str
) -> None:
    end = start.replace(minute=30)
    with pytest.raises(InvalidInputError) as refused:
        checked_interval(start, end, source=ChangeSource.PLATFORM, max_duration=DAY)
    assert refused.value.field == field
    assert "Microsoft 365" in refused.value.message


def test_the_first_and_last_years_are_taken() -> None:
    for start in (datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 12, 31, 22, tzinfo=UTC)):
        end = start + timedelta(hours=1)
        assert checked_interval(start, end, source=ChangeSource.PLATFORM, max_duration=DAY) == (
            start,
            end,
        )


def test_what_a_room_mailbox_holds_is_not_refused_for_its_year() -> None:
    start = datetime(3100, 1, 1, tzinfo=UTC)
    end = start + timedelta(hours=1)
    taken = checked_interval(start, end, source=ChangeSource.MICROSOFT365, max_duration=DAY)
    assert taken == (start, end)


@pytest.mark.parametrize("zone", ["America", "Europe", "posix", "x" * 300, "../etc/passwd"])
def test_a_tzdata_folder_or_a_long_text_is_not_a_time_zone(zone: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        check_time_zone(zone)
    assert "IANA" in refused.value.message
