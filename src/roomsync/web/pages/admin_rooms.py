"""``/admin/buildings`` and ``/admin/rooms``: the organization's buildings and rooms, found
by search (on the server, a page at a time, so thousands of rooms stay quick), and a
room's page — its imported fields with those hidden from occupants marked, its calendar
for a day, and the control that excludes it from the Microsoft 365 import.

Every read and write goes through the platform services the REST API uses
(``list_buildings``, ``list_resources``, ``busy_blocks``, ``update_resource`` — the same
change as ``PATCH /api/v1/resources/{id}`` with ``excluded_from_import``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.api.booking_privacy import shown_title
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Booking, Building, Resource
from roomsync.platform.services.availability import busy_blocks
from roomsync.platform.services.buildings import get_building, list_buildings
from roomsync.platform.services.lookup import Page
from roomsync.platform.services.resources import (
    HIDEABLE_FIELDS,
    get_resource,
    list_resources,
    room_counts,
    update_resource,
)
from roomsync.web.pages.admin import NAV, admin_viewer, principal_of
from roomsync.web.pages.console_forms import day_of, optional_id, page_session, search_text
from roomsync.web.pages.guard import PageUser, check_form
from roomsync.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/admin/buildings", response_class=HTMLResponse)
def buildings_page(request: Request) -> Response:
    user = admin_viewer(request)
    search = search_text(request)
    errors: dict[str, str] = {}
    with page_session(request) as session:
        page = _page(errors, lambda cursor: list_buildings(
            session, organization_id=user.organization_id, search=search,
            limit=PAGE_SIZE, cursor=cursor,
        ), request.query_params.get("cursor"))  # fmt: skip
        counts = room_counts(session, [b.id for b in page.items])
        rows = [_building_row(b, counts.get(b.id, 0)) for b in page.items]
    return render(
        request, "admin/rooms/buildings.html", user=user, nav=NAV, rows=rows, search=search,
        errors=errors, next_query=_next(page, q=search),
        status_code=422 if errors else 200,
    )  # fmt: skip


@router.get("/admin/rooms", response_class=HTMLResponse)
def rooms_page(request: Request) -> Response:
    user = admin_viewer(request)
    search = search_text(request)
    errors: dict[str, str] = {}
    building: Building | None = None
    with page_session(request) as session:
        building_id = _field(errors, lambda: optional_id(
            request.query_params.get("building_id"), field="building_id"
        ))  # fmt: skip
        if building_id is not None:
            building = _own_building(session, user, building_id)
        page = _page(errors, lambda cursor: list_resources(
            session, organization_id=user.organization_id, building_id=building_id,
            search=search, limit=PAGE_SIZE, cursor=cursor,
        ), request.query_params.get("cursor"))  # fmt: skip
        rows = _room_rows(session, page.items)
        shown_building = _building_row(building, None) if building else None
    query = {"q": search, "building_id": str(building_id) if building_id else ""}
    return render(
        request, "admin/rooms/rooms.html", user=user, nav=NAV, rows=rows, search=search,
        building=shown_building, errors=errors, next_query=_next(page, **query),
        status_code=422 if errors else 200,
    )  # fmt: skip


@router.get("/admin/rooms/{resource_id}", response_class=HTMLResponse)
def room_page(request: Request, resource_id: uuid.UUID) -> Response:
    user = admin_viewer(request)
    errors: dict[str, str] = {}
    with page_session(request) as session:
        room = _own_room(session, user, resource_id)
        building = get_building(session, building_id=room.building_id)
        zone = ZoneInfo(building.time_zone)
        today = request.app.state.database.clock().astimezone(zone).date()  # the one clock
        day = _field(errors, lambda: day_of(request.query_params.get("date"), default=today))
        day = day or today
        blocks = [_block(b, user, zone) for b in _day_blocks(session, room, day, zone)]
        context = _room_context(room, building)
    return render(
        request, "admin/rooms/room.html", user=user, nav=NAV, room=context, blocks=blocks,
        day=day, today=today, previous_day=day - timedelta(days=1),
        next_day=day + timedelta(days=1),
        errors=errors, typed_date=request.query_params.get("date", ""),
        notice=request.query_params.get("notice"), status_code=422 if errors else 200,
    )  # fmt: skip


@router.post("/admin/rooms/{resource_id}/exclusion")
def set_exclusion(
    request: Request,
    resource_id: uuid.UUID,
    excluded: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    user = admin_viewer(request)
    check_form(request, user, csrf)
    if excluded not in ("true", "false"):
        return _back_to_room(resource_id, "Choose to exclude the room or to include it again.")
    try:
        with page_session(request) as session:
            _own_room(session, user, resource_id)
            update_resource(
                session, resource_id=resource_id, excluded_from_import=excluded == "true"
            )
    except InvalidInputError as exc:
        return _back_to_room(resource_id, exc.message)
    said = (
        "Excluded from the import: the room is out of service and the next imports leave it so."
        if excluded == "true"
        else "Included again: the next room import brings the room back into service."
    )
    return _back_to_room(resource_id, said)


def _back_to_room(resource_id: uuid.UUID, notice: str) -> Response:
    query = urlencode({"notice": notice})
    return RedirectResponse(f"/admin/rooms/{resource_id}?{query}", status_code=303)


def _field(errors: dict[str, str], read: Any) -> Any:
    """``read()``, or None with its refusal filed under the field it names."""
    try:
        return read()
    except InvalidInputError as exc:
        errors[exc.field] = exc.message
        return None


def _page(errors: dict[str, str], read: Any, cursor: str | None) -> Page[Any]:
    """One page from ``read(cursor)``; a cursor the list did not hand out shows page one."""
    try:
        page: Page[Any] = read(cursor or None)
    except InvalidInputError as exc:
        errors[exc.field] = exc.message
        page = read(None)
    return page


def _next(page: Page[Any], **query: str) -> str | None:
    if page.next_cursor is None:
        return None
    return urlencode({k: v for k, v in {**query, "cursor": page.next_cursor}.items() if v})


def _own_room(session: Session, user: PageUser, resource_id: uuid.UUID) -> Resource:
    room = get_resource(session, resource_id=resource_id)
    principal_of(user).check_admin(room.organization_id)
    return room


def _own_building(session: Session, user: PageUser, building_id: uuid.UUID) -> Building:
    building = get_building(session, building_id=building_id)
    principal_of(user).check_admin(building.organization_id)
    return building


def _building_row(building: Building, rooms: int | None) -> dict[str, Any]:
    return {
        "id": building.id,
        "name": building.name,
        "time_zone": building.time_zone,
        "room_list": building.m365_room_list_email,
        "rooms": rooms,
    }


def _room_rows(session: Session, rooms: Any) -> list[dict[str, Any]]:
    names = _building_names(session, {room.building_id for room in rooms})
    return [
        {
            "id": room.id,
            "name": room.name,
            "email": room.email,
            "building": names.get(room.building_id, ""),
            "capacity": room.capacity,
            "floor": room.floor,
            "state": _state(room),
        }
        for room in rooms
    ]


def _building_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(Building.id, Building.name).where(Building.id.in_(ids)))
    return {building_id: name for building_id, name in rows}


def _state(room: Resource) -> str:
    if room.excluded_from_import:
        return "excluded"
    return "in service" if room.active else "retired"


def _room_context(room: Resource, building: Building) -> dict[str, Any]:
    hidden = set(room.hidden_fields)
    fields = [
        ("Name", room.name, False),
        ("Email", room.email or "—", "email" in hidden),
        ("Capacity", "—" if room.capacity is None else str(room.capacity), "capacity" in hidden),
        ("Floor", room.floor or "—", "floor" in hidden),
        *[(key, _shown(value), key in hidden) for key, value in sorted(room.attributes.items())],
    ]
    return {
        "id": room.id,
        "name": room.name,
        "email": room.email,
        "origin": room.origin.value,
        "state": _state(room),
        "excluded": room.excluded_from_import,
        "retired_at": room.retired_at,
        "building": _building_row(building, None),
        "fields": fields,
        "hideable": sorted(HIDEABLE_FIELDS),
    }


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "—"
    return "—" if value in (None, "") else str(value)


def _day_blocks(session: Session, room: Resource, day: date, zone: ZoneInfo) -> list[Booking]:
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return list(busy_blocks(session, room.id, start, end))


def _block(booking: Booking, user: PageUser, zone: ZoneInfo) -> dict[str, Any]:
    organizer = booking.organizer.name if booking.organizer else booking.organizer_email
    return {
        "start": booking.start_at.astimezone(zone),
        "end": booking.end_at.astimezone(zone),
        "title": shown_title(principal_of(user), booking),
        "organizer": organizer,
        "private": booking.private,
        "status": booking.status.value,
        "origin": booking.origin.value,
    }
