"""What an integration would import, read live from Microsoft 365 before anything is saved:
the tenant's room lists with their sizes, the rooms a selection names, one real room with
the field mappings applied, and the time zone its mailboxes are set up in.

These are the set-up wizard's views of the tenant. They reuse the room workflow's own
listing (:mod:`roomsync.sync.rooms.listing`), directory reads
(:mod:`roomsync.sync.rooms.details`) and mapping (:func:`map_room`), so a preview shows
what the import will do. Nothing here writes to the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from roomsync.m365.exceptions import GraphError
from roomsync.m365.graph import GraphClient
from roomsync.m365.mailbox_settings import mailbox_time_zone
from roomsync.platform.models import Integration
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.integration.settings import RoomSelection
from roomsync.sync.rooms.details import read_directory_attributes
from roomsync.sync.rooms.field_mapping import (
    FieldMapping,
    MappedRoom,
    directory_select,
    map_room,
)
from roomsync.sync.rooms.listing import (
    ListedRoom,
    RoomListing,
    list_selected_rooms,
    room_directory,
)

# How many rooms a directory attribute is looked for in before it counts as missing.
ATTRIBUTE_SAMPLE = 20


@dataclass(frozen=True)
class LiveRoomList:
    """A room list of the tenant and how many rooms it holds now."""

    email: str
    name: str
    rooms: int


@dataclass(frozen=True)
class FieldPreview:
    """One real room with the mappings applied, and the directory sources no sampled room
    has a value for (``{row index: source}``)."""

    room: MappedRoom | None
    raw: dict[str, Any]
    missing: dict[int, str]


def live_room_lists(ctx: SyncContext, integration: Integration) -> list[LiveRoomList]:
    """The tenant's room lists, sorted by name, each with its number of rooms."""
    directory = room_directory(graph_for(ctx, integration), integration)
    found = [
        LiveRoomList(
            choice.email, choice.name, len(directory.rooms_in(choice.email, RoomListing()))
        )
        for choice in directory.room_lists()
    ]
    return sorted(found, key=lambda item: (item.name.lower(), item.email))


def selected_rooms(
    ctx: SyncContext, integration: Integration, selection: RoomSelection
) -> list[ListedRoom]:
    """The rooms ``selection`` names, as the import would list them."""
    directory = room_directory(graph_for(ctx, integration), integration)
    return list_selected_rooms(directory, selection).rooms


def preview_fields(
    ctx: SyncContext,
    integration: Integration,
    mappings: Sequence[FieldMapping],
    rooms: Sequence[ListedRoom],
) -> FieldPreview:
    """The first of ``rooms`` mapped by ``mappings``; directory sources are looked for in
    up to :data:`ATTRIBUTE_SAMPLE` rooms."""
    if not rooms:
        return FieldPreview(None, {}, {})
    graph = graph_for(ctx, integration)
    sample = [room.email for room in rooms[:ATTRIBUTE_SAMPLE]]
    details = read_directory_attributes(graph, sample, directory_select(mappings)).found
    first = rooms[0]
    mapped = map_room(first.raw, details.get(first.email), mappings, email=first.email)
    return FieldPreview(mapped, dict(first.raw), _missing(mappings, details))


def _missing(
    mappings: Sequence[FieldMapping], details: dict[str, dict[str, Any]]
) -> dict[int, str]:
    missing: dict[int, str] = {}
    for index, mapping in enumerate(mappings):
        for source in mapping.sources:
            if source.directory and not any(_has(found, source.path) for found in details.values()):
                missing[index] = source.text
    return missing


def _has(data: dict[str, Any], path: tuple[str, ...]) -> bool:
    value: Any = data
    for part in path:
        if not isinstance(value, dict):
            return False
        value = value.get(part)
    return value not in (None, "", [], {})


def tenant_time_zone(graph: GraphClient, mailboxes: Sequence[str]) -> tuple[str | None, str]:
    """The IANA zone of the first of ``mailboxes`` whose settings can be read, and what
    happened (a sentence for the page)."""
    for mailbox in mailboxes[:3]:
        try:
            zone = mailbox_time_zone(graph, mailbox)
        except GraphError as exc:
            return None, f"The mailbox settings of {mailbox} could not be read: {exc.message}"
        if zone is not None:
            return zone, f"Proposed from the mailbox settings of {mailbox}."
    return None, "No mailbox of the selection names a time zone."
