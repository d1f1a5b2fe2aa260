"""A room's day drawn as a bar: busy blocks, the free gaps between them, the chosen slot.

Positions are shares of the window's real length, computed on instants, so a day on
which the clocks change (23 or 25 hours) still puts 10:00 where 10:00 is; the hour marks
are the zone's own wall-clock hours. Each free gap long enough for the meeting is a link
that picks it, which works with the keyboard and without script.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_FROM = time(7)
DAY_TO = time(20)
DASH = "\u2013"  # the en dash between two times


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime
    title: str
    organizer: str | None
    status: str


@dataclass(frozen=True)
class Segment:
    left: float
    width: float
    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True)
class Day:
    """One room's bar: ``busy`` and ``free`` (gaps that fit the meeting) segments, the
    chosen slot, and the hour marks (percent, label)."""

    busy: list[Segment]
    free: list[Segment]
    chosen: Segment | None
    hours: list[tuple[float, str]]


def window(
    day: date, zone: ZoneInfo, slot: tuple[datetime, datetime] | None
) -> tuple[datetime, datetime]:
    """07:00 to 20:00 of ``day`` in ``zone``, widened to whole hours around the slot."""
    start = datetime.combine(day, DAY_FROM, zone).astimezone(UTC)
    end = datetime.combine(day, DAY_TO, zone).astimezone(UTC)
    if slot is not None:
        start = min(start, slot[0].astimezone(UTC).replace(minute=0, second=0, microsecond=0))
        end = max(end, _ceil_hour(slot[1].astimezone(UTC)))
    return start, end


def _ceil_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


def lay_out(
    blocks: Sequence[Busy],
    *,
    span: tuple[datetime, datetime],
    zone: ZoneInfo,
    slot: tuple[datetime, datetime] | None,
    fits: timedelta,
) -> Day:
    begin, finish = span[0].astimezone(UTC), span[1].astimezone(UTC)
    total = (finish - begin).total_seconds()

    def segment(start: datetime, end: datetime, label: str) -> Segment:
        # On instants: Python subtracts two times of one zone by their wall clocks.
        start, end = max(start.astimezone(UTC), begin), min(end.astimezone(UTC), finish)
        left = (start - begin).total_seconds() / total * 100
        width = max((end - start).total_seconds() / total * 100, 0.6)
        return Segment(round(left, 3), round(width, 3), start, end, label)

    utc = [replace(b, start=b.start.astimezone(UTC), end=b.end.astimezone(UTC)) for b in blocks]
    inside = sorted((b for b in utc if b.end > begin and b.start < finish), key=lambda b: b.start)
    busy = [segment(b.start, b.end, _busy_label(b, zone)) for b in inside]
    free = [
        segment(s, e, f"Free {clock(s, zone)}{DASH}{clock(e, zone)}")
        for s, e in _gaps(inside, begin, finish)
        if e - s >= fits
    ]
    chosen = (
        segment(slot[0], slot[1], f"Your slot {clock(slot[0], zone)}{DASH}{clock(slot[1], zone)}")
        if slot
        else None
    )
    return Day(busy, free, chosen, _hours(begin, finish, zone, total))


def clock(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def _busy_label(block: Busy, zone: ZoneInfo) -> str:
    who = f" · {block.organizer}" if block.organizer else ""
    waiting = " (waiting for the room)" if block.status == "pending" else ""
    return f"{clock(block.start, zone)}{DASH}{clock(block.end, zone)} {block.title}{who}{waiting}"


def _gaps(
    blocks: Sequence[Busy], begin: datetime, finish: datetime
) -> list[tuple[datetime, datetime]]:
    gaps, cursor = [], begin
    for block in blocks:
        if block.start > cursor:
            gaps.append((cursor, block.start))
        cursor = max(cursor, block.end)
    if cursor < finish:
        gaps.append((cursor, finish))
    return gaps


def _hours(
    begin: datetime, finish: datetime, zone: ZoneInfo, total: float
) -> list[tuple[float, str]]:
    """A mark at every wall-clock hour of the zone inside the window."""
    marks = []
    moment = begin.replace(minute=0, second=0, microsecond=0)
    if moment < begin:
        moment += timedelta(hours=1)
    while moment <= finish:
        local = moment.astimezone(zone)
        if local.minute == 0:
            marks.append((round((moment - begin).total_seconds() / total * 100, 3), f"{local:%H}"))
        moment += timedelta(hours=1)
    return marks
