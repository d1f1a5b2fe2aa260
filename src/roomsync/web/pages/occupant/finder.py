"""``/``: find a free room — the form, the rooms free for the whole slot (best fit first,
as ``GET /api/v1/availability`` ranks them), each with its day drawn as a timeline — and
the empty state that offers the nearest times that do have a room."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from roomsync.platform.services import availability
from roomsync.settings import Settings
from roomsync.web.pages.occupant import timeline, views
from roomsync.web.pages.occupant.access import NAV, Occupant, occupant
from roomsync.web.pages.occupant.search_form import (
    DURATIONS,
    Choices,
    Search,
    default_typed,
    read_search,
)
from roomsync.web.pages.rendering import render

router = APIRouter(include_in_schema=False)
MAX_CARDS = 12
# Where the empty state looks when nothing is free: later first, then a little earlier.
SHIFTS = (30, 60, 90, 120, -30, -60)


@dataclass(frozen=True)
class Alternative:
    """Rooms free at another time (or in any building) when the asked slot has none."""

    said: str
    search: Search
    cards: list[views.RoomCard]
    query: str


@router.get("/", response_class=HTMLResponse)
def find_a_room(request: Request) -> Response:
    viewer = occupant(request)
    return finder_page(request, viewer, dict(request.query_params))


def finder_page(
    request: Request,
    viewer: Occupant,
    query: dict[str, str],
    *,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    """The finder for ``query`` (the defaults when empty); ``extra`` reaches the template
    (a just-taken notice, a booking form's error)."""
    settings: Settings = request.app.state.settings
    database = request.app.state.database
    now = database.clock()
    with database.session() as session:
        choices = _choices(session, viewer, settings)
        if not query:
            zone = read_search({}, choices, now=now).zone
            query = default_typed(now.astimezone(zone))
        search = read_search(query, choices, now=now)
        cards = _cards(session, viewer, search, choices) if search.ready else []
        alternative = (
            _alternative(session, viewer, search, choices, now)
            if search.ready and not cards
            else None
        )
    return render(
        request,
        "occupant/find.html",
        user=viewer.user,
        nav=NAV,
        status_code=422 if search.errors else status_code,
        search=search,
        choices=choices,
        durations=DURATIONS,
        cards=cards,
        alternative=alternative,
        back=_query_of(search.typed, search.accessible),
        pick=lambda moment: _shifted_query(search, moment),
        **extra,
    )


def _choices(session: Session, viewer: Occupant, settings: Settings) -> Choices:
    return Choices(
        buildings=views.buildings_of(session, viewer.organization_id),
        equipment=views.known_equipment(
            session, viewer.organization_id, occupant=not viewer.principal.is_admin
        ),
        max_hours=settings.max_booking_hours,
    )


def room_search(
    viewer: Occupant, search: Search, start: datetime, end: datetime
) -> availability.RoomSearch:
    return availability.RoomSearch(
        organization_id=viewer.organization_id,
        start=start,
        end=end,
        building_id=search.building_id,
        capacity_min=search.people,
        equipment=search.equipment,
        accessible=True if search.accessible else None,
        occupant=not viewer.principal.is_admin,
    )


def _cards(
    session: Session,
    viewer: Occupant,
    search: Search,
    choices: Choices,
    *,
    limit: int = MAX_CARDS,
    start: datetime | None = None,
) -> list[views.RoomCard]:
    """The free rooms of the slot (``start`` moves it, keeping its length), each with its
    day."""
    assert search.start is not None  # ready searches only
    assert search.end is not None
    start = start or search.start
    end = start + (search.end - search.start)
    found = availability.free_rooms(session, room_search(viewer, search, start, end), limit=limit)
    slot = (start, end)
    span = timeline.window(start.astimezone(search.zone).date(), search.zone, slot)
    return [
        views.room_card(
            free.resource,
            viewer.principal,
            choices.buildings,
            next_busy=free.next_busy_start,
            on=start.astimezone(search.zone).date(),
            day=timeline.lay_out(
                views.blocks_of(session, free.resource.id, *span, viewer.principal),
                span=span,
                zone=search.zone,
                slot=slot,
                fits=end - start,
            ),
        )
        for free in found
    ]


def _alternative(
    session: Session, viewer: Occupant, search: Search, choices: Choices, now: datetime
) -> Alternative | None:
    """The nearest slot of the same length with a room free, or the same slot in any
    building; None when neither has one."""
    assert search.start is not None  # ready searches only
    assert search.end is not None
    who = f"for {search.people} people " if search.people else ""
    for minutes in SHIFTS:
        start = search.start + timedelta(minutes=minutes)
        if start < now:
            continue
        cards = _cards(session, viewer, search, choices, limit=3, start=start)
        if cards:
            direction = "later" if minutes > 0 else "earlier"
            said = (
                f"No room {who}is free then — here are rooms free "
                f"{abs(minutes)} minutes {direction}."
            )
            return Alternative(said, search, cards, _shifted_query(search, start))
    return None


def _shifted_query(search: Search, start: datetime) -> str:
    local = start.astimezone(search.zone)
    typed = search.typed | {"date": local.date().isoformat(), "start": f"{local:%H:%M}", "end": ""}
    if search.typed.get("end") and search.start is not None and search.end is not None:
        typed["duration"] = str(int((search.end - search.start).total_seconds() // 60))
    return _query_of(typed, search.accessible)


def _query_of(typed: dict[str, str], accessible: bool) -> str:
    pairs = {name: value for name, value in typed.items() if value}
    if accessible:
        pairs["accessible"] = "on"
    return urlencode(pairs)
