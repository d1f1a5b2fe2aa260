"""Both sides of a synced organization, driven by real actions, for the convergence machine.

A :class:`World` is an emulated tenant (two rooms, three people) and the platform
organization synced with it in polling mode. Its methods are what people and the system
do: book, move, change rooms and cancel through the platform's booking services (what the
REST API calls), the same in Outlook through graphsim as the organizers, faults on Graph,
and the real pull, push, answer reads and outbox sweeps. Nothing models the planner: the
machine only checks what both sides hold afterwards (``convergence_check``).

Meetings fall on a small grid (hourly slots tomorrow, series daily from tomorrow) so the
two sides keep colliding. The platform runs on the wall clock; the sync context's clock
runs ahead of it by an offset that only grows, so retries and sweeps fall due without any
sleep (Graph's own waits go to a recorder).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from graphsim.errors import GraphApiError, NotFoundError
from graphsim.outlook import recurrence
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, Origin, OutboxState
from roomsync.platform.exceptions import PlatformError
from roomsync.platform.models import Booking, OutboxEntry
from roomsync.platform.services.bookings import cancel_booking, create_booking, update_booking
from roomsync.platform.services.series import ConflictChoice, create_series
from roomsync.platform.services.series_edits import EditScope, cancel_in_scope, update_in_scope
from roomsync.sync.push.failure import end_overdue_pushes
from roomsync.sync.push.room_answers import check_room_answer, check_room_answers
from roomsync.sync.push.workflow import push_booking, sweep_outbox
from tests.sync.convergence_listener import Listener
from tests.sync.harness import StepClock, Tenant, connect, tomorrow_at
from tests.sync.push_support import pull
from tests.sync.rooms_testkit import SleepRecorder

FIRST_SLOT, SLOTS = 8, 6
"""Meetings start on the hour, 08:00 to 13:00 UTC tomorrow."""
SERIES_DAYS = 3
LIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
OPTIONS = {"room_answer_timeout_seconds": 7 * 24 * 3600}
"""The platform's rows are stamped by the wall clock and the sync context's clock runs
ahead of it; a room answer timeout longer than that lead keeps a fresh push from looking
overdue. The settle step asserts that nothing is left pending at all, which is stronger."""


class OffsetClock(StepClock):
    """The wall clock plus an offset that only grows."""

    def __init__(self) -> None:
        super().__init__()
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def slot(index: int, hours: int = 1) -> tuple[datetime, datetime]:
    start = tomorrow_at(FIRST_SLOT + index % SLOTS)
    return start, start + timedelta(hours=hours)


class World:
    """A connected tenant and organization, and the actions of the convergence machine."""

    def __init__(self, database: Database, *, listener: bool = False) -> None:
        self.clock = OffsetClock()
        self.tenant: Tenant = connect(
            database, rooms=2, users=3, clock=self.clock, integration_options=OPTIONS
        )
        self.tenant.ctx = dataclasses.replace(self.tenant.ctx, sleep=SleepRecorder())
        self.sim = self.tenant.sim
        self.refused = 0
        """Actions a side refused (a slot taken, a booking closed): legitimate, counted."""
        self.listener = Listener(self.tenant) if listener else None
        """In listener mode: subscriptions, the webhook and its pulls (``convergence_listener``)."""

    def close(self) -> None:
        self.tenant.ctx.close()
        self.sim.close()

    # -- what the platform holds ---------------------------------------------------------

    def live_bookings(self) -> list[Booking]:
        with self.tenant.database.session() as session:
            query = (
                select(Booking)
                .where(Booking.organization_id == self.tenant.organization_id)
                .where(Booking.status.in_(LIVE))
                .order_by(Booking.created_at, Booking.id)
            )
            return list(session.scalars(query))

    def outbox(self, state: OutboxState | None = None) -> list[OutboxEntry]:
        with self.tenant.database.session() as session:
            query = select(OutboxEntry).join(Booking, Booking.id == OutboxEntry.booking_id)
            query = query.where(Booking.organization_id == self.tenant.organization_id)
            if state is not None:
                query = query.where(OutboxEntry.state == state)
            return list(session.scalars(query.order_by(OutboxEntry.id)))

    def pick_booking(self, index: int) -> Booking | None:
        bookings = self.live_bookings()
        return bookings[index % len(bookings)] if bookings else None

    # -- the platform side (the booking services the REST API calls) ---------------------

    def platform(self, change: Any, **values: Any) -> None:
        try:
            with self.tenant.database.session() as session:
                change(session, **values)
        except PlatformError:
            self.refused += 1

    def book(self, room: int, at: int, hours: int, organizer: int) -> None:
        start, end = slot(at, hours)
        self.platform(
            create_booking,
            organization_id=self.tenant.organization_id,
            resource_id=self.tenant.rooms[self.room(room)],
            organizer_email=self.user(organizer),
            title="Planning",
            start=start,
            end=end,
        )

    def move_booking(self, index: int, at: int) -> None:
        if (booking := self.pick_booking(index)) is not None:
            start, _ = slot(at)
            end = start + (booking.end_at - booking.start_at)
            self.platform(update_booking, booking_id=booking.id, start=start, end=end)

    def change_booking_room(self, index: int, room: int) -> None:
        if (booking := self.pick_booking(index)) is not None:
            resource_id = self.tenant.rooms[self.room(room)]
            self.platform(update_booking, booking_id=booking.id, resource_id=resource_id)

    def cancel_booking(self, index: int) -> None:
        if (booking := self.pick_booking(index)) is not None:
            self.platform(cancel_booking, booking_id=booking.id)

    def book_series(self, room: int, at: int, organizer: int) -> None:
        """A daily series of ``SERIES_DAYS`` from tomorrow, clashing days skipped."""
        start, end = slot(at)
        self.platform(
            create_series,
            organization_id=self.tenant.organization_id,
            resource_id=self.tenant.rooms[self.room(room)],
            organizer_email=self.user(organizer),
            title="Stand-up",
            start=start,
            end=end,
            recurrence={
                "pattern": {"type": "daily", "interval": 1},
                "range": {"type": "numbered", "numberOfOccurrences": SERIES_DAYS},
            },
            conflicts=ConflictChoice.SKIP,
        )

    def pick_occurrence(self, index: int) -> Booking | None:
        """A live occurrence of a series booked on the platform."""
        found = [b for b in self.live_bookings() if b.series_id and b.origin is Origin.PLATFORM]
        return found[index % len(found)] if found else None

    def move_occurrences(self, index: int, at: int, scope: str) -> None:
        if (booking := self.pick_occurrence(index)) is not None:
            start = datetime.combine(booking.start_at.date(), slot(at)[0].timetz())
            end = start + (booking.end_at - booking.start_at)
            self.platform(
                update_in_scope,
                booking_id=booking.id,
                scope=EditScope(scope),
                start=start.replace(tzinfo=UTC),
                end=end.replace(tzinfo=UTC),
            )

    def cancel_occurrences(self, index: int, scope: str) -> None:
        if (booking := self.pick_occurrence(index)) is not None:
            self.platform(cancel_in_scope, booking_id=booking.id, scope=EditScope(scope))

    # -- the Outlook side (organizers acting on their own calendars through graphsim) ----

    def room(self, index: int) -> str:
        return self.tenant.room_emails[index % len(self.tenant.rooms)]

    def user(self, index: int) -> str:
        return self.tenant.users[index % len(self.tenant.users)]

    def meetings(self, *, series: bool | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Every live meeting an organizer holds (single or series master), both origins."""
        found = []
        for user in self.tenant.users:
            for event in self.sim.events(user):
                if event.get("isCancelled") or event.get("type") == "occurrence":
                    continue
                if series is None or (event.get("type") == "seriesMaster") == series:
                    found.append((user, event))
        return found

    def pick_meeting(
        self, index: int, *, series: bool | None = None
    ) -> tuple[str, dict[str, Any]] | None:
        found = self.meetings(series=series)
        return found[index % len(found)] if found else None

    def outlook(self, action: str, *args: Any) -> None:
        try:
            getattr(self.sim.outlook, action)(*args)
        except (GraphApiError, NotFoundError) as exc:  # Outlook refused it, as Graph would
            if isinstance(exc, GraphApiError) and exc.status >= 500:
                raise
            self.refused += 1

    def create_meeting(
        self, organizer: int, room: int, at: int, hours: int, *, private: bool, series: bool
    ) -> None:
        start, end = slot(at, hours)
        pattern = recurrence("daily", start.date(), count=SERIES_DAYS) if series else None
        self.sim.outlook.create_meeting(
            self.user(organizer),
            self.room(room),
            "Outlook meeting",
            start,
            end,
            recurrence=pattern,
            private=private,
        )

    def move_meeting(self, index: int, at: int) -> None:
        if (picked := self.pick_meeting(index, series=False)) is not None:
            organizer, event = picked
            start, _ = slot(at)
            self.outlook("move_meeting", organizer, event["id"], start, start + _length(event))

    def change_meeting_room(self, index: int, room: int) -> None:
        if (picked := self.pick_meeting(index)) is not None:
            organizer, event = picked
            self.outlook("update_meeting", organizer, event["id"], self.room_fields(room))

    def take_room_off(self, index: int) -> None:
        """The organizer makes the meeting an online one: no room attendee, no room."""
        if (picked := self.pick_meeting(index)) is not None:
            organizer, event = picked
            online = {"attendees": [], "location": {"displayName": "Online"}}
            self.outlook("update_meeting", organizer, event["id"], online)

    def cancel_meeting(self, index: int) -> None:
        if (picked := self.pick_meeting(index)) is not None:
            organizer, event = picked
            self.outlook("cancel_meeting", organizer, event["id"])

    def cancel_occurrence(self, index: int, day: int) -> None:
        if (picked := self.pick_meeting(index, series=True)) is not None:
            organizer, master = picked
            self.outlook("cancel_occurrence", organizer, master["id"], _occurrence(master, day))

    def move_occurrence(self, index: int, day: int, at: int) -> None:
        if (picked := self.pick_meeting(index, series=True)) is not None:
            organizer, master = picked
            original = _occurrence(master, day)
            start = slot(at)[0] + (original.date() - tomorrow_at(0).date())
            end = start + _length(master)
            self.outlook("move_occurrence", organizer, master["id"], original, start, end)

    def room_fields(self, index: int) -> dict[str, Any]:
        """The attendees and location of a meeting booking room ``index`` (Outlook's
        room finder replaces both)."""
        resource = self.sim.tenant.rooms[self.room(index)]
        attendee = {"address": resource.email, "name": resource.display_name}
        return {
            "attendees": [{"emailAddress": attendee, "type": "resource"}],
            "location": {
                "displayName": resource.display_name,
                "locationEmailAddress": resource.email,
            },
        }

    # -- the sync: the real pull, push, answer reads and sweeps --------------------------

    def pull(self) -> None:
        pull(self.tenant)

    def push(self, index: int) -> None:
        """Push one booking with rows due, then read its room's answer (a push task)."""
        waiting = sorted({row.booking_id for row in self.outbox(OutboxState.PENDING)})
        if waiting:
            booking_id = waiting[index % len(waiting)]
            outcome = push_booking(self.tenant.ctx, booking_id)
            self.sim.settle()
            if outcome.awaiting_room:
                check_room_answer(self.tenant.ctx, booking_id)

    def sweep(self) -> None:
        """The runtime's periodic sweep: due pushes, overdue pushes, waiting answers."""
        sweep_outbox(self.tenant.ctx)
        self.sim.settle()
        end_overdue_pushes(self.tenant.ctx)
        check_room_answers(self.tenant.ctx)

    def settle(self, rounds: int = 6) -> None:
        """Faults cleared, then sweeps and pulls until no push is left to send."""
        self.sim.clear_faults()
        if self.listener is not None:  # Graph's retries deliver what it still holds
            self.listener.renew()
            self.listener.flush()
        for _ in range(rounds):
            self.clock.advance(120)
            self.sweep()
            self.pull()
            if not self.outbox(OutboxState.PENDING):
                break
        self.sweep()
        self.pull()


def _length(event: dict[str, Any]) -> timedelta:
    return _utc(event["end"]) - _utc(event["start"])


def _utc(field: dict[str, str]) -> datetime:
    return datetime.fromisoformat(field["dateTime"][:19]).replace(tzinfo=UTC)


def _occurrence(master: dict[str, Any], day: int) -> datetime:
    """The original start of the series' ``day``-th occurrence (a daily series)."""
    return _utc(master["start"]) + timedelta(days=day % SERIES_DAYS)
