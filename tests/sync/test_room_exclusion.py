"""An admin excludes a room from the Microsoft 365 import: it is retired at once and stays
retired through every later import (a plain ``active=false`` is undone by the next one),
its calendar is no longer pulled, and lifting the exclusion lets the next import bring it
back. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from graphsim import Simulator
from roomsync.platform.enums import SyncRunTrigger
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Resource
from roomsync.platform.services.resources import update_resource
from roomsync.sync.context import SyncContext
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.rooms.workflow import sync_rooms
from tests.sync.rooms_testkit import change_room, connect

MANUAL = SyncRunTrigger.MANUAL


def room_by_email(ctx: SyncContext, email: str) -> Resource:
    with ctx.database.session() as session:
        found = session.scalars(select(Resource).where(Resource.email == email)).one()
        session.expunge(found)
        return found


def set_room(ctx: SyncContext, resource_id: uuid.UUID, **changes: object) -> None:
    with ctx.database.session() as session:
        update_resource(session, resource_id=resource_id, **changes)  # type: ignore[arg-type]


@pytest.fixture
def imported(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> tuple[uuid.UUID, Resource]:
    """The integration after a first import, and the first of its rooms."""
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=MANUAL)
    return integration_id, room_by_email(ctx, sorted(sim.tenant.rooms)[0])


def test_an_excluded_room_stays_out_of_service_after_the_next_import(
    ctx: SyncContext, sim: Simulator, imported: tuple[uuid.UUID, Resource]
) -> None:
    integration_id, room = imported
    email = room.email or ""

    set_room(ctx, room.id, excluded_from_import=True)
    change_room(sim, email, display_name="Renamed in Exchange")
    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    after = room_by_email(ctx, email)
    assert (after.active, after.excluded_from_import) == (False, True)
    assert after.retired_at is not None
    assert after.name == room.name  # left as it was, not updated
    assert report.counts["excluded"] == 1
    assert report.counts["reactivated"] == 0


def test_a_plain_deactivation_is_still_undone_by_the_import(
    ctx: SyncContext, imported: tuple[uuid.UUID, Resource]
) -> None:
    integration_id, room = imported

    set_room(ctx, room.id, active=False)
    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert room_by_email(ctx, room.email or "").active is True
    assert report.counts["reactivated"] == 1


def test_an_excluded_rooms_calendar_is_not_pulled(
    ctx: SyncContext, sim: Simulator, imported: tuple[uuid.UUID, Resource]
) -> None:
    integration_id, room = imported
    excluded, kept = sorted(sim.tenant.rooms)[:2]
    set_room(ctx, room.id, excluded_from_import=True)
    sim.requests.clear()

    pull_bookings(ctx, integration_id, trigger=MANUAL)

    assert sim.requests.count(mailbox=kept) > 0
    assert sim.requests.count(mailbox=excluded) == 0


def test_lifting_the_exclusion_lets_the_next_import_bring_the_room_back(
    ctx: SyncContext, imported: tuple[uuid.UUID, Resource]
) -> None:
    integration_id, room = imported
    set_room(ctx, room.id, excluded_from_import=True)

    set_room(ctx, room.id, excluded_from_import=False)
    assert room_by_email(ctx, room.email or "").active is False  # until the import says so
    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert room_by_email(ctx, room.email or "").active is True
    assert report.counts["reactivated"] == 1


def test_reactivating_an_excluded_room_is_refused_naming_the_field(
    ctx: SyncContext, imported: tuple[uuid.UUID, Resource]
) -> None:
    _, room = imported
    set_room(ctx, room.id, excluded_from_import=True)

    with pytest.raises(InvalidInputError) as refused:
        set_room(ctx, room.id, active=True)

    assert refused.value.field == "active"
    assert room_by_email(ctx, room.email or "").active is False
