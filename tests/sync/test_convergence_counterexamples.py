"""The convergence machine's shrunk counterexamples, replayed step by step.

Each test is the sequence the machine (``test_convergence_machine``) shrank a divergence
to, in the machine's own vocabulary (``convergence_world``), and ends with the machine's
check: after a settle the platform's live bookings are the rooms' accepted meetings,
nothing is pending and nothing failed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus
from tests.sync.convergence_check import divergences
from tests.sync.convergence_world import SERIES_DAYS, World


@pytest.fixture
def world(database: Database) -> Iterator[World]:
    built = World(database)
    yield built
    built.close()


def settled(world: World) -> list[str]:
    world.settle()
    return divergences(world)


def test_a_room_taken_off_in_outlook_after_the_room_answered_cancels_the_booking(
    world: World,
) -> None:
    # The room's copy is known only from the answer read right after the push (no pull
    # saw it yet); its removal must still match the booking.
    world.book(room=0, at=0, hours=1, organizer=0)
    world.pull()
    world.push(0)
    [booking] = world.live_bookings()
    assert booking.status is BookingStatus.CONFIRMED
    world.take_room_off(0)

    assert settled(world) == []
    assert world.tenant.booking(booking.id).status is BookingStatus.CANCELLED


def test_a_room_taken_off_in_outlook_then_a_delta_reset_cancels_the_booking(
    world: World,
) -> None:
    world.book(room=0, at=0, hours=1, organizer=0)
    world.pull()
    world.push(0)
    world.take_room_off(0)
    world.sim.reset_delta(world.room(0))

    assert settled(world) == []
    assert world.live_bookings() == []


def test_an_outlook_cancel_before_any_pull_cancels_a_pushed_booking(world: World) -> None:
    world.book(room=0, at=0, hours=1, organizer=0)
    world.push(0)  # and the room's answer is read: no pull has seen the room's copy
    [booking] = world.live_bookings()
    assert booking.status is BookingStatus.CONFIRMED
    world.cancel_meeting(0)

    assert settled(world) == []
    assert world.tenant.booking(booking.id).status is BookingStatus.CANCELLED


def test_an_outlook_series_moved_to_another_room_and_back_keeps_its_bookings(
    world: World,
) -> None:
    # The room drops its copy and, given the series back, writes a new one under new ids:
    # the removal must not cancel the bookings the new copy still holds.
    world.create_meeting(organizer=0, room=1, at=0, hours=1, private=False, series=True)
    world.pull()
    world.change_meeting_room(0, room=0)
    world.change_meeting_room(0, room=1)

    assert settled(world) == []
    assert len(world.live_bookings()) == 3


# -- the five divergences found from outside, as the machine shrank each before its fix --


def test_an_outlook_meeting_moved_onto_a_taken_slot_then_free_keeps_its_booking(
    world: World,
) -> None:
    # The room declines the first move (the slot is M2's) and accepts the second.
    world.create_meeting(organizer=0, room=0, at=0, hours=1, private=False, series=False)
    world.create_meeting(organizer=1, room=0, at=1, hours=1, private=False, series=False)
    world.pull()
    world.move_meeting(0, at=1)
    world.move_meeting(0, at=2)

    assert settled(world) == []
    assert len(world.live_bookings()) == 2


def test_a_room_changed_in_outlook_on_a_platform_booking_moves_the_booking(
    world: World,
) -> None:
    world.book(room=0, at=0, hours=1, organizer=0)
    world.push(0)
    world.change_meeting_room(0, room=1)

    assert settled(world) == []
    [booking] = world.live_bookings()
    assert booking.resource_id == world.tenant.rooms[world.room(1)]


def test_an_outlook_cancel_then_a_platform_move_before_any_pull_leaves_no_failure(
    world: World,
) -> None:
    world.book(room=0, at=0, hours=1, organizer=0)
    world.push(0)
    world.cancel_meeting(0)
    world.move_booking(0, at=2)
    world.push(0)

    assert settled(world) == []
    assert world.live_bookings() == []


def test_a_platform_room_change_then_an_outlook_cancel_before_any_pull_cancels(
    world: World,
) -> None:
    world.book(room=0, at=0, hours=1, organizer=0)
    world.push(0)
    world.change_booking_room(0, room=1)
    world.push(0)
    world.cancel_meeting(0)

    assert settled(world) == []
    assert world.live_bookings() == []


def test_a_private_outlook_meeting_is_a_private_booking(world: World) -> None:
    world.create_meeting(organizer=0, room=0, at=0, hours=1, private=True, series=False)
    world.create_meeting(organizer=1, room=1, at=0, hours=1, private=True, series=True)

    assert settled(world) == []
    bookings = world.live_bookings()
    assert len(bookings) == 1 + 3
    assert all(booking.private for booking in bookings)


@pytest.mark.parametrize("series", [True, False], ids=["series", "single"])
def test_an_outlook_meeting_given_its_room_back_after_losing_it_is_booked_again(
    world: World, *, series: bool
) -> None:
    # Shrunk by the listener-mode machine: the organizer takes the room off a synced
    # meeting (the pull cancels its bookings), then gives the room back; the room accepts
    # it again under new copies, which must be live bookings again.
    world.create_meeting(0, 1, 1, 1, private=True, series=series)
    world.settle()
    world.take_room_off(0)
    world.pull()
    world.change_meeting_room(0, 1)

    assert settled(world) == []
    assert len(world.live_bookings()) == (SERIES_DAYS if series else 1)


def test_an_outlook_series_at_the_times_of_a_platform_series_not_pushed_yet_stays_its_own(
    world: World,
) -> None:
    # Same organizer, room and times: the pull must not take the Outlook series' room
    # copies for those of the platform series still waiting for its first push.
    world.create_meeting(1, 1, 2, 1, private=True, series=True)
    world.book_series(room=1, at=2, organizer=1)
    world.pull()

    assert settled(world) == []


def test_a_platform_series_whose_room_outlook_takes_off_before_its_answers_ends(
    world: World,
) -> None:
    # The room drops its copies before any answer was read: the answers must not wait for
    # a room the series no longer books.
    world.book_series(room=0, at=0, organizer=0)
    world.push(0)
    world.take_room_off(0)

    assert settled(world) == []
    assert world.live_bookings() == []


def test_a_platform_series_moved_to_another_room_in_outlook_is_held_there(
    world: World,
) -> None:
    world.book_series(room=0, at=0, organizer=0)
    world.settle()
    world.change_meeting_room(0, 1)

    assert settled(world) == []
    assert {b.resource_id for b in world.live_bookings()} == {world.tenant.rooms[world.room(1)]}
