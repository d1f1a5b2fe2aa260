"""The user sync: the people who book follow the directory (``GET /users/delta``) — names,
addresses, accounts disabled or deleted — and every booking points at its organizer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from roomsync.platform.db import Database
from roomsync.platform.enums import BookingStatus, SyncRunKind, SyncRunTrigger
from roomsync.platform.models import Booking, DirectorySyncState, SyncRun, User
from roomsync.platform.services.bookings import create_booking
from roomsync.sync.integration.organizer_health import organizer_health
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.runs import RunReport
from roomsync.sync.users.workflow import sync_users
from tests.sync.harness import Tenant, connected_tenant, tomorrow_at


@pytest.fixture
def tenant(database: Database) -> Iterator[Tenant]:
    with connected_tenant(database) as connected:
        yield connected


def run(tenant: Tenant) -> RunReport:
    return sync_users(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)


def outlook_booking(tenant: Tenant, organizer: str, hour: int = 9) -> Booking:
    room = tenant.room_emails[0]
    tenant.sim.outlook.create_meeting(
        organizer, room, "Planning", tomorrow_at(hour), tomorrow_at(hour + 1)
    )
    tenant.sim.settle()
    pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
    return next(b for b in tenant.bookings(room) if b.start_at == tomorrow_at(hour))


def user_of(tenant: Tenant, email: str) -> User:
    with tenant.database.session() as session:
        return session.scalars(
            select(User).where(
                User.organization_id == tenant.organization_id, User.email == email.lower()
            )
        ).one()


def organizer_name(tenant: Tenant, booking: Booking) -> str | None:
    with tenant.database.session() as session:
        organizer = session.get_one(Booking, booking.id).organizer
        return organizer.name if organizer else None


def directory_name(tenant: Tenant, email: str) -> str:
    found = tenant.sim.tenant.find_user(email)
    assert found is not None
    return found.display_name


def test_an_outlook_booking_points_at_its_organizer_and_a_rename_follows_in_one_run(
    tenant: Tenant,
) -> None:
    organizer = tenant.users[0]
    booking = outlook_booking(tenant, organizer)
    assert booking.organizer_user_id == user_of(tenant, organizer).id
    run(tenant)
    tenant.sim.directory.rename(organizer, "Ada Lovelace")

    report = run(tenant)

    assert report.counts["renamed"] == 1
    assert user_of(tenant, organizer).name == "Ada Lovelace"
    assert organizer_name(tenant, booking) == "Ada Lovelace"


def test_a_platform_booking_creates_its_organizers_user_which_the_sync_names(
    tenant: Tenant,
) -> None:
    organizer = tenant.users[1]
    with tenant.database.session() as session:
        booking = create_booking(
            session,
            organization_id=tenant.organization_id,
            resource_id=tenant.rooms[tenant.room_emails[0]],
            organizer_email=organizer.upper(),
            title="Review",
            start=tomorrow_at(11),
            end=tomorrow_at(12),
        )
    assert organizer_name(tenant, booking) == organizer.lower()  # the address, until named
    run(tenant)  # the first run lists the directory: matched by address
    user = user_of(tenant, organizer)
    assert user.name == directory_name(tenant, organizer)
    assert user.directory_id == tenant.sim.tenant.find_user(organizer).id  # type: ignore[union-attr]
    later = tenant.users[2]
    with tenant.database.session() as session:
        create_booking(
            session,
            organization_id=tenant.organization_id,
            resource_id=tenant.rooms[tenant.room_emails[1]],
            organizer_email=later,
            title="Later",
            start=tomorrow_at(13),
            end=tomorrow_at(14),
        )

    report = run(tenant)  # nothing changed in the directory: looked up by address

    assert report.counts["matched"] == 1
    assert user_of(tenant, later).name == directory_name(tenant, later)


def test_disabled_and_deleted_accounts_are_marked_and_their_bookings_listed(
    tenant: Tenant,
) -> None:
    disabled, deleted, kept = tenant.users
    bookings = [
        outlook_booking(tenant, who, hour)
        for who, hour in zip(tenant.users, (9, 11, 13), strict=True)
    ]
    run(tenant)
    tenant.sim.directory.set_account_enabled(disabled, False)
    tenant.sim.directory.delete(deleted)

    report = run(tenant)

    assert (report.counts["disabled"], report.counts["deleted"]) == (1, 1)
    assert user_of(tenant, disabled).account_enabled is False
    assert user_of(tenant, deleted).deleted_at is not None
    assert user_of(tenant, kept).deleted_at is None
    with tenant.database.session() as session:
        health = organizer_health(session, tenant.organization_id, now=tenant.ctx.clock())
    assert (health.disabled_accounts, health.deleted_accounts) == (1, 1)
    assert health.bookings_of_inactive_organizers == 2
    assert health.booking_ids == [bookings[0].id, bookings[1].id]

    tenant.sim.directory.restore(deleted)
    tenant.sim.directory.set_account_enabled(disabled, True)
    run(tenant)
    with tenant.database.session() as session:
        health = organizer_health(session, tenant.organization_id, now=tenant.ctx.clock())
    assert health.booking_ids == []


def test_a_permanent_deletion_and_a_new_address_are_followed(tenant: Tenant) -> None:
    gone, moving, _ = tenant.users
    booking = outlook_booking(tenant, moving)
    outlook_booking(tenant, gone, 11)
    run(tenant)
    new_address = f"ada.new@{tenant.sim.tenant.domain}"
    tenant.sim.directory.delete(gone, permanent=True)
    tenant.sim.directory.change_address(moving, new_address)

    report = run(tenant)

    assert (report.counts["deleted"], report.counts["readdressed"]) == (1, 1)
    assert user_of(tenant, gone).deleted_at is not None
    assert user_of(tenant, new_address).id == tenant.booking(booking.id).organizer_user_id


def test_the_delta_link_is_kept_and_a_quiet_directory_costs_one_request(
    tenant: Tenant,
) -> None:
    tenant.sim.core.directory_changes.page_size = 2  # the first listing takes several pages
    outlook_booking(tenant, tenant.users[0])
    first = run(tenant)
    with tenant.database.session() as session:
        state = session.scalars(select(DirectorySyncState)).one()
        assert state.delta_link is not None
        assert state.next_link is None
    before = len(tenant.sim.requests.entries(path_contains="/users/delta"))
    assert before > 2

    second = run(tenant)

    assert len(tenant.sim.requests.entries(path_contains="/users/delta")) == before + 1
    assert first.counts["matched"] == 1
    assert sum(second.counts.values()) == 0
    with tenant.database.session() as session:
        kinds = session.scalars(select(SyncRun.kind).where(SyncRun.kind == SyncRunKind.USERS))
        assert len(list(kinds)) == 2


def test_an_organizer_outside_the_tenant_is_marked_external(tenant: Tenant) -> None:
    with tenant.database.session() as session:
        create_booking(
            session,
            organization_id=tenant.organization_id,
            resource_id=tenant.rooms[tenant.room_emails[0]],
            organizer_email="guest@fabrikam.test",
            title="Visit",
            start=tomorrow_at(15),
            end=tomorrow_at(16),
        )

    report = run(tenant)

    assert report.counts["external"] == 1
    assert user_of(tenant, "guest@fabrikam.test").external is True
    assert tenant.bookings()[0].status is BookingStatus.PENDING


def test_an_expired_delta_link_lists_the_directory_anew_and_catches_a_missed_deletion(
    tenant: Tenant,
) -> None:
    gone = tenant.users[0]
    outlook_booking(tenant, gone)
    run(tenant)
    tenant.sim.directory.expire_delta_tokens()
    # Deleted for good while the link could not tell: the full listing no longer has them.
    with tenant.sim.core.lock:
        user = tenant.sim.tenant.find_user(gone)
        assert user is not None
        tenant.sim.tenant.remove_user(user)

    report = run(tenant)

    assert any("expired" in warning for warning in report.warnings)
    assert report.counts["deleted"] == 1
    assert user_of(tenant, gone).deleted_at is not None
