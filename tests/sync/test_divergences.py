"""Sequences after which the platform and the room mailboxes used to disagree for good.

Each test replays one fixed order of steps in polling mode with explicit syncs and ends
by checking that the platform's live bookings are the room's accepted meetings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus
from roomsync.platform.services.bookings import update_booking
from roomsync.sync.push.room_answers import check_room_answer
from tests.sync.harness import Tenant, tomorrow_at
from tests.sync.push_support import book, connected, move, pull, push, sync_view


def room_attendee(tenant: Tenant, room: str) -> dict[str, object]:
    resource = tenant.sim.tenant.rooms[room]
    return {
        "attendees": [
            {
                "emailAddress": {"address": resource.email, "name": resource.display_name},
                "type": "resource",
            }
        ],
        "location": {"displayName": resource.display_name, "locationEmailAddress": room},
    }


def organizer_event(tenant: Tenant, booking_id: uuid.UUID) -> str:
    link = tenant.link_of(booking_id)
    assert link is not None
    assert link.organizer_event_id
    return link.organizer_event_id


def accepted(tenant: Tenant, room: str) -> set[tuple[int, int]]:
    """The meetings the room holds, as (start hour, end hour)."""
    return {
        (int(e["start"]["dateTime"][11:13]), int(e["end"]["dateTime"][11:13]))
        for e in tenant.room_calendar(room)
        if not e.get("isCancelled")
    }


def live(tenant: Tenant, room: str) -> set[tuple[int, int]]:
    return {(b.start_at.hour, b.end_at.hour) for b in tenant.bookings(room)}


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected(database, rooms=2) as connected_tenant:
        yield connected_tenant


def test_an_outlook_booking_survives_a_brief_room_decline(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    outlook = tenant.sim.outlook
    first = outlook.create_meeting(organizer, room, "M1", tomorrow_at(5), tomorrow_at(6))
    outlook.create_meeting(tenant.users[1], room, "M2", tomorrow_at(6), tomorrow_at(7))
    pull(tenant)

    outlook.move_meeting(organizer, first, tomorrow_at(6), tomorrow_at(7))  # the room declines
    tenant.sim.settle()
    outlook.move_meeting(organizer, first, tomorrow_at(7), tomorrow_at(8))  # and accepts
    pull(tenant)

    live = {(b.title, b.start_at.hour) for b in tenant.bookings(room)}
    held = {e["subject"] for e in tenant.room_calendar(room) if not e.get("isCancelled")}
    assert len(live) == len(held) == 2
    assert all(b.status is BookingStatus.CONFIRMED for b in tenant.bookings(room))


@pytest.mark.parametrize("rooms", ["forward", "backward"])
def test_a_room_change_made_in_outlook_moves_a_platform_booking_without_a_duplicate(
    tenant: Tenant, rooms: str
) -> None:
    # Both directions: the pull sees the old room's removal before or after the new copy.
    first, second = tenant.room_emails[:: 1 if rooms == "forward" else -1]
    organizer = tenant.users[0]
    booking_id = book(tenant, first, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    pull(tenant)

    tenant.sim.outlook.update_meeting(
        organizer, organizer_event(tenant, booking_id), room_attendee(tenant, second)
    )
    pull(tenant)

    assert live(tenant, first) == accepted(tenant, first) == set()
    assert live(tenant, second) == accepted(tenant, second) == {(9, 10)}
    [moved] = tenant.bookings(second)
    assert moved.id == booking_id
    assert moved.status is BookingStatus.CONFIRMED
    move(tenant, booking_id, tomorrow_at(11), tomorrow_at(12))
    push(tenant, booking_id)
    pull(tenant)
    assert live(tenant, second) == accepted(tenant, second) == {(11, 12)}
    assert tenant.booking(booking_id).status is BookingStatus.CONFIRMED


def test_an_outlook_cancel_then_a_platform_move_leaves_no_stale_failure(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    pull(tenant)

    tenant.sim.outlook.cancel_meeting(organizer, organizer_event(tenant, booking_id))
    move(tenant, booking_id, tomorrow_at(11), tomorrow_at(12))
    push(tenant, booking_id)
    pull(tenant)

    assert live(tenant, room) == accepted(tenant, room) == set()
    assert tenant.booking(booking_id).status is BookingStatus.CANCELLED
    view = sync_view(tenant, booking_id)
    assert view.state != "failed", view


def test_a_platform_room_change_then_an_outlook_cancel_cancels_the_booking(
    tenant: Tenant,
) -> None:
    first, second = tenant.room_emails
    organizer = tenant.users[0]
    booking_id = book(tenant, first, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    pull(tenant)

    with tenant.database.session() as session:
        update_booking(session, booking_id=booking_id, resource_id=tenant.rooms[second])
    push(tenant, booking_id)
    check_room_answer(tenant.ctx, booking_id)
    assert tenant.booking(booking_id).status is BookingStatus.CONFIRMED
    assert accepted(tenant, second) == {(9, 10)}
    tenant.sim.outlook.cancel_meeting(organizer, organizer_event(tenant, booking_id))
    pull(tenant)

    assert live(tenant, first) == accepted(tenant, first) == set()
    assert live(tenant, second) == accepted(tenant, second) == set()
    assert tenant.booking(booking_id).status is BookingStatus.CANCELLED


def test_a_room_taken_off_a_platform_booking_in_outlook_cancels_the_booking(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    pull(tenant)

    tenant.sim.outlook.update_meeting(
        organizer,
        organizer_event(tenant, booking_id),
        {"attendees": [], "location": {"displayName": "Online"}},
    )
    pull(tenant)

    assert live(tenant, room) == accepted(tenant, room) == set()
    assert tenant.booking(booking_id).status is BookingStatus.CANCELLED


def test_an_outlook_cancel_then_a_platform_move_of_an_outlook_booking_leaves_no_failure(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    meeting = tenant.sim.outlook.create_meeting(
        organizer, room, "Weekly", tomorrow_at(9), tomorrow_at(10)
    )
    pull(tenant)
    [booking] = tenant.bookings(room)

    tenant.sim.outlook.cancel_meeting(organizer, meeting)
    move(tenant, booking.id, tomorrow_at(11), tomorrow_at(12))
    push(tenant, booking.id)
    pull(tenant)

    assert live(tenant, room) == accepted(tenant, room) == set()
    assert tenant.booking(booking.id).status is BookingStatus.CANCELLED
    view = sync_view(tenant, booking.id)
    assert view.state != "failed", view
