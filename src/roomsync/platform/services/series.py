"""Recurring bookings made on the platform: one booking per occurrence, linked by
``series_id``.

The pattern (``series_rules``) is expanded in the building's time zone, so a weekly 09:00
stays 09:00 on the wall clock across a daylight-saving change. Before anything is saved the
occurrences are checked against the room's bookings: with ``conflicts="fail"`` a clash is
a 409 listing every clashing occurrence and nothing is written; with ``conflicts="skip"``
the clashing occurrences are left out (and reported), the rest booked.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.db import isoformat_utc, now
from roomsync.platform.enums import ChangeSource
from roomsync.platform.exceptions import BookingConflictError, InvalidInputError
from roomsync.platform.models import Booking, BookingSeries, Building
from roomsync.platform.services.booking_rules import (
    DEFAULT_MAX_DURATION,
    OCCUPYING_STATUSES,
    checked_interval,
    lock_resources,
)
from roomsync.platform.services.bookings import create_booking
from roomsync.platform.services.series_rules import occurrence_dates, parse_recurrence


class ConflictChoice(StrEnum):
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Clash:
    start: datetime
    end: datetime
    booking_id: uuid.UUID

    def as_json(self) -> dict[str, str]:
        return {
            "start": isoformat_utc(self.start),
            "end": isoformat_utc(self.end),
            "conflicting_booking_id": str(self.booking_id),
        }


@dataclass
class SeriesResult:
    series_id: str
    bookings: list[Booking]
    skipped: list[Clash] = field(default_factory=list)


def create_series(
    session: Session,
    *,
    organization_id: uuid.UUID,
    resource_id: uuid.UUID,
    organizer_email: str,
    title: str,
    start: datetime,
    end: datetime,
    recurrence: Any,
    conflicts: ConflictChoice = ConflictChoice.FAIL,
    private: bool = False,
    description: str | None = None,
    actor: str | None = None,
    max_duration: timedelta = DEFAULT_MAX_DURATION,
) -> SeriesResult:
    """Book every occurrence of ``recurrence``; ``start``/``end`` are the first one's."""
    start, end = checked_interval(
        start, end, source=ChangeSource.PLATFORM, max_duration=max_duration
    )
    resource = lock_resources(session, [resource_id])[resource_id]
    zone = ZoneInfo(session.get_one(Building, resource.building_id).time_zone)
    local_start = start.astimezone(zone)
    parsed = parse_recurrence(recurrence, first_date=local_start.date())
    intervals = _intervals(occurrence_dates(parsed), local_start, end - start, zone)
    if intervals[0][0] < now(session):
        raise InvalidInputError(
            f"The first occurrence ({isoformat_utc(intervals[0][0])}) is in the past.",
            field="start",
        )
    _check_no_self_overlap(intervals)
    clashes = _clashes(session, resource_id, intervals)
    if clashes and (conflicts is ConflictChoice.FAIL or len(clashes) == len(intervals)):
        raise BookingConflictError(
            f"{len(clashes)} of {len(intervals)} occurrences clash with bookings of the room; "
            "nothing was booked (send conflicts=skip to book the others).",
            details={"conflicts": [clash.as_json() for clash in clashes]},
        )
    taken = {clash.start for clash in clashes}
    series_id = f"roomsync-series-{uuid.uuid4()}"
    booked = [(begin, finish) for begin, finish in intervals if begin not in taken]
    bookings = [
        create_booking(
            session,
            organization_id=organization_id,
            resource_id=resource_id,
            organizer_email=organizer_email,
            title=title,
            start=occurrence_start,
            end=occurrence_end,
            private=private,
            description=description,
            series_id=series_id,
            actor=actor,
            max_duration=max_duration,
        )
        for occurrence_start, occurrence_end in booked
    ]
    session.add(
        BookingSeries(
            organization_id=organization_id,
            series_id=series_id,
            recurrence=parsed.as_graph(),
            time_zone=zone.key,
            first_start_at=intervals[0][0],
            first_end_at=intervals[0][1],
            occurrences={
                str(booking.id): isoformat_utc(begin)
                for booking, (begin, _) in zip(bookings, booked, strict=True)
            },
            skipped=sorted(isoformat_utc(clash.start) for clash in clashes),
        )
    )
    session.flush()
    return SeriesResult(series_id=series_id, bookings=bookings, skipped=clashes)


def _intervals(
    dates: list[date], local_start: datetime, duration: timedelta, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Each date at the first occurrence's wall-clock time, as UTC instants."""
    result = []
    for day in dates:
        local = datetime.combine(day, local_start.timetz().replace(tzinfo=None), tzinfo=zone)
        begin = local.astimezone(UTC)
        result.append((begin, begin + duration))
    return result


def _check_no_self_overlap(intervals: list[tuple[datetime, datetime]]) -> None:
    for (_, previous_end), (next_start, _) in itertools.pairwise(intervals):
        if next_start < previous_end:
            raise InvalidInputError(
                "Occurrences would overlap each other: the booking lasts longer than the "
                "time between two occurrences.",
                field="end",
            )


def _clashes(
    session: Session, resource_id: uuid.UUID, intervals: list[tuple[datetime, datetime]]
) -> list[Clash]:
    rows = session.execute(
        select(Booking.id, Booking.start_at, Booking.end_at).where(
            Booking.resource_id == resource_id,
            Booking.status.in_(OCCUPYING_STATUSES),
            Booking.start_at < intervals[-1][1],
            Booking.end_at > intervals[0][0],
        )
    ).all()
    held = [(_utc(row.start_at), _utc(row.end_at), row.id) for row in rows]
    clashes = []
    for begin, finish in intervals:
        for held_start, held_end, booking_id in held:
            if held_start < finish and held_end > begin:
                clashes.append(Clash(start=begin, end=finish, booking_id=booking_id))
                break
    return clashes


def _utc(value: datetime) -> datetime:
    """Stored instants may come back naive (SQLite); they are UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


__all__ = ["Clash", "ConflictChoice", "SeriesResult", "create_series"]
