"""Mailboxes and their change logs — what makes delta cost O(changes).

Each mailbox numbers its changes. A change records the item's previous version, so a
delta round that starts from sequence ``q`` knows both what an item looked like at ``q``
and what it looks like now: instances that left the window become ``@removed``. A round
with no changes compares two integers.

The log is bounded: when it is trimmed, tokens older than what remains get
``syncStateNotFound`` — Graph's Outlook delta tokens likewise expire when its cache
evicts them (delta-query-overview.md, "token duration").
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from graphsim.calendar.model import EventItem


class ChangeKind(StrEnum):
    """Subscription ``changeType`` values."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"


@dataclass(frozen=True)
class Change:
    """One entry of a mailbox's change log."""

    seq: int
    item_id: str
    kind: ChangeKind
    previous: EventItem | None


ChangeListener = Callable[["Mailbox", Change, EventItem | None], None]


@dataclass
class Mailbox:
    """One mailbox's calendar: items by id, lookup indexes and the change log."""

    email: str
    user_id: str
    max_log: int = 50_000
    items: dict[str, EventItem] = field(default_factory=dict)
    by_ical: dict[str, str] = field(default_factory=dict)
    by_transaction: dict[str, str] = field(default_factory=dict)
    log: list[Change] = field(default_factory=list)
    seq: int = 0
    floor: int = 0
    generation: int = 1
    reset_pending: bool = False

    def next_seq(self) -> int:
        return self.seq + 1

    def record(self, item_id: str, kind: ChangeKind, previous: EventItem | None) -> Change:
        self.seq += 1
        change = Change(self.seq, item_id, kind, previous)
        self.log.append(change)
        if len(self.log) > self.max_log:
            del self.log[: len(self.log) // 2]
            self.floor = self.log[0].seq - 1
        return change

    def changes_between(self, after: int, upto: int) -> list[Change]:
        """Changes with ``after < seq <= upto`` (callers check ``after >= floor``)."""
        start = bisect.bisect_right(self.log, after, key=lambda c: c.seq)
        stop = bisect.bisect_right(self.log, upto, key=lambda c: c.seq)
        return self.log[start:stop]


class CalendarStore:
    """All mailboxes; every write goes through :meth:`save` or :meth:`delete`."""

    def __init__(self, max_log: int = 50_000) -> None:
        self.mailboxes: dict[str, Mailbox] = {}
        self.listeners: list[ChangeListener] = []
        self.max_log = max_log

    def ensure(self, email: str, user_id: str) -> Mailbox:
        key = email.lower()
        box = self.mailboxes.get(key)
        if box is None:
            box = self.mailboxes[key] = Mailbox(key, user_id, self.max_log)
        return box

    def get(self, email: str) -> Mailbox | None:
        return self.mailboxes.get(email.lower())

    def save(self, box: Mailbox, item: EventItem) -> Change:
        previous = box.items.get(item.id)
        box.items[item.id] = item
        box.by_ical[item.ical_uid] = item.id
        if item.transaction_id:
            box.by_transaction[item.transaction_id] = item.id
        kind = ChangeKind.CREATED if previous is None else ChangeKind.UPDATED
        change = box.record(item.id, kind, previous)
        self._notify(box, change, item)
        return change

    def delete(self, box: Mailbox, item_id: str) -> Change | None:
        previous = box.items.pop(item_id, None)
        if previous is None:
            return None
        if box.by_ical.get(previous.ical_uid) == item_id:
            del box.by_ical[previous.ical_uid]
        if previous.transaction_id and box.by_transaction.get(previous.transaction_id) == item_id:
            del box.by_transaction[previous.transaction_id]
        change = box.record(item_id, ChangeKind.DELETED, previous)
        self._notify(box, change, None)
        return change

    def _notify(self, box: Mailbox, change: Change, item: EventItem | None) -> None:
        for listener in self.listeners:
            listener(box, change, item)
