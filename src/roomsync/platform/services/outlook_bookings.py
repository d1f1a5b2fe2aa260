"""New bookings found in a room's calendar, as rows for a bulk insert.

A first sync creates bookings by the thousand, and ORM objects cost more than rows. The
rows are what the ORM path of ``services.bookings`` stores for a confirmed Microsoft 365
booking at version 1, with its first history entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from roomsync.platform.db import isoformat_utc, new_id
from roomsync.platform.enums import BookingStatus, ChangeSource, HistoryKind, Origin


def outlook_booking_rows(
    *,
    organization_id: uuid.UUID,
    resource_id: uuid.UUID,
    organizer_email: str,
    title: str,
    start: datetime,
    end: datetime,
    private: bool = False,
    all_day: bool = False,
    series_id: str | None = None,
    now: datetime,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A booking the room mailbox already holds, as the sync finds it in the room's calendar,
    and its first history entry, as rows.

    The room mailbox decided occupancy (identity rule 4), so no overlap rule, no outbox row
    and no lock here: the caller holds the room's sync-state row for the page it applies.
    The address comes from Graph, lower-cased.
    """
    booking: dict[str, Any] = {
        "id": new_id(),
        "organization_id": organization_id,
        "resource_id": resource_id,
        "organizer_email": organizer_email.strip().lower(),
        "title": title,
        "description": None,  # the meeting's body stays Outlook's: it is not pulled
        "start_at": start,
        "end_at": end,
        "all_day": all_day,
        "private": private,
        "status": BookingStatus.CONFIRMED,
        "status_reason": None,
        "origin": Origin.MICROSOFT365,
        "series_id": series_id,
        "version": 1,
        "cancelled_at": None,
        "checked_in_at": None,
        "release_at": None,  # set from the room's check-in policy when written
        "created_at": now,
        "updated_at": now,
    }
    history = {
        "id": new_id(),
        "booking_id": booking["id"],
        "version": 1,
        "source": ChangeSource.MICROSOFT365,
        "kind": HistoryKind.CREATED,
        "data": _snapshot_of_row(booking),
        "created_at": now,
        "updated_at": now,
    }
    return booking, history


def _snapshot_of_row(row: dict[str, Any]) -> dict[str, Any]:
    """``bookings._snapshot`` of a new Outlook booking's row, without asking each value's
    type."""
    return {
        "resource_id": str(row["resource_id"]),
        "organizer_email": row["organizer_email"],
        "title": row["title"],
        "description": row["description"],
        "start_at": isoformat_utc(row["start_at"]),
        "end_at": isoformat_utc(row["end_at"]),
        "all_day": row["all_day"],
        "private": row["private"],
        "status": row["status"].value,
        "origin": row["origin"].value,
        "series_id": row["series_id"],
    }
