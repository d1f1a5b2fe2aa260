"""How Graph rates a webhook endpoint (change-notifications-delivery-webhooks.md,
"How Microsoft Graph handles throttling for change notifications using webhooks").

- A response that takes longer than 2,900 ms (or never comes within the timeout) is slow.
- Once the endpoint has received 100 notifications, the share of slow ones is computed:
  10 % or more flags the endpoint **slow** (every notification to it is delayed 10
  minutes and a failed one is retried 10 minutes later); 15 % or more and notifications
  to it are **dropped**.
- "The evaluation continues in real time and the accumulation of responses is flushed
  every 10 minutes": the counts start again every window, measured on graphsim's clock.

graphsim counts each notification a POST carried with that POST's outcome (the document
speaks of notifications received and of responses in one breath; a POST answered late
was late for every notification in it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graphsim.clock import Clock
    from graphsim.core import NotificationTimings


class EndpointState(StrEnum):
    """What Graph currently does with notifications for one notification URL."""

    NORMAL = "normal"
    SLOW = "slow"
    DROP = "drop"


@dataclass
class _Window:
    started: datetime
    total: int = 0
    slow: int = 0


class EndpointHealth:
    """Slow-response counts per notification URL; thread-safe."""

    def __init__(self, timings: NotificationTimings, clock: Clock) -> None:
        self.timings, self.clock = timings, clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def _window(self, url: str) -> _Window:
        now = self.clock.now()
        window = self._windows.get(url)
        if window is None or now - window.started >= timedelta(seconds=self.timings.health_window):
            window = self._windows[url] = _Window(now)
        return window

    def record(self, url: str, notifications: int, seconds: float | None) -> None:
        """One POST carrying ``notifications`` answered after ``seconds`` (None: timed out)."""
        slow = seconds is None or seconds > self.timings.slow_response
        with self._lock:
            window = self._window(url)
            window.total += notifications
            window.slow += notifications if slow else 0

    def state(self, url: str) -> EndpointState:
        with self._lock:
            window = self._window(url)
            if window.total < self.timings.health_sample:
                return EndpointState.NORMAL
            share = window.slow / window.total
        if share >= self.timings.drop_share:
            return EndpointState.DROP
        return EndpointState.SLOW if share >= self.timings.slow_share else EndpointState.NORMAL
