"""A task's Graph calls several at a time, never more than Outlook allows per mailbox.

A push task sends the bookings it claimed, and an answer check reads the rooms' answers,
one Graph call (or two) each; made one after the other they keep a worker for a round
trip per booking. :func:`map_per_mailbox` runs them on a few threads instead, each call
holding one of its mailbox's slots — the process's one count
(:data:`roomsync.m365.mailbox_slots.PROCESS_SLOTS`), which the pull's fan-out shares, so
together they never cause a 429 for concurrency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from roomsync.m365.mailbox_slots import PROCESS_SLOTS, MailboxSlots

T = TypeVar("T")
R = TypeVar("R")
THREADS = 4


def map_per_mailbox(
    items: Sequence[T],
    mailbox_of: Callable[[T], str],
    work: Callable[[T], R],
    *,
    threads: int = THREADS,
    slots: MailboxSlots = PROCESS_SLOTS,
) -> list[R]:
    """``[work(item) for item in items]``, up to ``threads`` at a time, each call holding a
    slot of its item's mailbox; results in the order of ``items``."""

    def one(item: T) -> R:
        with slots.held(mailbox_of(item)):
            return work(item)

    if len(items) <= 1 or threads <= 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(min(threads, len(items)), thread_name_prefix="roomsync-graph") as pool:
        return list(pool.map(one, items))
