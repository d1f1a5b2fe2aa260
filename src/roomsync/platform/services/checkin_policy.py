"""Check-in policies: per building, overridable field by field per room.

A policy says whether check-in is required, when it opens (minutes before the start),
when an unattended booking is released (minutes after the start), which bookings are
exempt (longer than some hours) and whether the room is exempt altogether. Without a
policy check-in is not required, so nothing is ever released.

Each booking carries its own deadline (``release_at``), computed whenever the booking is
created or moved and whenever a policy changes, so the release job reads the bookings due
now through one index and never evaluates policies for 5,000 rooms a minute.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Booking, Building, Resource
from roomsync.platform.services.booking_rules import OCCUPYING_STATUSES

MAX_MINUTES = 240
MAX_EXEMPT_HOURS = 24


@dataclass(frozen=True)
class CheckinPolicy:
    required: bool = False
    opens_minutes_before: int = 5
    release_after_minutes: int = 10
    exempt_longer_than_hours: float = 8
    exempt: bool = False
    """Only meaningful for a room: its bookings are never released."""

    def opens_at(self, start: datetime) -> datetime:
        return start - timedelta(minutes=self.opens_minutes_before)

    def release_deadline(self, start: datetime, end: datetime) -> datetime | None:
        """When a booking over [start, end) is released unless checked in; None: never."""
        if not self.required or self.exempt:
            return None
        if end - start > timedelta(hours=self.exempt_longer_than_hours):
            return None
        deadline = start + timedelta(minutes=self.release_after_minutes)
        return deadline if deadline < end else None


_FIELDS = {f.name: f.type for f in fields(CheckinPolicy)}


def checked_policy(values: Mapping[str, Any], *, field: str = "checkin_policy") -> dict[str, Any]:
    """``values`` as a stored (partial) policy, or 422 naming the offending field."""
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise InvalidInputError(
            f"{field} has no field {unknown[0]!r}; it takes {', '.join(_FIELDS)}.",
            field=f"{field}.{unknown[0]}",
        )
    for name, value in values.items():
        _check_value(name, value, field=f"{field}.{name}")
    policy = replace(CheckinPolicy(), **values)
    if policy.release_after_minutes < 1:
        raise InvalidInputError(
            "release_after_minutes must be at least 1: a booking would be released before "
            "(or the moment) check-in opens.",
            field=f"{field}.release_after_minutes",
        )
    return dict(values)


def _check_value(name: str, value: Any, *, field: str) -> None:
    if name in ("required", "exempt"):
        if not isinstance(value, bool):
            raise InvalidInputError(f"{name} must be true or false.", field=field)
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"{name} must be a number.", field=field)
    if value < 0:
        raise InvalidInputError(f"{name} must not be negative.", field=field)
    if name == "exempt_longer_than_hours":
        if value == 0 or value > MAX_EXEMPT_HOURS:
            message = f"{name} must be more than 0 and at most {MAX_EXEMPT_HOURS}."
            raise InvalidInputError(message, field=field)
    elif not isinstance(value, int) or value > MAX_MINUTES:
        raise InvalidInputError(
            f"{name} must be whole minutes, at most {MAX_MINUTES}.", field=field
        )


def effective_policy(building: Building, resource: Resource | None = None) -> CheckinPolicy:
    """The building's policy with the room's overrides applied."""
    values = dict(building.checkin_policy or {})
    if resource is not None:
        values |= resource.checkin_policy or {}
    return replace(CheckinPolicy(), **{k: v for k, v in values.items() if k in _FIELDS})


def policy_json(policy: CheckinPolicy) -> dict[str, Any]:
    return asdict(policy)


def policy_of_resource(session: Session, resource_id: uuid.UUID) -> CheckinPolicy:
    resource = session.get(Resource, resource_id)
    if resource is None:
        return CheckinPolicy()
    building = session.get(Building, resource.building_id)
    return effective_policy(building, resource) if building else CheckinPolicy()


def schedule_release(session: Session, booking: Booking) -> None:
    """Set ``booking.release_at`` from its room's policy (cleared once checked in)."""
    if booking.checked_in_at is not None or booking.status not in OCCUPYING_STATUSES:
        booking.release_at = None
        return
    policy = policy_of_resource(session, booking.resource_id)
    booking.release_at = policy.release_deadline(booking.start_at, booking.end_at)


def schedule_release_of_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """``release_at`` of new confirmed booking rows about to be inserted in bulk (one policy
    lookup per room, however many rows)."""
    policies: dict[uuid.UUID, CheckinPolicy] = {}
    for row in rows:
        room = row["resource_id"]
        if room not in policies:
            policies[room] = policy_of_resource(session, room)
        row["release_at"] = policies[room].release_deadline(row["start_at"], row["end_at"])


def set_building_policy(
    session: Session, *, building: Building, values: Mapping[str, Any] | None, now: datetime
) -> CheckinPolicy:
    """Replace the building's policy (None removes it) and reschedule its rooms' bookings."""
    building.checkin_policy = None if values is None else checked_policy(values)
    session.flush()
    rooms = select(Resource.id).where(Resource.building_id == building.id)
    _reschedule(session, Booking.resource_id.in_(rooms), now=now)
    return effective_policy(building)


def set_resource_policy(
    session: Session, *, resource: Resource, values: Mapping[str, Any] | None, now: datetime
) -> CheckinPolicy:
    """Replace the room's overrides (None: the building's policy applies as it is)."""
    resource.checkin_policy = None if values is None else checked_policy(values)
    session.flush()
    _reschedule(session, Booking.resource_id == resource.id, now=now)
    return policy_of_resource(session, resource.id)


def _reschedule(session: Session, where: Any, *, now: datetime) -> None:
    """Recompute the deadlines of the bookings not yet over (not past ones: a policy
    change never releases what already ended)."""
    bookings = session.scalars(
        select(Booking).where(
            where,
            Booking.end_at > now,
            Booking.checked_in_at.is_(None),
            Booking.status.in_(OCCUPYING_STATUSES),
        )
    ).all()
    for booking in bookings:
        schedule_release(session, booking)
    session.flush()
