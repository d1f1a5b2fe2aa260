"""A task's Graph calls run a few at a time, within Outlook's 4 per mailbox for the process."""

from __future__ import annotations

import threading

from roomsync.m365.mailbox_slots import OUTLOOK_MAILBOX_CONCURRENCY, PROCESS_SLOTS, MailboxSlots
from roomsync.sync.mailbox_pool import map_per_mailbox


def test_the_results_come_back_in_the_order_of_the_items() -> None:
    items = list(range(12))

    results = map_per_mailbox(items, lambda n: f"room{n % 3}@contoso.com", lambda n: n * n)

    assert results == [n * n for n in items]


def test_the_pool_and_the_fan_out_share_one_count_of_four_per_mailbox() -> None:
    taken_elsewhere = PROCESS_SLOTS.take_up_to("Room7@Contoso.com", 3)  # a fan-out's batch
    seen: list[int] = []

    def work(n: int) -> int:
        seen.append(PROCESS_SLOTS.in_flight("room7@contoso.com"))
        return n

    try:
        map_per_mailbox([1, 2, 3], lambda _n: "room7@contoso.com", work)
        last_free = PROCESS_SLOTS.take_up_to("ROOM7@contoso.com", 2)
        PROCESS_SLOTS.give_back("room7@contoso.com", last_free)
    finally:
        PROCESS_SLOTS.give_back("room7@contoso.com", taken_elsewhere)

    assert taken_elsewhere == 3
    assert seen == [OUTLOOK_MAILBOX_CONCURRENCY] * 3, "the pool waited for the one slot left"
    assert last_free == 1
    assert PROCESS_SLOTS.in_flight("room7@contoso.com") == 0


def test_slots_given_back_free_a_waiting_caller() -> None:
    slots = MailboxSlots(per_mailbox=1)
    assert slots.take_up_to("room@contoso.com", 5) == 1
    entered = threading.Event()

    def wait_for_slot() -> None:
        with slots.held("room@contoso.com"):
            entered.set()

    waiter = threading.Thread(target=wait_for_slot)
    waiter.start()
    blocked = not entered.wait(0.2)
    slots.give_back("room@contoso.com")
    waiter.join(timeout=30)

    assert blocked
    assert entered.is_set()
    assert slots.in_flight("room@contoso.com") == 0


def test_calls_run_on_several_threads() -> None:
    names: set[str] = set()
    started = threading.Barrier(2, timeout=30)  # a guard: a sequential run fails, not hangs

    def work(n: int) -> int:
        started.wait()  # both calls must be in flight at once, or this never returns
        names.add(threading.current_thread().name)
        return n

    assert map_per_mailbox([1, 2], lambda _n: "room@contoso.com", work) == [1, 2]
    assert len(names) == 2
