"""Waiting for what another thread or process does: the one poll loop of the tests.

Use it only where the work runs elsewhere (a worker thread, a server process). Time that a
test controls moves on a clock (``tests/sync/harness.py``'s ``StepClock``, graphsim's
``ManualClock``); never sleep to make two timestamps differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(
    condition: Callable[[], object], timeout: float = 5.0, *, every: float = 0.05
) -> bool:
    """True as soon as ``condition`` holds, False if it still does not after ``timeout``
    seconds (it is asked once more at the deadline, so a slow last poll is not lost).

    Write ``assert eventually(lambda: ..., timeout=60), "what was awaited"``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())
