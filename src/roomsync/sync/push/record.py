"""Recording what a push achieved, in one transaction (docs/sync.md "Pushes").

- Graph holds the booking: the claimed rows are done; the link (created here, or the one
  the pull already adopted) gets the organizer's event id, iCalUId and changeKey, and the
  pushed snapshot becomes the agreed state. Its version is agreed too — or the booking's
  current one when what came after it was the sync's own doing (a room's answer), so the
  pull never mistakes those for unpushed platform changes. When the platform overwrote a
  later-but-older Outlook edit, Outlook's version goes to the booking's history.
- Outlook won (identity rule 5): the booking takes Outlook's times (``ChangeSource.MICROSOFT365``,
  so no new push), the platform's version goes to the history, the rows are superseded.
- The organizer's copy is gone: cancellation is final on either side; the booking is
  cancelled as Outlook's doing.

If the booking changed between the claim and now, an Outlook verdict is not applied: the
rows are released and pushed again with the newer state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.enums import ChangeSource, HistoryKind
from roomsync.platform.models import Booking, EventLink
from roomsync.platform.services.booking_rules import lock_resources
from roomsync.platform.services.bookings import append_history, cancel_booking, update_booking
from roomsync.sync.links import agree_on
from roomsync.sync.mapping import CANCELLED_IN_OUTLOOK
from roomsync.sync.push.graph import EventFacts, OutlookCancelled, OutlookWon, Pushed, PushResult
from roomsync.sync.push.outbox import (
    SUPERSEDED,
    PushJob,
    finish_rows,
    has_later_rows,
    release_rows,
)

SOURCE = ChangeSource.MICROSOFT365


def record_result(session: Session, job: PushJob, result: PushResult, *, now: datetime) -> bool:
    """Record ``result``; False when the booking changed meanwhile and must be pushed again."""
    if isinstance(result, Pushed):
        _record_pushed(session, job, result, now)
        return True
    booking = _locked_booking(session, job)
    if booking.version != job.booking.version:
        release_rows(session, job.row_ids)
        return False
    if isinstance(result, OutlookWon):
        _record_outlook_won(session, job, booking, result, now)
    else:
        _record_outlook_cancelled(session, job, booking, result, now)
    return True


def _record_pushed(session: Session, job: PushJob, result: Pushed, now: datetime) -> None:
    finish_rows(session, job.row_ids, now=now)
    if result.event is None:
        return
    link = _link_for(session, job, result.event)
    link.synced_state = job.booking.synced_state()
    booking = session.get_one(Booking, job.booking.booking_id)
    later = has_later_rows(session, booking.id, job.booking.version)
    link.synced_version = job.booking.version if later else booking.version
    if result.overridden is not None:
        _record_loser(session, booking, winner="platform", loser=result.overridden)


def _record_outlook_won(
    session: Session, job: PushJob, booking: Booking, result: OutlookWon, now: datetime
) -> None:
    _record_loser(session, booking, winner="outlook", loser=_platform_version(job))
    update_booking(
        session, booking_id=booking.id, start=result.start, end=result.end, source=SOURCE
    )
    finish_rows(session, job.row_ids, now=now, note=SUPERSEDED)
    link = _link_for(session, job, result.event)
    agree_on(link, booking)


def _record_outlook_cancelled(
    session: Session, job: PushJob, booking: Booking, _result: OutlookCancelled, now: datetime
) -> None:
    cancel_booking(session, booking_id=booking.id, reason=CANCELLED_IN_OUTLOOK, source=SOURCE)
    finish_rows(session, job.row_ids, now=now, note=SUPERSEDED)
    link = session.scalar(select(EventLink).where(EventLink.booking_id == booking.id))
    if link is not None:
        agree_on(link, booking)


def _locked_booking(session: Session, job: PushJob) -> Booking:
    """The booking, locked after its room as every booking writer does."""
    booking = session.get_one(Booking, job.booking.booking_id)
    lock_resources(session, [booking.resource_id])
    session.refresh(booking, with_for_update=True)
    return booking


def _link_for(session: Session, job: PushJob, event: EventFacts) -> EventLink:
    """The booking's link (the pull may have adopted the room's copy first), brought up to
    date with the organizer's copy; created when there is none."""
    link = session.scalar(
        select(EventLink).where(EventLink.booking_id == job.booking.booking_id).with_for_update()
    )
    if link is None:
        link = EventLink(
            booking_id=job.booking.booking_id,
            integration_id=job.integration_id,
            room_email=job.booking.room_email,
        )
        session.add(link)
    if link.room_email != job.booking.room_email:  # moved to another room: a new room copy
        link.room_email = job.booking.room_email
        link.room_event_id = link.change_key = link.last_modified_at = None
    link.organizer_email = event.mailbox
    link.organizer_event_id = event.event_id
    link.organizer_change_key = event.change_key
    link.organizer_web_link = event.web_link or link.organizer_web_link
    link.ical_uid = event.ical_uid or link.ical_uid
    session.flush()
    return link


def _record_loser(
    session: Session, booking: Booking, *, winner: str, loser: dict[str, Any]
) -> None:
    append_history(
        session,
        booking=booking,
        kind=HistoryKind.CONFLICT_OVERRIDDEN,
        source=SOURCE,
        data={"winner": winner, "overridden": loser},
    )


def _platform_version(job: PushJob) -> dict[str, Any]:
    booking = job.booking
    return {
        "version": booking.version,
        "start": booking.start.isoformat(),
        "end": booking.end.isoformat(),
        "title": booking.title,
        "updated_at": booking.updated_at.isoformat(),
    }
