"""Re-encrypting every stored secret with the current key, row by row (SQLite and
PostgreSQL): afterwards the previous key can be dropped; an interrupted rotation resumes;
a value no key reads is reported, never rewritten."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pytest
from pydantic import SecretStr

from roomsync.platform.crypto import SecretBox, SecretUnreadableError
from roomsync.platform.db import Database
from roomsync.platform.models import Integration, RoomSyncState
from roomsync.platform.services.secret_rotation import (
    Rotation,
    RotationTally,
    SealedColumn,
    rotate_secrets,
)
from tests.conftest import PlatformFactory

KEY_A = SecretStr("key-a-" + "a" * 40)
KEY_B = SecretStr("key-b-" + "b" * 40)
STRANGER = SecretStr("key-s-" + "s" * 40)


@dataclass(frozen=True)
class Stored:
    integration_id: uuid.UUID
    state_ids: list[uuid.UUID]


def _store(database: Database, factory: PlatformFactory, box: SecretBox, rooms: int) -> Stored:
    organization = factory.organization()
    integration_id = factory.integration(organization)
    building = factory.building(organization)
    room_ids = [factory.room(building, name=f"Room {n}") for n in range(rooms)]
    with database.session() as session:
        integration = session.get_one(Integration, integration_id)
        integration.client_secret_encrypted = box.encrypt("the client secret")
        integration.certificate_encrypted = box.encrypt('{"pem": "-----BEGIN…"}')
        states = [
            RoomSyncState(
                resource_id=room_id,
                integration_id=integration_id,
                subscription_client_state_encrypted=box.encrypt(f"client-state-{n}"),
            )
            for n, room_id in enumerate(room_ids)
        ]
        session.add_all(states)
        session.flush()
        return Stored(integration_id, [state.id for state in states])


def _read_all(database: Database, box: SecretBox, stored: Stored) -> list[str]:
    with database.session() as session:
        integration = session.get_one(Integration, stored.integration_id)
        values = [integration.client_secret_encrypted, integration.certificate_encrypted]
        for state_id in stored.state_ids:
            values.append(
                session.get_one(RoomSyncState, state_id).subscription_client_state_encrypted
            )
    return [box.decrypt(value or "") for value in values]


def _updated_at(database: Database, integration_id: uuid.UUID) -> datetime:
    with database.session() as session:
        return session.get_one(Integration, integration_id).updated_at


def _counts(tallies: list[RotationTally]) -> dict[str, dict[Rotation, int]]:
    return {tally.sealed.label: tally.counts for tally in tallies}


def test_after_rotation_the_previous_key_can_be_dropped(
    database: Database, factory: PlatformFactory
) -> None:
    stored = _store(database, factory, SecretBox(KEY_A), rooms=3)
    before = _read_all(database, SecretBox(KEY_A), stored)
    touched = _updated_at(database, stored.integration_id)

    tallies = rotate_secrets(database, SecretBox(KEY_B, [KEY_A]))

    assert _read_all(database, SecretBox(KEY_B), stored) == before
    with pytest.raises(SecretUnreadableError):
        _read_all(database, SecretBox(KEY_A), stored)
    rotated = {label: counts[Rotation.ROTATED] for label, counts in _counts(tallies).items()}
    assert rotated == {"client secret": 1, "certificate": 1, "subscription clientState": 3}
    assert _updated_at(database, stored.integration_id) == touched


def test_a_second_rotation_finds_everything_current_and_rewrites_nothing(
    database: Database, factory: PlatformFactory
) -> None:
    stored = _store(database, factory, SecretBox(KEY_A), rooms=2)
    box = SecretBox(KEY_B, [KEY_A])
    rotate_secrets(database, box)
    with database.session() as session:
        first = session.get_one(Integration, stored.integration_id).client_secret_encrypted

    again = rotate_secrets(database, box)

    assert all(tally.counts[Rotation.ROTATED] == 0 for tally in again)
    assert sum(tally.counts[Rotation.CURRENT] for tally in again) == 4
    with database.session() as session:
        assert session.get_one(Integration, stored.integration_id).client_secret_encrypted == first


class StoppedMidwayError(Exception):
    pass


def test_an_interrupted_rotation_leaves_every_value_readable_and_resumes(
    database: Database, factory: PlatformFactory
) -> None:
    stored = _store(database, factory, SecretBox(KEY_A), rooms=4)
    box = SecretBox(KEY_B, [KEY_A])

    def stop_midway(sealed: SealedColumn, done: int, total: int) -> None:
        if sealed.label == "subscription clientState" and done == 2:
            raise StoppedMidwayError

    with pytest.raises(StoppedMidwayError):
        rotate_secrets(database, box, progress=stop_midway)
    halfway = _read_all(database, box, stored)
    resumed = rotate_secrets(database, box)

    assert _read_all(database, SecretBox(KEY_B), stored) == halfway
    states = next(t for t in resumed if t.sealed.label == "subscription clientState")
    assert (states.counts[Rotation.CURRENT], states.counts[Rotation.ROTATED]) == (2, 2)


def test_a_value_no_key_reads_is_reported_and_left_as_it_was(
    database: Database, factory: PlatformFactory
) -> None:
    stored = _store(database, factory, SecretBox(KEY_A), rooms=2)
    foreign = SecretBox(STRANGER).encrypt("saved under a key nobody kept")
    with database.session() as session:
        session.get_one(
            RoomSyncState, stored.state_ids[1]
        ).subscription_client_state_encrypted = foreign

    tallies = rotate_secrets(database, SecretBox(KEY_B, [KEY_A]))

    states = next(t for t in tallies if t.sealed.label == "subscription clientState")
    assert states.unreadable == [stored.state_ids[1]]
    assert (states.counts[Rotation.UNREADABLE], states.counts[Rotation.ROTATED]) == (1, 1)
    with database.session() as session:
        state = session.get_one(RoomSyncState, stored.state_ids[1])
        assert state.subscription_client_state_encrypted == foreign
