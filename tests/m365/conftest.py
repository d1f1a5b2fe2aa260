"""Fixtures for roomsync.m365: everything talks through httpx.MockTransport handlers.

The suite imports test files by path (``--import-mode=importlib``), which puts no test
folder on ``sys.path``; the shared fakes are therefore loaded here, by path, under the
name the test modules import them by.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _load_fakes() -> ModuleType:
    name = "m365_fakes"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


fakes = _load_fakes()


@pytest.fixture
def sleeps() -> object:
    return fakes.SleepRecorder()


@pytest.fixture
def tokens() -> object:
    return fakes.StaticTokens()


@pytest.fixture
def entra() -> object:
    return fakes.EntraStub()
