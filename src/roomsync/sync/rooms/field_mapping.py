"""Which platform field of a room comes from which Microsoft 365 property (per mapping:
the platform field, whether occupants see it, and the Graph or directory property it reads).

A mapping is ``{"field", "source", "visible", "combine"?}``:

- ``field``: ``name``, ``capacity``, ``floor``, ``email`` (visibility only: the address is
  always the room mailbox's) or any other name, stored in the resource's ``attributes``;
- ``source``: a property of the Graph ``room`` (CSDL ``room`` and its base ``place``, e.g.
  ``capacity``, ``floorLabel``, ``address/city``), or ``directory:`` followed by a property
  of the room's directory account read with ``GET /users/{room}`` (User.Read.All), such as
  ``directory:officeLocation`` or
  ``directory:onPremisesExtensionAttributes/extensionAttribute3`` — what an on-premises
  Active Directory syncs into Entra ID. A list of sources is allowed;
- ``combine``: with several sources, ``first`` takes the first one that has a value,
  ``all`` collects every value (lists flattened) into one list;
- ``visible``: false puts the field in the resource's ``hidden_fields`` (occupants'
  tokens do not see it; ``name`` is always shown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_serializer,
    field_validator,
    model_validator,
)

DIRECTORY_PREFIX = "directory:"
MAX_NAME = 200
MAX_FLOOR = 64
MAX_CAPACITY = 100_000
COLUMN_FIELDS = frozenset({"name", "capacity", "floor", "email"})
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")

# CSDL v1.0: ``place`` (id, displayName, address, geoCoordinates, phone, label, placeId,
# parentId, tags, isWheelChairAccessible) and ``room`` (its own properties below).
_ADDRESS = ("street", "city", "state", "countryOrRegion", "postalCode")
_GEO = ("latitude", "longitude", "altitude", "accuracy", "altitudeAccuracy")
ROOM_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "id": (),
    "placeId": (),
    "parentId": (),
    "displayName": (),
    "emailAddress": (),
    "nickname": (),
    "label": (),
    "phone": (),
    "tags": (),
    "isWheelChairAccessible": (),
    "capacity": (),
    "building": (),
    "floorNumber": (),
    "floorLabel": (),
    "audioDeviceName": (),
    "videoDeviceName": (),
    "displayDeviceName": (),
    "bookingType": (),
    "teamsEnabledState": (),
    "address": _ADDRESS,
    "geoCoordinates": _GEO,
}
# CSDL v1.0 ``user``: the properties a room's account can usefully carry.
DIRECTORY_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "id",
            "displayName",
            "mail",
            "userPrincipalName",
            "mailNickname",
            "officeLocation",
            "streetAddress",
            "city",
            "state",
            "postalCode",
            "country",
            "usageLocation",
            "companyName",
            "department",
            "jobTitle",
            "employeeId",
            "givenName",
            "surname",
            "mobilePhone",
            "faxNumber",
            "businessPhones",
            "preferredLanguage",
            "onPremisesSamAccountName",
            "onPremisesDistinguishedName",
        ),
        (),
    ),
    "onPremisesExtensionAttributes": tuple(f"extensionAttribute{n}" for n in range(1, 16)),
}


class Combine(StrEnum):
    FIRST = "first"
    ALL = "all"


@dataclass(frozen=True)
class SourcePath:
    """One source: which object it is read from and the property path in Graph's spelling."""

    directory: bool
    path: tuple[str, ...]

    @property
    def text(self) -> str:
        return (DIRECTORY_PREFIX if self.directory else "") + "/".join(self.path)


def parse_source(text: str) -> SourcePath:
    """``"floorLabel"`` or ``"directory:onPremisesExtensionAttributes/extensionAttribute3"``;
    names are matched without regard to case and returned in Graph's spelling."""
    directory = text.strip().lower().startswith(DIRECTORY_PREFIX)
    raw = text.strip()[len(DIRECTORY_PREFIX) :] if directory else text.strip()
    known = DIRECTORY_PROPERTIES if directory else ROOM_PROPERTIES
    parts = [part for part in raw.split("/") if part]
    top = _canonical(parts[0] if parts else "", known)
    if top is None or len(parts) > 2:
        raise ValueError(_unknown_source(text, directory))
    if len(parts) == 1:
        return SourcePath(directory, (top,))
    child = _canonical(parts[1], dict.fromkeys(known[top]))
    if child is None:
        raise ValueError(_unknown_source(text, directory))
    return SourcePath(directory, (top, child))


def _canonical(name: str, known: Mapping[str, Any]) -> str | None:
    return next((key for key in known if key.lower() == name.lower()), None)


def _unknown_source(text: str, directory: bool) -> str:
    if directory:
        return (
            f"{text!r} is not a directory property roomsync reads: use directory: followed by "
            f"one of {', '.join(DIRECTORY_PROPERTIES)} (extension attributes as "
            "onPremisesExtensionAttributes/extensionAttribute1..15)"
        )
    return (
        f"{text!r} is not a property of a Microsoft Graph room: use one of "
        f"{', '.join(ROOM_PROPERTIES)} (address/city, geoCoordinates/latitude for parts), or "
        "directory:<property> for an attribute of the room's account such as "
        "directory:officeLocation"
    )


class FieldMapping(BaseModel):
    """One platform field, where it comes from, and whether occupants see it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(description="name, capacity, floor, email, or an attribute name.")
    source: tuple[str, ...] = Field(
        description="A Graph room property, or directory:<user property>; or a list of them."
    )
    visible: bool = True
    combine: Combine = Combine.FIRST

    @field_validator("field")
    @classmethod
    def _check_field(cls, value: str) -> str:
        if not _FIELD_NAME.match(value):
            raise ValueError(
                "a field is name, capacity, floor, email or an attribute name of 1 to 64 "
                "letters, digits, '_', '.' or '-' starting with a letter"
            )
        return value

    @field_validator("source", mode="before")
    @classmethod
    def _check_source(cls, value: Any) -> Any:
        sources = [value] if isinstance(value, str) else value
        if not isinstance(sources, list | tuple) or not sources:
            raise ValueError("source is a property name or a non-empty list of them")
        return tuple(parse_source(str(s)).text for s in sources)

    @field_serializer("source")
    def _compact_source(self, source: tuple[str, ...]) -> str | list[str]:
        """One source is written as a string, as it is usually given."""
        return source[0] if len(source) == 1 else list(source)

    @model_validator(mode="after")
    def _check_field_rules(self) -> FieldMapping:
        if self.field == "name" and not self.visible:
            raise ValueError("name is always shown to occupants; it cannot be hidden")
        if self.field == "email" and self.source != ("emailAddress",):
            raise ValueError("email is always the room mailbox: its source is emailAddress")
        if self.field in COLUMN_FIELDS and self.combine is Combine.ALL:
            raise ValueError(f"{self.field} holds one value: combine must be first")
        return self

    @property
    def sources(self) -> tuple[SourcePath, ...]:
        return tuple(parse_source(text) for text in self.source)


def default_field_mappings() -> tuple[FieldMapping, ...]:
    """What a room brings along when the integration names no mappings."""
    return tuple(
        FieldMapping.model_validate(item)
        for item in (
            {"field": "name", "source": "displayName"},
            {"field": "capacity", "source": "capacity"},
            {"field": "floor", "source": ["floorLabel", "floorNumber"]},
            {
                "field": "equipment",
                "source": ["audioDeviceName", "videoDeviceName", "displayDeviceName", "tags"],
                "combine": "all",
            },
            {"field": "accessibility", "source": "isWheelChairAccessible"},
        )
    )


def mappings_from_stored(stored: Sequence[Any] | None) -> list[FieldMapping]:
    """The mappings as saved on the integration (JSON)."""
    return [FieldMapping.model_validate(item) for item in stored or []]


def directory_select(mappings: Sequence[FieldMapping]) -> tuple[str, ...]:
    """The user properties to ``$select`` for these mappings (empty: no directory call)."""
    names = {s.path[0] for m in mappings for s in m.sources if s.directory}
    return tuple(sorted(names))


@dataclass(frozen=True)
class MappedRoom:
    """A room's platform fields as the mappings say; ``hidden_fields`` sorted."""

    email: str
    name: str
    capacity: int | None
    floor: str | None
    attributes: dict[str, Any]
    hidden_fields: tuple[str, ...]
    place_id: str | None


def map_room(
    room: Mapping[str, Any],
    directory: Mapping[str, Any] | None,
    mappings: Sequence[FieldMapping],
    *,
    email: str,
) -> MappedRoom:
    """The platform view of one Graph room (``raw`` JSON) and its account's attributes."""
    values = {m.field: _value(m, room, directory or {}) for m in mappings}
    attributes = {
        field: value
        for field, value in values.items()
        if field not in COLUMN_FIELDS and value is not None
    }
    hidden = {m.field for m in mappings if not m.visible}
    return MappedRoom(
        email=email,
        name=_text(values.get("name"), MAX_NAME)
        or _text(room.get("displayName"), MAX_NAME)
        or email,
        capacity=_capacity(values.get("capacity")),
        floor=_text(values.get("floor"), MAX_FLOOR),
        attributes=attributes,
        hidden_fields=tuple(sorted(f for f in hidden if f in COLUMN_FIELDS or f in attributes)),
        place_id=_text(room.get("placeId"), MAX_NAME),
    )


def _value(mapping: FieldMapping, room: Mapping[str, Any], directory: Mapping[str, Any]) -> Any:
    found = [
        value
        for source in mapping.sources
        if not _empty(value := _read(directory if source.directory else room, source.path))
    ]
    if mapping.combine is Combine.FIRST:
        return found[0] if found else None
    combined: list[Any] = []
    for value in found:
        for item in value if isinstance(value, list) else [value]:
            if not _empty(item) and item not in combined:
                combined.append(item)
    return combined or None


def _read(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = data
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


def _text(value: Any, limit: int) -> str | None:
    if _empty(value):
        return None
    text = str(value).strip()
    return text[:limit] or None


def _capacity(value: Any) -> int | None:
    """Graph's Int32, or a number held as text in a directory attribute; else unknown."""
    if isinstance(value, bool):
        return None
    try:
        number = int(str(value).strip()) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number <= MAX_CAPACITY else None
