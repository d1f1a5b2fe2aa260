"""Field mappings: which Graph property fills which platform field, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from roomsync.sync.rooms.field_mapping import (
    FieldMapping,
    default_field_mappings,
    directory_select,
    map_room,
    parse_source,
)

EMAIL = "fjord@contoso.test"
ROOM: dict[str, Any] = {
    "id": "6f1c",
    "placeId": "place-6f1c",
    "emailAddress": EMAIL,
    "displayName": "Fjord",
    "capacity": 12,
    "floorNumber": 3,
    "floorLabel": None,
    "audioDeviceName": "Poly Studio",
    "videoDeviceName": "",
    "displayDeviceName": "Poly Studio",
    "tags": ["whiteboard", "video"],
    "isWheelChairAccessible": False,
    "address": {"city": "Bergen", "street": None},
}
ACCOUNT: dict[str, Any] = {
    "officeLocation": "Harbour House 3",
    "onPremisesExtensionAttributes": {"extensionAttribute2": "14", "extensionAttribute3": None},
}


def mapping(**fields: Any) -> FieldMapping:
    return FieldMapping.model_validate(fields)


def test_default_mappings_fall_back_and_combine_as_documented() -> None:
    mapped = map_room(ROOM, None, default_field_mappings(), email=EMAIL)

    assert (mapped.name, mapped.capacity, mapped.floor) == ("Fjord", 12, "3")
    assert mapped.attributes == {
        "equipment": ["Poly Studio", "whiteboard", "video"],  # empty and repeated dropped
        "accessibility": False,
    }
    assert (mapped.hidden_fields, mapped.place_id) == ((), "place-6f1c")


def test_directory_attributes_and_nested_properties_are_read_by_path() -> None:
    mappings = [
        mapping(
            field="capacity", source="directory:onPremisesExtensionAttributes/extensionAttribute2"
        ),
        mapping(field="office", source="DIRECTORY:officelocation", visible=False),
        mapping(field="city", source="address/City"),
        mapping(field="code", source="directory:onPremisesExtensionAttributes/extensionAttribute3"),
    ]
    mapped = map_room(ROOM, ACCOUNT, mappings, email=EMAIL)

    assert mapped.capacity == 14  # a number held as text in the directory
    assert mapped.attributes == {"office": "Harbour House 3", "city": "Bergen"}
    assert mapped.hidden_fields == ("office",)
    assert [m.source for m in mappings[1:3]] == [("directory:officeLocation",), ("address/city",)]
    assert directory_select(mappings) == ("officeLocation", "onPremisesExtensionAttributes")
    assert directory_select(default_field_mappings()) == ()


@pytest.mark.parametrize(
    ("value", "capacity"), [("twelve", None), (-3, None), (True, None), ("7", 7), (None, None)]
)
def test_capacities_that_are_not_counts_are_unknown(value: object, capacity: int | None) -> None:
    room = {**ROOM, "capacity": value}
    assert (
        map_room(room, None, [mapping(field="capacity", source="capacity")], email=EMAIL).capacity
        == capacity
    )


def test_a_hidden_attribute_the_room_lacks_is_not_listed_as_hidden() -> None:
    mappings = [mapping(field="phone", source="phone", visible=False)]
    assert map_room(ROOM, None, mappings, email=EMAIL).hidden_fields == ()


def test_an_unmapped_or_empty_name_falls_back_to_the_display_name_then_the_address() -> None:
    assert map_room(ROOM, None, [], email=EMAIL).name == "Fjord"
    nameless = {**ROOM, "displayName": " "}
    assert map_room(nameless, None, [], email=EMAIL).name == EMAIL


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"field": "seats", "source": "seats"}, "not a property of a Microsoft Graph room"),
        ({"field": "x", "source": "address/planet"}, "not a property of a Microsoft Graph room"),
        ({"field": "x", "source": "capacity/value"}, "not a property of a Microsoft Graph room"),
        ({"field": "x", "source": "directory:password"}, "not a directory property"),
        ({"field": "x", "source": []}, "non-empty list"),
        ({"field": "9lives", "source": "tags"}, "starting with a letter"),
        ({"field": "name", "source": "displayName", "visible": False}, "cannot be hidden"),
        ({"field": "email", "source": "nickname"}, "always the room mailbox"),
        (
            {"field": "floor", "source": ["floorLabel", "floorNumber"], "combine": "all"},
            "holds one value",
        ),
        ({"field": "x", "source": "tags", "colour": "red"}, "Extra inputs"),
    ],
)
def test_mappings_that_cannot_work_are_refused_with_the_reason(
    fields: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError, match=fragment):
        FieldMapping.model_validate(fields)


def test_sources_are_written_back_in_graphs_spelling_and_one_source_as_a_string() -> None:
    assert parse_source(" Directory:OnPremisesExtensionAttributes/EXTENSIONATTRIBUTE7 ").text == (
        "directory:onPremisesExtensionAttributes/extensionAttribute7"
    )
    single = mapping(field="wing", source="building").model_dump(mode="json")
    double = mapping(field="floor", source=["floorLabel", "floorNumber"]).model_dump(mode="json")
    assert (single["source"], double["source"]) == ("building", ["floorLabel", "floorNumber"])
    assert FieldMapping.model_validate(double) == mapping(
        field="floor", source=["floorLabel", "floorNumber"]
    )
