"""The ``roomsync`` command, run as a user runs it: in a subprocess, with its exit code and
its output. Mistakes print one line on stderr, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.migrations import is_at_head
from roomsync.platform.models import ApiToken
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.tokens import find_api_token
from tests.web.signin_testkit import free_port_pair

pytestmark = pytest.mark.slow


def roomsync(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ROOMSYNC_")}
    return subprocess.run(  # noqa: PLW1510 - callers assert on the exit code
        [sys.executable, "-m", "roomsync", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean | (env or {}),
        timeout=120,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("roomsync: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_db_upgrade_migrates_an_empty_database(empty_database_url: str, tmp_path: Path) -> None:
    database = Database(empty_database_url)
    try:
        assert not is_at_head(database)
        result = roomsync("db", "upgrade", "--database-url", empty_database_url, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "is at migration" in result.stdout
        assert is_at_head(database)
    finally:
        database.dispose()


def test_token_create_prints_a_working_token_once_and_stores_its_hash(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    with database.session() as session:
        organization_id = create_organization(session, name="Acme").id
    result = roomsync(
        "token",
        "create",
        "--organization",
        str(organization_id),
        "--role",
        "occupant",
        "--name",
        "kiosk",
        "--user",
        "Ann@Acme.test",
        cwd=tmp_path,
        env={"ROOMSYNC_DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    secret = result.stdout.strip()
    assert secret.startswith("rs_")
    assert "shown only now" in result.stderr
    with database.session() as session:
        token = find_api_token(session, secret=secret)
        assert token is not None
        assert (token.organization_id, token.role, token.name) == (
            organization_id,
            Role.OCCUPANT,
            "kiosk",
        )
        stored = session.get(ApiToken, token.id)
        assert stored is not None
        assert secret not in (stored.token_hash, stored.token_prefix)


def test_token_list_shows_no_secret_and_revoke_stops_the_token_at_once(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    env = {"ROOMSYNC_DATABASE_URL": database_url}
    with database.session() as session:
        organization_id = create_organization(session, name="Acme").id
    created = roomsync(
        "token", "create", "--organization", str(organization_id), "--role", "occupant",
        "--name", "ann", "--user", "ann@acme.test", cwd=tmp_path, env=env,
    )  # fmt: skip
    secret = created.stdout.strip()
    with database.session() as session:
        token = find_api_token(session, secret=secret)
        assert token is not None
        token_id = token.id

    listed = roomsync(
        "token", "list", "--organization", str(organization_id), cwd=tmp_path, env=env
    )
    revoked = roomsync("token", "revoke", str(token_id), cwd=tmp_path, env=env)
    again = roomsync("token", "list", "--organization", str(organization_id), cwd=tmp_path, env=env)

    assert listed.returncode == revoked.returncode == 0, listed.stderr + revoked.stderr
    row = listed.stdout.splitlines()[1].split("\t")
    assert row[:4] == [str(token_id), "occupant", "ann", "ann@acme.test"]
    assert row[-1] == "-"
    assert secret not in listed.stdout + again.stdout
    assert again.stdout.splitlines()[1].split("\t")[-1] != "-"
    with database.session() as session:
        assert find_api_token(session, secret=secret) is None


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--organization", "acme", "--role", "admin", "--name", "x"], "'acme' is not an id"),
        (
            ["--organization", str(uuid.uuid4()), "--role", "admin", "--name", "x"],
            "There is no organization",
        ),
        (
            ["--organization", str(uuid.uuid4()), "--role", "boss", "--name", "x"],
            "--role 'boss' is not a role: use admin, occupant, display.",
        ),
        (
            ["--organization", str(uuid.uuid4()), "--role", "occupant", "--name", "x"],
            "--role occupant needs --user EMAIL",
        ),
    ],
)
def test_token_create_explains_bad_input_in_one_line(
    database_url: str, tmp_path: Path, args: list[str], fragment: str
) -> None:
    env = {"ROOMSYNC_DATABASE_URL": database_url}
    result = roomsync("token", "create", *args, cwd=tmp_path, env=env)
    assert_one_line_error(result, fragment)
    assert "Value error" not in result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["integration", "list"],
        ["integration", "status", str(uuid.UUID(int=1))],
        ["token", "create", "--organization", str(uuid.UUID(int=1)), "--role", "admin",
         "--name", "x"],
        ["secrets", "rotate"],
    ],
)  # fmt: skip
def test_commands_refuse_to_create_a_database_in_the_current_folder(
    tmp_path: Path, command: list[str]
) -> None:
    result = roomsync(*command, cwd=tmp_path, env={"ROOMSYNC_SECRET_KEY": "k" * 40})

    assert_one_line_error(
        result, f"There is no roomsync database at {tmp_path.resolve() / 'roomsync.db'}",
        "--data-dir", "roomsync db upgrade",
    )  # fmt: skip
    assert not (tmp_path / "roomsync.db").exists()


def test_commands_refuse_a_database_without_roomsync_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'typo.db'}"
    empty = Database(url)
    empty.check()  # an empty file, as a mistyped path run once through another tool leaves
    empty.dispose()
    env = {"ROOMSYNC_DATABASE_URL": url, "ROOMSYNC_SECRET_KEY": "k" * 40}
    result = roomsync("integration", "list", cwd=tmp_path, env=env)
    assert_one_line_error(result, "holds no roomsync tables", "roomsync db upgrade")


@pytest.mark.parametrize(
    ("url", "fragments"),
    [
        ("postgresql://roomsync:s3cret@127.0.0.1:1/none", ["Cannot reach the database", "***"]),
        ("mysql://user@localhost/db", ["not supported"]),
        ("sqlite:////no/such/directory/roomsync.db", ["directory exists"]),
        ("::not a url::", ["cannot be parsed"]),
    ],
)
def test_unusable_databases_are_explained_in_one_line(
    tmp_path: Path, url: str, fragments: list[str]
) -> None:
    result = roomsync("db", "upgrade", cwd=tmp_path, env={"ROOMSYNC_DATABASE_URL": url})
    assert_one_line_error(result, *fragments)
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize("command", ["run", "api"])
def test_the_server_refuses_to_start_without_a_secret_key(tmp_path: Path, command: str) -> None:
    result = roomsync(command, cwd=tmp_path)
    assert_one_line_error(result, "ROOMSYNC_SECRET_KEY is not set")


def test_a_placeholder_secret_key_is_called_a_placeholder(tmp_path: Path) -> None:
    result = roomsync("run", cwd=tmp_path, env={"ROOMSYNC_SECRET_KEY": "changeme"})
    assert_one_line_error(result, "ROOMSYNC_SECRET_KEY is set to a placeholder")
    assert "not set" not in result.stderr


def test_an_unknown_log_level_lists_the_valid_ones_in_one_line(tmp_path: Path) -> None:
    env = {"ROOMSYNC_LOG_LEVEL": "verbose", "ROOMSYNC_SECRET_KEY": "k" * 40}
    result = roomsync("run", cwd=tmp_path, env=env)
    assert_one_line_error(
        result, "ROOMSYNC_LOG_LEVEL", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"
    )


def test_invalid_settings_are_explained_in_one_line(tmp_path: Path) -> None:
    result = roomsync("db", "upgrade", cwd=tmp_path, env={"ROOMSYNC_MAX_BOOKING_HOURS": "lots"})
    assert_one_line_error(result, "ROOMSYNC_MAX_BOOKING_HOURS")


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["api"],
        ["worker"],
        ["demo"],
        ["db"],
        ["db", "upgrade"],
        ["token", "create"],
        ["secrets"],
        ["secrets", "rotate"],
    ],
)
def test_every_command_has_help(tmp_path: Path, command: list[str]) -> None:
    result = roomsync(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout


def test_demo_once_runs_the_round_trip_and_exits_zero(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    port = str(_free_port())

    result = roomsync("demo", "--once", "--port", port, "--data-dir", str(data_dir), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("rooms imported", "bookings pulled", "subscriptions", "platform → Outlook",
                 "Outlook → platform"):  # fmt: skip
        assert step in result.stdout
    assert "40 rooms" in result.stdout
    assert "40 of 40 rooms listened to" in result.stdout
    assert "The demo round trip held." in result.stdout
    assert "/auth/login" in result.stdout
    assert "as admin: " in result.stdout
    assert "as occupant: " in result.stdout
    assert " no " not in result.stdout
    assert "Pulling bookings" in result.stderr
    assert (data_dir / "roomsync.db").exists()
    # Other commands find the demo's database, and its key, with --data-dir.
    listed = roomsync("integration", "list", "--data-dir", str(data_dir), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    integration_id = listed.stdout.split()[0]
    status = roomsync("integration", "status", integration_id, "--data-dir", "demo", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert f"Integration {integration_id}" in status.stdout
    rotated = roomsync("secrets", "rotate", "--data-dir", str(data_dir), cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    assert "client secrets: 0 rotated, 1 already current" in rotated.stdout


def test_demo_refuses_a_port_in_use_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = roomsync("demo", "--once", "--port", port, "--data-dir", "d", cwd=tmp_path)
    assert_one_line_error(result, "port")


def _free_port() -> int:
    return free_port_pair()  # the demo serves graphsim on the next port
