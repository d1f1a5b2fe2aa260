"""The pure planner: what to do with one item read from a room's calendar.

Given what the room mailbox says about one meeting (a live copy or its removal), the
booking it matched (if any) and the delta window, :func:`plan` returns one small
:class:`Decision`. It performs no I/O, so the identity rules
(docs/architecture.md#identity-rules) can be
property-tested here and carried out by small executors elsewhere. docs/sync.md has the
table this module implements.

Two facts about Exchange shape the rules:

- a room mailbox rewrites its own copy of a meeting (Set-CalendarProcessing defaults:
  the organizer's name replaces the subject, the private flag is removed), so for bookings
  born on the platform only times and cancellation are read back from the room copy;
- ``calendarView/delta`` reports an event that moved out of the window as ``@removed``,
  and may replay or reorder items, so removals are verified and stale items ignored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from roomsync.m365.calendar import DeltaWindow


@dataclass(frozen=True)
class RoomCopy:
    """A live meeting as the room's own calendar holds it (times in UTC)."""

    room_event_id: str
    ical_uid: str
    start: datetime
    end: datetime
    subject: str
    private: bool = False
    cancelled: bool = False
    free: bool = False
    last_modified: datetime | None = None
    change_key: str | None = None
    all_day: bool = False
    organizer_email: str | None = None
    organizer_name: str | None = None
    series_id: str | None = None

    @property
    def details_hash(self) -> str:
        """Fingerprint of what only Outlook-born bookings take from the room copy."""
        return hashlib.sha256(f"{self.subject}\x00{self.private}".encode()).hexdigest()


@dataclass(frozen=True)
class RoomCopyRemoved:
    """An ``@removed`` entry: the meeting left the room's calendar or the window."""

    room_event_id: str


RoomItem = RoomCopy | RoomCopyRemoved


@dataclass(frozen=True)
class LinkedBooking:
    """The platform side of a matched meeting, reduced to what the rules need."""

    booking_id: UUID
    start: datetime
    end: datetime
    updated_at: datetime
    outlook_born: bool
    cancelled: bool = False
    awaiting_room: bool = False
    has_unpushed_changes: bool = False
    agreed_start: datetime | None = None
    agreed_end: datetime | None = None
    pulled_details_hash: str | None = None
    last_change_key: str | None = None
    last_modified: datetime | None = None
    room_event_id: str | None = None
    """The room copy the link last held (None once it is known to be gone)."""


class IgnoreReason(StrEnum):
    UNKNOWN_REMOVAL = "removal of a meeting roomsync never linked"
    ALREADY_CANCELLED = "the booking is already cancelled"
    MOVED_OUT_OF_WINDOW = "the booking lies outside the sync window: the meeting left it"
    CANCELLED_UNLINKED = "a cancelled meeting roomsync never linked"
    OUTSIDE_WINDOW = "the meeting lies outside the sync window"
    SHOWN_AS_FREE = "the meeting is shown as free and does not occupy the room"
    OUT_OF_ORDER = "an older version of the meeting than the one already applied"


class RemovalCheck(StrEnum):
    """Where to look before believing a removal."""

    ORGANIZER_COPY = "organizer_copy"
    ROOM_COPY = "room_copy"


class Side(StrEnum):
    PLATFORM = "platform"
    OUTLOOK = "outlook"


@dataclass(frozen=True)
class Ignore:
    reason: IgnoreReason


@dataclass(frozen=True)
class CreateBooking:
    copy: RoomCopy


@dataclass(frozen=True)
class RecordUnchanged:
    """The room copy agrees with the booking: note its ids and changeKey, change nothing
    else (an echo of our own push or a replay). ``confirm``: the booking awaited this."""

    booking_id: UUID
    copy: RoomCopy
    confirm: bool


@dataclass(frozen=True)
class ApplyFromOutlook:
    """Outlook changed the meeting: bring the booking in line with the room copy.

    ``with_details``: also take title and privacy (Outlook-born bookings only).
    ``overrides``: the booking had unpushed platform changes that lose (identity rule 5).
    """

    booking_id: UUID
    copy: RoomCopy
    with_details: bool
    confirm: bool
    overrides: bool


@dataclass(frozen=True)
class KeepPlatformVersion:
    """Both sides changed and the platform's change is later: record Outlook's version
    as the loser and let the pending push overwrite Outlook."""

    booking_id: UUID
    copy: RoomCopy


@dataclass(frozen=True)
class VerifyRemoval:
    booking_id: UUID
    check: RemovalCheck


Decision = (
    Ignore
    | CreateBooking
    | RecordUnchanged
    | ApplyFromOutlook
    | KeepPlatformVersion
    | VerifyRemoval
)


def plan(item: RoomItem, booking: LinkedBooking | None, window: DeltaWindow) -> Decision:
    """Decide what one room-calendar item means for the platform (docs/sync.md)."""
    if isinstance(item, RoomCopyRemoved):
        return _plan_removal(booking, window)
    if booking is None:
        return _plan_unlinked(item, window)
    return _plan_linked(item, booking, window)


def _plan_removal(booking: LinkedBooking | None, window: DeltaWindow) -> Decision:
    if booking is None:
        return Ignore(IgnoreReason.UNKNOWN_REMOVAL)
    if booking.cancelled:
        return Ignore(IgnoreReason.ALREADY_CANCELLED)
    if not window.contains(booking.start, booking.end):
        return Ignore(IgnoreReason.MOVED_OUT_OF_WINDOW)
    check = RemovalCheck.ROOM_COPY if booking.outlook_born else RemovalCheck.ORGANIZER_COPY
    return VerifyRemoval(booking.booking_id, check)


def _plan_unlinked(copy: RoomCopy, window: DeltaWindow) -> Decision:
    if copy.cancelled:
        return Ignore(IgnoreReason.CANCELLED_UNLINKED)
    if not window.contains(copy.start, copy.end):
        return Ignore(IgnoreReason.OUTSIDE_WINDOW)
    if copy.free:
        return Ignore(IgnoreReason.SHOWN_AS_FREE)
    return CreateBooking(copy)


def _plan_linked(copy: RoomCopy, booking: LinkedBooking, window: DeltaWindow) -> Decision:
    confirm = booking.awaiting_room and not copy.cancelled and not booking.cancelled
    if copy.change_key is not None and copy.change_key == booking.last_change_key:
        return RecordUnchanged(booking.booking_id, copy, confirm)
    if _is_stale(copy, booking):
        return Ignore(IgnoreReason.OUT_OF_ORDER)
    if booking.cancelled:
        return _plan_cancelled(copy, booking, window)
    if not _outlook_changed(copy, booking):
        return RecordUnchanged(booking.booking_id, copy, confirm)
    # A cancelled meeting cannot be revived by a PATCH: cancellation is final on either side.
    if (
        booking.has_unpushed_changes
        and not copy.cancelled
        and later_side(outlook_modified=copy.last_modified, platform_updated=booking.updated_at)
        is Side.PLATFORM
    ):
        return KeepPlatformVersion(booking.booking_id, copy)
    return ApplyFromOutlook(
        booking.booking_id,
        copy,
        with_details=booking.outlook_born,
        confirm=confirm,
        overrides=booking.has_unpushed_changes,
    )


def _plan_cancelled(copy: RoomCopy, booking: LinkedBooking, window: DeltaWindow) -> Decision:
    if _booked_again(copy, booking):
        return _plan_unlinked(copy, window)
    return Ignore(IgnoreReason.ALREADY_CANCELLED)


def _booked_again(copy: RoomCopy, booking: LinkedBooking) -> bool:
    """The room holds the meeting again under a copy the cancelled booking never had: the
    organizer gave it back its room after it was taken off (or the meeting lost the room
    and got it back). Its cancellation is carried out on both sides (nothing left to push),
    so the room's new copy is a new booking, as an unknown meeting would be."""
    return (
        not copy.cancelled
        and not booking.has_unpushed_changes
        and copy.room_event_id != booking.room_event_id
    )


def _is_stale(copy: RoomCopy, booking: LinkedBooking) -> bool:
    return (
        copy.last_modified is not None
        and booking.last_modified is not None
        and copy.last_modified < booking.last_modified
    )


def _outlook_changed(copy: RoomCopy, booking: LinkedBooking) -> bool:
    if copy.cancelled:
        return True
    if (copy.start, copy.end) != (booking.agreed_start, booking.agreed_end):
        return True
    return booking.outlook_born and copy.details_hash != booking.pulled_details_hash


def later_side(*, outlook_modified: datetime | None, platform_updated: datetime) -> Side:
    """When both sides changed a booking, the later change wins; a tie, or an Outlook copy
    without a timestamp, goes to Outlook. The pull and the push both decide by this."""
    if outlook_modified is None or outlook_modified >= platform_updated:
        return Side.OUTLOOK
    return Side.PLATFORM
