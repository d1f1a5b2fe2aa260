"""Booking on the platform and pushing to the emulated tenant, for the push tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from graphsim import Simulator
from graphsim.control.seeding import add_user
from roomsync.platform.db import Database
from roomsync.platform.enums import OutboxState, SyncRunTrigger
from roomsync.platform.models import Booking, Integration, OutboxEntry
from roomsync.platform.services.booking_sync import BookingSyncView, booking_sync_views
from roomsync.platform.services.bookings import cancel_booking, create_booking, update_booking
from roomsync.sync.context import SyncContext
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.push.workflow import PushOutcome, push_booking
from roomsync.sync.runs import RunReport
from tests.sync.harness import StepClock, Tenant, connect


@contextlib.contextmanager
def connected(
    database: Database,
    *,
    rooms: int = 2,
    clock: StepClock | None = None,
    graph_on_clock: bool = False,
    **options: Any,
) -> Iterator[Tenant]:
    """A tenant whose integration has ``options``, closed afterwards."""
    tenant = connect(
        database,
        rooms=rooms,
        clock=clock,
        graph_on_clock=graph_on_clock,
        integration_options=options,
    )
    try:
        yield tenant
    finally:
        tenant.ctx.close()
        tenant.sim.close()


def freeze(clock: StepClock) -> datetime:
    """Stop ``clock`` (real time until now) at the present; the instant it shows."""
    clock.now = clock.now or datetime.now(UTC)
    return clock.now


def later(clock: StepClock, **delta: float) -> None:
    """Move ``clock`` forward (from the present, if it was running)."""
    clock.now = freeze(clock) + timedelta(**delta)


def book(
    tenant: Tenant,
    room: str,
    start: datetime,
    end: datetime,
    *,
    title: str = "Planning",
    organizer: str | None = None,
) -> uuid.UUID:
    """A booking made on the platform (as the REST API makes it)."""
    with tenant.database.session() as session:
        return create_booking(
            session,
            organization_id=tenant.organization_id,
            resource_id=tenant.rooms[room],
            organizer_email=organizer or tenant.users[0],
            title=title,
            start=start,
            end=end,
        ).id


def move(tenant: Tenant, booking_id: uuid.UUID, start: datetime, end: datetime) -> None:
    with tenant.database.session() as session:
        update_booking(session, booking_id=booking_id, start=start, end=end)


def rename(tenant: Tenant, booking_id: uuid.UUID, title: str) -> None:
    with tenant.database.session() as session:
        update_booking(session, booking_id=booking_id, title=title)


def cancel(tenant: Tenant, booking_id: uuid.UUID) -> None:
    with tenant.database.session() as session:
        cancel_booking(session, booking_id=booking_id)


def push(tenant: Tenant, booking_id: uuid.UUID, ctx: SyncContext | None = None) -> PushOutcome:
    outcome = push_booking(ctx or tenant.ctx, booking_id)
    tenant.sim.settle()
    return outcome


def pull(tenant: Tenant) -> RunReport:
    tenant.sim.settle()
    return pull_bookings(tenant.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)


def sync_view(tenant: Tenant, booking_id: uuid.UUID) -> BookingSyncView:
    with tenant.database.session() as session:
        booking = session.get_one(Booking, booking_id)
        return booking_sync_views(session, [booking])[booking_id]


def outbox_rows(tenant: Tenant, booking_id: uuid.UUID) -> list[OutboxEntry]:
    with tenant.database.session() as session:
        return list(
            session.scalars(
                select(OutboxEntry)
                .where(OutboxEntry.booking_id == booking_id)
                .order_by(OutboxEntry.id)
            )
        )


def pending_rows(tenant: Tenant, booking_id: uuid.UUID) -> list[OutboxEntry]:
    return [row for row in outbox_rows(tenant, booking_id) if row.state is OutboxState.PENDING]


def meetings(sim: Simulator, mailbox: str) -> list[dict[str, Any]]:
    """The live (not cancelled) items of a mailbox."""
    return [event for event in sim.events(mailbox) if not event.get("isCancelled")]


def utc(event: dict[str, Any], field: str) -> datetime:
    return datetime.fromisoformat(event[field]["dateTime"][:19] + "+00:00")


def span(event: dict[str, Any]) -> tuple[datetime, datetime]:
    return utc(event, "start"), utc(event, "end")


def set_integration(tenant: Tenant, **values: Any) -> None:
    with tenant.database.session() as session:
        integration = session.get_one(Integration, tenant.integration_id)
        for name, value in values.items():
            setattr(integration, name, value)


def add_mailbox(sim: Simulator, email: str, name: str) -> str:
    """A user with a mailbox (a shared booking mailbox, say) added to the tenant."""
    with sim.core.lock:
        return add_user(sim.core, email, name).mail


class TimeoutAfterApplied(httpx.BaseTransport):
    """Passes matching requests to graphsim, then loses the answer (``httpx.ReadTimeout``),
    as a slow network does after the server already acted."""

    def __init__(self, inner: httpx.BaseTransport, *, method: str, path_suffix: str) -> None:
        self.inner, self.method, self.path_suffix = inner, method, path_suffix
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == self.method and request.url.path.endswith(self.path_suffix):
            response.read()
            self.lost += 1
            raise httpx.ReadTimeout("The answer was lost on the way back.", request=request)
        return response
