"""Resources, buildings and users at the service layer: the upserts the room import uses,
and the validation every caller gets."""

from __future__ import annotations

from typing import Any

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import Origin
from roomsync.platform.exceptions import DuplicateError, InvalidInputError
from roomsync.platform.services.buildings import create_building, upsert_building_for_room_list
from roomsync.platform.services.resources import (
    create_resource,
    retire_resource,
    update_resource,
    upsert_resource_by_email,
)
from roomsync.platform.services.users import upsert_user_by_email


def test_upsert_by_email_creates_once_then_updates_the_same_room(
    database: Database, factory: Any
) -> None:
    organization_id = factory.organization()
    building_id = factory.building(organization_id)
    with database.session() as session:
        first = upsert_resource_by_email(
            session,
            organization_id=organization_id,
            building_id=building_id,
            email="Board.Room@Acme.test",
            name="Board Room",
            capacity=10,
            m365_place_id="place-1",
        )
    with database.session() as session:
        second = upsert_resource_by_email(
            session,
            organization_id=organization_id,
            building_id=building_id,
            email="board.room@acme.test",
            name="Board Room (renovated)",
            capacity=12,
            attributes={"video": "Teams"},
            hidden_fields=["video"],
        )
    assert (first.created, second.created) == (True, False)
    room = second.resource
    assert room.id == first.resource.id
    assert (room.name, room.capacity, room.email) == (
        "Board Room (renovated)",
        12,
        "board.room@acme.test",
    )
    assert (room.origin, room.m365_place_id, room.hidden_fields) == (
        Origin.MICROSOFT365,
        "place-1",
        ["video"],
    )


def test_upsert_brings_a_retired_room_back(database: Database, factory: Any) -> None:
    organization_id = factory.organization()
    room_id = factory.room(factory.building(organization_id), email="r@acme.test")
    with database.session() as session:
        retired = retire_resource(session, resource_id=room_id)
        assert (retired.active, retired.retired_at is not None) == (False, True)
        back = upsert_resource_by_email(
            session,
            organization_id=organization_id,
            building_id=retired.building_id,
            email="r@acme.test",
            name="Room",
        ).resource
    assert (back.active, back.retired_at) == (True, None)


@pytest.mark.parametrize("hidden", [["name"], ["colour"], ["capacity", "building_id"]])
def test_hidden_fields_must_name_hideable_fields_or_attribute_keys(
    database: Database, factory: Any, hidden: list[str]
) -> None:
    building_id = factory.building(factory.organization())
    with pytest.raises(InvalidInputError) as caught, database.session() as session:
        create_resource(
            session,
            building_id=building_id,
            name="R",
            attributes={"code": "1"},
            hidden_fields=hidden,
        )
    assert caught.value.field == "hidden_fields"


def test_a_mailbox_belongs_to_one_room_per_organization(database: Database, factory: Any) -> None:
    building_id = factory.building(factory.organization())
    factory.room(building_id, email="room@acme.test")
    with pytest.raises(DuplicateError) as caught, database.session() as session:
        create_resource(session, building_id=building_id, name="Copy", email="ROOM@acme.test")
    assert "room@acme.test" in caught.value.message


@pytest.mark.parametrize(("field", "value"), [("email", "not-an-address"), ("capacity", -1)])
def test_bad_resource_values_are_refused_naming_the_field(
    database: Database, factory: Any, field: str, value: object
) -> None:
    room_id = factory.room(factory.building(factory.organization()))
    with pytest.raises(InvalidInputError) as caught, database.session() as session:
        update_resource(session, resource_id=room_id, **{field: value})
    assert caught.value.field == field


def test_time_zones_must_be_iana_names(database: Database, factory: Any) -> None:
    organization_id = factory.organization()
    with pytest.raises(InvalidInputError) as caught, database.session() as session:
        create_building(
            session, organization_id=organization_id, name="X", time_zone="W. Europe Standard Time"
        )
    assert caught.value.field == "time_zone"


def test_a_room_list_adopts_the_building_of_the_same_name(database: Database, factory: Any) -> None:
    organization_id = factory.organization()
    building_id = factory.building(organization_id, name="Amsterdam")
    with database.session() as session:
        adopted = upsert_building_for_room_list(
            session,
            organization_id=organization_id,
            room_list_email="AMS@acme.test",
            name="Amsterdam",
            time_zone="UTC",
        )
        again = upsert_building_for_room_list(
            session,
            organization_id=organization_id,
            room_list_email="ams@acme.test",
            name="Amsterdam HQ",
            time_zone="UTC",
        )
    assert adopted.id == again.id == building_id
    assert (again.m365_room_list_email, again.time_zone) == ("ams@acme.test", "Europe/Amsterdam")


def test_users_are_upserted_by_email(database: Database, factory: Any) -> None:
    organization_id = factory.organization()
    with database.session() as session:
        first = upsert_user_by_email(
            session,
            organization_id=organization_id,
            email="Ann@Acme.test",
            name="Ann",
            external=False,
        )
        second = upsert_user_by_email(
            session,
            organization_id=organization_id,
            email="ann@acme.test",
            name="Ann Smith",
            external=True,
        )
    assert first.id == second.id
    assert (second.email, second.name, second.external) == ("ann@acme.test", "Ann Smith", True)
