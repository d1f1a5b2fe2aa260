"""Booking from a result (``POST /book``) and the booking's own page, whose state the page
polls from ``/bookings/{id}/state`` until the room has answered.

``POST /book`` goes through ``services.bookings.create_booking`` exactly as
``POST /api/v1/bookings`` does, with the signed-in person as organizer. A Book button
sent twice (a double click, a resent form) makes one booking: the second request finds
the room held by the first — the same person's booking of the same room and interval —
and is answered with that booking rather than a "taken". A room someone else took since
the search is answered with the finder again, saying so, at the same time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import escape
from sqlalchemy.orm import Session

from roomsync.errors import RoomsyncError
from roomsync.platform.api.booking_privacy import is_organizer_or_admin
from roomsync.platform.api.fields import MAX_DESCRIPTION_LENGTH
from roomsync.platform.enums import SyncState
from roomsync.platform.exceptions import BookingConflictError, InvalidInputError, NotFoundError
from roomsync.platform.models import Booking
from roomsync.platform.services import availability
from roomsync.platform.services import bookings as service
from roomsync.platform.services.booking_sync import booking_sync_views
from roomsync.platform.services.resources import get_resource
from roomsync.platform.services.validation import text_problem
from roomsync.settings import Settings
from roomsync.web.pages.guard import PageError, check_form, csrf_token
from roomsync.web.pages.occupant import views
from roomsync.web.pages.occupant.access import NAV, Occupant, occupant
from roomsync.web.pages.occupant.finder import finder_page, room_search
from roomsync.web.pages.occupant.search_form import Search
from roomsync.web.pages.rendering import environment, render

router = APIRouter(include_in_schema=False)
MAX_TITLE = 500
ALTERNATIVES = 3


@dataclass(frozen=True)
class Wanted:
    """One booking asked for: the room, the interval, the title, privacy and description."""

    room_id: uuid.UUID
    start: datetime
    end: datetime
    title: str
    private: bool
    description: str | None = None


@router.post("/book")
def book(
    request: Request,
    *,
    resource_id: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    end: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    private: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    viewer = occupant(request)
    check_form(request, viewer.user, csrf)
    query = dict(parse_qsl(back))
    typed = {
        "resource_id": resource_id,
        "title": title,
        "private": private == "on",
        "description": description,
    }
    try:
        room, interval = _room_and_interval(resource_id, start, end)
        wanted = Wanted(
            room, *interval, checked_title(title), private == "on", checked_description(description)
        )
        booking_id = create_for(request, viewer, wanted)
    except BookingConflictError as exc:
        mine = same_request(request, viewer, exc, wanted)
        if mine is not None:
            return RedirectResponse(f"/bookings/{mine}", status_code=303)
        return finder_page(
            request, viewer, query, status_code=409, taken=_taken_text(exc, request, resource_id)
        )
    except InvalidInputError as exc:
        return finder_page(
            request,
            viewer,
            query,
            status_code=422,
            book_error={**typed, "message": exc.message, "field": exc.field},
        )
    return RedirectResponse(f"/bookings/{booking_id}", status_code=303)


def _room_and_interval(
    resource_id: str, start: str, end: str
) -> tuple[uuid.UUID, tuple[datetime, datetime]]:
    try:
        room = uuid.UUID(resource_id)
        interval = (datetime.fromisoformat(start), datetime.fromisoformat(end))
    except ValueError as exc:
        raise InvalidInputError(
            "This result is out of date: search again.", field="resource_id"
        ) from exc
    if interval[0].tzinfo is None or interval[1].tzinfo is None:
        raise InvalidInputError("This result is out of date: search again.", field="start")
    return room, interval


def checked_title(title: str) -> str:
    clean = " ".join(title.split())
    if not clean:
        raise InvalidInputError("Give the meeting a title, such as “Team sync”.", field="title")
    if len(clean) > MAX_TITLE:
        raise InvalidInputError(f"A title has at most {MAX_TITLE} characters.", field="title")
    return clean


def checked_description(description: str) -> str | None:
    """The typed description, line breaks kept; none when only blanks were typed."""
    clean = description.replace("\r\n", "\n").strip()
    if len(clean) > MAX_DESCRIPTION_LENGTH:
        raise InvalidInputError(
            f"A description has at most {MAX_DESCRIPTION_LENGTH:,} characters, not {len(clean):,}.",
            field="description",
        )
    problem = text_problem(clean)
    if problem is not None:
        raise InvalidInputError(f"The description {problem}.", field="description")
    return clean or None


def create_for(request: Request, viewer: Occupant, wanted: Wanted) -> uuid.UUID:
    settings: Settings = request.app.state.settings
    with request.app.state.database.session() as session:
        try:
            resource = get_resource(session, resource_id=wanted.room_id)
            viewer.principal.check_access(resource.organization_id)
        except RoomsyncError as exc:
            raise InvalidInputError(
                "This room is not one you can book: search again.", field="resource_id"
            ) from exc
        booking = service.create_booking(
            session,
            organization_id=resource.organization_id,
            resource_id=resource.id,
            organizer_email=viewer.email,
            title=wanted.title,
            start=wanted.start,
            end=wanted.end,
            private=wanted.private,
            description=wanted.description,
            max_duration=_max_duration(settings),
        )
        return booking.id


def _max_duration(settings: Settings) -> timedelta:
    return timedelta(hours=settings.max_booking_hours)


def same_request(
    request: Request,
    viewer: Occupant,
    exc: BookingConflictError,
    wanted: Wanted,
) -> uuid.UUID | None:
    """The booking in the way, if it is this very request made before (a double click)."""
    details = exc.details if isinstance(exc.details, dict) else {}
    with request.app.state.database.session() as session:
        try:
            held = service.get_booking(
                session, booking_id=uuid.UUID(str(details.get("conflicting_booking_id")))
            )
        except (ValueError, NotFoundError):
            return None
        same = (
            held.organizer_email == viewer.email
            and held.resource_id == wanted.room_id
            and held.start_at == wanted.start
            and held.end_at == wanted.end
        )
        return held.id if same else None


def _taken_text(exc: BookingConflictError, request: Request, resource_id: str) -> str:
    with request.app.state.database.session() as session:
        try:
            name = get_resource(session, resource_id=uuid.UUID(resource_id)).name
        except (ValueError, NotFoundError):
            name = "That room"
    return f"{name} was just taken by someone else. Here are the rooms still free at that time."


# --- The booking's page ----------------------------------------------------------------------


@router.get("/bookings/{booking_id}", response_class=HTMLResponse)
def booking_page(request: Request, booking_id: uuid.UUID) -> Response:
    viewer = occupant(request)
    state = _state(request, viewer, booking_id)
    return render(request, "occupant/booking.html", user=viewer.user, nav=NAV, **state)


@router.get("/bookings/{booking_id}/state")
def booking_state(request: Request, booking_id: uuid.UUID) -> Response:
    """The state panel, polled by the page: small JSON with the panel's HTML."""
    viewer = occupant(request)
    state = _state(request, viewer, booking_id)
    csrf = csrf_token(viewer.user.cookie)
    html = environment.get_template("occupant/_booking_state.html").render(csrf=csrf, **state)
    view: views.BookingView = state["booking"]
    badge = f'<span class="badge {view.tone}">{escape(view.status_text)}</span>'
    answer: dict[str, object] = {
        "status": view.status.value,
        "sync": view.sync_text,
        "html": html,
        "badge": badge,
    }
    answer["final"] = view.final and state["settled"]
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


def _state(request: Request, viewer: Occupant, booking_id: uuid.UUID) -> dict[str, Any]:
    with request.app.state.database.session() as session:
        booking = own_booking(session, viewer, booking_id)
        view = view_of(session, viewer, booking)
        alternatives = (
            _alternatives(session, viewer, booking, view) if view.status.value == "declined" else []
        )
    return {
        "booking": view,
        "alternatives": alternatives,
        "again": view.again,
        "settled": view.sync_text != views.SYNC_TEXT[SyncState.PENDING],
    }


def own_booking(session: Session, viewer: Occupant, booking_id: uuid.UUID) -> Booking:
    """The booking if the viewer organizes it (or administers it); else a 404 page, so
    that a guessed id tells nothing."""
    try:
        booking = service.get_booking(session, booking_id=booking_id)
        viewer.principal.check_access(booking.organization_id)
    except RoomsyncError as exc:
        raise PageError("There is no booking of yours with this address.", status=404) from exc
    if not is_organizer_or_admin(viewer.principal, booking):
        raise PageError("There is no booking of yours with this address.", status=404)
    return booking


def view_of(session: Session, viewer: Occupant, booking: Booking) -> views.BookingView:
    rooms = views.load_rooms(session, [booking.resource_id])
    buildings = views.buildings_of(session, viewer.organization_id)
    sync = booking_sync_views(session, [booking])[booking.id]
    return views.booking_view(
        session, booking, sync=sync, principal=viewer.principal, buildings=buildings, rooms=rooms
    )


def _alternatives(
    session: Session, viewer: Occupant, booking: Booking, view: views.BookingView
) -> list[views.RoomCard]:
    """Rooms free at the declined booking's time in its building, best fit first."""
    room = views.load_rooms(session, [booking.resource_id])[booking.resource_id]
    search = Search(typed={}, building_id=room.building_id, people=None)
    found = availability.free_rooms(
        session,
        room_search(viewer, search, booking.start_at, booking.end_at),
        limit=ALTERNATIVES + 1,
    )
    buildings = views.buildings_of(session, viewer.organization_id)
    return [
        views.room_card(
            free.resource,
            viewer.principal,
            buildings,
            next_busy=free.next_busy_start,
            on=booking.start_at.astimezone(view.zone).date(),
        )
        for free in found
        if free.resource.id != booking.resource_id
    ][:ALTERNATIVES]
