"""Rooms and room lists: v1.0 ``/places`` and beta ``findRooms``/``findRoomLists``.

- ``/places/microsoft.graph.room``, ``/places/microsoft.graph.roomlist`` and
  ``/places/{list-email}/microsoft.graph.roomlist/rooms`` (place-list.md); the type
  segment is matched without regard to case, and the namespace alias ``graph.room``
  (what the official SDKs send) works like ``microsoft.graph.room``. ``$top`` (default
  100), ``$skip``, ``$count=true``, ``$filter``, ``$select``; no ``@odata.nextLink`` (as
  observed: callers page with ``$top``/``$skip``). Rooms hidden from the GAL are not
  listed. Permission: Place.Read.All.
- Beta ``/users/{id}/findRooms[(RoomList='…')]`` returns at most the first 100 rooms as
  ``emailAddress`` objects; ``findRoomLists`` likewise. Microsoft documents application
  permissions as not supported for these; graphsim allows an app token with
  User.Read.All (roomsync calls it through a service account), see README.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from graphsim.directory.tenant import Address, GeoCoordinates, Room, RoomList
from graphsim.errors import GraphApiError, bad_request
from graphsim.graph import Ctx, GraphResponse, Route, route
from graphsim.identity.authz import PLACES_READ, USERS_READ, require_directory, require_mail
from graphsim.listing import filtered, int_option, project, selected, wants_count
from graphsim.records import to_jsonable

_ROOM = "graph.room"
_ROOM_LIST = "graph.roomlist"
_FIND_ROOMS_LIMIT = 100


def _address(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "street": address.street,
        "city": address.city,
        "state": address.state,
        "countryOrRegion": address.country_or_region,
        "postalCode": address.postal_code,
    }


def _geo(geo: GeoCoordinates | None) -> dict[str, Any] | None:
    if geo is None:
        return None
    data = to_jsonable(geo)
    return {
        "latitude": data["latitude"],
        "longitude": data["longitude"],
        "altitude": data["altitude"],
        "accuracy": data["accuracy"],
        "altitudeAccuracy": data["altitude_accuracy"],
    }


def room_json(room: Room) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.room",
        "id": room.id,
        "placeId": room.place_id,
        "emailAddress": room.email,
        "displayName": room.display_name,
        "address": _address(room.address),
        "geoCoordinates": _geo(room.geo_coordinates),
        "phone": room.phone or "",
        "nickname": room.nickname,
        "label": room.label,
        "building": room.building,
        "floorNumber": room.floor_number,
        "floorLabel": room.floor_label,
        "isWheelChairAccessible": room.is_wheel_chair_accessible,
        "bookingType": room.booking_type.value,
        "tags": list(room.tags),
        "capacity": room.capacity,
        "audioDeviceName": room.audio_device_name,
        "videoDeviceName": room.video_device_name,
        "displayDeviceName": room.display_device_name,
        "teamsEnabledState": "unknown",
    }


def room_list_json(room_list: RoomList) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.roomList",
        "id": room_list.id,
        "placeId": room_list.place_id,
        "displayName": room_list.display_name,
        "address": _address(room_list.address),
        "geoCoordinates": _geo(room_list.geo_coordinates),
        "phone": room_list.phone or "",
        "emailAddress": room_list.email,
        "tags": [],
    }


def _collection(ctx: Ctx, context: str, objects: list[dict[str, Any]]) -> GraphResponse:
    query = ctx.request.query
    matching = filtered(query, objects)
    skip = int_option(query, "$skip", 0)
    top = int_option(query, "$top", 100)
    fields = selected(query)
    page = [project(o, fields, ("@odata.type", "id")) for o in matching[skip : skip + top]]
    body: dict[str, Any] = {"@odata.context": f"{ctx.request.root}/$metadata#{context}"}
    if wants_count(query):
        body["@odata.count"] = len(matching)
    body["value"] = page
    return GraphResponse(200, body)


async def list_places(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, PLACES_READ)
    kind = ctx.params["kind"].lower().removeprefix("microsoft.")
    with ctx.core.lock:
        tenant = ctx.core.tenant
        if kind == _ROOM:
            objects = [room_json(r) for r in tenant.rooms.values() if not r.hidden_from_gal]
            return _collection(ctx, "places/microsoft.graph.room", objects)
        if kind == _ROOM_LIST:
            objects = [room_list_json(r) for r in tenant.room_lists.values()]
            return _collection(ctx, "places/microsoft.graph.roomList", objects)
        return get_place(ctx, ctx.params["kind"])


def get_place(ctx: Ctx, key: str) -> GraphResponse:
    tenant, lowered = ctx.core.tenant, key.lower()
    for room in tenant.rooms.values():
        if lowered in (room.email, room.id.lower()) and not room.hidden_from_gal:
            return GraphResponse(
                200,
                {
                    "@odata.context": f"{ctx.request.root}/$metadata#places/$entity",
                    **room_json(room),
                },
            )
    for room_list in tenant.room_lists.values():
        if lowered in (room_list.email, room_list.id.lower()):
            return GraphResponse(
                200,
                {
                    "@odata.context": f"{ctx.request.root}/$metadata#places/$entity",
                    **room_list_json(room_list),
                },
            )
    raise GraphApiError(
        404, "ErrorItemNotFound", "The specified object was not found in the store."
    )


async def list_rooms_in_list(ctx: Ctx) -> GraphResponse:
    require_mail(ctx.principal, PLACES_READ)
    key = ctx.params["list"].lower()
    with ctx.core.lock:
        room_list = ctx.core.tenant.room_lists.get(key)
        if room_list is None:
            if any(key == r.id.lower() for r in ctx.core.tenant.room_lists.values()):
                raise bad_request(
                    "A room list must be addressed by its emailAddress, not its id.",
                    "ErrorInvalidParameter",
                )
            raise GraphApiError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        rooms = [
            ctx.core.tenant.rooms[e] for e in room_list.room_emails if e in ctx.core.tenant.rooms
        ]
        objects = [room_json(r) for r in rooms if not r.hidden_from_gal]
    context = f"places('{quote(room_list.email)}')/microsoft.graph.roomList/rooms"
    return _collection(ctx, context, objects)


def _emails(ctx: Ctx, pairs: list[tuple[str, str]]) -> GraphResponse:
    context = f"{ctx.request.root}/$metadata#Collection(microsoft.graph.emailAddress)"
    return GraphResponse(
        200, {"@odata.context": context, "value": [{"name": n, "address": a} for n, a in pairs]}
    )


async def find_rooms(ctx: Ctx) -> GraphResponse:
    require_directory(ctx.principal, USERS_READ)
    with ctx.core.lock:
        ctx.user()
        tenant = ctx.core.tenant
        wanted = ctx.params.get("roomlist")
        if wanted is not None:
            room_list = tenant.room_lists.get(wanted.lower())
            emails = room_list.room_emails if room_list else []
            rooms = [tenant.rooms[e] for e in emails if e in tenant.rooms]
        else:
            rooms = list(tenant.rooms.values())
        pairs = [(r.display_name, r.email) for r in rooms if not r.hidden_from_gal]
    return _emails(ctx, pairs[:_FIND_ROOMS_LIMIT])


async def find_room_lists(ctx: Ctx) -> GraphResponse:
    require_directory(ctx.principal, USERS_READ)
    with ctx.core.lock:
        ctx.user()
        pairs = [(r.display_name, r.email) for r in ctx.core.tenant.room_lists.values()]
    return _emails(ctx, pairs)


def routes() -> list[Route]:
    return [
        route("GET", r"/places/{list}/(?:microsoft\.)?graph\.roomlist/rooms", list_rooms_in_list),
        route("GET", "/places/{kind}", list_places),
        route(
            "GET",
            r"/users/{user}/findRooms\(RoomList='(?P<roomlist>[^']*)'\)",
            find_rooms,
            beta_only=True,
        ),
        route("GET", "/users/{user}/findRooms", find_rooms, beta_only=True),
        route("GET", "/users/{user}/findRoomLists", find_room_lists, beta_only=True),
    ]
