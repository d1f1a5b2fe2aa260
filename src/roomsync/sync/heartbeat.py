"""A live run says so, on a thread of its own: every third of ``ROOMSYNC_LEASE_SECONDS`` it
renews its lease and stamps its run's ``last_seen_at``.

The beat does not wait for the workflow to reach a convenient point (a committed page, a
saved batch of rooms): one slow Graph call, a throttled ``$batch`` or a long listing must
not let the lease lapse while the process is alive. When the process dies, the beats stop,
and one lease period later the lease is free and the run is known to be interrupted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType

logger = logging.getLogger(__name__)
BEATS_PER_PERIOD = 3
"""Beats per lease period: two can be missed (a busy database) before the lease lapses."""


class Heartbeat:
    """Calls ``beat`` every ``period / BEATS_PER_PERIOD`` until the block ends."""

    def __init__(self, beat: Callable[[], None], *, period: timedelta, name: str) -> None:
        self.beat, self.name = beat, name
        self.interval = period.total_seconds() / BEATS_PER_PERIOD
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{name}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception as exc:  # a missed beat is retried at the next one
                logger.warning("The heartbeat of %s missed a beat: %s", self.name, exc)
