"""Rooms and room lists: the v1.0 Places API, and beta ``findRooms`` for older set-ups.

- ``GET /places/microsoft.graph.room`` lists every room, ``/places/microsoft.graph.roomlist``
  every room list, and ``/places/{list email}/microsoft.graph.roomlist/rooms`` the rooms of
  one list, which must be addressed by its email, not its id (place-list.md). These pages
  have no ``@odata.nextLink`` (observed): they page with ``$top``/``$skip``, 100 by default.
  Rooms hidden from the address book are not listed.
- ``GET /users/{service account}/findRooms`` and ``findRoomLists`` (beta only) return bare
  ``{name, address}`` pairs, at most the first 100 rooms of the tenant, and Microsoft has
  deprecated them (user-findrooms.md): prefer the Places API.
"""

from __future__ import annotations

import logging

from roomsync.m365.graph import ApiVersion, GraphClient, odata_string, path_segment
from roomsync.m365.models import EmailAddress, Room, RoomList
from roomsync.m365.wire import parse_wire

_log = logging.getLogger(__name__)
PLACES_PAGE_SIZE = 100
FIND_ROOMS_LIMIT = 100


def list_rooms(
    graph: GraphClient, *, room_list: str | None = None, page_size: int = PLACES_PAGE_SIZE
) -> list[Room]:
    """Every room of the tenant, or of the room list with this email address."""
    if room_list is None:
        path = "/places/microsoft.graph.room"
    else:
        path = f"/places/{path_segment(room_list)}/microsoft.graph.roomlist/rooms"
    return [
        parse_wire(Room, item, source=f"GET {path}")
        for page in graph.iter_skip_pages(path, top=page_size)
        for item in page
    ]


def list_room_lists(graph: GraphClient, *, page_size: int = PLACES_PAGE_SIZE) -> list[RoomList]:
    path = "/places/microsoft.graph.roomlist"
    return [
        parse_wire(RoomList, item, source=f"GET {path}")
        for page in graph.iter_skip_pages(path, top=page_size)
        for item in page
    ]


def find_rooms(
    graph: GraphClient, *, service_account: str, room_list: str | None = None
) -> list[EmailAddress]:
    """Beta ``findRooms`` through the service account: at most 100 rooms (deprecated API)."""
    function = (
        "findRooms" if room_list is None else f"findRooms(RoomList={odata_string(room_list)})"
    )
    path = f"/users/{path_segment(service_account)}/{function}"
    rooms = _email_addresses(graph, path)
    if len(rooms) >= FIND_ROOMS_LIMIT:
        _log.warning(
            "findRooms returned %d rooms, its documented maximum: rooms past the first %d are "
            "missing; switch the integration's room source to places to import them all.",
            len(rooms), FIND_ROOMS_LIMIT,
        )  # fmt: skip
    return rooms


def find_room_lists(graph: GraphClient, *, service_account: str) -> list[EmailAddress]:
    return _email_addresses(graph, f"/users/{path_segment(service_account)}/findRoomLists")


def _email_addresses(graph: GraphClient, path: str) -> list[EmailAddress]:
    return [
        parse_wire(EmailAddress, item, source=f"GET {path}")
        for item in graph.iter_values(path, api_version=ApiVersion.BETA)
    ]
