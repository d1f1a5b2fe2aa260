"""``/rooms/{id}``: a room as the viewer may see it (``resource_out``), its next seven days
of busy blocks in its building's zone, and a form that books it (``POST
/rooms/{id}/book``, through the same booking service as ``/book``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roomsync.platform.exceptions import BookingConflictError, InvalidInputError
from roomsync.settings import Settings
from roomsync.web.pages.guard import PageError, check_form
from roomsync.web.pages.occupant import views
from roomsync.web.pages.occupant.access import NAV, Occupant, occupant
from roomsync.web.pages.occupant.booking import (
    Wanted,
    checked_description,
    checked_title,
    create_for,
    same_request,
)
from roomsync.web.pages.occupant.search_form import DURATIONS, Choices, default_typed, read_search
from roomsync.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
DAYS = 7


@router.get("/rooms/{resource_id}", response_class=HTMLResponse)
def room_page(request: Request, resource_id: uuid.UUID) -> Response:
    viewer = occupant(request)
    return _page(request, viewer, resource_id, typed=None, errors={})


@router.post("/rooms/{resource_id}/book", response_class=HTMLResponse)
def book_room(
    request: Request,
    resource_id: uuid.UUID,
    *,
    date: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    duration: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    private: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    viewer = occupant(request)
    check_form(request, viewer.user, csrf)
    typed = {
        "date": date,
        "start": start,
        "duration": duration,
        "title": title,
        "private": private,
        "description": description,
    }
    settings: Settings = request.app.state.settings
    database = request.app.state.database
    with database.session() as session:
        room, buildings = _room(session, viewer, resource_id)
        choices = Choices(buildings, (), settings.max_booking_hours)
        query = {**typed, "building": str(room.building_id)}
        search = read_search(query, choices, now=database.clock())
    errors = dict(search.errors)
    if search.start is None or search.end is None or errors:
        return _page(request, viewer, resource_id, typed=typed, errors=errors)
    try:
        wanted = Wanted(
            resource_id,
            search.start,
            search.end,
            checked_title(title),
            private == "on",
            checked_description(description),
        )
        booking_id = create_for(request, viewer, wanted)
    except BookingConflictError as exc:
        mine = same_request(request, viewer, exc, wanted)
        if mine is not None:
            return RedirectResponse(f"/bookings/{mine}", status_code=303)
        errors["start"] = "The room is booked then: pick a free time from the week below."
    except InvalidInputError as exc:
        errors[exc.field if exc.field in typed else "start"] = exc.message
    if errors:
        return _page(request, viewer, resource_id, typed=typed, errors=errors)
    return RedirectResponse(f"/bookings/{booking_id}", status_code=303)


def _room(session: Any, viewer: Occupant, resource_id: uuid.UUID) -> Any:
    rooms = views.load_rooms(session, [resource_id])
    room = rooms.get(resource_id)
    if room is None or room.organization_id != viewer.organization_id:
        raise PageError("There is no such room in your organization.", status=404)
    return room, views.buildings_of(session, viewer.organization_id)


def _page(
    request: Request,
    viewer: Occupant,
    resource_id: uuid.UUID,
    *,
    typed: dict[str, str] | None,
    errors: dict[str, str],
) -> Response:
    database = request.app.state.database
    now: datetime = database.clock()
    with database.session() as session:
        room, buildings = _room(session, viewer, resource_id)
        card = views.room_card(room, viewer.principal, buildings)
        first, _ = views.day_bounds(now, card.zone)
        last = first + timedelta(days=DAYS + 1)
        blocks = views.blocks_of(session, room.id, first, last, viewer.principal)
    week = _week(blocks, first, card.zone)
    return render(
        request, "occupant/room.html", user=viewer.user, nav=NAV, card=card, week=week,
        typed=typed or {**default_typed(now.astimezone(card.zone)), "title": ""},
        errors=errors, durations=DURATIONS, status_code=422 if errors else 200,
    )  # fmt: skip


def _week(blocks: list[Any], first: datetime, zone: Any) -> list[tuple[str, list[Any]]]:
    """Seven local days, each with its blocks (a block spanning midnight shows on both)."""
    days = []
    for offset in range(DAYS):
        day = (first.astimezone(zone) + timedelta(days=offset, hours=12)).date()
        start, end = views.day_bounds(datetime.combine(day, datetime.min.time(), zone), zone)
        mine = [b for b in blocks if b.start < end and b.end > start]
        days.append((f"{day:%A %-d %B}", mine))
    return days
