"""Rooms whose delta page comes back empty: their new deltaLinks are written together, in
two statements per few hundred rooms, and a changed room in the same round is applied as
every page is."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select

from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.models import RoomSyncState
from roomsync.sync.pull.page_flush import QUIET_PAGES_PER_WRITE
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.runs import RunReport
from tests.sync.harness import Tenant, connected_tenant, tomorrow_at


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database, rooms=30) as connected:
        yield connected


def pull(tenant: Tenant) -> RunReport:
    tenant.sim.settle()
    return pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)


def saved_states(tenant: Tenant) -> dict[str, RoomSyncState]:
    with tenant.database.session() as session:
        states = {s.resource_id: s for s in session.scalars(select(RoomSyncState))}
    return {room: states[resource_id] for room, resource_id in tenant.rooms.items()}


class StateWrites:
    """The statements that write ``room_sync_state``, as the database driver sees them."""

    def __init__(self, database: Database) -> None:
        self.statements: list[str] = []
        event.listen(database.engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("UPDATE ROOM_SYNC_STATE", "WITH QUIET")):
            self.statements.append(statement)


def test_a_round_in_which_nothing_changed_writes_every_rooms_link_in_two_statements(
    tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    pull(tenant)
    before = saved_states(tenant)
    writes = StateWrites(tenant.database)

    with caplog.at_level(logging.ERROR):
        report = pull(tenant)

    after = saved_states(tenant)
    assert len(writes.statements) == 2  # the values the rooms share, then each its link
    assert len(tenant.rooms) <= QUIET_PAGES_PER_WRITE
    assert not caplog.records  # written together, not after a failure page by page
    assert report.counts["pages"] == len(tenant.rooms)
    assert not report.errors
    for room, state in after.items():
        assert state.delta_link is not None
        assert state.delta_link.startswith(f"{tenant.ctx.cloud.graph_url}/v1.0/users/")
        assert (state.next_link, state.full_round, state.last_error) == (None, False, None)
        assert (state.last_outcome, state.consecutive_failures) == ("succeeded", 0)
        assert state.last_round_at is not None
        assert state.last_round_at > (before[room].last_round_at or state.last_round_at)


def test_a_changed_room_is_applied_while_the_quiet_ones_only_save_their_links(
    tenant: Tenant,
) -> None:
    pull(tenant)
    changed = tenant.room_emails[7]
    tenant.sim.outlook.create_meeting(
        tenant.users[0], changed, "Planning", tomorrow_at(9), tomorrow_at(10)
    )

    report = pull(tenant)
    second = pull(tenant)

    [booking] = tenant.bookings(changed)
    assert (booking.start_at, booking.end_at) == (tomorrow_at(9), tomorrow_at(10))
    assert (report.counts["create_booking"], report.counts["items"]) == (1, 1)
    assert (second.counts["create_booking"], second.counts["items"]) == (0, 0)
    assert all(state.delta_link for state in saved_states(tenant).values())


def test_a_room_whose_round_ends_on_an_empty_page_after_full_pages_keeps_its_events_seen(
    database: Database,
) -> None:
    with connected_tenant(database, rooms=2, integration_options={"page_size": 2}) as tenant:
        room = tenant.room_emails[0]
        for hour in (8, 10):
            tenant.sim.outlook.create_meeting(
                tenant.users[0], room, f"At {hour}", tomorrow_at(hour), tomorrow_at(hour + 1)
            )

        report = pull(tenant)

        state = saved_states(tenant)[room]
        assert len(tenant.bookings(room)) == 2
        assert not report.errors
        assert state.delta_link is not None
        assert state.next_link is None
        assert state.events_seen == 2
