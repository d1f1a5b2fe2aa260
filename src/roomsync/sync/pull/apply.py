"""Carrying the planner's decisions out on the platform, inside one page's transaction.

Every change made here is ``ChangeSource.MICROSOFT365``: it skips the overlap rule (the
room mailbox already decided occupancy, identity rule 4) and never writes an outbox row,
which is the first guard against echo loops. The link row records what both sides now
agree on (docs/sync.md), so the next sight of the same room copy changes nothing.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import assert_never

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from roomsync.m365.models import Event, ResponseType
from roomsync.platform.enums import BookingStatus, ChangeSource, HistoryKind, OutboxState
from roomsync.platform.models import Booking, EventLink, OutboxEntry
from roomsync.platform.services.bookings import (
    append_history,
    cancel_booking,
    set_booking_status,
    update_booking,
)
from roomsync.platform.services.changes import UNCHANGED
from roomsync.platform.services.resources import room_emails_known
from roomsync.platform.services.users import upsert_user_by_email
from roomsync.sync.links import LinkIndex, agree_on, linked_facts, note_room_copy
from roomsync.sync.mapping import CANCELLED_IN_OUTLOOK, ROOM_DECLINED, room_copy_from_event
from roomsync.sync.planner import (
    ApplyFromOutlook,
    CreateBooking,
    Decision,
    Ignore,
    KeepPlatformVersion,
    RecordUnchanged,
    RemovalCheck,
    RoomCopy,
    RoomCopyRemoved,
    VerifyRemoval,
    plan,
)
from roomsync.sync.pull.new_bookings import NewBookings
from roomsync.sync.pull.organizer_privacy import as_organizer_sees_it
from roomsync.sync.pull.prefetch import OrganizerDirectory, Prefetched, rooms_named
from roomsync.sync.pull.rounds import RoomRound
from roomsync.sync.pull.series_adoption import occurrence_in_flight
from roomsync.sync.runs import RunReport

logger = logging.getLogger(__name__)
SOURCE = ChangeSource.MICROSOFT365
ROOM_TAKEN_OFF = "The room was taken off the meeting in Outlook."


class PageApplier:
    """Applies the items of one room's delta pages to the platform."""

    def __init__(
        self,
        session: Session,
        round_: RoomRound,
        *,
        directory: OrganizerDirectory,
        report: RunReport,
        now: datetime,
        index: LinkIndex | None = None,
        new_bookings: NewBookings | None = None,
    ) -> None:
        """``index``: the room's links already loaded for the transaction (one per room,
        kept current as its pages are applied), else loaded here page by page;
        ``new_bookings``: where the transaction collects the bookings it creates, which
        it writes (else :meth:`apply` writes them)."""
        self.session = session
        self.round = round_
        self.directory = directory
        self.report = report
        self.now = now
        self.index = index or LinkIndex(session, round_.integration_id, round_.room_email)
        self.new = NewBookings() if new_bookings is None else new_bookings
        self.writes_new = new_bookings is None
        self.prefetched = Prefetched()

    def apply(self, items: list[Event], prefetched: Prefetched) -> None:
        self.prefetched = prefetched
        self.index.load((item.id for item in items), (i.i_cal_u_id for i in items if i.i_cal_u_id))
        self.index.add_bookings(prefetched.ours.values())
        for item in items:
            if item.removed is not None:
                self._removal(item.id)
            else:
                self._live(self._room_copy(item))
        if self.writes_new:
            self.new.write(self.session)

    def _room_copy(self, event: Event) -> RoomCopy:
        """The room's copy, private (and titled) as the organizer's own copy says."""
        copy = room_copy_from_event(event, zone=self.round.zone)
        return as_organizer_sees_it(copy, self.prefetched.privacy)

    def _match(self, room_event_id: str, ical_uid: str | None = None) -> EventLink | None:
        if self.new.holds(self.round.room_email, room_event_id, ical_uid):
            # The same meeting again, created earlier in this transaction: write it now.
            self.new.write(self.session)
            self.index.reload(room_event_id, ical_uid)
        return self.index.match(room_event_id, ical_uid)

    def _removal(self, room_event_id: str) -> None:
        link = self._match(room_event_id)
        facts = linked_facts(link, self.index.booking_of(link)) if link else None
        self._carry_out(plan(RoomCopyRemoved(room_event_id), facts, self.round.window), link)

    def _live(self, copy: RoomCopy) -> None:
        link = self._match(copy.room_event_id, copy.ical_uid) or self._ours(copy)
        if link is not None:
            link.last_seen_at = self.now  # whatever is decided, the room still holds it
        facts = linked_facts(link, self.index.booking_of(link)) if link else None
        self._carry_out(plan(copy, facts, self.round.window), link)
        if link is not None:
            self.index.remember(link)  # under the room event id it may just have taken

    def _carry_out(self, decision: Decision, link: EventLink | None) -> None:
        self.report.count(_counted_as(decision))
        match decision:
            case Ignore(reason):
                logger.debug("Ignored an item of %s: %s", self.round.room_email, reason)
            case CreateBooking(copy):
                self._create(copy)
            case RecordUnchanged(_, copy, confirm):
                self._unchanged(_linked(link, decision), copy, confirm=confirm)
            case ApplyFromOutlook():
                self._apply_outlook(_linked(link, decision), decision)
            case KeepPlatformVersion(_, copy):
                self._keep_platform(_linked(link, decision), copy)
            case VerifyRemoval(_, check):
                self._verified_removal(_linked(link, decision), check)
            case _:
                assert_never(decision)

    def _create(self, copy: RoomCopy) -> None:
        email = self._organizer_email(copy)
        self.new.add(self.round, copy, organizer_email=email, now=self.now)

    def _organizer_email(self, copy: RoomCopy) -> str:
        email = copy.organizer_email or self.round.room_email
        found = self.directory.found.get(email)
        if found is not None and self.directory.first_sight(email):
            upsert_user_by_email(
                self.session,
                organization_id=self.round.organization_id,
                email=email,
                name=found.name,
                external=found.external,
            )
        return email

    def _ours(self, copy: RoomCopy) -> EventLink | None:
        """Adopt the room copy of a create still in flight (identity rule 1, step 3)."""
        booking_id = self.prefetched.ours.get(copy.room_event_id)
        if booking_id is None and self.prefetched.creates_in_flight:
            booking_id = occurrence_in_flight(
                self.session, resource_id=self.round.resource_id, copy=copy
            )
            self.index.add_bookings([booking_id] if booking_id else [])
        booking = self.index.bookings.get(booking_id) if booking_id else None
        if booking is None:
            return None
        link = self.session.scalar(select(EventLink).where(EventLink.booking_id == booking.id))
        if link is not None and link.room_email != self.round.room_email:
            self._moved_in(link, booking)
        if link is None:
            link = EventLink(
                booking_id=booking.id,
                integration_id=self.round.integration_id,
                room_email=self.round.room_email,
                organizer_email=copy.organizer_email,
            )
            self.session.add(link)
            agree_on(link, booking)
        link.ical_uid = copy.ical_uid
        self.index.remember(link)
        self.report.count("adopted")
        return link

    def _moved_in(self, link: EventLink, booking: Booking) -> None:
        """The organizer changed the meeting's room in Outlook: the booking follows it."""
        old = booking.version
        update_booking(
            self.session, booking_id=booking.id, resource_id=self.round.resource_id, source=SOURCE
        )
        _advance(link, old, booking.version)
        link.room_email = self.round.room_email
        link.room_event_id = link.change_key = link.last_modified_at = None
        self.report.count("moved_in_outlook")

    def _unchanged(self, link: EventLink, copy: RoomCopy, *, confirm: bool) -> None:
        note_room_copy(link, copy, seen_at=self.now)
        link.pulled_hash = copy.details_hash
        if confirm:
            self._set_status(link, BookingStatus.CONFIRMED, None)

    def _apply_outlook(self, link: EventLink, decision: ApplyFromOutlook) -> None:
        booking, copy = self.index.booking_of(link), decision.copy
        if decision.overrides:
            self._record_loser(booking, winner="outlook", loser=_booking_version(booking))
            self._supersede_pushes(booking)
        if decision.confirm:
            self._set_status(link, BookingStatus.CONFIRMED, None)
        if copy.cancelled:
            cancel_booking(
                self.session, booking_id=booking.id, reason=CANCELLED_IN_OUTLOOK, source=SOURCE
            )
            self._supersede_pushes(booking, also_failed=True)
        else:
            self._update_from(booking, copy, with_details=decision.with_details)
        note_room_copy(link, copy, seen_at=self.now)
        agree_on(link, booking, pulled_hash=copy.details_hash)

    def _update_from(self, booking: Booking, copy: RoomCopy, *, with_details: bool) -> None:
        update_booking(
            self.session,
            booking_id=booking.id,
            start=copy.start,
            end=copy.end,
            all_day=copy.all_day,
            title=copy.subject if with_details else UNCHANGED,
            private=copy.private if with_details else UNCHANGED,
            source=SOURCE,
        )

    def _keep_platform(self, link: EventLink, copy: RoomCopy) -> None:
        booking = self.index.booking_of(link)
        self._record_loser(booking, winner="platform", loser=_copy_version(copy))
        note_room_copy(link, copy, seen_at=self.now)

    def _verified_removal(self, link: EventLink, check: RemovalCheck) -> None:
        evidence = self.prefetched.removals.get(link.room_event_id or "")
        if evidence is None:
            self.report.warn(f"A removal in {self.round.room_email} could not be verified.")
            return
        if check is RemovalCheck.ROOM_COPY and evidence.event is not None:
            self._live(self._room_copy(evidence.event))
        elif evidence.event is None or evidence.event.is_cancelled:
            self._close(link, BookingStatus.CANCELLED, CANCELLED_IN_OUTLOOK)
        elif _room_answer(evidence.event, self.round.room_email) is ResponseType.DECLINED:
            self._close(link, BookingStatus.DECLINED, ROOM_DECLINED)
        elif not self._books_a_room_of_ours(evidence.event) or self._occurrence_left(
            link, evidence.event
        ):
            self._close(link, BookingStatus.CANCELLED, ROOM_TAKEN_OFF)
        else:
            # The room copy is gone, the meeting is not: it still names this room (an
            # answer on its way), or it moved to another synced room, whose round adopts it.
            link.room_event_id = None
            self.report.count("removal_unconfirmed")

    def _occurrence_left(self, link: EventLink, organizer_copy: Event) -> bool:
        """An occurrence whose series no longer books this room: the other room's round
        cannot adopt it (an occurrence's organizer copy carries no booking id), so its
        copies there are new bookings and this one ends."""
        in_series = self.index.booking_of(link).series_id is not None
        return in_series and self.round.room_email.lower() not in rooms_named(organizer_copy)

    def _books_a_room_of_ours(self, organizer_copy: Event) -> bool:
        named = rooms_named(organizer_copy)
        if self.round.room_email.lower() in named:
            return True
        return bool(named) and room_emails_known(
            self.session, organization_id=self.round.organization_id, emails=named
        )

    def _close(self, link: EventLink, status: BookingStatus, reason: str) -> None:
        if status is BookingStatus.CANCELLED:
            booking = self.index.booking_of(link)
            old = booking.version
            cancel_booking(self.session, booking_id=booking.id, reason=reason, source=SOURCE)
            _advance(link, old, booking.version)
            self._supersede_pushes(booking, also_failed=True)
        else:
            self._set_status(link, status, reason)

    def _set_status(self, link: EventLink, status: BookingStatus, reason: str | None) -> None:
        booking = self.index.booking_of(link)
        if booking.status is status:
            return
        old = booking.version
        set_booking_status(
            self.session, booking_id=booking.id, status=status, reason=reason, source=SOURCE
        )
        _advance(link, old, booking.version)

    def _record_loser(self, booking: Booking, *, winner: str, loser: dict[str, object]) -> None:
        append_history(
            self.session,
            booking=booking,
            kind=HistoryKind.CONFLICT_OVERRIDDEN,
            source=SOURCE,
            data={"winner": winner, "overridden": loser},
        )
        self.report.count(f"conflicts_won_by_{winner}")

    def _supersede_pushes(self, booking: Booking, *, also_failed: bool = False) -> None:
        """Pushes Outlook's change made moot; ``also_failed``: the meeting is cancelled in
        Outlook, so a push that failed meanwhile (it found no meeting) is moot as well."""
        states = [OutboxState.PENDING, *([OutboxState.FAILED] if also_failed else [])]
        self.session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.booking_id == booking.id, OutboxEntry.state.in_(states))
            .values(
                state=OutboxState.DONE,
                done_at=self.now,
                last_error="Superseded by a later change made in Outlook.",
            )
        )


def _linked(link: EventLink | None, decision: Decision) -> EventLink:
    """The link a decision about a linked booking acts on; the planner only makes such a
    decision when it was given the booking, so a missing link is a bug, never input."""
    if link is None:
        raise RuntimeError(f"{type(decision).__name__} was planned for an unlinked item.")
    return link


def _advance(link: EventLink, old_version: int, new_version: int) -> None:
    """A change made by the sync is agreed by both sides — unless unpushed platform
    changes were pending, which must still be pushed."""
    if link.synced_version == old_version:
        link.synced_version = new_version


def _room_answer(organizer_copy: Event, room_email: str) -> ResponseType | None:
    attendee = organizer_copy.attendee(room_email)
    return attendee.status.response if attendee and attendee.status else None


def _booking_version(booking: Booking) -> dict[str, object]:
    return {
        "version": booking.version,
        "start": booking.start_at.isoformat(),
        "end": booking.end_at.isoformat(),
        "title": booking.title,
        "updated_at": booking.updated_at.isoformat(),
    }


def _copy_version(copy: RoomCopy) -> dict[str, object]:
    return {
        "start": copy.start.isoformat(),
        "end": copy.end.isoformat(),
        "cancelled": copy.cancelled,
        "last_modified": copy.last_modified.isoformat() if copy.last_modified else None,
    }


def _counted_as(decision: Decision) -> str:
    """The run count a decision adds to, in the snake_case of every other count."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(decision).__name__).lower()
