"""A task's Graph calls several at a time, never more than Outlook allows per mailbox.

A push task sends the bookings it claimed, and an answer check reads the rooms' answers,
one Graph call (or two) each; made one after the other they keep a worker for a round
trip per booking. :func:`map_per_mailbox` runs them on a few threads instead, each call
holding one of its mailbox's slots: Outlook admits 4 concurrent requests per app and
mailbox (throttling-outlook.md), and the slots are shared by every worker thread of this
process, so the process itself never causes a 429 for concurrency. Workers on other hosts
are not counted: their 429s are retried after Graph's ``Retry-After`` as always.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
PER_MAILBOX = 4
THREADS = 4

_slots: dict[str, threading.BoundedSemaphore] = {}
_slots_lock = threading.Lock()


def mailbox_slot(mailbox: str) -> threading.BoundedSemaphore:
    """This process's concurrency slots for ``mailbox``."""
    with _slots_lock:
        return _slots.setdefault(mailbox.lower(), threading.BoundedSemaphore(PER_MAILBOX))


def map_per_mailbox(
    items: Sequence[T],
    mailbox_of: Callable[[T], str],
    work: Callable[[T], R],
    *,
    threads: int = THREADS,
) -> list[R]:
    """``[work(item) for item in items]``, up to ``threads`` at a time, each call holding a
    slot of its item's mailbox; results in the order of ``items``."""

    def one(item: T) -> R:
        with mailbox_slot(mailbox_of(item)):
            return work(item)

    if len(items) <= 1 or threads <= 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(min(threads, len(items)), thread_name_prefix="roomsync-graph") as pool:
        return list(pool.map(one, items))
