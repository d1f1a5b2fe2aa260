"""Windows/IANA names and dateTimeTimeZone ↔ UTC, with DST gaps and folds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomsync.m365.exceptions import InvalidResponse, UnknownTimeZone
from roomsync.m365.models import DateTimeTimeZone
from roomsync.m365.timezones import (
    iana_to_windows,
    resolve_zone,
    to_graph,
    to_utc,
    windows_to_iana,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
ZONE_NAMES = ["Europe/Paris", "America/New_York", "Romance Standard Time",
              "Eastern Standard Time", "UTC"]  # fmt: skip

instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
# Wall times bunched around the DST changes of both zones, where mistakes hide.
TRANSITION_DAYS = [
    datetime(2025, 3, 30),  # Paris springs forward at 02:00
    datetime(2025, 10, 26),  # Paris falls back at 03:00
    datetime(2025, 3, 9),  # New York springs forward at 02:00
    datetime(2025, 11, 2),  # New York falls back at 02:00
]
transition_walls = st.builds(
    lambda day, minutes: day + timedelta(minutes=minutes),
    st.sampled_from(TRANSITION_DAYS),
    st.integers(min_value=0, max_value=6 * 60),
)


def test_windows_and_iana_names_map_both_ways() -> None:
    assert windows_to_iana("Romance Standard Time") == "Europe/Paris"
    assert windows_to_iana("pacific standard time") == "America/Los_Angeles"
    assert iana_to_windows("Europe/Paris") == "Romance Standard Time"
    assert iana_to_windows("America/New_York") == "Eastern Standard Time"
    assert windows_to_iana("Mars Standard Time") is None


@pytest.mark.parametrize(
    ("name", "key"),
    [("UTC", "UTC"), ("Etc/UTC", "UTC"), ("Romance Standard Time", "Europe/Paris"),
     ("Europe/Berlin", "Europe/Berlin"), ("  Eastern Standard Time ", "America/New_York")],
)  # fmt: skip
def test_resolve_zone_accepts_windows_iana_and_utc(name: str, key: str) -> None:
    assert resolve_zone(name).key == key


@pytest.mark.parametrize("name", ["tzone://Microsoft/Custom", "Mars/Olympus_Mons", "", "../etc"])
def test_an_unknown_zone_name_is_refused_with_advice(name: str) -> None:
    with pytest.raises(UnknownTimeZone, match="Europe/Paris"):
        resolve_zone(name)


def test_graph_times_with_seven_fractional_digits_are_read() -> None:
    value = DateTimeTimeZone(date_time="2025-03-04T09:00:00.1234567", time_zone="UTC")

    assert to_utc(value) == datetime(2025, 3, 4, 9, 0, 0, 123456, tzinfo=UTC)


def test_a_wall_time_in_a_windows_zone_becomes_its_utc_instant() -> None:
    value = DateTimeTimeZone(
        date_time="2025-07-01T09:30:00.0000000", time_zone="Romance Standard Time"
    )

    assert to_utc(value) == datetime(2025, 7, 1, 7, 30, tzinfo=UTC)


def test_an_unreadable_date_time_is_an_invalid_response() -> None:
    with pytest.raises(InvalidResponse):
        to_utc(DateTimeTimeZone(date_time="next tuesday", time_zone="UTC"))


def test_to_graph_writes_the_windows_name_and_graphs_seven_digits() -> None:
    value = to_graph(datetime(2025, 7, 1, 7, 30, 15, 250000, tzinfo=UTC), "Europe/Paris")

    assert value == DateTimeTimeZone(
        date_time="2025-07-01T09:30:15.2500000", time_zone="Romance Standard Time"
    )


def test_to_graph_refuses_a_naive_datetime() -> None:
    with pytest.raises(ValueError, match="aware"):
        to_graph(datetime(2025, 7, 1, 9, 30), PARIS)


def test_a_zone_without_a_windows_name_is_written_in_utc() -> None:
    value = to_graph(datetime(2025, 7, 1, 7, 30, tzinfo=UTC), "Antarctica/Troll")

    assert value.time_zone == "UTC"
    assert value.date_time == "2025-07-01T07:30:00.0000000"


def test_a_wall_time_in_the_spring_gap_lands_after_the_gap() -> None:
    # 02:30 does not exist in Paris on 2025-03-30: clocks jump from 02:00 to 03:00.
    value = DateTimeTimeZone(date_time="2025-03-30T02:30:00.0000000", time_zone="Europe/Paris")

    assert to_utc(value).astimezone(PARIS).replace(tzinfo=None) == datetime(2025, 3, 30, 3, 30)


def test_a_wall_time_in_the_autumn_fold_reads_as_its_first_occurrence() -> None:
    # 01:30 happens twice in New York on 2025-11-02: first EDT (05:30Z), then EST (06:30Z).
    value = DateTimeTimeZone(
        date_time="2025-11-02T01:30:00.0000000", time_zone="Eastern Standard Time"
    )

    assert to_utc(value) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)


def test_the_second_occurrence_of_a_folded_time_is_written_unambiguously() -> None:
    second = datetime(2025, 11, 2, 6, 30, tzinfo=UTC)  # 01:30 EST, after the fold

    value = to_graph(second, NEW_YORK)

    assert value.time_zone == "UTC"
    assert to_utc(value) == second


@given(instant=instants, zone=st.sampled_from(ZONE_NAMES))
def test_to_graph_then_to_utc_gives_back_the_same_instant(instant: datetime, zone: str) -> None:
    assert to_utc(to_graph(instant, zone)) == instant


@given(wall=transition_walls, zone=st.sampled_from([PARIS, NEW_YORK]))
def test_a_wall_time_reads_as_itself_or_one_hour_later_inside_a_gap(
    wall: datetime, zone: ZoneInfo
) -> None:
    value = DateTimeTimeZone(date_time=wall.isoformat(), time_zone=zone.key)

    read_back = to_utc(value).astimezone(zone).replace(tzinfo=None)

    assert read_back in (wall, wall + timedelta(hours=1))
    if read_back != wall:  # only wall times that do not exist move
        assert wall.hour == 2
        assert wall.month == 3


@given(instant=instants, zone=st.sampled_from([PARIS, NEW_YORK]))
def test_written_wall_time_is_the_local_time_unless_it_would_be_ambiguous(
    instant: datetime, zone: ZoneInfo
) -> None:
    value = to_graph(instant, zone)
    local = instant.astimezone(zone)

    if value.time_zone == "UTC":
        assert local.fold == 1
        assert local.replace(fold=0).utcoffset() != local.utcoffset()
    else:
        assert value.date_time.startswith(local.strftime("%Y-%m-%dT%H:%M:%S"))
