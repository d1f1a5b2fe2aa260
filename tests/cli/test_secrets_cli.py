"""``roomsync secrets rotate`` as an operator runs it: an integration saved under key A keeps
working once B is the key and A a previous one, and after the rotation without A at all,
against graphsim serving its tenant over HTTPS."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from graphsim import ServerHandle
from roomsync.platform.crypto import SecretBox
from roomsync.platform.db import Database
from roomsync.platform.models import Integration
from tests.cli.test_cli import assert_one_line_error, roomsync
from tests.sync.rooms_testkit import SECRET_KEY, settings

pytestmark = pytest.mark.slow

KEY_B = "the-new-key-" + "b" * 40


def test_after_a_rotation_the_integration_works_with_the_new_key_alone(
    tmp_path: Path,
    environment: dict[str, str],
    integration_id: str,
    graph_server: ServerHandle,
    database: Database,
) -> None:
    both_keys = environment | {
        "ROOMSYNC_SECRET_KEY": KEY_B,
        "ROOMSYNC_PREVIOUS_SECRET_KEYS": SECRET_KEY,
    }
    only_b = environment | {"ROOMSYNC_SECRET_KEY": KEY_B}
    only_a = environment  # the key the integration was saved with

    before = roomsync("integration", "check", integration_id, cwd=tmp_path, env=both_keys)
    rotated = roomsync("secrets", "rotate", cwd=tmp_path, env=both_keys)
    again = roomsync("secrets", "rotate", cwd=tmp_path, env=both_keys)
    check = roomsync("integration", "check", integration_id, cwd=tmp_path, env=only_b)
    sync = roomsync("integration", "sync", integration_id, "--rooms", cwd=tmp_path, env=only_b)
    old_key = roomsync("integration", "check", integration_id, cwd=tmp_path, env=only_a)

    assert before.returncode == 0, before.stdout + before.stderr
    assert rotated.returncode == 0, rotated.stderr
    assert "client secrets: 1 rotated" in rotated.stdout
    assert "Done: 1 secrets re-encrypted" in rotated.stdout
    assert "Re-encrypting client secrets" in rotated.stderr
    assert again.returncode == 0, again.stderr
    assert "client secrets: 0 rotated, 1 already current" in again.stdout
    assert check.returncode == 0, check.stdout + check.stderr
    assert "All required permissions work." in check.stdout
    assert sync.returncode == 0, sync.stderr
    assert "created" in sync.stdout
    with database.session() as session:
        stored = session.get_one(Integration, uuid.UUID(integration_id)).client_secret_encrypted
    assert stored is not None
    assert SecretBox.from_settings(settings(secret_key=KEY_B)).decrypt(stored)
    assert old_key.returncode == 1
    assert "Traceback" not in old_key.stderr
    assert "ROOMSYNC_PREVIOUS_SECRET_KEYS" in old_key.stdout + old_key.stderr


def test_rotating_with_a_key_that_reads_nothing_names_the_setting_and_changes_nothing(
    tmp_path: Path, environment: dict[str, str], integration_id: str, database: Database
) -> None:
    with database.session() as session:
        saved = session.get_one(Integration, uuid.UUID(integration_id)).client_secret_encrypted

    wrong = roomsync(
        "secrets", "rotate", cwd=tmp_path, env=environment | {"ROOMSYNC_SECRET_KEY": KEY_B}
    )

    assert wrong.returncode == 1
    assert "Traceback" not in wrong.stderr
    error = wrong.stderr.strip().splitlines()[-1]  # after the progress bar
    assert error.startswith("roomsync: 1 stored secrets cannot be decrypted")
    assert f"the client secret of integration {integration_id}" in error
    assert "ROOMSYNC_PREVIOUS_SECRET_KEYS" in error
    with database.session() as session:
        assert (
            session.get_one(Integration, uuid.UUID(integration_id)).client_secret_encrypted == saved
        )


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({}, "ROOMSYNC_SECRET_KEY is not set"),
        ({"ROOMSYNC_SECRET_KEY": "changeme"}, "placeholder"),
    ],
)
def test_rotating_without_a_usable_key_is_refused_in_one_line(
    tmp_path: Path, database_url: str, env: dict[str, str], fragment: str
) -> None:
    result = roomsync(
        "secrets", "rotate", cwd=tmp_path, env={"ROOMSYNC_DATABASE_URL": database_url} | env
    )
    assert_one_line_error(result, fragment)
