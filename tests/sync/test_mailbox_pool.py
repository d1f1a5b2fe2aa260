"""A task's Graph calls run a few at a time, within Outlook's 4 per mailbox for the process."""

from __future__ import annotations

import threading

from roomsync.sync.mailbox_pool import PER_MAILBOX, mailbox_slot, map_per_mailbox


def test_the_results_come_back_in_the_order_of_the_items() -> None:
    items = list(range(12))

    results = map_per_mailbox(items, lambda n: f"room{n % 3}@contoso.com", lambda n: n * n)

    assert results == [n * n for n in items]


def test_every_thread_of_the_process_shares_four_slots_per_mailbox() -> None:
    slot = mailbox_slot("Room7@Contoso.com")
    assert mailbox_slot("room7@contoso.com") is slot

    taken = [slot.acquire(blocking=False) for _ in range(PER_MAILBOX + 1)]
    for _ in range(PER_MAILBOX):
        slot.release()

    assert taken == [True] * PER_MAILBOX + [False]


def test_calls_run_on_several_threads() -> None:
    names: set[str] = set()
    started = threading.Barrier(2, timeout=30)  # a guard: a sequential run fails, not hangs

    def work(n: int) -> int:
        started.wait()  # both calls must be in flight at once, or this never returns
        names.add(threading.current_thread().name)
        return n

    assert map_per_mailbox([1, 2], lambda _n: "room@contoso.com", work) == [1, 2]
    assert len(names) == 2
