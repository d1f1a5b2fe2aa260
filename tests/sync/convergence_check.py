"""What "the two sides agree" means, checked after the convergence machine settles.

The platform's live bookings (pending or confirmed) and the meetings the room calendars
accepted (the room's own copies, not cancelled) must match one to one on room, start, end,
organizer and series membership, and occurrences grouped in one series on one side must be
grouped in one series on the other. After a settle nothing may wait for a room's answer,
and no booking other than a declined one (a push given up on) may carry a failed outbox
row or a failed sync state.

Privacy is compared too: a private Outlook meeting must be a private booking, and a
private booking a private meeting. The room's copy loses its sensitivity under Exchange's
default room processing, so the rooms' side reads it from the organizer's own copy, as
roomsync does. ``PRIVACY`` turns the comparison off when a run wants to look past it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from roomsync.platform.enums import BookingStatus, OutboxState
from roomsync.platform.models import Booking
from tests.sync.convergence_world import World
from tests.sync.push_support import span, sync_view

PRIVACY = True


@dataclass(frozen=True, order=True)
class Held:
    """One meeting as one side holds it."""

    room: str
    start: datetime
    end: datetime
    organizer: str
    in_series: bool
    private: bool = False

    def __str__(self) -> str:
        series = " (series)" if self.in_series else ""
        room, organizer = self.room.split("@")[0], self.organizer.split("@")[0]
        return f"{room} {self.start:%d %H:%M}-{self.end:%H:%M} {organizer}{series}"


Series = tuple[Held, ...]
"""The occurrences of one series, in order."""


def _aware(instant: datetime) -> datetime:
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def platform_side(world: World) -> tuple[Counter[Held], list[Series]]:
    rooms = {resource_id: email for email, resource_id in world.tenant.rooms.items()}
    held: Counter[Held] = Counter()
    series: defaultdict[str, set[Held]] = defaultdict(set)
    for booking in world.live_bookings():
        item = _held_booking(booking, rooms[booking.resource_id])
        held[item] += 1
        if booking.series_id is not None:
            series[booking.series_id].add(item)
    return held, sorted(tuple(sorted(group)) for group in series.values())


def _held_booking(booking: Booking, room: str) -> Held:
    return Held(
        room,
        _aware(booking.start_at),
        _aware(booking.end_at),
        booking.organizer_email.lower(),
        booking.series_id is not None,
        booking.private and PRIVACY,
    )


def room_side(world: World) -> tuple[Counter[Held], list[Series]]:
    held: Counter[Held] = Counter()
    series: defaultdict[str, set[Held]] = defaultdict(set)
    begin = datetime.now(UTC) - timedelta(days=1)
    sensitivity = _organizers_sensitivity(world, begin)
    for room in world.tenant.room_emails:
        for event in world.sim.calendar_view(room, begin, begin + timedelta(days=30)):
            if event.get("isCancelled"):
                continue
            start, end = span(event)
            organizer = event["organizer"]["emailAddress"]["address"].lower()
            said = sensitivity.get((event.get("iCalUId"), start), event.get("sensitivity"))
            private = PRIVACY and said == "private"
            item = Held(room, start, end, organizer, bool(event.get("seriesMasterId")), private)
            held[item] += 1
            if event.get("seriesMasterId"):
                series[f"{room} {event['seriesMasterId']}"].add(item)
    return held, sorted(tuple(sorted(group)) for group in series.values())


def _organizers_sensitivity(
    world: World, begin: datetime
) -> dict[tuple[str | None, datetime], str | None]:
    """(iCalUId, start) → sensitivity of the organizers' own copies: the room's copy loses
    it under Exchange's default room processing; the organizer's is the meeting's."""
    found: dict[tuple[str | None, datetime], str | None] = {}
    for user in world.tenant.users:
        for event in world.sim.calendar_view(user, begin, begin + timedelta(days=30)):
            found[(event.get("iCalUId"), span(event)[0])] = event.get("sensitivity")
    return found


def divergences(world: World) -> list[str]:
    """Every way the two sides disagree after a settle (empty when they converged)."""
    (bookings, booked_series), (accepted, accepted_series) = platform_side(world), room_side(world)
    found = [f"live booking no room holds: {h}" for h in sorted(bookings - accepted)]
    found += [f"room meeting no live booking matches: {h}" for h in sorted(accepted - bookings)]
    if not found and booked_series != accepted_series:
        found.append(
            f"series grouped differently: {_groups(booked_series)} (platform) != "
            f"{_groups(accepted_series)} (rooms)"
        )
    found += [
        f"still pending after settle: {b.id}"
        for b in world.live_bookings()
        if b.status is BookingStatus.PENDING
    ]
    return found + _stale_failures(world)


def _groups(series: list[Series]) -> str:
    return "; ".join(", ".join(map(str, group)) for group in series)


def _stale_failures(world: World) -> list[str]:
    found = []
    for row in world.outbox(OutboxState.FAILED):
        booking = world.tenant.booking(row.booking_id)
        if booking.status is not BookingStatus.DECLINED:
            found.append(f"failed outbox row of a {booking.status} booking: {row.last_error}")
    for booking in world.live_bookings():
        view = sync_view(world.tenant, booking.id)
        if view.state == "failed":
            found.append(f"sync state failed on a live booking: {view.error}")
    return found
