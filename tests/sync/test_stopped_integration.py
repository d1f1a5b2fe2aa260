"""An expired client secret stops the integration's jobs with one clear message instead of
retrying forever; saving a new secret resumes them, and no push is lost meanwhile."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from roomsync.m365.exceptions import ClientSecretExpired
from roomsync.platform.db import Database
from roomsync.platform.enums import ChangeSource, OutboxState, SyncRunTrigger
from roomsync.platform.models import Integration, OutboxEntry
from roomsync.platform.services.bookings import create_booking
from roomsync.sync.exceptions import IntegrationUnavailableError
from roomsync.sync.integration.configuration import IntegrationChanges, update_integration
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.push.workflow import PushState, push_booking
from tests.sync.harness import Tenant, connected_tenant, tomorrow_at


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database, rooms=1) as connected:
        yield connected


def stopped_reason(tenant: Tenant) -> str | None:
    with tenant.database.session() as session:
        return session.get_one(Integration, tenant.integration_id).stopped_reason


def save_new_secret(tenant: Tenant) -> None:
    secret = tenant.sim.add_client_secret()
    with tenant.database.session() as session:
        update_integration(
            session,
            tenant.ctx,
            integration_id=tenant.integration_id,
            changes=IntegrationChanges(client_secret=secret),
        )


def test_an_expired_secret_stops_pulls_until_a_new_one_is_saved(tenant: Tenant) -> None:
    tenant.sim.expire_client_secret()

    with pytest.raises(ClientSecretExpired):
        pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.SCHEDULE)
    assert "AADSTS7000222" in (stopped_reason(tenant) or "")
    with pytest.raises(IntegrationUnavailableError, match="stopped"):
        pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.SCHEDULE)

    save_new_secret(tenant)
    report = pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.SCHEDULE)
    assert report.counts["rooms"] == 1
    assert stopped_reason(tenant) is None


def test_a_push_waits_while_stopped_and_goes_out_after_new_credentials(tenant: Tenant) -> None:
    room = tenant.room_emails[0]
    with tenant.database.session() as session:
        booking = create_booking(
            session,
            organization_id=tenant.organization_id,
            resource_id=tenant.rooms[room],
            organizer_email=tenant.users[0],
            title="Board meeting",
            start=tomorrow_at(9),
            end=tomorrow_at(10),
            source=ChangeSource.PLATFORM,
        )
    tenant.sim.expire_client_secret()

    waiting = push_booking(tenant.ctx, booking.id)

    assert waiting.state is PushState.STOPPED
    with tenant.database.session() as session:
        [row] = session.scalars(select(OutboxEntry).where(OutboxEntry.booking_id == booking.id))
        assert (row.state, row.attempts) == (OutboxState.PENDING, 0)
    save_new_secret(tenant)
    pushed = push_booking(tenant.ctx, booking.id)
    assert pushed.state is PushState.PUSHED
    tenant.sim.settle()
    assert [e["subject"] for e in tenant.room_calendar(room)] != []
