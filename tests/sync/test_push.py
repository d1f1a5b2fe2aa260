"""Workflow 4: bookings created, moved and cancelled on the platform reach the room's calendar
as exactly one meeting each, created in the organizer's mailbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roomsync.m365.calendar import BOOKING_ID_PROPERTY, find_events_by_booking_id
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, OutboxState, SyncState
from roomsync.platform.models import Integration
from roomsync.platform.services.bookings import update_booking
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.push.claim import claim_push, push_claim_for
from roomsync.sync.push.graph import transaction_id
from roomsync.sync.push.room_answers import RoomAnswer, check_answers_of, check_room_answer
from roomsync.sync.push.workflow import PushState, push_due
from tests.sync.harness import Tenant, tomorrow_at
from tests.sync.push_support import (
    book,
    cancel,
    connected,
    meetings,
    move,
    outbox_rows,
    push,
    rename,
    span,
    sync_view,
)


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected(database) as tenant:
        yield tenant


def test_a_new_booking_becomes_one_meeting_in_the_organizers_mailbox_and_the_rooms(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10), title="Planning")

    outcome = push(tenant, booking_id)

    assert outcome.state is PushState.PUSHED
    [event] = meetings(tenant.sim, organizer)
    assert event["subject"] == "Planning"
    assert span(event) == (tomorrow_at(9), tomorrow_at(10))
    assert event["transactionId"] == transaction_id(booking_id)
    assert event["location"]["locationEmailAddress"] == room
    [attendee] = event["attendees"]
    assert (attendee["type"], attendee["emailAddress"]["address"]) == ("resource", room)
    [room_copy] = meetings(tenant.sim, room)
    assert room_copy["iCalUId"] == event["iCalUId"]
    assert span(room_copy) == (tomorrow_at(9), tomorrow_at(10))
    graph = graph_for(tenant.ctx, _integration(tenant))
    [tagged] = find_events_by_booking_id(graph, organizer, str(booking_id))
    assert tagged.extended_property(BOOKING_ID_PROPERTY) == str(booking_id)


def test_the_push_is_recorded_on_the_link_and_the_outbox(tenant: Tenant) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))

    push(tenant, booking_id)

    [event] = meetings(tenant.sim, tenant.users[0])
    link = tenant.link_of(booking_id)
    assert link is not None
    assert (link.organizer_email, link.organizer_event_id) == (tenant.users[0], event["id"])
    assert link.ical_uid == event["iCalUId"]
    assert link.organizer_change_key  # the create's; the room's answer has changed it since
    assert link.synced_version == tenant.booking(booking_id).version
    assert link.synced_state is not None
    assert link.synced_state["title"] == "Planning"
    assert [row.state for row in outbox_rows(tenant, booking_id)] == [OutboxState.DONE]
    assert sync_view(tenant, booking_id).state is SyncState.SYNCED


def test_the_booking_stays_pending_until_the_room_answers_then_is_confirmed(
    tenant: Tenant,
) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    assert tenant.booking(booking_id).status is BookingStatus.PENDING

    outcome = push(tenant, booking_id)
    answer = check_room_answer(tenant.ctx, booking_id)

    assert outcome.awaiting_room
    assert answer.answer is RoomAnswer.ACCEPTED
    assert tenant.booking(booking_id).status is BookingStatus.CONFIRMED


def test_a_move_patches_the_same_meeting_and_the_room_follows(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    tenant.sim.requests.clear()

    move(tenant, booking_id, tomorrow_at(14), tomorrow_at(15, 30))
    push(tenant, booking_id)

    assert tenant.sim.requests.count(method="POST", path_contains="/events") == 0
    assert tenant.sim.requests.count(method="PATCH", mailbox=organizer) == 1
    [event] = meetings(tenant.sim, organizer)
    assert span(event) == (tomorrow_at(14), tomorrow_at(15, 30))
    [room_copy] = meetings(tenant.sim, room)
    assert span(room_copy) == (tomorrow_at(14), tomorrow_at(15, 30))


def test_a_rename_patches_only_the_subject(tenant: Tenant) -> None:
    organizer = tenant.users[0]
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    tenant.sim.requests.clear()

    rename(tenant, booking_id, "Quarterly review")
    push(tenant, booking_id)

    [event] = meetings(tenant.sim, organizer)
    assert event["subject"] == "Quarterly review"
    assert span(event) == (tomorrow_at(9), tomorrow_at(10))
    assert tenant.sim.requests.count(method="PATCH", mailbox=organizer) == 1


def test_moving_to_another_room_swaps_the_room_on_the_meeting(tenant: Tenant) -> None:
    first, second = tenant.room_emails
    booking_id = book(tenant, first, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)

    with tenant.database.session() as session:
        update_booking(session, booking_id=booking_id, resource_id=tenant.rooms[second])
    push(tenant, booking_id)

    assert meetings(tenant.sim, first) == []
    [room_copy] = meetings(tenant.sim, second)
    assert span(room_copy) == (tomorrow_at(9), tomorrow_at(10))
    link = tenant.link_of(booking_id)
    assert link is not None
    assert link.room_email == second
    assert check_room_answer(tenant.ctx, booking_id).answer is RoomAnswer.ACCEPTED


def test_a_cancel_cancels_the_meeting_and_frees_the_room(tenant: Tenant) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)

    cancel(tenant, booking_id)
    push(tenant, booking_id)

    assert tenant.sim.requests.count(method="POST", path_contains="/cancel") == 1
    assert meetings(tenant.sim, organizer) == []
    assert meetings(tenant.sim, room) == []
    assert sync_view(tenant, booking_id).state is SyncState.SYNCED


def test_a_booking_cancelled_before_its_first_push_never_reaches_outlook(
    tenant: Tenant,
) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    cancel(tenant, booking_id)

    outcome = push(tenant, booking_id)

    assert outcome.state is PushState.PUSHED
    assert tenant.sim.requests.count(path_contains="/events") == 0
    assert all(row.state is OutboxState.DONE for row in outbox_rows(tenant, booking_id))


def test_rapid_edits_coalesce_into_one_patch(tenant: Tenant) -> None:
    organizer = tenant.users[0]
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    tenant.sim.requests.clear()

    for minutes in (15, 30, 45):
        move(tenant, booking_id, tomorrow_at(11, minutes), tomorrow_at(12, minutes))
    rename(tenant, booking_id, "Moved three times")
    push(tenant, booking_id)

    assert tenant.sim.requests.count(method="PATCH", mailbox=organizer) == 1
    [event] = meetings(tenant.sim, organizer)
    assert span(event) == (tomorrow_at(11, 45), tomorrow_at(12, 45))
    assert event["subject"] == "Moved three times"
    assert all(row.state is OutboxState.DONE for row in outbox_rows(tenant, booking_id))


def test_a_push_with_nothing_due_sends_nothing(tenant: Tenant) -> None:
    booking_id = book(tenant, tenant.room_emails[0], tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    tenant.sim.requests.clear()

    outcome = push(tenant, booking_id)

    assert outcome.state is PushState.NOTHING_DUE
    assert tenant.sim.requests.count() == 0


def _integration(tenant: Tenant) -> Integration:
    with tenant.database.session() as session:
        return session.get_one(Integration, tenant.integration_id)


def test_one_push_takes_the_other_due_bookings_of_its_organization(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    first, *others = [book(tenant, room, tomorrow_at(h), tomorrow_at(h + 1)) for h in (8, 10, 12)]
    move(tenant, others[0], tomorrow_at(10, 30), tomorrow_at(11, 30))  # two rows, one push

    outcomes = push_due(tenant.ctx, first, limit=10)
    tenant.sim.settle()

    assert list(outcomes) == [first, *others]  # oldest first, the message's booking leading
    assert all(outcome.state is PushState.PUSHED for outcome in outcomes.values())
    assert sorted(span(m) for m in meetings(tenant.sim, room)) == [
        (tomorrow_at(8), tomorrow_at(9)),
        (tomorrow_at(10, 30), tomorrow_at(11, 30)),
        (tomorrow_at(12), tomorrow_at(13)),
    ]
    assert tenant.sim.requests.count(method="POST", path_contains="/events") == 3
    assert all(push(tenant, booking).state is PushState.NOTHING_DUE for booking in others)


def test_a_push_leaves_alone_the_bookings_another_push_holds(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    first, held = [book(tenant, room, tomorrow_at(h), tomorrow_at(h + 1)) for h in (8, 10)]
    with tenant.database.session() as session:
        claim_for = push_claim_for(tenant.ctx.settings)
        job = claim_push(session, held, now=tenant.ctx.clock(), claim_for=claim_for)
        assert job is not None  # another worker holds it now

    outcomes = push_due(tenant.ctx, first, limit=10)

    assert list(outcomes) == [first]
    assert push(tenant, held).state is PushState.NOTHING_DUE  # its holder sends its rows
    assert [span(m) for m in meetings(tenant.sim, room)] == [(tomorrow_at(8), tomorrow_at(9))]


def test_one_check_reads_and_applies_the_answers_of_several_pushes(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    first, second = [book(tenant, room, tomorrow_at(h), tomorrow_at(h + 1)) for h in (8, 10)]
    push_due(tenant.ctx, first, limit=10)
    tenant.sim.settle()

    answers = check_answers_of(tenant.ctx, [first, second])

    assert {b: a.answer for b, a in answers.items()} == {
        first: RoomAnswer.ACCEPTED,
        second: RoomAnswer.ACCEPTED,
    }
    assert tenant.booking(first).status is BookingStatus.CONFIRMED
    assert tenant.booking(second).status is BookingStatus.CONFIRMED
