"""The room display in Chromium against ``roomsync demo``: a tablet opened once with its
room's display token shows free or busy, books the room now (and the room's calendar in the
emulated tenant holds it, read through Graph), ends early, checks in, shows "reconnecting"
on a network blip, and cannot act on another room."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.models import Booking, Resource
from roomsync.platform.services.booking_rules import OCCUPYING_STATUSES
from roomsync.platform.services.bookings import create_booking
from roomsync.platform.services.tokens import create_api_token
from tests.browser.conftest import Demo
from tests.polling import eventually

pytestmark = pytest.mark.slow


def _database(demo: Demo) -> Database:
    assert demo.data is not None
    return Database(f"sqlite:///{demo.data / 'roomsync.db'}")


def _free_rooms(database: Database, count: int) -> list[Resource]:
    """Rooms with a mailbox and nothing booked for the next two hours."""
    now = datetime.now(UTC)
    with database.session() as session:
        taken = select(Booking.resource_id).where(
            Booking.status.in_(OCCUPYING_STATUSES),
            Booking.start_at < now + timedelta(hours=2),
            Booking.end_at > now - timedelta(minutes=1),
        )
        rooms = session.scalars(
            select(Resource)
            .where(Resource.email.is_not(None), Resource.id.not_in(taken))
            .order_by(Resource.name)
        ).all()
        session.expunge_all()
    assert len(rooms) >= count
    return list(rooms[:count])


def _display_token(database: Database, room: Resource) -> str:
    with database.session() as session:
        return create_api_token(
            session,
            organization_id=room.organization_id,
            role=Role.DISPLAY,
            name=f"tablet at {room.name}",
            resource_id=room.id,
        ).secret


def _graph_calendar(demo: Demo, room_email: str) -> list[dict[str, Any]]:
    """The room's calendar for the next two hours, read through Graph on graphsim."""
    tenant_url = demo.url.rsplit(":", 1)[0] + f":{int(demo.url.rsplit(':', 1)[1]) + 1}"
    config = httpx.get(f"{tenant_url}/_sim/config").json()
    token = httpx.post(
        f"{tenant_url}/{config['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": config["client_id"],
            "client_secret": config["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
        },
    ).json()["access_token"]
    now = datetime.now(UTC)
    answer = httpx.get(
        f"{tenant_url}/v1.0/users/{room_email}/calendarView",
        params={
            "startDateTime": (now - timedelta(minutes=5)).isoformat(),
            "endDateTime": (now + timedelta(hours=2)).isoformat(),
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return [e for e in answer.json()["value"] if not e.get("isCancelled")]


def _booked_now(database: Database, room: Resource, organizer: str) -> uuid.UUID:
    # To the second: the meeting just ended early ended at most at this second.
    now = datetime.now(UTC).replace(microsecond=0)
    with database.session() as session:
        return create_booking(
            session,
            organization_id=room.organization_id,
            resource_id=room.id,
            organizer_email=organizer,
            title="Design review",
            start=now,
            end=now + timedelta(minutes=30),
        ).id


def test_the_display_books_ends_and_checks_in_and_keeps_to_its_room(
    chromium: Any, demo: Demo, screenshots: Path
) -> None:
    database = _database(demo)
    room, other = _free_rooms(database, 2)
    assert room.email is not None
    token = _display_token(database, room)
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{demo.url}/display/{room.id}?token={token}")
        assert page.url == f"{demo.url}/display/{room.id}"  # the token left the address
        page.get_by_role("heading", name=room.name).wait_for()
        assert page.locator("#status").inner_text() == "FREE"
        assert "free" in (page.locator("#display").get_attribute("class") or "")

        page.get_by_role("button", name="Book 30 min").click()
        page.get_by_text("Booked at the room display").wait_for()
        assert page.locator("#status").inner_text() == "BUSY"
        assert page.get_by_text("✓ Checked in").is_visible()
        assert eventually(
            lambda: any(e["subject"] != "" for e in _graph_calendar(demo, room.email or "")),
            timeout=60,
        )

        page.get_by_role("button", name="End meeting now").click()
        page.get_by_text("Later today").wait_for()
        assert eventually(lambda: page.locator("#status").inner_text() == "FREE", timeout=30), (
            page.locator("#message").inner_text()
        )
        page.get_by_role("button", name="Book 15 min").wait_for()
        assert page.locator("#status").inner_text() == "FREE"

        _booked_now(database, room, demo.occupant[0])
        page.evaluate("window.roomsyncDisplay.refresh()")
        page.get_by_role("button", name="Check in").click()
        page.get_by_text("✓ Checked in").wait_for()
        assert page.get_by_text("Design review").is_visible()
        shot = screenshots / "display.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000

        context.set_offline(True)
        page.evaluate("window.roomsyncDisplay.refresh()")
        page.get_by_text("Reconnecting…").wait_for()
        context.set_offline(False)
        page.evaluate("window.roomsyncDisplay.refresh()")
        page.get_by_text("Reconnecting…").wait_for(state="hidden")

        elsewhere = page.goto(f"{demo.url}/display/{other.id}?token={token}")
        assert elsewhere is not None
        assert elsewhere.status == 403
        status = page.evaluate(
            """async (other) => (await fetch(`/display/${other}/book`, {method: "POST",
                 headers: {"Content-Type": "application/json", "X-Roomsync-Display": "1"},
                 body: JSON.stringify({minutes: 15})})).status""",
            str(other.id),
        )
        assert status in (401, 403)
    finally:
        context.close()
        database.dispose()
