"""Check-in and ending early (``/bookings/{id}/check-in``, ``/bookings/{id}/end``), and the
check-in policy of a building or room (``/buildings/{id}/checkin-policy``,
``/resources/{id}/checkin-policy``).

A booking is checked in or ended by its organizer, an admin, or the display token of its
room; a display token of another room, or an occupant for someone else's booking, is 403.
Policies are read by anyone of the organization and set by admins (``PUT`` replaces them,
``null`` removes them); 422 names the field of a bad one.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel

from roomsync.platform.api.auth import Principal
from roomsync.platform.api.booking_privacy import is_organizer_or_admin
from roomsync.platform.api.booking_schemas import BookingOut, booking_out
from roomsync.platform.api.deps import PrincipalDep, SessionDep
from roomsync.platform.api.schemas import error_responses, etag
from roomsync.platform.db import now
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import PermissionDeniedError
from roomsync.platform.models import Booking
from roomsync.platform.services import bookings, checkin
from roomsync.platform.services.booking_sync import booking_sync_views
from roomsync.platform.services.buildings import get_building
from roomsync.platform.services.checkin_policy import (
    CheckinPolicy,
    effective_policy,
    policy_json,
    policy_of_resource,
    set_building_policy,
    set_resource_policy,
)
from roomsync.platform.services.resources import get_resource

router = APIRouter(tags=["check-in"], responses=error_responses(409))

PolicyBody = Body(
    description="Fields: required, opens_minutes_before (default 5), release_after_minutes "
    "(10), exempt_longer_than_hours (8), exempt (rooms); omitted fields keep the building's "
    "or the default. null removes the policy."
)


class PolicyOut(BaseModel):
    stored: dict[str, Any] | None
    effective: dict[str, Any]


@router.post("/bookings/{booking_id}/check-in", summary="Check in to a booking")
def check_in(
    booking_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> BookingOut:
    _may_act(session, booking_id, principal)
    return _single(
        session,
        checkin.check_in(session, booking_id=booking_id, actor=principal.actor),
        principal,
        response,
    )


@router.post("/bookings/{booking_id}/end", summary="End a running meeting now")
def end_booking(
    booking_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> BookingOut:
    _may_act(session, booking_id, principal)
    return _single(
        session, checkin.end_booking(session, booking_id=booking_id), principal, response
    )


@router.post("/bookings/{booking_id}/extend", summary="Make a running meeting 15 minutes longer")
def extend_booking(
    booking_id: uuid.UUID, response: Response, session: SessionDep, principal: PrincipalDep
) -> BookingOut:
    """409 naming the booking in the way when the room is not free for the 15 minutes."""
    _may_act(session, booking_id, principal)
    return _single(
        session, checkin.extend_booking(session, booking_id=booking_id), principal, response
    )


@router.get("/buildings/{building_id}/checkin-policy", summary="A building's check-in policy")
def get_building_policy(
    building_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> PolicyOut:
    building = get_building(session, building_id=building_id)
    principal.check_access(building.organization_id)
    return PolicyOut(
        stored=building.checkin_policy, effective=policy_json(effective_policy(building))
    )


@router.put(
    "/buildings/{building_id}/checkin-policy", summary="Set a building's check-in policy (admin)"
)
def put_building_policy(
    building_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    body: dict[str, Any] | None = PolicyBody,
) -> PolicyOut:
    building = get_building(session, building_id=building_id)
    principal.check_admin(building.organization_id)
    policy = set_building_policy(session, building=building, values=body, now=now(session))
    return PolicyOut(stored=building.checkin_policy, effective=policy_json(policy))


@router.get("/resources/{resource_id}/checkin-policy", summary="A room's check-in policy")
def get_resource_policy(
    resource_id: uuid.UUID, session: SessionDep, principal: PrincipalDep
) -> PolicyOut:
    resource = get_resource(session, resource_id=resource_id)
    principal.check_access(resource.organization_id)
    policy: CheckinPolicy = policy_of_resource(session, resource.id)
    return PolicyOut(stored=resource.checkin_policy, effective=policy_json(policy))


@router.put(
    "/resources/{resource_id}/checkin-policy", summary="Override a room's check-in policy (admin)"
)
def put_resource_policy(
    resource_id: uuid.UUID,
    session: SessionDep,
    principal: PrincipalDep,
    body: dict[str, Any] | None = PolicyBody,
) -> PolicyOut:
    resource = get_resource(session, resource_id=resource_id)
    principal.check_admin(resource.organization_id)
    policy = set_resource_policy(session, resource=resource, values=body, now=now(session))
    return PolicyOut(stored=resource.checkin_policy, effective=policy_json(policy))


def _may_act(session: SessionDep, booking_id: uuid.UUID, principal: Principal) -> Booking:
    booking = bookings.get_booking(session, booking_id=booking_id)
    principal.check_access(booking.organization_id)
    if principal.role is Role.DISPLAY:
        if principal.resource_id != booking.resource_id:
            raise PermissionDeniedError(
                f"This display token belongs to room {principal.resource_id}, not to the "
                "room of this booking."
            )
        return booking
    if not is_organizer_or_admin(principal, booking):
        raise PermissionDeniedError("Only the booking's organizer or an admin may do this.")
    return booking


def _single(
    session: SessionDep, booking: Booking, principal: Principal, response: Response
) -> BookingOut:
    response.headers["ETag"] = etag(booking.version)
    return booking_out(booking, booking_sync_views(session, [booking])[booking.id], principal)
