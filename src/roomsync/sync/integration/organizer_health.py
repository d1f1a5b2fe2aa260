"""The ``organizers`` section of the integration status: bookings still standing whose
organizer's directory account was disabled or deleted (the user sync learns both), so an
operator can cancel them or hand them to someone else."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from roomsync.platform.enums import BookingStatus
from roomsync.platform.models import Booking, User

LISTED_BOOKINGS = 100
_STANDING = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


class OrganizerHealth(BaseModel):
    """Accounts the directory disabled or deleted, and their bookings not over yet."""

    model_config = ConfigDict(frozen=True)

    disabled_accounts: int
    deleted_accounts: int
    bookings_of_inactive_organizers: int
    booking_ids: list[uuid.UUID]
    """The first ``LISTED_BOOKINGS`` of them, soonest first."""


def organizer_health(
    session: Session, organization_id: uuid.UUID, *, now: datetime
) -> OrganizerHealth:
    inactive = or_(User.account_enabled.is_(False), User.deleted_at.is_not(None))
    standing = (
        select(Booking.id)
        .join(User, Booking.organizer_user_id == User.id)
        .where(
            Booking.organization_id == organization_id,
            Booking.status.in_(_STANDING),
            Booking.end_at > now,
            inactive,
        )
    )
    total = session.scalar(select(func.count()).select_from(standing.subquery())) or 0
    listed = session.scalars(standing.order_by(Booking.start_at, Booking.id).limit(LISTED_BOOKINGS))
    return OrganizerHealth(
        disabled_accounts=_count(session, organization_id, User.account_enabled.is_(False)),
        deleted_accounts=_count(session, organization_id, User.deleted_at.is_not(None)),
        bookings_of_inactive_organizers=total,
        booking_ids=list(listed),
    )


def _count(session: Session, organization_id: uuid.UUID, condition: ColumnElement[bool]) -> int:
    query = select(func.count(User.id)).where(User.organization_id == organization_id, condition)
    return session.scalar(query) or 0
