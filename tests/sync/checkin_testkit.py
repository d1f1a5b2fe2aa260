"""A connected tenant whose rooms require check-in, for the release tests."""

from __future__ import annotations

from datetime import datetime

from roomsync.platform.models import Building, Resource
from roomsync.platform.services.checkin_policy import set_building_policy
from tests.sync.harness import Tenant


def require_checkin(tenant: Tenant, *, now: datetime) -> None:
    """Check-in required (the default window) in the building of the tenant's rooms."""
    with tenant.database.session() as session:
        room = session.get_one(Resource, tenant.rooms[tenant.room_emails[0]])
        building = session.get_one(Building, room.building_id)
        set_building_policy(session, building=building, values={"required": True}, now=now)
