"""Pages applied together in one transaction, as the pages of one ``$batch`` response are:
links loaded once for all of them, new bookings written as rows at the end. The same
meeting seen twice before those rows are written is still one booking."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from roomsync.m365.calendar import DeltaWindow
from roomsync.m365.models import Event
from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import Booking, EventLink, RoomSyncState
from roomsync.sync.integration.access import runnable_integration
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.links import load_room_indexes
from roomsync.sync.pull.apply import PageApplier
from roomsync.sync.pull.new_bookings import NewBookings
from roomsync.sync.pull.prefetch import OrganizerDirectory, Prefetched
from roomsync.sync.pull.rounds import RoomRound
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.runs import RunReport
from tests.sync.harness import ZONE, Tenant, connect, connected_tenant, tomorrow_at


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database, rooms=1) as connected:
        yield connected


def room_copy(tenant: Tenant, room: str) -> Event:
    [item] = tenant.room_calendar(room)
    return Event.model_validate(item)


def apply_in_one_transaction(tenant: Tenant, room: str, pages: list[list[Event]]) -> RunReport:
    """What a flush of one ``$batch`` response does with these pages of one room."""
    now = datetime.now(UTC)
    round_ = RoomRound(
        integration_id=tenant.integration_id,
        organization_id=tenant.organization_id,
        resource_id=tenant.rooms[room],
        room_email=room,
        window=DeltaWindow(now - timedelta(days=1), now + timedelta(days=30)),
        zone=ZoneInfo(ZONE),
        full=True,
        started_at=now,
    )
    with tenant.database.session() as session:
        integration = runnable_integration(session, tenant.integration_id)
    directory = OrganizerDirectory(graph_for(tenant.ctx, integration))
    report, new = RunReport(uuid.uuid4()), NewBookings()
    with tenant.database.session() as session:
        ids = {item.id for page in pages for item in page}
        uids = {item.i_cal_u_id or "" for page in pages for item in page}
        index = load_room_indexes(session, tenant.integration_id, {room: (ids, uids)})[room]
        for page in pages:
            applier = PageApplier(
                session, round_, directory=directory, report=report, now=now, index=index,
                new_bookings=new,
            )  # fmt: skip
            applier.apply(page, Prefetched())
        new.write(session)
    return report


def count(tenant: Tenant, model: type[Booking] | type[EventLink]) -> int:
    with tenant.database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_meeting_seen_twice_in_one_page_is_one_booking(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    tenant.sim.outlook.create_meeting(
        tenant.users[0], room, "Plan", tomorrow_at(9), tomorrow_at(10)
    )
    tenant.sim.settle()
    copy = room_copy(tenant, room)

    report = apply_in_one_transaction(tenant, room, [[copy, copy]])

    assert (count(tenant, Booking), count(tenant, EventLink)) == (1, 1)
    assert report.counts["create_booking"] == 1
    assert report.counts["record_unchanged"] == 1


def test_a_meeting_moved_between_two_pages_of_one_transaction_is_one_moved_booking(
    tenant: Tenant,
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    event_id = tenant.sim.outlook.create_meeting(
        organizer, room, "Plan", tomorrow_at(9), tomorrow_at(10)
    )
    tenant.sim.settle()
    first = room_copy(tenant, room)
    tenant.sim.outlook.move_meeting(organizer, event_id, tomorrow_at(14), tomorrow_at(15))
    tenant.sim.settle()
    moved = room_copy(tenant, room)

    apply_in_one_transaction(tenant, room, [[first], [moved]])

    [booking] = tenant.bookings(room)
    assert (booking.start_at, booking.end_at) == (tomorrow_at(14), tomorrow_at(15))
    assert count(tenant, EventLink) == 1


def test_a_first_round_closes_the_full_round_of_every_room(database: Database) -> None:
    tenant = connect(database, rooms=3)
    try:
        organizer, room = tenant.users[0], tenant.room_emails[0]
        tenant.sim.outlook.create_meeting(organizer, room, "M", tomorrow_at(9), tomorrow_at(10))
        tenant.sim.settle()
        report = pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
    finally:
        tenant.ctx.close()
        tenant.sim.close()
    assert report.counts["reconciled_rooms"] == 3
    with database.session() as session:
        states = session.scalars(select(RoomSyncState)).all()
    assert len(states) == 3
    assert not any(state.full_round for state in states)
