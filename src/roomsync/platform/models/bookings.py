"""Bookings, their history and the transactional outbox of pushes to Microsoft 365."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from roomsync.platform.db import stamp
from roomsync.platform.enums import (
    BookingStatus,
    ChangeSource,
    HistoryKind,
    Origin,
    OutboxAction,
    OutboxState,
)
from roomsync.platform.models.base import EMAIL_LENGTH, Base, Entity, EnumText
from roomsync.platform.models.organizations import TIME_ZONE_LENGTH, User

SERIES_ID_LENGTH = 512


class Booking(Entity, Base):
    """A room booked over the half-open interval [start_at, end_at), stored in UTC."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index(None, "resource_id", "start_at"),
        # The availability search's overlap probe: a room's bookings still running after an
        # instant, read from the index alone (platform/services/availability.py).
        Index(None, "resource_id", "end_at", "start_at", "status"),
        Index(None, "organization_id", "id"),
        Index(None, "release_at"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    resource_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resources.id"))
    organizer_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    # The organizer as a platform user (set on create; the user sync keeps the person current).
    organizer_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    organizer: Mapped[User | None] = relationship(lazy="select")
    # Unbounded: a meeting subject from Outlook is stored whole; the API limits its own input.
    title: Mapped[str] = mapped_column(Text)
    # Plain text the organizer wrote on the platform (the API bounds it); sent as the
    # organizer's event body. Outlook-born bookings have none: the body is not pulled.
    description: Mapped[str | None] = mapped_column(Text)
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    all_day: Mapped[bool] = mapped_column(default=False)
    private: Mapped[bool] = mapped_column(default=False)
    status: Mapped[BookingStatus] = mapped_column(EnumText(BookingStatus))
    status_reason: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[Origin] = mapped_column(EnumText(Origin))
    series_id: Mapped[str | None] = mapped_column(String(SERIES_ID_LENGTH))
    version: Mapped[int] = mapped_column(default=1)
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    # When the booking is released unless someone checks in (services/checkin_policy);
    # None when its room's policy never releases it, or once checked in or released.
    release_at: Mapped[datetime | None]


class BookingSeries(Entity, Base):
    """A recurring booking made on the platform: its pattern and which booking is which of
    its occurrences (one booking per occurrence, sharing ``series_id``).

    ``recurrence`` is Graph's ``patternedRecurrence`` with ``recurrenceTimeZone`` set (the
    building's zone); ``occurrences`` maps each booking id to its occurrence's original
    start (UTC, ISO 8601) and ``skipped`` lists the original starts left unbooked. The
    ``master_*`` columns belong to the sync: where Microsoft 365 holds the series.
    """

    __tablename__ = "booking_series"

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    series_id: Mapped[str] = mapped_column(String(SERIES_ID_LENGTH), unique=True)
    recurrence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    time_zone: Mapped[str] = mapped_column(String(TIME_ZONE_LENGTH))
    first_start_at: Mapped[datetime]
    first_end_at: Mapped[datetime]
    occurrences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    skipped: Mapped[list[str]] = mapped_column(default=list)
    master_mailbox: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH))
    master_event_id: Mapped[str | None] = mapped_column(String(SERIES_ID_LENGTH))
    master_ical_uid: Mapped[str | None] = mapped_column(String(SERIES_ID_LENGTH))


class BookingHistory(Entity, Base):
    """One row per change of a booking, with the version it produced."""

    __tablename__ = "booking_history"

    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    source: Mapped[ChangeSource] = mapped_column(EnumText(ChangeSource))
    kind: Mapped[HistoryKind] = mapped_column(EnumText(HistoryKind))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OutboxEntry(Entity, Base):
    """A push still owed to Microsoft 365, written in the booking change's transaction.

    Rows of one booking are applied in id order; a row is ``done`` only once Graph
    confirmed it (docs/architecture.md#data-that-makes-sync-correct).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "state", "next_attempt_at"),)

    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    booking_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("bookings.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[OutboxAction] = mapped_column(EnumText(OutboxAction))
    booking_version: Mapped[int]
    state: Mapped[OutboxState] = mapped_column(EnumText(OutboxState), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=stamp)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]
