"""``roomsync integration check|sync|status`` run as an operator runs them: in a subprocess,
configured by environment, against graphsim serving its tenant over HTTPS."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from graphsim import ServerHandle
from roomsync.platform.db import Database
from roomsync.platform.models import Booking, Resource
from tests.cli.test_cli import assert_one_line_error, roomsync
from tests.sync.rooms_testkit import remove_room

pytestmark = pytest.mark.slow


def test_check_prints_a_verdict_per_permission_and_exits_zero_when_ready(
    tmp_path: Path, environment: dict[str, str], integration_id: str
) -> None:
    result = roomsync("integration", "check", integration_id, cwd=tmp_path, env=environment)

    assert result.returncode == 0, result.stdout + result.stderr
    for permission in ("Calendars.Read", "Calendars.ReadWrite", "User.Read.All", "Place.Read.All"):
        assert permission in result.stdout
    assert "All required permissions work." in result.stdout
    assert "informational" in result.stdout


def test_check_exits_one_and_says_what_to_do_when_a_permission_is_missing(
    tmp_path: Path, environment: dict[str, str], integration_id: str, graph_server: ServerHandle
) -> None:
    graph_server.simulator.set_roles({"Calendars.ReadWrite", "User.Read.All"})

    result = roomsync("integration", "check", integration_id, cwd=tmp_path, env=environment)
    machine = roomsync(
        "integration", "check", integration_id, "--json", cwd=tmp_path, env=environment
    )

    assert result.returncode == 1
    assert "Not ready." in result.stdout
    assert "API permissions" in result.stdout
    assert "Grant admin consent" in result.stdout
    assert machine.returncode == 1
    report = json.loads(machine.stdout)
    assert report["ok"] is False
    verdicts = {p["permission"]: p["verdict"] for p in report["permissions"]}
    assert verdicts["Place.Read.All"] == "missing"


def test_an_expired_secret_fails_the_check_and_stops_the_room_sync(
    tmp_path: Path, environment: dict[str, str], integration_id: str, graph_server: ServerHandle
) -> None:
    graph_server.simulator.expire_client_secret()

    check = roomsync("integration", "check", integration_id, cwd=tmp_path, env=environment)
    sync = roomsync("integration", "sync", integration_id, "--rooms", cwd=tmp_path, env=environment)

    assert check.returncode == 1
    assert "AADSTS7000222" in check.stdout
    assert "Certificates & secrets" in check.stdout
    assert_one_line_error(sync, "is stopped", "AADSTS7000222")


def test_sync_rooms_imports_with_a_progress_bar_then_reconciles_with_force(
    tmp_path: Path,
    environment: dict[str, str],
    integration_id: str,
    graph_server: ServerHandle,
    database: Database,
) -> None:
    sync = ["integration", "sync", integration_id, "--rooms"]
    imported = roomsync(*sync, cwd=tmp_path, env=environment)
    assert imported.returncode == 0, imported.stderr
    assert "Saving rooms" in imported.stderr
    assert "6/6" in imported.stderr
    assert "created" in imported.stdout
    for n in (1, 2):
        remove_room(graph_server.simulator, f"room000{n}@contoso.onmicrosoft.com")

    refused = roomsync(*sync, "--reconcile", "--json", cwd=tmp_path, env=environment)
    forced = roomsync(*sync, "--reconcile", "--force", cwd=tmp_path, env=environment)
    status = roomsync("integration", "status", integration_id, cwd=tmp_path, env=environment)

    assert refused.returncode == 0
    report = json.loads(refused.stdout)
    assert (report["outcome"], report["counts"]["retired"]) == ("warning", 0)
    assert "--force" in report["warnings"][-1]
    assert forced.returncode == 0
    assert "retired" in forced.stdout
    with database.session() as session:
        retired = session.scalars(select(Resource.email).where(Resource.active.is_(False))).all()
    assert set(retired) == {f"room000{n}@contoso.onmicrosoft.com" for n in (1, 2)}
    assert "active" in status.stdout
    assert "reconcile" in status.stdout


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["check", "not-an-id"], ["is not an integration id"]),
        (["sync", str(uuid.UUID(int=7)), "--rooms"], ["There is no integration"]),
        (["sync", str(uuid.UUID(int=7))], ["--rooms"]),
        (["sync", str(uuid.UUID(int=7)), "--rooms", "--force"], ["--force", "--reconcile"]),
        (["sync", str(uuid.UUID(int=7)), "--bookings", "--reconcile"], ["add --rooms"]),
        (
            ["sync", str(uuid.UUID(int=7)), "--rooms", "--data-dir", "d", "--database-url", "x"],
            ["not both"],
        ),
    ],
)
def test_mistakes_are_explained_in_one_line(
    tmp_path: Path, environment: dict[str, str], args: list[str], fragments: list[str]
) -> None:
    assert_one_line_error(roomsync("integration", *args, cwd=tmp_path, env=environment), *fragments)


def test_sync_bookings_pulls_outlook_meetings_with_a_progress_bar(
    tmp_path: Path,
    environment: dict[str, str],
    integration_id: str,
    graph_server: ServerHandle,
    database: Database,
) -> None:
    sim = graph_server.simulator
    assert (
        roomsync(
            "integration", "sync", integration_id, "--rooms", cwd=tmp_path, env=environment
        ).returncode
        == 0
    )
    room = "room0001@contoso.onmicrosoft.com"
    organizer = next(u.mail for u in sim.tenant.users.values() if u.mail.startswith("user"))
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    sim.outlook.create_meeting(
        organizer, room, "Quarterly review", start, start + timedelta(hours=1)
    )
    sim.settle()

    pulled = roomsync(
        "integration", "sync", integration_id, "--bookings", cwd=tmp_path, env=environment
    )
    neither = roomsync("integration", "sync", integration_id, cwd=tmp_path, env=environment)
    sim.directory.rename(organizer, "Ada Lovelace")
    users = roomsync(
        "integration", "sync", integration_id, "--users", "--json", cwd=tmp_path, env=environment
    )

    assert pulled.returncode == 0, pulled.stderr
    assert "Pulling bookings" in pulled.stderr
    assert "create_booking" in pulled.stdout
    with database.session() as session:
        titles = session.scalars(select(Booking.title).where(Booking.start_at == start)).all()
    assert titles
    assert users.returncode == 0, users.stderr
    assert json.loads(users.stdout)["counts"]["renamed"] == 1
    assert neither.returncode != 0
    assert_one_line_error(neither, "--rooms, --bookings or --users")


def test_sync_with_rooms_and_bookings_imports_the_rooms_then_pulls_their_bookings(
    tmp_path: Path,
    environment: dict[str, str],
    integration_id: str,
    graph_server: ServerHandle,
    database: Database,
) -> None:
    sim = graph_server.simulator
    room = "room0002@contoso.onmicrosoft.com"
    organizer = next(u.mail for u in sim.tenant.users.values() if u.mail.startswith("user"))
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    sim.outlook.create_meeting(organizer, room, "Board meeting", start, start + timedelta(hours=1))
    sim.settle()

    both = ["integration", "sync", integration_id, "--rooms", "--bookings"]
    machine = roomsync(*both, "--json", cwd=tmp_path, env=environment)
    person = roomsync(*both, cwd=tmp_path, env=environment)

    assert machine.returncode == 0, machine.stderr
    runs = json.loads(machine.stdout)
    assert [run["workflow"] for run in runs] == ["rooms", "bookings"]
    assert runs[0]["counts"]["created"] == 6
    assert runs[1]["counts"]["create_booking"] == 1
    assert person.returncode == 0, person.stderr
    assert person.stdout.index("(rooms)") < person.stdout.index("(bookings)")
    with database.session() as session:
        titles = session.scalars(select(Booking.title).where(Booking.start_at == start)).all()
    assert titles
