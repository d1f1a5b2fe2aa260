"""Which rooms Microsoft 365 has for an integration, and which room list each belongs to.

Two sources (``integrations.room_source``):

- ``places`` (default): v1.0 ``/places/microsoft.graph.room`` and ``…/roomlist/rooms``
  with Place.Read.All; rooms hidden from the address book are not listed.
- ``findrooms``: beta ``/users/{service account}/findRooms`` and ``findRoomLists``.
  Microsoft has deprecated them, documents no application
  permission for them, and returns at most the first 100 rooms with only a name and an
  address; a listing that reaches 100 is therefore treated as cut short.

A listing is *complete* only when every call it needed succeeded and nothing was cut
short: only a complete listing may retire rooms (``roomsync.sync.rooms.reconcile``). A room
list that is gone (404) or refused (400) makes the listing incomplete and is reported;
other Graph errors (no permission, credentials) end the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from roomsync.m365.exceptions import BadRequest, NotFound
from roomsync.m365.graph import GraphClient
from roomsync.m365.models import EmailAddress
from roomsync.m365.places import (
    FIND_ROOMS_LIMIT,
    find_room_lists,
    find_rooms,
    list_room_lists,
    list_rooms,
)
from roomsync.platform.enums import RoomSource
from roomsync.platform.models import Integration
from roomsync.sync.integration.settings import RoomListChoice, RoomSelection, RoomSelectionMode


@dataclass(frozen=True)
class ListedRoom:
    """A room as Graph describes it (``raw`` JSON), and the room list it was found in."""

    email: str
    raw: dict[str, object]
    room_list: RoomListChoice | None


@dataclass
class RoomListing:
    rooms: list[ListedRoom] = field(default_factory=list)
    complete: bool = True
    warnings: list[str] = field(default_factory=list)

    @property
    def emails(self) -> frozenset[str]:
        return frozenset(room.email for room in self.rooms)

    def cut_short(self, message: str) -> None:
        self.complete = False
        self.warnings.append(message)


class RoomDirectory(Protocol):
    """Where rooms and room lists are read from: one implementation per room source."""

    def all_rooms(self, listing: RoomListing) -> list[dict[str, object]]: ...

    def room_lists(self) -> list[RoomListChoice]: ...

    def rooms_in(self, room_list: str, listing: RoomListing) -> list[dict[str, object]]: ...


class PlacesDirectory:
    def __init__(self, graph: GraphClient) -> None:
        self.graph = graph

    def all_rooms(self, listing: RoomListing) -> list[dict[str, object]]:
        return [room.raw for room in list_rooms(self.graph)]

    def room_lists(self) -> list[RoomListChoice]:
        return [
            RoomListChoice(
                email=found.email_address, name=found.display_name or found.email_address
            )
            for found in list_room_lists(self.graph)
            if found.email_address
        ]

    def rooms_in(self, room_list: str, listing: RoomListing) -> list[dict[str, object]]:
        return [room.raw for room in list_rooms(self.graph, room_list=room_list)]


class FindRoomsDirectory:
    """The deprecated beta functions: names and addresses only, 100 rooms at most."""

    def __init__(self, graph: GraphClient, service_account: str) -> None:
        self.graph = graph
        self.service_account = service_account

    def all_rooms(self, listing: RoomListing) -> list[dict[str, object]]:
        found = find_rooms(self.graph, service_account=self.service_account)
        return self._rooms(found, listing, "the tenant")

    def room_lists(self) -> list[RoomListChoice]:
        return [
            RoomListChoice(email=found.address, name=found.name or found.address)
            for found in find_room_lists(self.graph, service_account=self.service_account)
            if found.address
        ]

    def rooms_in(self, room_list: str, listing: RoomListing) -> list[dict[str, object]]:
        found = find_rooms(self.graph, service_account=self.service_account, room_list=room_list)
        return self._rooms(found, listing, f"room list {room_list}")

    @staticmethod
    def _rooms(
        found: list[EmailAddress], listing: RoomListing, where: str
    ) -> list[dict[str, object]]:
        if len(found) >= FIND_ROOMS_LIMIT:
            listing.cut_short(
                f"findRooms returned {len(found)} rooms of {where}, its documented maximum: "
                "rooms past the first 100 may be missing, so none is retired; switch the "
                "integration's room_source to places to import them all."
            )
        # All findRooms knows of a room: its name and address.
        return [
            {"id": item.address, "displayName": item.name, "emailAddress": item.address}
            for item in found
            if item.address
        ]


def room_directory(graph: GraphClient, integration: Integration) -> RoomDirectory:
    if integration.room_source is RoomSource.FINDROOMS and integration.service_account:
        return FindRoomsDirectory(graph, integration.service_account)
    return PlacesDirectory(graph)


def list_selected_rooms(
    directory: RoomDirectory,
    selection: RoomSelection,
    *,
    on_list: Callable[[int], None] | None = None,
) -> RoomListing:
    """The rooms the selection names, each with its room list; ``on_list`` counts rooms."""
    listing = RoomListing()
    if selection.mode is RoomSelectionMode.ROOM_LISTS:
        for choice in selection.room_lists:
            _add_list(listing, directory, choice, on_list)
        return listing
    memberships = _memberships(directory, listing)
    for raw in directory.all_rooms(listing):
        email = _email(raw)
        if email:
            listing.rooms.append(ListedRoom(email, raw, memberships.get(email)))
    if on_list is not None:
        on_list(len(listing.rooms))
    return listing


def _add_list(
    listing: RoomListing,
    directory: RoomDirectory,
    choice: RoomListChoice,
    on_list: Callable[[int], None] | None,
) -> None:
    try:
        rooms = directory.rooms_in(choice.email, listing)
    except (NotFound, BadRequest) as exc:
        listing.cut_short(f"The room list {choice.email} could not be read: {exc.message}")
        return
    seen = listing.emails
    for raw in rooms:
        email = _email(raw)
        if email and email not in seen:
            listing.rooms.append(ListedRoom(email, raw, choice))
            seen |= {email}
    if on_list is not None:
        on_list(len(rooms))


def _memberships(directory: RoomDirectory, listing: RoomListing) -> dict[str, RoomListChoice]:
    """Room email → its room list (the first by email when a room is in several)."""
    memberships: dict[str, RoomListChoice] = {}
    for choice in sorted(directory.room_lists(), key=lambda c: c.email):
        try:
            rooms = directory.rooms_in(choice.email, listing)
        except NotFound:
            continue  # removed between the two calls: its rooms are listed without a list
        for raw in rooms:
            email = _email(raw)
            if email:
                memberships.setdefault(email, choice)
    return memberships


def _email(raw: dict[str, object]) -> str:
    value = raw.get("emailAddress")
    return value.strip().lower() if isinstance(value, str) else ""
