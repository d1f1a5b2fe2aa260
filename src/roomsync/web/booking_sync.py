"""``POST /api/v1/bookings/{id}/sync/retry``: an admin asks for a failed push to be sent again.

A push that failed ``push_max_attempts`` times (or could not be sent at all) leaves the
booking's ``sync.state`` at ``failed`` with Graph's error in ``sync.error``. Once the cause
is fixed (a permission granted, a service account set), this call queues the push again;
it answers 202 with the booking, whose ``sync.state`` is then ``pending``. A booking that
was declined because its push failed is ``pending`` again too, waiting for its room — or
409 ``booking_conflict`` when another booking took its slot meanwhile. A booking already
in sync answers 409 ``nothing_to_retry`` and its sync is left as it was.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from roomsync.platform.api import API_PREFIX
from roomsync.platform.api.booking_schemas import BookingOut, booking_out
from roomsync.platform.api.deps import PrincipalDep, SessionDep
from roomsync.platform.api.schemas import error_responses, etag
from roomsync.platform.db import now
from roomsync.platform.services.booking_sync import booking_sync_views
from roomsync.platform.services.bookings import get_booking
from roomsync.sync.push.outbox import request_push_retry

router = APIRouter(
    prefix=f"{API_PREFIX}/bookings",
    tags=["bookings"],
    responses=error_responses(401, 403, 404, 409, 422),
)


@router.post(
    "/{booking_id}/sync/retry",
    status_code=202,
    summary="Send the booking to Microsoft 365 again (admins; after a failed push)",
)
def retry_booking_sync(
    booking_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> BookingOut:
    booking = get_booking(session, booking_id=booking_id)
    principal.check_admin(booking.organization_id)
    request_push_retry(session, booking_id=booking.id, now=now(session))
    session.flush()
    response.headers["ETag"] = etag(booking.version)
    return booking_out(booking, booking_sync_views(session, [booking])[booking.id], principal)
