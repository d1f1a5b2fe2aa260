"""A platform organization connected to an emulated tenant, for sync tests.

graphsim answers in-process through its transport (the one seam); the platform runs on
the real database of the ``database`` fixture. Nothing else is replaced.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from graphsim import SimOptions, Simulator
from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, IntegrationMode
from roomsync.platform.models import Booking, EventLink, Integration, Resource
from roomsync.platform.services.buildings import create_building
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.resources import create_resource
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext

SECRET_KEY = SecretStr("test-secret-key-for-roomsync-sync-tests-0123456789")
ZONE = "Europe/Paris"


class StepClock:
    """A clock tests move by hand (real time by default). Given to the sync context, it is
    also the database's clock: every row the platform stamps reads it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


class GraphsimClock:
    """graphsim's view of a :class:`StepClock` (graphsim asks ``clock.now()``), for a test
    that needs Outlook's ``lastModifiedDateTime`` and the platform's ``updated_at`` on one
    timeline. Only for tests that move the clock a little: graphsim's tokens expire by it."""

    def __init__(self, clock: StepClock) -> None:
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()


@dataclass
class Tenant:
    """An emulated Microsoft 365 tenant and the organization synced with it."""

    sim: Simulator
    database: Database
    ctx: SyncContext
    organization_id: uuid.UUID
    integration_id: uuid.UUID
    rooms: dict[str, uuid.UUID] = field(default_factory=dict)
    """Room mailbox → resource id."""
    users: list[str] = field(default_factory=list)

    @property
    def room_emails(self) -> list[str]:
        return list(self.rooms)

    def bookings(self, room: str | None = None, *, live_only: bool = True) -> list[Booking]:
        with self.database.session() as session:
            query = select(Booking).where(Booking.organization_id == self.organization_id)
            if room is not None:
                query = query.where(Booking.resource_id == self.rooms[room])
            if live_only:
                query = query.where(Booking.status != BookingStatus.CANCELLED)
            return list(session.scalars(query.order_by(Booking.start_at)))

    def booking(self, booking_id: uuid.UUID) -> Booking:
        with self.database.session() as session:
            return session.get_one(Booking, booking_id)

    def link_of(self, booking_id: uuid.UUID) -> EventLink | None:
        with self.database.session() as session:
            return session.scalar(select(EventLink).where(EventLink.booking_id == booking_id))

    def room_calendar(self, room: str, days: int = 30) -> list[dict[str, Any]]:
        """The room's calendar view as graphsim holds it (from yesterday on)."""
        start = datetime.now(UTC) - timedelta(days=1)
        return self.sim.calendar_view(room, start, start + timedelta(days=days))


@contextlib.contextmanager
def connected_tenant(database: Database, **options: Any) -> Iterator[Tenant]:
    """:func:`connect` for the length of a block (a test's fixture), closed after it."""
    tenant = connect(database, **options)
    try:
        yield tenant
    finally:
        tenant.ctx.close()
        tenant.sim.close()


def connect(
    database: Database,
    *,
    rooms: int = 3,
    users: int = 3,
    options: SimOptions | None = None,
    integration_options: dict[str, Any] | None = None,
    clock: StepClock | None = None,
    graph_on_clock: bool = False,
) -> Tenant:
    """A seeded tenant with ``rooms`` empty room calendars, and a platform organization
    whose integration and rooms point at it. ``graph_on_clock``: graphsim reads ``clock``
    too (:class:`GraphsimClock`)."""
    clock = clock or StepClock()
    sim = Simulator(
        seed=7,
        options=options or SimOptions(seed=7, room_processing_delay=0.0),
        clock=GraphsimClock(clock) if graph_on_clock else None,
    )
    seeded = sim.seed(
        rooms=rooms,
        room_lists=1,
        users=users,
        events_per_room=0,
        recurring_series=0,
        private_meetings=0,
    )
    settings = Settings(_env_file=None, secret_key=SECRET_KEY)
    ctx = SyncContext.build(settings, database, transport=sim.transport(), clock=clock)
    with database.session() as session:
        organization = create_organization(session, name="Contoso")
        building = create_building(
            session, organization_id=organization.id, name="HQ", time_zone=ZONE
        )
        integration = Integration(
            organization_id=organization.id,
            tenant_id=sim.tenant_id,
            client_id=sim.credentials.client_id,
            client_secret_encrypted=ctx.secrets.encrypt(sim.credentials.client_secret),
            time_zone=ZONE,
            mode=IntegrationMode.POLLING,
            enabled=True,
            options=integration_options or {},
        )
        session.add(integration)
        resources = {
            email: create_resource(
                session, building_id=building.id, name=email.split("@")[0], email=email
            ).id
            for email in seeded.rooms
        }
        session.flush()
        ids = (organization.id, integration.id)
    return Tenant(sim, database, ctx, *ids, rooms=resources, users=list(seeded.users))


def resource(database: Database, resource_id: uuid.UUID) -> Resource:
    with database.session() as session:
        return session.get_one(Resource, resource_id)


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)
