"""Fixtures for the room workflows: an emulated tenant, a sync context leading into it
(its sleeps recorded, not slept), and an organization to import into."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.sync.context import SyncContext
from tests.sync.rooms_testkit import SleepRecorder, context, tenant


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with tenant() as simulator:
        yield simulator


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def ctx(database: Database, sim: Simulator, sleeps: SleepRecorder) -> Iterator[SyncContext]:
    built = context(database, sim, sleeps=sleeps)
    yield built
    built.close()


@pytest.fixture
def organization_id(factory: Any) -> uuid.UUID:
    organization: uuid.UUID = factory.organization("Contoso")
    return organization
