"""When and how long to wait before asking Microsoft Graph again.

Graph signals overload with 429 (and sometimes 503/504) and a ``Retry-After`` header in
seconds, possibly fractional ("2.128" in older throttling.md); without it, clients back off
exponentially and never retry immediately (concepts/throttling.md). Every wait is
stretched by a random fraction so that many workers throttled together do not come back
together. A ``Retry-After`` longer than :attr:`RetryPolicy.max_delay` is not waited out on
a worker thread: the error goes up with ``retry_after`` set, for the caller to reschedule.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# 500 and 502 are included: a transient backend failure is worth one more try, and writes
# stay safe (creates carry a transactionId; updates and deletes are idempotent).
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: ``max_attempts`` sends in all, each wait at most ``max_delay`` (+jitter)."""

    max_attempts: int = 4
    backoff_base: float = 1.0
    max_delay: float = 60.0
    jitter: float = 0.2

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait after failed attempt ``attempt`` (1-based), or None to give up."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None and retry_after > self.max_delay:
            return None
        if retry_after is None:
            base = min(self.max_delay, self.backoff_base * 2.0 ** (attempt - 1))
        else:
            base = retry_after
        return base * (1 + self.jitter * random.random())  # noqa: S311 - jitter, not security


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number (possibly fractional) or an HTTP date."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        return _seconds_until(value)
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _seconds_until(http_date: str) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
