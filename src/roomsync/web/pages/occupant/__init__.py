"""The occupant app at ``/``: find a free room, book it, watch the room's answer arrive,
and manage one's bookings — server-rendered pages over the same service functions as the
REST API (``/api/v1/availability``, ``/bookings``), for people signed in with Microsoft.

    finder   ``/``                      the search form, free rooms as cards and timelines
    booking  ``/book``, ``/bookings/{id}``, ``/bookings/{id}/state``
    mine     ``/my``, ``/bookings/{id}/move``, ``/bookings/{id}/cancel``
    rooms    ``/rooms/{id}``, ``/rooms/{id}/book``
"""

from __future__ import annotations

from fastapi import APIRouter

from roomsync.web.pages.occupant import booking, finder, mine, rooms

router = APIRouter(include_in_schema=False)
for part in (finder.router, booking.router, mine.router, rooms.router):
    router.include_router(part)
