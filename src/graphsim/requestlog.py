"""Every Graph request graphsim answered, for tests that assert "exactly once".

Entries are kept in a bounded ring (the newest ``capacity``); ``$batch`` sub-requests are
logged on their own, marked ``in_batch``, as well as the ``$batch`` call itself.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    at: datetime
    method: str
    path: str
    query: str
    mailbox: str | None
    app_id: str | None
    status: int
    in_batch: bool


class RequestLog:
    """A thread-safe, bounded log with counting filters."""

    def __init__(self, capacity: int = 500_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def add(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        path_contains: str | None = None,
        mailbox: str | None = None,
        status: int | None = None,
        include_batch_items: bool = True,
    ) -> list[LoggedRequest]:
        """Logged requests matching every given filter (paths compare case-insensitively)."""
        with self._lock:
            snapshot = list(self._entries)
        return [
            e
            for e in snapshot
            if (method is None or e.method == method.upper())
            and (path is None or e.path.lower() == path.lower())
            and (path_contains is None or path_contains.lower() in e.path.lower())
            and (mailbox is None or (e.mailbox or "") == mailbox.lower())
            and (status is None or e.status == status)
            and (include_batch_items or not e.in_batch)
        ]

    def count(self, **filters: object) -> int:
        return len(self.entries(**filters))  # type: ignore[arg-type]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
