"""A room copy missing under its old id is looked for again before its removal is believed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from graphsim.outlook import recurrence
from roomsync.platform.db import Database
from roomsync.platform.models import Integration
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.planner import RemovalCheck
from roomsync.sync.pull.removals import RemovalLookup, fetch_copy
from tests.sync.harness import Tenant, tomorrow_at
from tests.sync.push_support import connected


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected(database, rooms=2) as connected_tenant:
        yield connected_tenant


def room_fields(tenant: Tenant, room: str) -> dict[str, Any]:
    resource = tenant.sim.tenant.rooms[room]
    address = {"address": resource.email, "name": resource.display_name}
    return {
        "attendees": [{"emailAddress": address, "type": "resource"}],
        "location": {"displayName": resource.display_name, "locationEmailAddress": room},
    }


def test_an_occurrence_written_anew_after_a_room_change_and_back_is_found_by_its_times(
    tenant: Tenant,
) -> None:
    first, second = tenant.room_emails
    organizer = tenant.users[0]
    start = tomorrow_at(9)
    series = tenant.sim.outlook.create_meeting(
        organizer, first, "Daily", start, start + timedelta(hours=1),
        recurrence=recurrence("daily", start.date(), count=3),
    )  # fmt: skip
    tenant.sim.settle()
    [before] = [e for e in tenant.room_calendar(first) if e["start"]["dateTime"][11:13] == "09"][:1]

    tenant.sim.outlook.update_meeting(organizer, series, room_fields(tenant, second))
    tenant.sim.settle()
    tenant.sim.outlook.update_meeting(organizer, series, room_fields(tenant, first))
    tenant.sim.settle()
    with tenant.database.session() as session:
        graph = graph_for(tenant.ctx, session.get_one(Integration, tenant.integration_id))
    lookup = RemovalLookup(
        RemovalCheck.ROOM_COPY, first, before["id"], before["iCalUId"],
        (start, start + timedelta(hours=1)),
    )  # fmt: skip

    found = fetch_copy(graph, lookup)

    assert found is not None, "the occurrence's new copy still holds the room"
    assert found.id != before["id"]
    assert found.i_cal_u_id == before["iCalUId"]
