"""Time as the simulator sees it: real time by default, a manual clock for tests.

Every timestamp graphsim produces (token expiry, ``lastModifiedDateTime``, subscription
expiry, throttling windows) comes from one :class:`Clock`, so a test can move time
forward instead of sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current instant, always timezone-aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to; safe to share between threads.

    ``listeners`` are called (outside the clock's lock) after every move, so whatever
    falls due at the new instant — lifecycle events, say — happens then by itself.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start instant.")
        self._lock = threading.Lock()
        self.listeners: list[Callable[[], None]] = []

    def _moved(self) -> None:
        for listener in list(self.listeners):
            listener()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (a timedelta or seconds) and return the new instant."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            now = self._now
        self._moved()
        return now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = instant
        self._moved()
