"""How many Graph requests of one mailbox this process has in flight.

Outlook admits 4 concurrent requests per app and mailbox and counts every request of a
``$batch`` against its own mailbox (includes/throttling-outlook.md); more is a 429
("Application is over its MailboxConcurrency limit"). Every path that calls Graph for a
mailbox (the fan-out's batches, a task's calls run a few at a time) takes its slots from
one :class:`MailboxSlots` per process, so together they never go over. Processes on other
hosts are not counted: their 429s are retried after Graph's ``Retry-After``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator

OUTLOOK_MAILBOX_CONCURRENCY = 4


class MailboxSlots:
    """Requests in flight per mailbox (case-insensitive), at most ``per_mailbox`` each."""

    def __init__(self, per_mailbox: int = OUTLOOK_MAILBOX_CONCURRENCY) -> None:
        self.per_mailbox = per_mailbox
        self._in_flight: dict[str, int] = {}
        self._changed = threading.Condition()

    def take_up_to(self, mailbox: str, wanted: int) -> int:
        """Take as many of ``wanted`` slots as are free now (maybe none); how many."""
        key = mailbox.lower()
        with self._changed:
            taken = max(0, min(wanted, self._free(key)))
            if taken:
                self._in_flight[key] = self._in_flight.get(key, 0) + taken
            return taken

    def give_back(self, mailbox: str, count: int = 1) -> None:
        with self._changed:
            self._release(mailbox, count)
            self._changed.notify_all()

    def give_back_each(self, mailboxes: Iterable[str]) -> None:
        """One slot back for each mailbox named (a batch's), under one turn of the lock."""
        with self._changed:
            for mailbox in mailboxes:
                self._release(mailbox, 1)
            self._changed.notify_all()

    def _release(self, mailbox: str, count: int) -> None:
        key = mailbox.lower()
        left = self._in_flight.get(key, 0) - count
        if left < 0:
            raise RuntimeError(f"More slots of {mailbox} were given back than taken.")
        if left:
            self._in_flight[key] = left
        else:
            self._in_flight.pop(key, None)

    @contextlib.contextmanager
    def held(self, mailbox: str) -> Iterator[None]:
        """One slot for the length of a block, waiting for one to be free."""
        key = mailbox.lower()
        with self._changed:
            self._changed.wait_for(lambda: self._free(key) > 0)
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            self.give_back(mailbox)

    def in_flight(self, mailbox: str) -> int:
        with self._changed:
            return self._in_flight.get(mailbox.lower(), 0)

    def _free(self, key: str) -> int:
        return self.per_mailbox - self._in_flight.get(key, 0)


PROCESS_SLOTS = MailboxSlots()
"""The process's one count, shared by every Graph client and thread in it."""
