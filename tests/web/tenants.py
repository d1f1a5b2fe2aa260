"""Test organizations for the API tests, and the tokens that reach them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from roomsync.platform.enums import Role

ADMIN_TOKEN = "test-super-admin-token-with-enough-entropy"
MAX_BOOKING_HOURS = 8
ORGANIZER = "ann@acme.test"
COLLEAGUE = "colleague@acme.test"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


SUPER_ADMIN = bearer(ADMIN_TOKEN)


@dataclass(frozen=True)
class Tenant:
    """An organization with a building, a room, an admin token and two occupant tokens:
    ``occupant`` acts for Ann (the organizer of ``booking_json``), ``colleague`` for a colleague."""

    organization_id: uuid.UUID
    building_id: uuid.UUID
    room_id: uuid.UUID
    admin: dict[str, str]
    occupant: dict[str, str]
    colleague: dict[str, str]


def make_tenant(factory: Any, name: str, *, room_email: str | None = None) -> Tenant:
    organization_id = factory.organization(name)
    building_id = factory.building(organization_id)
    return Tenant(
        organization_id=organization_id,
        building_id=building_id,
        room_id=factory.room(building_id, name=f"{name} room", email=room_email),
        admin=bearer(factory.token(organization_id, Role.ADMIN)),
        occupant=bearer(factory.token(organization_id, Role.OCCUPANT, user=ORGANIZER)),
        colleague=bearer(factory.token(organization_id, Role.OCCUPANT, user=COLLEAGUE)),
    )


def booking_json(
    room_id: uuid.UUID,
    start: str = "2030-01-07T09:00:00Z",
    end: str = "2030-01-07T10:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    """A POST /bookings body for ``room_id``."""
    return {
        "resource_id": str(room_id),
        "organizer_email": "Ann@Acme.test",
        "title": "Planning",
        "start": start,
        "end": end,
        **extra,
    }
