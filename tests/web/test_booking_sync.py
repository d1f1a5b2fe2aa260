"""End to end over real HTTP: the REST API served by uvicorn, a worker of the runtime, and
graphsim served over HTTPS as the Microsoft 365 tenant. Bookings made through the API
appear in the room's calendar as exactly one meeting, declines and failures show on the
booking, and an admin can retry a failed push."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphsim import serve
from roomsync.platform.db import Database
from roomsync.platform.enums import Role, SyncRunTrigger
from roomsync.platform.models import Resource
from roomsync.platform.services.resources import create_resource
from roomsync.platform.services.tokens import create_api_token
from roomsync.platform.services.users import upsert_user_by_email
from roomsync.runtime.runtime import Runtime
from roomsync.sync.mapping import ROOM_DECLINED
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background
from tests.polling import eventually
from tests.sync.harness import Tenant, tomorrow_at
from tests.sync.push_support import add_mailbox, connected, meetings, set_integration, span
from tests.web.tenants import bearer

pytestmark = pytest.mark.slow


@dataclass
class Stack:
    tenant: Tenant
    api: httpx.Client
    runtime: Runtime
    occupant: dict[str, str]

    @property
    def room(self) -> str:
        return self.tenant.room_emails[0]

    def book(self, start: datetime, end: datetime, organizer: str | None = None) -> dict[str, Any]:
        body = {
            "resource_id": str(self.tenant.rooms[self.room]),
            "organizer_email": organizer or self.tenant.users[0],
            "title": "Planning",
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        response = self.api.post("bookings", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def get(self, booking: dict[str, Any]) -> dict[str, Any]:
        return dict(self.api.get(f"bookings/{booking['id']}").json())

    def settled(self, booking: dict[str, Any], status: str, sync: str = "synced") -> bool:
        current = self.get(booking)
        return bool(current["status"] == status and current["sync"]["state"] == sync)

    def room_spans(self) -> list[tuple[datetime, datetime]]:
        return [span(event) for event in meetings(self.tenant.sim, self.room)]


@pytest.fixture
def stack(database: Database, tmp_path: Path) -> Iterator[Stack]:
    with connected(database, rooms=1) as tenant, serve(tenant.sim) as graph:
        settings = tenant.ctx.settings.model_copy(
            update={
                "queue_url": f"sqlite:///{tmp_path}/queue.db",
                "graph_url": graph.base_url,
                "login_url": graph.base_url,
                "ca_bundle": Path(graph.ca_path or ""),
            }
        )
        runtime = Runtime(settings, database)
        workers = runtime.start_workers(workers=2, periodic=False)
        with database.session() as session:
            admin = create_api_token(
                session, organization_id=tenant.organization_id, role=Role.ADMIN, name="admin"
            ).secret
            occupant = create_api_token(
                session,
                organization_id=tenant.organization_id,
                role=Role.OCCUPANT,
                name="o",
                user="occupant@example.com",
            ).secret
        try:
            with (
                serving_in_background(create_app(settings, database)) as base_url,
                httpx.Client(
                    base_url=f"{base_url}/api/v1/", headers=bearer(admin), timeout=30
                ) as api,
            ):
                yield Stack(tenant, api, runtime, bearer(occupant))
        finally:
            workers.stop(graceful=True)
            runtime.close()


def test_create_move_and_cancel_through_the_api_each_show_as_one_meeting_in_the_room(
    stack: Stack,
) -> None:
    booking = stack.book(tomorrow_at(9), tomorrow_at(10))
    assert (booking["status"], booking["sync"]["state"]) == ("pending", "pending")

    assert eventually(lambda: stack.settled(booking, "confirmed"), timeout=20)
    assert stack.room_spans() == [(tomorrow_at(9), tomorrow_at(10))]
    assert stack.get(booking)["sync"]["ical_uid"]

    moved = stack.api.patch(
        f"bookings/{booking['id']}",
        json={"start": tomorrow_at(14).isoformat(), "end": tomorrow_at(15).isoformat()},
    )
    assert moved.status_code == 200, moved.text
    assert eventually(
        lambda: stack.room_spans() == [(tomorrow_at(14), tomorrow_at(15))], timeout=20
    )
    assert eventually(lambda: stack.settled(booking, "confirmed"), timeout=20)

    assert stack.api.delete(f"bookings/{booking['id']}").status_code == 200
    assert eventually(lambda: stack.room_spans() == [], timeout=20)
    assert eventually(lambda: stack.settled(booking, "cancelled"), timeout=20)
    assert len(stack.tenant.sim.events(stack.tenant.users[0])) == 0


def test_a_slot_already_taken_in_outlook_makes_the_booking_declined_with_its_reason(
    stack: Stack,
) -> None:
    stack.tenant.sim.outlook.create_meeting(
        stack.tenant.users[1], stack.room, "Booked in Outlook", tomorrow_at(9), tomorrow_at(10)
    )

    booking = stack.book(tomorrow_at(9, 30), tomorrow_at(10, 30))

    assert eventually(lambda: stack.get(booking)["status"] == "declined", timeout=20)
    assert stack.get(booking)["status_reason"] == ROOM_DECLINED
    assert stack.room_spans() == [(tomorrow_at(9), tomorrow_at(10))]


def test_a_failed_push_shows_on_the_booking_and_an_admin_can_retry_it(stack: Stack) -> None:
    booking = stack.book(tomorrow_at(9), tomorrow_at(10), organizer="visitor@example.com")
    assert eventually(lambda: stack.get(booking)["sync"]["state"] == "failed", timeout=20)
    failed = stack.get(booking)
    assert "visitor@example.com" in failed["sync"]["error"]
    assert "service_account" in failed["sync"]["error"]
    assert failed["status"] == "declined"  # it no longer holds a slot the room never saw
    assert "no longer holds the room" in failed["status_reason"]

    refused = stack.api.post(f"bookings/{booking['id']}/sync/retry", headers=stack.occupant)
    service = add_mailbox(stack.tenant.sim, "bookings@contoso.onmicrosoft.com", "Bookings")
    set_integration(stack.tenant, service_account=service)
    retried = stack.api.post(f"bookings/{booking['id']}/sync/retry")

    assert refused.status_code == 403
    assert retried.status_code == 202, retried.text
    assert (retried.json()["status"], retried.json()["sync"]["state"]) == ("pending", "pending")
    assert eventually(lambda: stack.settled(booking, "confirmed"), timeout=20)
    assert stack.room_spans() == [(tomorrow_at(9), tomorrow_at(10))]


def test_retrying_a_booking_of_a_room_without_a_mailbox_is_refused(stack: Stack) -> None:
    with stack.tenant.database.session() as session:
        room = session.get_one(Resource, stack.tenant.rooms[stack.room])
        quiet = create_resource(session, building_id=room.building_id, name="Quiet room").id
    created = stack.api.post(
        "bookings",
        json={
            "resource_id": str(quiet),
            "organizer_email": stack.tenant.users[0],
            "title": "Focus",
            "start": tomorrow_at(9).isoformat(),
            "end": tomorrow_at(10).isoformat(),
        },
    ).json()

    refused = stack.api.post(f"bookings/{created['id']}/sync/retry")
    unknown = stack.api.post("bookings/01900000-0000-7000-8000-000000000000/sync/retry")

    assert created["sync"]["state"] == "not_synced"
    assert refused.status_code == 409
    assert "nothing to retry" in refused.json()["error"]["message"]
    assert unknown.status_code == 404


def test_an_outlook_meeting_of_an_organizer_without_a_mailbox_is_refused_with_409(
    stack: Stack,
) -> None:
    organizer = stack.tenant.users[0]
    stack.tenant.sim.outlook.create_meeting(
        organizer, stack.room, "Board", tomorrow_at(9), tomorrow_at(10)
    )
    stack.tenant.sim.settle()
    pull_bookings(stack.tenant.ctx, stack.tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
    with stack.tenant.database.session() as session:
        upsert_user_by_email(
            session,
            organization_id=stack.tenant.organization_id,
            email=organizer,
            name="Guest",
            external=True,
        )
    [booking] = stack.api.get("bookings").json()["items"]

    response = stack.api.patch(f"bookings/{booking['id']}", json={"title": "Renamed"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "managed_in_outlook"
    assert "in Outlook" in response.json()["error"]["message"]


def test_retrying_a_synced_booking_answers_409_and_leaves_its_sync_alone(stack: Stack) -> None:
    booking = stack.book(tomorrow_at(9), tomorrow_at(10))
    assert eventually(lambda: stack.settled(booking, "confirmed"), timeout=20)
    before = stack.get(booking)

    refused = stack.api.post(f"bookings/{booking['id']}/sync/retry")

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "nothing_to_retry"
    assert "already in sync" in refused.json()["error"]["message"]
    assert stack.get(booking) == before
