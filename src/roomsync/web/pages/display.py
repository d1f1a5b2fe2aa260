"""The room display: ``/display/{resource_id}``, a full-screen page for the tablet outside a
room — free or busy now, the current meeting with check-in and end early, the rest of the
day, and "book now" while the room is free.

It is opened once as ``/display/{id}?token=<display token>``: the token (one bound to
this room, ``roomsync token create --role display --resource ID``) goes into an HttpOnly
cookie scoped to this display's path, and the page redirects to its plain address, so the
secret stays out of the address bar and the browser's history. The page polls
``/display/{id}/state`` and acts through ``POST /display/{id}/check-in|book|end``; a token
of another room, or any other kind of token, is refused with 403. Writes also need the
``X-Roomsync-Display`` header (a cross-site form cannot send it) and the cookie is
``SameSite=Strict``. Private meetings read "Private booking".

The actions call the same service functions as the REST API.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.api.auth import authenticate
from roomsync.platform.db import Database, isoformat_utc, now
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import (
    AuthenticationError,
    BookingConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from roomsync.platform.models import Booking, Building, Resource
from roomsync.platform.services import bookings, checkin
from roomsync.platform.services.booking_rules import OCCUPYING_STATUSES
from roomsync.platform.services.checkin_policy import policy_of_resource
from roomsync.settings import Settings
from roomsync.web.pages.rendering import render

router = APIRouter(prefix="/display", include_in_schema=False)

COOKIE = "roomsync_display"
WRITE_HEADER = "X-Roomsync-Display"
BOOK_NOW_MINUTES = (15, 30, 60)
PRIVATE_TITLE = "Private booking"
DISPLAY_TITLE = "Booked at the room display"


@router.get("/{resource_id}")
def display_page(request: Request, resource_id: uuid.UUID, token: str | None = None) -> Response:
    if token is not None:
        _check_token(request, resource_id, token)
        response = RedirectResponse(f"/display/{resource_id}", status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            path=f"/display/{resource_id}",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            max_age=400 * 24 * 3600,
        )
        return response
    with _database(request).session() as session:
        _authorize(request, session, resource_id)
        state = display_state(session, resource_id)
    return render(request, "display/room.html", state=state, write_header=WRITE_HEADER)


@router.get("/{resource_id}/state")
def display_state_json(request: Request, resource_id: uuid.UUID) -> dict[str, Any]:
    with _database(request).session() as session:
        _authorize(request, session, resource_id)
        return display_state(session, resource_id)


BookingIdBody = Annotated[uuid.UUID, Body(embed=True)]


@router.post("/{resource_id}/check-in")
def display_check_in(
    request: Request, resource_id: uuid.UUID, booking_id: BookingIdBody
) -> dict[str, Any]:
    actor = f"display of {resource_id}"
    return _act(
        request,
        resource_id,
        booking_id,
        lambda s: checkin.check_in(s, booking_id=booking_id, actor=actor),
    )


@router.post("/{resource_id}/end")
def display_end(
    request: Request, resource_id: uuid.UUID, booking_id: BookingIdBody
) -> dict[str, Any]:
    return _act(
        request, resource_id, booking_id, lambda s: checkin.end_booking(s, booking_id=booking_id)
    )


@router.post("/{resource_id}/extend")
def display_extend(
    request: Request, resource_id: uuid.UUID, booking_id: BookingIdBody
) -> dict[str, Any]:
    return _act(
        request, resource_id, booking_id, lambda s: checkin.extend_booking(s, booking_id=booking_id)
    )


def _act(
    request: Request,
    resource_id: uuid.UUID,
    booking_id: uuid.UUID,
    action: Callable[[Session], object],
) -> dict[str, Any]:
    """One of the room's bookings acted on, answered with what the display shows next."""
    with _database(request).session() as session:
        _authorize(request, session, resource_id, write=True)
        _own_booking(session, resource_id, booking_id)
        action(session)
        return display_state(session, resource_id)


@router.post("/{resource_id}/book")
def display_book(
    request: Request, resource_id: uuid.UUID, minutes: Annotated[int, Body(embed=True)]
) -> Response:
    if minutes not in BOOK_NOW_MINUTES:
        raise InvalidInputError("minutes must be 15, 30 or 60.", field="minutes")
    with _database(request).session() as session:
        _authorize(request, session, resource_id, write=True)
        start = now(session).replace(microsecond=0)
        longest = _free_minutes(session, resource_id, start)
        if longest is not None and longest < minutes:
            raise BookingConflictError(
                f"The room is free for only {longest} more minutes: book at most that long.",
                details={"longest_minutes": longest},
            )
        booking = bookings.create_booking(
            session,
            organization_id=_room(session, resource_id).organization_id,
            resource_id=resource_id,
            organizer_email=_organizer(_room(session, resource_id)),
            title=DISPLAY_TITLE,
            start=start,
            end=start + timedelta(minutes=minutes),
            actor=f"display of {resource_id}",
        )
        checkin.check_in(session, booking_id=booking.id, actor=f"display of {resource_id}")
        return JSONResponse(display_state(session, resource_id), status_code=201)


def display_state(session: Session, resource_id: uuid.UUID) -> dict[str, Any]:
    """What the display shows now: the room, the meeting on now, the rest of the day."""
    room = _room(session, resource_id)
    building = session.get_one(Building, room.building_id)
    zone = ZoneInfo(building.time_zone)
    at = now(session)
    day_end = datetime.combine(at.astimezone(zone).date() + timedelta(days=1), datetime.min.time())
    rows = session.scalars(
        select(Booking)
        .where(
            Booking.resource_id == resource_id,
            Booking.status.in_(OCCUPYING_STATUSES),
            Booking.end_at > at,
            Booking.start_at < day_end.replace(tzinfo=zone),
        )
        .order_by(Booking.start_at)
    ).all()
    current = next((b for b in rows if b.start_at <= at), None)
    upcoming = [b for b in rows if b is not current]
    policy = policy_of_resource(session, resource_id)
    free_minutes = _free_minutes(session, resource_id, at.replace(microsecond=0))
    return {
        "room": {"id": str(room.id), "name": room.name},
        "now": isoformat_utc(at),
        "clock": at.astimezone(zone).strftime("%H:%M"),
        "busy": current is not None,
        "current": _meeting(current, zone, at, policy.opens_at) if current else None,
        "next": [_meeting(b, zone, at, policy.opens_at) for b in upcoming[:6]],
        "book_now": []
        if current
        else [m for m in BOOK_NOW_MINUTES if free_minutes is None or m <= free_minutes],
        "free_until": upcoming[0].start_at.astimezone(zone).strftime("%H:%M")
        if upcoming and not current
        else None,
        "checkin_required": policy.required and not policy.exempt,
    }


def _meeting(booking: Booking, zone: ZoneInfo, at: datetime, opens_at: Any) -> dict[str, Any]:
    return {
        "id": str(booking.id),
        "title": PRIVATE_TITLE if booking.private else booking.title,
        "start": booking.start_at.astimezone(zone).strftime("%H:%M"),
        "end": booking.end_at.astimezone(zone).strftime("%H:%M"),
        "checked_in": booking.checked_in_at is not None,
        "check_in_open": booking.checked_in_at is None and opens_at(booking.start_at) <= at,
        "release_at": booking.release_at.astimezone(zone).strftime("%H:%M")
        if booking.release_at
        else None,
    }


def _free_minutes(session: Session, resource_id: uuid.UUID, start: datetime) -> int | None:
    """Whole minutes from ``start`` to the room's next booking (None: none is coming)."""
    following = session.scalar(
        select(Booking.start_at)
        .where(
            Booking.resource_id == resource_id,
            Booking.status.in_(OCCUPYING_STATUSES),
            Booking.end_at > start,
        )
        .order_by(Booking.start_at)
        .limit(1)
    )
    if following is None:
        return None
    return max(0, int((following - start) / timedelta(minutes=1)))


def _organizer(room: Resource) -> str:
    """Whom a booking made at the display is for: the room's own mailbox, as a meeting
    room's panel books it (the meeting lives in the room's calendar); a room without one
    gets an address of its own under a reserved domain (RFC 2606), where no mail goes."""
    return room.email or f"display-{room.id}@roomsync.example"


def _authorize(
    request: Request, session: Session, resource_id: uuid.UUID, *, write: bool = False
) -> None:
    if write and request.headers.get(WRITE_HEADER) != "1":
        raise PermissionDeniedError(f"Display actions need the {WRITE_HEADER} header.")
    secret = request.cookies.get(COOKIE)
    if not secret:
        raise AuthenticationError(
            "This display has no token: open it once as /display/ROOM_ID?token=TOKEN with a "
            "display token for the room (roomsync token create --role display --resource ID)."
        )
    _check_principal(session, request, resource_id, secret)


def _check_token(request: Request, resource_id: uuid.UUID, token: str) -> None:
    with _database(request).session() as session:
        _check_principal(session, request, resource_id, token)


def _check_principal(
    session: Session, request: Request, resource_id: uuid.UUID, secret: str
) -> None:
    settings: Settings = request.app.state.settings
    principal = authenticate(session, secret=secret, admin_token=settings.admin_token)
    if principal.role is not Role.DISPLAY or principal.resource_id != resource_id:
        raise PermissionDeniedError(
            f"This token is not a display token for room {resource_id}: create one with "
            f"roomsync token create --role display --resource {resource_id}."
        )


def _own_booking(session: Session, resource_id: uuid.UUID, booking_id: uuid.UUID) -> None:
    booking = bookings.get_booking(session, booking_id=booking_id)
    if booking.resource_id != resource_id:
        raise PermissionDeniedError("This display acts only on its own room's bookings.")


def _room(session: Session, resource_id: uuid.UUID) -> Resource:
    room = session.get(Resource, resource_id)
    if room is None:
        raise NotFoundError(f"There is no room with the id {resource_id}.")
    return room


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database
