"""Fixtures for roomsync.m365: everything talks through httpx.MockTransport handlers."""

from __future__ import annotations

import pytest

from tests.m365 import m365_fakes as fakes


@pytest.fixture
def sleeps() -> object:
    return fakes.SleepRecorder()


@pytest.fixture
def tokens() -> object:
    return fakes.StaticTokens()


@pytest.fixture
def entra() -> object:
    return fakes.EntraStub()
