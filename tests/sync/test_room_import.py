"""Room import (workflow 1) against the emulated tenant: rooms become resources, room lists
become buildings, and a second run changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from graphsim import Simulator
from graphsim.control.seeding import add_room
from roomsync.platform.enums import Origin, SyncRunKind, SyncRunOutcome, SyncRunTrigger
from roomsync.platform.models import Building, Resource, SyncRun
from roomsync.sync.context import SyncContext
from roomsync.sync.exceptions import IntegrationUnavailableError, LeaseHeldError
from roomsync.sync.integration.configuration import IntegrationChanges, update_integration
from roomsync.sync.integration.settings import RoomListChoice, RoomSelection, RoomSelectionMode
from roomsync.sync.leases import lease, lease_ttl
from roomsync.sync.rooms.field_mapping import FieldMapping
from roomsync.sync.rooms.workflow import (
    ImportPhase,
    ImportProgress,
    rooms_lease_name,
    sync_rooms,
)
from roomsync.sync.rooms.writing import UNLISTED_BUILDING
from tests.sync.rooms_testkit import (
    GONE_LIST,
    TIME_ZONE,
    SleepRecorder,
    change_room,
    connect,
    move_room,
    room_lists,
    selection_with_a_gone_list,
)

MANUAL = SyncRunTrigger.MANUAL


def resources(ctx: SyncContext, organization_id: uuid.UUID) -> dict[str, Resource]:
    with ctx.database.session() as session:
        rows = session.scalars(select(Resource).where(Resource.organization_id == organization_id))
        return {row.email or "": row for row in rows}


def buildings(ctx: SyncContext, organization_id: uuid.UUID) -> dict[uuid.UUID, Building]:
    with ctx.database.session() as session:
        rows = session.scalars(select(Building).where(Building.organization_id == organization_id))
        return {row.id: row for row in rows}


def mappings(*items: dict[str, Any]) -> list[FieldMapping]:
    return [FieldMapping.model_validate(item) for item in items]


def test_importing_all_rooms_puts_each_room_in_the_building_of_its_room_list(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert report.outcome is SyncRunOutcome.SUCCEEDED
    assert report.counts["created"] == 6
    assert report.counts["unchanged"] == report.counts["retired"] == 0
    imported, made = resources(ctx, organization_id), buildings(ctx, organization_id)
    assert set(imported) == set(sim.tenant.rooms)
    for list_email, emails in room_lists(sim).items():
        for email in emails:
            building = made[imported[email].building_id]
            assert building.m365_room_list_email == list_email
            assert building.name == sim.tenant.room_lists[list_email].display_name
            assert building.time_zone == TIME_ZONE
    assert all(room.origin is Origin.MICROSOFT365 for room in imported.values())


def test_default_mappings_bring_name_capacity_floor_equipment_and_accessibility(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    email = "room0003@contoso.onmicrosoft.com"
    change_room(
        sim,
        email,
        display_name="Fjord",
        capacity=12,
        floor_label="3rd floor",
        audio_device_name="Poly Studio",
        display_device_name="Surface Hub",
        tags=["whiteboard", "video"],
        is_wheel_chair_accessible=True,
    )
    sync_rooms(ctx, connect(ctx, sim, organization_id), trigger=MANUAL)

    room = resources(ctx, organization_id)[email]
    assert (room.name, room.capacity, room.floor) == ("Fjord", 12, "3rd floor")
    assert room.attributes == {
        "equipment": ["Poly Studio", "Surface Hub", "whiteboard", "video"],
        "accessibility": True,
    }
    assert room.hidden_fields == []
    assert room.m365_place_id == sim.tenant.rooms[email].place_id


def test_rooms_in_no_room_list_go_to_one_building_for_them(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    with sim.core.lock:
        add_room(sim.core, "lobby@contoso.onmicrosoft.com", "Lobby pod", capacity=2)
    sync_rooms(ctx, connect(ctx, sim, organization_id), trigger=MANUAL)

    lobby = resources(ctx, organization_id)["lobby@contoso.onmicrosoft.com"]
    building = buildings(ctx, organization_id)[lobby.building_id]
    assert (building.name, building.m365_room_list_email) == (UNLISTED_BUILDING, None)


def test_importing_selected_room_lists_imports_only_their_rooms(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID, factory: Any
) -> None:
    lists = room_lists(sim)
    first, second = sorted(lists)
    existing = factory.building(organization_id, name="Harbour House", time_zone="Europe/London")
    selection = RoomSelection(
        mode=RoomSelectionMode.ROOM_LISTS,
        room_lists=(
            RoomListChoice(email=first, name="North wing"),
            RoomListChoice(email=second, name="ignored", building_id=existing),
        ),
    )
    report = sync_rooms(
        ctx, connect(ctx, sim, organization_id, room_selection=selection), trigger=MANUAL
    )

    imported, made = resources(ctx, organization_id), buildings(ctx, organization_id)
    assert report.counts["created"] == len(lists[first]) + len(lists[second])
    assert {made[imported[e].building_id].name for e in lists[first]} == {"North wing"}
    assert {imported[e].building_id for e in lists[second]} == {existing}
    north = next(b for b in made.values() if b.name == "North wing")
    assert (north.m365_room_list_email, north.time_zone) == (first, TIME_ZONE)


def test_only_the_selected_room_list_is_imported(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    lists = room_lists(sim)
    chosen = sorted(lists)[0]
    selection = RoomSelection(
        mode=RoomSelectionMode.ROOM_LISTS, room_lists=(RoomListChoice(email=chosen, name="A"),)
    )
    sync_rooms(ctx, connect(ctx, sim, organization_id, room_selection=selection), trigger=MANUAL)

    assert set(resources(ctx, organization_id)) == set(lists[chosen])


def test_a_second_run_changes_nothing_and_its_report_says_so(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=MANUAL)
    before = {email: room.updated_at for email, room in resources(ctx, organization_id).items()}

    again = sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.SCHEDULE)

    assert again.outcome is SyncRunOutcome.SUCCEEDED
    assert {
        k: again.counts[k] for k in ("created", "updated", "moved", "unchanged", "retired")
    } == {
        "created": 0,
        "updated": 0,
        "moved": 0,
        "unchanged": 6,
        "retired": 0,
    }
    after = {email: room.updated_at for email, room in resources(ctx, organization_id).items()}
    assert after == before


def test_a_renamed_room_and_a_new_capacity_are_picked_up(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=MANUAL)
    change_room(sim, "room0002@contoso.onmicrosoft.com", display_name="Boardroom", capacity=30)

    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert (report.counts["updated"], report.counts["unchanged"]) == (1, 5)
    room = resources(ctx, organization_id)["room0002@contoso.onmicrosoft.com"]
    assert (room.name, room.capacity) == ("Boardroom", 30)


def test_a_room_moved_to_another_room_list_moves_to_its_building(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=MANUAL)
    lists = room_lists(sim)
    source = next(k for k, v in lists.items() if "room0001@contoso.onmicrosoft.com" in v)
    target = next(k for k in lists if k != source)
    move_room(sim, "room0001@contoso.onmicrosoft.com", target)

    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert report.counts["moved"] == 1
    room = resources(ctx, organization_id)["room0001@contoso.onmicrosoft.com"]
    assert buildings(ctx, organization_id)[room.building_id].m365_room_list_email == target


def test_directory_attributes_are_read_in_batches_and_mapped(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    chosen = mappings(
        {"field": "name", "source": "displayName"},
        {"field": "wing", "source": "directory:onPremisesExtensionAttributes/extensionAttribute1"},
        {"field": "office", "source": "directory:officeLocation", "visible": False},
    )
    sync_rooms(ctx, connect(ctx, sim, organization_id, field_mappings=chosen), trigger=MANUAL)

    room = resources(ctx, organization_id)["room0001@contoso.onmicrosoft.com"]
    tenant_room = sim.tenant.rooms["room0001@contoso.onmicrosoft.com"]
    assert room.attributes == {
        "wing": tenant_room.building,
        "office": f"{tenant_room.building} {tenant_room.floor_label}",
    }
    assert room.hidden_fields == ["office"]
    user_reads = sim.requests.entries(method="GET", path_contains="/users/room")
    assert len(user_reads) == 6
    assert all(read.in_batch for read in user_reads)
    assert sim.requests.count(method="POST", path_contains="$batch") == 1


def test_visibility_flags_become_hidden_fields(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    chosen = mappings(
        {"field": "capacity", "source": "capacity", "visible": False},
        {"field": "floor", "source": "floorNumber"},
        {"field": "equipment", "source": "tags", "visible": False, "combine": "all"},
        {"field": "phone", "source": "phone", "visible": False},
    )
    sync_rooms(ctx, connect(ctx, sim, organization_id, field_mappings=chosen), trigger=MANUAL)

    room = resources(ctx, organization_id)["room0004@contoso.onmicrosoft.com"]
    assert room.name == "Room 0004"  # name falls back to displayName when not mapped
    assert (room.capacity, room.floor) == (8, "4")
    assert room.attributes == {"equipment": ["seeded"]}  # the room has no phone
    assert room.hidden_fields == ["capacity", "equipment"]


def test_throttled_listing_is_ridden_out_after_retry_after(
    ctx: SyncContext, sim: Simulator, sleeps: SleepRecorder, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sim.fail_next(2, status=429, path_contains="/places", retry_after=7)

    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert report.counts["created"] == 6
    assert len(sleeps.waits) == 2
    assert all(7 <= wait <= 7 * 1.2 for wait in sleeps.waits)
    assert sim.requests.count(path_contains="/places", status=429) == 2


def test_throttled_batch_items_are_retried_after_their_own_retry_after(
    ctx: SyncContext, sim: Simulator, sleeps: SleepRecorder, organization_id: uuid.UUID
) -> None:
    chosen = mappings({"field": "office", "source": "directory:officeLocation"})
    integration_id = connect(ctx, sim, organization_id, field_mappings=chosen)
    sim.fail_next(3, status=429, path_contains="/users/room", retry_after=5)

    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert report.outcome is SyncRunOutcome.SUCCEEDED
    assert report.counts["skipped"] == 0
    assert all(room.attributes.get("office") for room in resources(ctx, organization_id).values())
    # The three items wait out their own Retry-After together: about 5 s in all.
    assert 5 <= sum(sleeps.waits) <= 5 * 1.2
    assert sim.requests.count(path_contains="/users/room", status=429) == 3


def test_rooms_can_come_from_find_rooms_through_the_service_account(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id, room_source="findrooms")
    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert report.counts["created"] == 6
    assert resources(ctx, organization_id)["room0005@contoso.onmicrosoft.com"].name == "Room 0005"
    assert sim.requests.count(path_contains=f"/users/{sim.service_account}/findRooms") >= 1
    assert sim.requests.count(path_contains="/places") == 0


def test_a_room_list_that_is_gone_is_reported_and_the_others_import(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    selection, present = selection_with_a_gone_list(sim)
    report = sync_rooms(
        ctx, connect(ctx, sim, organization_id, room_selection=selection), trigger=MANUAL
    )

    assert report.outcome is SyncRunOutcome.WARNING
    assert GONE_LIST in report.warnings[0]
    assert set(resources(ctx, organization_id)) == set(room_lists(sim)[present])


def test_changed_mappings_apply_on_the_next_run(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    sync_rooms(ctx, integration_id, trigger=MANUAL)
    with ctx.database.session() as session:
        update_integration(
            session,
            ctx,
            integration_id=integration_id,
            changes=IntegrationChanges(
                field_mappings=mappings(
                    {"field": "capacity", "source": "capacity", "visible": False}
                )
            ),
        )

    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    assert report.counts["updated"] == 6
    room = resources(ctx, organization_id)["room0001@contoso.onmicrosoft.com"]
    assert (room.floor, room.attributes, room.hidden_fields) == (None, {}, ["capacity"])


def test_progress_is_reported_for_each_phase(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    seen: list[ImportProgress] = []
    sync_rooms(ctx, connect(ctx, sim, organization_id), trigger=MANUAL, progress=seen.append)

    listed = sum(p.advance for p in seen if p.phase is ImportPhase.LISTING)
    saved = [p for p in seen if p.phase is ImportPhase.SAVING]
    assert listed == 6
    assert sum(p.advance for p in saved) == 6
    assert saved[-1].total == 6


def test_each_run_is_recorded_with_its_counts(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    report = sync_rooms(ctx, integration_id, trigger=MANUAL)

    with ctx.database.session() as session:
        run = session.get_one(SyncRun, report.run_id)
        assert (run.kind, run.trigger, run.outcome) == (
            SyncRunKind.ROOMS,
            MANUAL,
            SyncRunOutcome.SUCCEEDED,
        )
        assert run.counts["created"] == 6
        assert run.finished_at is not None
        assert run.finished_at >= run.started_at


def test_an_import_already_running_elsewhere_is_skipped(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id)
    with (
        lease(
            ctx.database,
            rooms_lease_name(integration_id),
            ttl=lease_ttl(ctx.settings),
            clock=ctx.clock,
        ),
        pytest.raises(LeaseHeldError),
    ):
        sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.SCHEDULE)
    assert resources(ctx, organization_id) == {}


def test_a_disabled_integration_imports_nothing(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID
) -> None:
    integration_id = connect(ctx, sim, organization_id, enabled=False)
    with pytest.raises(IntegrationUnavailableError, match="is disabled"):
        sync_rooms(ctx, integration_id, trigger=SyncRunTrigger.SCHEDULE)
    assert sim.requests.count(path_contains="/places") == 0
