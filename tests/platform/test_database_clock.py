"""The database's clock stamps every row: ORM flushes, Core statements and the instants
services set themselves all read it, never the wall clock behind a test's back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from roomsync.platform.db import Database
from roomsync.platform.models import Organization
from roomsync.platform.services.bookings import cancel_booking, create_booking
from roomsync.platform.services.organizations import get_organization, update_organization
from roomsync.platform.services.resources import update_resource
from roomsync.platform.services.tokens import find_api_token
from tests.conftest import PlatformFactory

T0 = datetime(2031, 3, 4, 8, 30, tzinfo=UTC)


class Stopped:
    """A clock standing still at ``now`` until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(database: Database) -> Stopped:
    stopped = Stopped(T0)
    database.clock = stopped
    return stopped


def test_a_new_row_is_created_and_updated_at_the_database_clock(
    factory: PlatformFactory, database: Database, clock: Stopped
) -> None:
    organization_id = factory.organization()

    with database.session() as session:
        organization = get_organization(session, organization_id=organization_id)
        assert (organization.created_at, organization.updated_at) == (T0, T0)


def test_an_orm_change_moves_updated_at_to_the_database_clock_and_keeps_created_at(
    factory: PlatformFactory, database: Database, clock: Stopped
) -> None:
    organization_id = factory.organization()
    clock.now = T0 + timedelta(minutes=5)

    with database.session() as session:
        update_organization(session, organization_id=organization_id, name="Renamed")
    with database.session() as session:
        organization = get_organization(session, organization_id=organization_id)
        assert (organization.created_at, organization.updated_at) == (T0, clock.now)


def test_a_core_update_statement_stamps_updated_at_from_the_database_clock(
    factory: PlatformFactory, database: Database, clock: Stopped
) -> None:
    organization_id = factory.organization()
    clock.now = T0 + timedelta(hours=1)

    with database.session() as session:
        session.execute(
            update(Organization).where(Organization.id == organization_id).values(name="Bulk")
        )
    with database.session() as session:
        assert get_organization(session, organization_id=organization_id).updated_at == clock.now


def test_cancelling_stamps_cancelled_at_from_the_database_clock(
    factory: PlatformFactory, database: Database, clock: Stopped
) -> None:
    organization_id = factory.organization()
    room_id = factory.room(factory.building(organization_id))
    with database.session() as session:
        booking_id = create_booking(
            session,
            organization_id=organization_id,
            resource_id=room_id,
            organizer_email="ada@example.com",
            title="Planning",
            start=T0 + timedelta(days=1),
            end=T0 + timedelta(days=1, hours=1),
        ).id
    clock.now = T0 + timedelta(minutes=7)

    with database.session() as session:
        booking = cancel_booking(session, booking_id=booking_id)
        assert (booking.cancelled_at, booking.updated_at) == (clock.now, clock.now)


def test_retiring_a_room_stamps_retired_at_from_the_database_clock(
    factory: PlatformFactory, database: Database, clock: Stopped
) -> None:
    room_id = factory.room(factory.building(factory.organization()))
    clock.now = T0 + timedelta(days=2)

    with database.session() as session:
        assert update_resource(session, resource_id=room_id, active=False).retired_at == clock.now


def test_a_token_is_marked_used_at_the_database_clock(
    factory: PlatformFactory, database: Database, clock: Stopped
) -> None:
    secret = factory.token(factory.organization())
    clock.now = T0 + timedelta(hours=3)

    with database.session() as session:
        token = find_api_token(session, secret=secret)
        assert token is not None
        assert token.last_used_at == clock.now
