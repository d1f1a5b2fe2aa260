"""Fixtures for roomsync.m365: everything talks through httpx.MockTransport handlers."""

from __future__ import annotations

import pytest
from m365_fakes import EntraStub, SleepRecorder, StaticTokens


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def tokens() -> StaticTokens:
    return StaticTokens()


@pytest.fixture
def entra() -> EntraStub:
    return EntraStub()
