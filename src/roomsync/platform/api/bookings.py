"""``/bookings``: occupants and admins book, move and cancel rooms.

``POST`` answers 409 naming the booking that holds the room (its id and times, never its
title); ``PATCH`` and ``DELETE`` honour ``If-Match: "<version>"`` (412 when stale,
accepted when absent); single-booking responses carry ``ETag: "<version>"``. Only the
organizer or an admin may change ``private`` (403 naming the field, before anything is
changed); a private booking's title reaches no one else (``booking_privacy``).

A person (a session or an occupant token) acts only as themselves: they book with their
own ``organizer_email`` (another is 403 naming the field) and move or cancel only what they
organize. Admins may book on someone's behalf; the history records who acted.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response
from sqlalchemy.orm import Session

from roomsync.platform.api.auth import Principal
from roomsync.platform.api.booking_privacy import is_organizer_or_admin, permitted_changes
from roomsync.platform.api.booking_schemas import BookingIn, BookingOut, BookingPatch, booking_out
from roomsync.platform.api.booking_series import (
    ConflictsQuery,
    book_series,
    occurrences_out,
    skipped_out,
)
from roomsync.platform.api.deps import (
    DEFAULT_LIMIT,
    CursorQuery,
    LimitQuery,
    OrganizationQuery,
    PrincipalDep,
    SessionDep,
    SettingsDep,
)
from roomsync.platform.api.fields import Instant
from roomsync.platform.api.schemas import PageOut, error_responses, etag, parse_if_match
from roomsync.platform.enums import BookingStatus, Role
from roomsync.platform.exceptions import InvalidInputError, PermissionDeniedError
from roomsync.platform.models import Booking
from roomsync.platform.services import bookings as service
from roomsync.platform.services.booking_sync import booking_sync_views
from roomsync.platform.services.resources import get_resource
from roomsync.platform.services.series import ConflictChoice
from roomsync.platform.services.series_edits import EditScope, cancel_in_scope, update_in_scope
from roomsync.settings import Settings

router = APIRouter(prefix="/bookings", tags=["bookings"], responses=error_responses(409, 412))

IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", description='The ETag you read, such as "3"; 412 if stale.'),
]
ScopeQuery = Annotated[
    EditScope,
    Query(
        description="For an occurrence of a series: occurrence (default: this one only), "
        "following (this and the later ones) or series (every live occurrence)."
    ),
]
RangeQuery = Annotated[
    Instant | None,
    Query(description="With the other bound, bookings overlapping [start, end)."),
]


@router.post("", status_code=201, summary="Book a room")
def create_booking(
    *,
    body: BookingIn,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    conflicts: ConflictsQuery = ConflictChoice.FAIL,
) -> BookingOut:
    resource = get_resource(session, resource_id=body.resource_id)
    principal.check_access(resource.organization_id)
    organizer = _organizer_email(principal, body.organizer_email)
    acting_for_other = organizer.strip().lower() != principal.email
    if body.recurrence is not None:
        series = book_series(
            session,
            body,
            organization_id=resource.organization_id,
            organizer_email=organizer,
            actor=(principal.actor if acting_for_other else None),
            conflicts=conflicts,
            max_duration=_max_duration(settings),
        )
        first = _single(session, series.bookings[0], principal, response)
        return first.model_copy(
            update={"occurrences": occurrences_out(series.bookings), "skipped": skipped_out(series)}
        )
    booking = service.create_booking(
        session,
        organization_id=resource.organization_id,
        resource_id=resource.id,
        organizer_email=organizer,
        actor=(principal.actor if acting_for_other else None),
        title=body.title,
        description=body.description,
        start=body.start,
        end=body.end,
        private=body.private,
        all_day=body.all_day,
        max_duration=_max_duration(settings),
    )
    return _single(session, booking, principal, response)


@router.get("", summary="List bookings by start (of a room and time range, if given)")
def list_bookings(
    *,
    session: SessionDep,
    principal: PrincipalDep,
    organization_id: OrganizationQuery = None,
    resource_id: Annotated[uuid.UUID | None, Query()] = None,
    start: RangeQuery = None,
    end: RangeQuery = None,
    status: Annotated[BookingStatus | None, Query()] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[BookingOut]:
    scope = principal.list_scope(organization_id)
    if resource_id is not None:
        principal.check_access(get_resource(session, resource_id=resource_id).organization_id)
    page = service.list_bookings(
        session,
        organization_id=scope,
        resource_id=resource_id,
        start=start,
        end=end,
        status=status,
        limit=limit,
        cursor=cursor,
    )
    views = booking_sync_views(session, page.items)
    items = [booking_out(row, views[row.id], principal) for row in page.items]
    return PageOut(items=items, next_cursor=page.next_cursor)


@router.get("/{booking_id}", summary="Get a booking")
def get_booking(
    booking_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> BookingOut:
    booking = _visible_booking(session, booking_id, principal)
    return _single(session, booking, principal, response)


@router.patch(
    "/{booking_id}", summary="Change a booking (title, description, start, end, private, room)"
)
def update_booking(
    *,
    booking_id: uuid.UUID,
    body: BookingPatch,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    if_match: IfMatchHeader = None,
    scope: ScopeQuery = EditScope.OCCURRENCE,
) -> BookingOut:
    """Only the organizer or an admin may change a booking (403, nothing changed). For an
    occurrence of a series, ``scope`` says which occurrences change with it."""
    booking = _own_booking(session, booking_id, principal)
    changes = permitted_changes(principal, booking, body.changes())
    if body.resource_id is not None:
        principal.check_access(get_resource(session, resource_id=body.resource_id).organization_id)
    changed = update_in_scope(
        session,
        booking_id=booking_id,
        scope=scope,
        expected_version=parse_if_match(if_match),
        max_duration=_max_duration(settings),
        **changes,
    )
    return _scoped(
        session=session,
        booking_id=booking_id,
        changed=changed,
        principal=principal,
        response=response,
        scope=scope,
    )


@router.delete("/{booking_id}", summary="Cancel a booking (answers with the cancelled booking)")
def cancel_booking(
    *,
    booking_id: uuid.UUID,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    if_match: IfMatchHeader = None,
    scope: ScopeQuery = EditScope.OCCURRENCE,
) -> BookingOut:
    """For an occurrence of a series, ``scope`` says which occurrences are cancelled."""
    _own_booking(session, booking_id, principal)
    cancelled = cancel_in_scope(
        session, booking_id=booking_id, scope=scope, expected_version=parse_if_match(if_match)
    )
    return _scoped(
        session=session,
        booking_id=booking_id,
        changed=cancelled,
        principal=principal,
        response=response,
        scope=scope,
    )


def _visible_booking(session: Session, booking_id: uuid.UUID, principal: Principal) -> Booking:
    booking = service.get_booking(session, booking_id=booking_id)
    principal.check_access(booking.organization_id)
    return booking


def _own_booking(session: Session, booking_id: uuid.UUID, principal: Principal) -> Booking:
    """The booking, if ``principal`` may change it: admins any, a person their own."""
    booking = _visible_booking(session, booking_id, principal)
    if not is_organizer_or_admin(principal, booking):
        raise PermissionDeniedError(
            "Only the booking's organizer or an admin may change or cancel it."
        )
    return booking


def _organizer_email(principal: Principal, requested: str | None) -> str:
    """Whom a new booking is for: the caller unless an admin names someone else."""
    if principal.role not in (Role.ADMIN, Role.OCCUPANT):
        raise PermissionDeniedError("This token may not book.")
    if requested is None:
        if principal.email is None:
            message = "organizer_email is required: this token acts for no person."
            raise InvalidInputError(message, field="organizer_email")
        return principal.email
    if principal.is_admin or (principal.email or "") == requested.strip().lower():
        return requested
    message = (
        "An occupant books only as themselves: organizer_email must be "
        f"{principal.email} (or left out); booking for someone else needs an admin."
    )
    raise PermissionDeniedError(message, details=[{"field": "organizer_email", "message": message}])


def _single(
    session: Session, booking: Booking, principal: Principal, response: Response
) -> BookingOut:
    response.headers["ETag"] = etag(booking.version)
    return booking_out(booking, booking_sync_views(session, [booking])[booking.id], principal)


def _scoped(
    *,
    session: Session,
    booking_id: uuid.UUID,
    changed: list[Booking],
    principal: Principal,
    response: Response,
    scope: EditScope,
) -> BookingOut:
    """The addressed booking; for a series scope, with every occurrence changed."""
    addressed = next(b for b in changed if b.id == booking_id)
    single = _single(session, addressed, principal, response)
    if scope is EditScope.OCCURRENCE:
        return single
    return single.model_copy(update={"occurrences": occurrences_out(changed)})


def _max_duration(settings: Settings) -> timedelta:
    return timedelta(hours=settings.max_booking_hours)
