"""Outlook throttling per app + mailbox (includes/throttling-outlook.md, throttling.md).

- 10,000 requests per 10 minutes and 4 concurrent requests per (app id, mailbox) pair;
  going over in one mailbox does not affect another. Both limits are configurable.
- Every request counts, including rejected ones ("all requests accrue against your usage
  limits"), so an app that retries at once stays throttled.
- A throttled request gets 429 ``TooManyRequests`` with ``Retry-After`` in seconds.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

from graphsim.clock import Clock
from graphsim.errors import GraphApiError


@dataclass(frozen=True)
class ThrottleLimits:
    """Per app + mailbox limits."""

    requests: int = 10_000
    window_seconds: float = 600.0
    concurrent: int = 4


def too_many_requests(retry_after: int, message: str) -> GraphApiError:
    return GraphApiError(
        429,
        "TooManyRequests",
        message,
        headers={"Retry-After": str(retry_after)},
        inner={"code": "429", "message": "Please retry after", "status": "429"},
    )


class Throttle:
    """Counts requests and in-flight requests per (app, mailbox)."""

    def __init__(self, limits: ThrottleLimits, clock: Clock) -> None:
        self.limits, self.clock = limits, clock
        self._lock = threading.Lock()
        self._history: dict[tuple[str, str], deque[float]] = {}
        self._active: dict[tuple[str, str], int] = {}

    def enter(self, app_id: str, mailbox: str) -> None:
        """Admit a request or raise 429; an admitted request must call :meth:`leave`."""
        key = (app_id, mailbox)
        now = self.clock.now().timestamp()
        with self._lock:
            history = self._history.setdefault(key, deque())
            horizon = now - self.limits.window_seconds
            while history and history[0] <= horizon:
                history.popleft()
            history.append(now)
            if len(history) > self.limits.requests:
                wait = history[-self.limits.requests - 1] + self.limits.window_seconds - now
                raise too_many_requests(max(1, math.ceil(wait)), "Please retry again later.")
            if self._active.get(key, 0) >= self.limits.concurrent:
                raise too_many_requests(1, "Application is over its MailboxConcurrency limit.")
            self._active[key] = self._active.get(key, 0) + 1

    def leave(self, app_id: str, mailbox: str) -> None:
        with self._lock:
            key = (app_id, mailbox)
            self._active[key] = self._active.get(key, 1) - 1
