"""``/my``: the signed-in person's bookings, upcoming and of the last weeks, each with its
state and whether Outlook has it; moving one (other time or room, through
``update_booking``, which checks the room is free) and cancelling one (``cancel_booking``),
as ``PATCH``/``DELETE /api/v1/bookings/{id}`` do. A booking roomsync cannot change says so
and why before anyone clicks.

The organizer gets a link that opens the meeting in Outlook on the web (the ``webLink`` of
their copy, known once a push created or read it).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from roomsync.errors import RoomsyncError
from roomsync.platform.exceptions import BookingConflictError
from roomsync.platform.models import Resource
from roomsync.platform.services import bookings as service
from roomsync.platform.services.booking_sync import booking_sync_views
from roomsync.settings import Settings
from roomsync.web.pages.guard import check_form
from roomsync.web.pages.occupant import views
from roomsync.web.pages.occupant.access import NAV, Occupant, occupant
from roomsync.web.pages.occupant.booking import own_booking, view_of
from roomsync.web.pages.occupant.search_form import DURATIONS, Choices, read_search
from roomsync.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
PAST_DAYS = 30
LISTED = 100


@router.get("/my", response_class=HTMLResponse)
def my_bookings(request: Request, notice: str | None = None) -> Response:
    viewer = occupant(request)
    database = request.app.state.database
    now = database.clock()
    with database.session() as session:
        me = views.person_id(session, viewer.organization_id, viewer.email)
        upcoming = service.list_bookings(
            session, organization_id=viewer.organization_id, organizer_user_id=me,
            start=now, limit=LISTED,
        ).items  # fmt: skip
        past = service.list_bookings(
            session, organization_id=viewer.organization_id, organizer_user_id=me,
            start=now - timedelta(days=PAST_DAYS), end=now, limit=LISTED,
        ).items  # fmt: skip
        past = [b for b in past if b.end_at <= now]
        every = [*upcoming, *past]
        syncs = booking_sync_views(session, every)
        rooms = views.load_rooms(session, [b.resource_id for b in every])
        buildings = views.buildings_of(session, viewer.organization_id)
        shown = {
            b.id: views.booking_view(
                session,
                b,
                sync=syncs[b.id],
                principal=viewer.principal,
                buildings=buildings,
                rooms=rooms,
            )
            for b in every
        }
    return render(
        request, "occupant/my.html", user=viewer.user, nav=NAV, notice=notice,
        upcoming=[shown[b.id] for b in upcoming if b.status.value != "cancelled"],
        cancelled=[shown[b.id] for b in upcoming if b.status.value == "cancelled"],
        past=[shown[b.id] for b in reversed(past)],
    )  # fmt: skip


@router.post("/bookings/{booking_id}/cancel")
def cancel(
    request: Request,
    booking_id: uuid.UUID,
    version: Annotated[int | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    viewer = occupant(request)
    check_form(request, viewer.user, csrf)
    with request.app.state.database.session() as session:
        booking = own_booking(session, viewer, booking_id)
        try:
            service.cancel_booking(session, booking_id=booking.id, expected_version=version)
        except RoomsyncError as exc:
            return _to_my(exc.message)
        said = f"“{booking.title}” is cancelled; the room is free again."
    return _to_my(said)


def _to_my(notice: str) -> Response:
    return RedirectResponse(f"/my?{urlencode({'notice': notice})}", status_code=303)


@router.get("/bookings/{booking_id}/move", response_class=HTMLResponse)
def move_form(request: Request, booking_id: uuid.UUID) -> Response:
    viewer = occupant(request)
    return _move_page(request, viewer, booking_id, typed=None)


@router.post("/bookings/{booking_id}/move", response_class=HTMLResponse)
def move(
    request: Request,
    booking_id: uuid.UUID,
    *,
    date: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    duration: Annotated[str, Form()] = "",
    resource_id: Annotated[str, Form()] = "",
    version: Annotated[int | None, Form()] = None,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    viewer = occupant(request)
    check_form(request, viewer.user, csrf)
    typed = {"date": date, "start": start, "duration": duration, "resource_id": resource_id}
    settings: Settings = request.app.state.settings
    database = request.app.state.database
    with database.session() as session:
        booking = own_booking(session, viewer, booking_id)
        room = views.load_rooms(session, [booking.resource_id])[booking.resource_id]
        choices = _choices(session, viewer, settings)
        search = read_search(
            {**typed, "building": str(room.building_id)}, choices, now=database.clock()
        )
        errors = dict(search.errors)
        target = _room_choice(resource_id, _rooms_of(session, room.building_id), errors)
        if errors or search.start is None or search.end is None or target is None:
            return _move_page(request, viewer, booking_id, typed=typed, errors=errors)
        try:
            service.update_booking(
                session, booking_id=booking.id, expected_version=version, resource_id=target,
                start=search.start, end=search.end,
                max_duration=timedelta(hours=settings.max_booking_hours),
            )  # fmt: skip
        except BookingConflictError:
            errors["start"] = "That room is already booked then: choose another time or room."
        except RoomsyncError as exc:
            errors[getattr(exc, "field", None) or "start"] = exc.message
        if errors:
            session.rollback()
    if errors:
        return _move_page(request, viewer, booking_id, typed=typed, errors=errors)
    return RedirectResponse(f"/bookings/{booking_id}", status_code=303)


def _choices(session: Any, viewer: Occupant, settings: Settings) -> Choices:
    return Choices(
        views.buildings_of(session, viewer.organization_id), (), settings.max_booking_hours
    )


def _rooms_of(session: Any, building_id: uuid.UUID) -> list[Resource]:
    return list(
        session.scalars(
            select(Resource)
            .where(Resource.building_id == building_id, Resource.active.is_(True))
            .order_by(Resource.name)
        )
    )


def _room_choice(raw: str, rooms: list[Resource], errors: dict[str, str]) -> uuid.UUID | None:
    for room in rooms:
        if str(room.id) == raw:
            return room.id
    errors["resource_id"] = "Choose one of the rooms in the list."
    return None


def _move_page(
    request: Request,
    viewer: Occupant,
    booking_id: uuid.UUID,
    *,
    typed: dict[str, str] | None,
    errors: dict[str, str] | None = None,
) -> Response:
    with request.app.state.database.session() as session:
        booking = own_booking(session, viewer, booking_id)
        view = view_of(session, viewer, booking)
        rooms = _rooms_of(session, view.building_id)
    if typed is None:
        local = view.start.astimezone(view.zone)
        typed = {
            "date": local.date().isoformat(),
            "start": f"{local:%H:%M}",
            "duration": str(int((view.end - view.start).total_seconds() // 60)),
            "resource_id": str(view.room_id),
        }
    return render(
        request, "occupant/move.html", user=viewer.user, nav=NAV, booking=view,
        rooms=rooms, typed=typed, errors=errors or {}, durations=DURATIONS,
        status_code=422 if errors else 200,
    )  # fmt: skip
