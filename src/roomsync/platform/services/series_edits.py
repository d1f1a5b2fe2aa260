"""Changing or cancelling occurrences of a series: this one, this and the following, or
the whole series (``scope``), as Outlook offers them.

Each occurrence is a booking of its own, so a scoped change is the same change made to
every live occurrence in scope, in one transaction: all of them or none (a clash with
another booking of the room is a 409 naming the occurrence, and nothing is changed). A
move shifts each occurrence by the same amount (the new start minus the addressed
occurrence's start; the end likewise), so the series keeps its pattern; title and privacy
are set on each. Occurrences already cancelled or declined are left as they are; the
addressed one must be live (409 otherwise). An occurrence keeps its room
(``check_series_stays_in_its_room``: 422 naming ``resource_id``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Booking
from roomsync.platform.services import bookings as service
from roomsync.platform.services.booking_rules import (
    DEFAULT_MAX_DURATION,
    OCCUPYING_STATUSES,
    check_editable,
)


class EditScope(StrEnum):
    OCCURRENCE = "occurrence"
    FOLLOWING = "following"
    SERIES = "series"


def occurrences_in_scope(session: Session, booking: Booking, scope: EditScope) -> list[Booking]:
    """The live bookings a change of ``booking`` with ``scope`` applies to, by start."""
    if scope is EditScope.OCCURRENCE:
        return [booking]
    if booking.series_id is None:
        raise InvalidInputError(
            f"scope={scope.value} is for an occurrence of a series; booking {booking.id} "
            "is a single booking (leave scope out).",
            field="scope",
        )
    query = select(Booking).where(
        Booking.organization_id == booking.organization_id,
        Booking.series_id == booking.series_id,
        Booking.status.in_(OCCUPYING_STATUSES),
    )
    if scope is EditScope.FOLLOWING:
        query = query.where(Booking.start_at >= booking.start_at)
    return list(session.scalars(query.order_by(Booking.start_at)))


def update_in_scope(
    session: Session,
    *,
    booking_id: uuid.UUID,
    scope: EditScope,
    expected_version: int | None = None,
    max_duration: timedelta = DEFAULT_MAX_DURATION,
    **changes: Any,
) -> list[Booking]:
    """Apply ``changes`` (``update_booking``'s keywords) to every occurrence in scope."""
    booking = service.get_booking(session, booking_id=booking_id)
    if scope is EditScope.OCCURRENCE:
        return [
            service.update_booking(
                session,
                booking_id=booking_id,
                expected_version=expected_version,
                max_duration=max_duration,
                **changes,
            )
        ]
    check_editable(booking)
    shift_start = _shift(changes.pop("start", None), booking.start_at)
    shift_end = _shift(changes.pop("end", None), booking.end_at)
    in_scope = occurrences_in_scope(session, booking, scope)
    # Later occurrences first when moving later (earlier first when earlier), so no
    # occurrence is moved onto one that has not moved yet.
    in_scope.sort(key=lambda b: b.start_at, reverse=shift_start > timedelta(0))
    changed = []
    for occurrence in in_scope:
        times: dict[str, Any] = {}
        if shift_start or shift_end:
            times = {
                "start": occurrence.start_at + shift_start,
                "end": occurrence.end_at + shift_end,
            }
        changed.append(
            service.update_booking(
                session,
                booking_id=occurrence.id,
                expected_version=expected_version if occurrence.id == booking.id else None,
                max_duration=max_duration,
                **changes,
                **times,
            )
        )
    return sorted(changed, key=lambda b: b.start_at)


def cancel_in_scope(
    session: Session,
    *,
    booking_id: uuid.UUID,
    scope: EditScope,
    expected_version: int | None = None,
) -> list[Booking]:
    """Cancel every live occurrence in scope (the addressed one must be live)."""
    booking = service.get_booking(session, booking_id=booking_id)
    if scope is EditScope.OCCURRENCE:
        return [
            service.cancel_booking(
                session, booking_id=booking_id, expected_version=expected_version
            )
        ]
    check_editable(booking)
    return [
        service.cancel_booking(
            session,
            booking_id=occurrence.id,
            expected_version=expected_version if occurrence.id == booking.id else None,
        )
        for occurrence in occurrences_in_scope(session, booking, scope)
    ]


def _shift(new: datetime | None, old: datetime) -> timedelta:
    return timedelta(0) if new is None else new - old
