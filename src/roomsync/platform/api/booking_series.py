"""A new booking that carries ``recurrence``: every occurrence booked at once.

The answer is the first occurrence (as for a single booking) with ``occurrences`` listing
them all and ``skipped`` the ones left out under ``conflicts=skip``. With the default
``conflicts=fail`` a clash is a 409 whose details list every clashing occurrence, and
nothing is booked.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session

from roomsync.platform.api.booking_schemas import BookingIn, OccurrenceOut, SkippedOut
from roomsync.platform.models import Booking
from roomsync.platform.services.series import ConflictChoice, SeriesResult, create_series

ConflictsQuery = Annotated[
    ConflictChoice,
    Query(
        description="For a series: fail (default; 409 listing the clashing occurrences, "
        "nothing booked) or skip (book the others)."
    ),
]


def book_series(
    session: Session,
    body: BookingIn,
    *,
    organization_id: uuid.UUID,
    organizer_email: str,
    actor: str | None,
    conflicts: ConflictChoice,
    max_duration: timedelta,
) -> SeriesResult:
    return create_series(
        session,
        organization_id=organization_id,
        resource_id=body.resource_id,
        organizer_email=organizer_email,
        title=body.title,
        start=body.start,
        end=body.end,
        recurrence=body.recurrence,
        conflicts=conflicts,
        private=body.private,
        description=body.description,
        actor=actor,
        max_duration=max_duration,
    )


def occurrences_out(bookings: list[Booking]) -> list[OccurrenceOut]:
    return [
        OccurrenceOut(id=row.id, start=row.start_at, end=row.end_at, status=row.status)
        for row in bookings
    ]


def skipped_out(result: SeriesResult) -> list[SkippedOut]:
    return [
        SkippedOut(start=clash.start, end=clash.end, conflicting_booking_id=clash.booking_id)
        for clash in result.skipped
    ]
