"""Injected trouble: latency, error rates, bursts of 5xx, dropped or duplicated
notifications. Everything random draws from a seeded generator."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from graphsim.errors import GraphApiError

_CODES = {
    500: "generalException",
    502: "badGateway",
    503: "serviceNotAvailable",
    504: "gatewayTimeout",
    429: "TooManyRequests",
}


@dataclass
class FailureRule:
    """Fail matching requests: the next ``remaining`` ones, or a ``rate`` share of them."""

    status: int = 503
    remaining: int | None = None
    rate: float = 0.0
    path_contains: str | None = None
    mailbox: str | None = None
    retry_after: int | None = None

    def matches(self, path: str, mailbox: str | None) -> bool:
        if self.path_contains and self.path_contains.lower() not in path.lower():
            return False
        return self.mailbox is None or (mailbox or "").lower() == self.mailbox.lower()


@dataclass
class LatencyRule:
    """Added latency for requests whose path contains ``path_contains`` (all when None)."""

    milliseconds: float
    path_contains: str | None = None


class Faults:
    """The current fault settings; thread-safe."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed ^ 0x5EED)  # noqa: S311 - reproducible faults
        self._lock = threading.Lock()
        self.latency: list[LatencyRule] = []
        self.failures: list[FailureRule] = []
        self.drop_notifications = 0
        self.duplicate_notifications = 0
        self.notification_drop_rate = 0.0

    def add_latency(self, milliseconds: float, path_contains: str | None = None) -> None:
        with self._lock:
            self.latency.append(LatencyRule(milliseconds, path_contains))

    def add_failure(self, rule: FailureRule) -> None:
        with self._lock:
            self.failures.append(rule)

    def clear(self) -> None:
        with self._lock:
            self.latency.clear()
            self.failures.clear()
            self.drop_notifications = self.duplicate_notifications = 0
            self.notification_drop_rate = 0.0

    def delay_for(self, path: str, *, aimed_only: bool = False) -> float:
        """Seconds to wait before answering a request for ``path``; with ``aimed_only``
        only latency whose ``path_contains`` names this path counts (not the global)."""
        with self._lock:
            total = sum(
                r.milliseconds
                for r in self.latency
                if (r.path_contains is None and not aimed_only)
                or (r.path_contains is not None and r.path_contains.lower() in path.lower())
            )
        return total / 1000.0

    def failure_for(self, path: str, mailbox: str | None) -> GraphApiError | None:
        with self._lock:
            for rule in self.failures:
                if not rule.matches(path, mailbox):
                    continue
                if rule.remaining is not None and rule.remaining > 0:
                    rule.remaining -= 1
                    return _failure(rule)
                if rule.rate and self._rng.random() < rule.rate:
                    return _failure(rule)
            self.failures = [r for r in self.failures if r.remaining != 0]
        return None

    def notification_copies(self) -> int:
        """How many times to send the next notification: 0 (dropped), 1 or 2."""
        with self._lock:
            if self.drop_notifications > 0:
                self.drop_notifications -= 1
                return 0
            if self.notification_drop_rate and self._rng.random() < self.notification_drop_rate:
                return 0
            if self.duplicate_notifications > 0:
                self.duplicate_notifications -= 1
                return 2
        return 1


def _failure(rule: FailureRule) -> GraphApiError:
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
    return GraphApiError(
        rule.status,
        _CODES.get(rule.status, "generalException"),
        "The service is temporarily unavailable (injected by graphsim).",
        headers=headers,
    )
