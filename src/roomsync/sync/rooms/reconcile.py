"""Midnight in the integration's time zone: rooms gone from Microsoft 365 are retired (the
guide: "Every day at midnight, resources deleted on the client side are also deleted").

Retiring keeps the resource (bookings and history refer to it) and cancels its future
bookings with ``ChangeSource.MICROSOFT365``: the room mailbox is gone, so nothing is
pushed. Each retired room and cancelled booking is listed in the run report.

A listing is trusted with retirement only when it is complete (every call succeeded,
nothing cut short) and not suspicious: when it is empty while rooms are known, or when
more than ``options.max_retired_share`` (20 %) of the known rooms would go at once, the
run records a warning and retires nothing unless it was forced (an operator who checked).
A failed or partial listing never retires, forced or not.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.db import isoformat_utc
from roomsync.platform.enums import BookingStatus, ChangeSource, Origin, SyncRunKind, SyncRunTrigger
from roomsync.platform.models import Booking, Integration, Resource
from roomsync.platform.services.bookings import cancel_booking
from roomsync.platform.services.resources import retire_resource
from roomsync.sync.context import SyncContext
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.rooms.listing import RoomListing
from roomsync.sync.rooms.workflow import ProgressCallback, import_rooms, rooms_run
from roomsync.sync.runs import RunReport

_OPEN_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)


def next_local_midnight(now: datetime, zone: ZoneInfo) -> datetime:
    """The first instant of the next local day after ``now``, in UTC.

    Where a DST change skips midnight (clocks jump from 00:00 to 01:00), that first instant
    is the jump itself; where midnight happens twice, it is the first of the two.
    """
    tomorrow: date = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(), tzinfo=zone).astimezone(UTC)


def reconcile_rooms(
    ctx: SyncContext,
    integration_id: uuid.UUID,
    *,
    trigger: SyncRunTrigger,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> RunReport:
    """Import the rooms, then retire those Microsoft 365 no longer lists (see above)."""
    with rooms_run(ctx, integration_id, SyncRunKind.RECONCILE, trigger) as (integration, report):
        with ctx.database.session() as session:
            known = _imported_rooms(session, integration.organization_id)
        listing = import_rooms(ctx, integration, report, progress)
        report.count("retired", 0)
        report.count("bookings_cancelled", 0)
        missing = [room for room in known if room.email not in listing.emails]
        refusal = retirement_refusal(listing, len(known), len(missing), integration, force=force)
        if refusal is not None:
            report.warn(refusal)
        elif missing:
            _retire(ctx, missing, report)
    return report


def retirement_refusal(
    listing: RoomListing, known: int, missing: int, integration: Integration, *, force: bool
) -> str | None:
    """Why this listing may not retire ``missing`` of ``known`` rooms, or None."""
    if not listing.complete:
        return "The room listing was incomplete, so no room was retired this time."
    if not missing or force:
        return None
    if not listing.rooms:
        return (
            f"Microsoft 365 listed no rooms at all while {known} are known, so none was "
            "retired. If the rooms really are gone, run `roomsync integration sync "
            f"{integration.id} --rooms --reconcile --force`."
        )
    share = IntegrationOptions.from_stored(integration.options).max_retired_share
    if missing > share * known:
        return (
            f"{missing} of {known} rooms are missing from Microsoft 365, more than "
            f"{share:.0%} at once, so none was retired. If they really are gone, run "
            f"`roomsync integration sync {integration.id} --rooms --reconcile --force`."
        )
    return None


def _imported_rooms(session: Session, organization_id: uuid.UUID) -> list[Resource]:
    """Active rooms that came from Microsoft 365: the ones a listing can retire."""
    return list(
        session.scalars(
            select(Resource)
            .where(
                Resource.organization_id == organization_id,
                Resource.origin == Origin.MICROSOFT365,
                Resource.active.is_(True),
                Resource.email.is_not(None),
            )
            .order_by(Resource.id)
        )
    )


def _retire(ctx: SyncContext, rooms: Sequence[Resource], report: RunReport) -> None:
    now = ctx.clock()
    for room in rooms:
        with ctx.database.session() as session:
            cancelled = _cancel_future_bookings(session, room, now)
            retire_resource(session, resource_id=room.id)
        report.count("retired")
        report.count("bookings_cancelled", len(cancelled))
        report.warn(
            f"The room {room.name} ({room.email}) is no longer in Microsoft 365 and was "
            f"retired; {len(cancelled)} future bookings were cancelled."
        )
        for booking in cancelled:
            report.warn(_cancelled_line(booking, room))


def _cancel_future_bookings(session: Session, room: Resource, now: datetime) -> list[Booking]:
    bookings = session.scalars(
        select(Booking)
        .where(
            Booking.resource_id == room.id,
            Booking.end_at > now,
            Booking.status.in_(_OPEN_STATUSES),
        )
        .order_by(Booking.start_at)
    ).all()
    reason = f"The room {room.email} was removed from Microsoft 365."
    return [
        cancel_booking(
            session, booking_id=booking.id, reason=reason, source=ChangeSource.MICROSOFT365
        )
        for booking in bookings
    ]


def _cancelled_line(booking: Booking, room: Resource) -> str:
    title = "a private booking" if booking.private else repr(booking.title)
    return (
        f"Cancelled booking {booking.id} ({title} by {booking.organizer_email}, "
        f"{isoformat_utc(booking.start_at)} to {isoformat_utc(booking.end_at)}) because its "
        f"room {room.email} was retired."
    )
