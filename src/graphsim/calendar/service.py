"""Creating, updating, deleting and cancelling events in one mailbox.

- Create answers 201; a repeated ``transactionId`` in the same mailbox returns the event
  the first request created instead of a second one (the docs leave the status open;
  graphsim answers 201 with the original event, so a retry looks like the first try).
- Update answers 200; ``transactionId`` cannot be changed; a new recurrence pattern drops
  the series' exceptions, as Outlook does.
- Moving an occurrence across an adjacent one: 400 ``ErrorOccurrenceCrossingBoundary``.
- Cancel is for organizers only (400 otherwise); an occurrence id cancels one occurrence.
- Every change to an organizer's meeting that names a room queues room processing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from graphsim.calendar import recurrence
from graphsim.calendar.model import Attendee, EventItem, EventType, Instance, Override
from graphsim.calendar.parse import event_changes
from graphsim.calendar.store import CalendarStore, Mailbox
from graphsim.clock import Clock
from graphsim.directory.tenant import Tenant
from graphsim.errors import GraphApiError, bad_request, not_found
from graphsim.ids import IdFactory, occurrence_id, parse_occurrence_id
from graphsim.timezones import zone

_OCCURRENCE_FIELDS = frozenset(
    {"start", "end", "start_zone", "end_zone", "subject", "attendees", "sensitivity"}
)


@dataclass(frozen=True)
class RoomJob:
    """Work for a room mailbox: look at the organizer's meeting and answer it."""

    organizer: str
    item_id: str
    ical_uid: str
    room: str


@dataclass(frozen=True)
class Target:
    """What an event id in a request resolves to."""

    item: EventItem
    original_start: datetime | None = None

    def instance(self) -> Instance:
        if self.original_start is None:
            kind = EventType.SERIES_MASTER if self.item.is_series else EventType.SINGLE_INSTANCE
            return Instance(self.item, self.item.id, kind, self.item.start, self.item.end)
        override = self.item.override_at(self.original_start)
        oid = occurrence_id(self.item.id, self.original_start)
        if override is not None:
            return Instance(
                self.item,
                oid,
                EventType.EXCEPTION,
                override.start,
                override.end,
                self.original_start,
                override,
            )
        end = self.original_start + (self.item.end - self.item.start)
        return Instance(
            self.item, oid, EventType.OCCURRENCE, self.original_start, end, self.original_start
        )


class EventService:
    """Event writes against the store; room work goes to ``schedule_room``."""

    def __init__(
        self,
        store: CalendarStore,
        tenant: Tenant,
        ids: IdFactory,
        clock: Clock,
        schedule_room: Callable[[RoomJob], None],
    ) -> None:
        self.store, self.tenant, self.ids, self.clock = store, tenant, ids, clock
        self.schedule_room = schedule_room

    def resolve(self, box: Mailbox, event_id: str) -> Target:
        """The item or occurrence an id names; 404 ``ErrorItemNotFound`` otherwise."""
        item = box.items.get(event_id)
        if item is not None:
            return Target(item)
        ref = parse_occurrence_id(event_id)
        master = box.items.get(ref.master_id) if ref else None
        if ref is None or master is None or not master.is_series:
            raise not_found("The specified object was not found in the store.")
        override = master.override_at(ref.original_start)
        if (override and override.cancelled) or (
            override is None and not recurrence.is_occurrence_start(master, ref.original_start)
        ):
            raise not_found("The specified object was not found in the store.")
        return Target(master, ref.original_start)

    def create(self, box: Mailbox, payload: Any) -> tuple[EventItem, bool]:
        """The new event and True, or the earlier event of this transactionId and False."""
        changes = event_changes(payload)
        existing = box.by_transaction.get(changes.get("transaction_id") or "")
        if existing is not None and existing in box.items:
            return box.items[existing], False
        if "start" not in changes or "end" not in changes:
            raise bad_request("An event needs both start and end.", "ErrorInvalidRequest")
        owner = self.tenant.find_user(box.email)
        now = self.clock.now()
        item = EventItem(
            id=self.ids.item_id(),
            ical_uid=self.ids.ical_uid(),
            seq_created=box.next_seq(),
            created=now,
            modified=now,
            change_key=self.ids.change_key(),
            subject="",
            start=changes["start"],
            end=changes["end"],
            organizer_address=box.email,
            organizer_name=owner.display_name if owner else box.email,
        )
        item = self._checked(_apply(item, changes))
        self.store.save(box, item)
        self._queue_rooms(box, item, ())
        return item, True

    def update(self, box: Mailbox, event_id: str, payload: Any) -> Target:
        target = self.resolve(box, event_id)
        changes = event_changes(payload)
        changes.pop("transaction_id", None)
        if target.original_start is not None:
            return self._update_occurrence(box, target, changes)
        item = target.item
        if "recurrence" in changes and changes["recurrence"] != item.recurrence:
            changes["overrides"] = ()
        updated = self._checked(replace(_apply(item, changes), **self._version()))
        self.store.save(box, updated)
        self._queue_rooms(box, updated, item.attendees)
        return Target(updated)

    def delete(self, box: Mailbox, event_id: str) -> None:
        target = self.resolve(box, event_id)
        if target.original_start is not None:
            self._cancel_occurrence(box, target)
            return
        self.store.delete(box, target.item.id)
        if target.item.is_organizer:
            self._queue_rooms(box, target.item, target.item.attendees)

    def cancel(self, box: Mailbox, event_id: str) -> None:
        target = self.resolve(box, event_id)
        if not target.item.is_organizer:
            raise bad_request(
                "Your request can't be completed. You need to be an organizer to cancel a meeting.",
                "ErrorInvalidRequest",
            )
        self.delete(box, event_id)

    def _update_occurrence(self, box: Mailbox, target: Target, changes: dict[str, Any]) -> Target:
        unsupported = set(changes) - _OCCURRENCE_FIELDS
        if unsupported:
            raise bad_request(
                "graphsim changes only start, end, subject, attendees and sensitivity of a single "
                f"occurrence; {sorted(unsupported)} must be changed on the series.",
                "ErrorInvalidRequest",
            )
        assert target.original_start is not None
        current = target.instance()
        override = Override(
            original_start=target.original_start,
            start=changes.get("start", current.start),
            end=changes.get("end", current.end),
            subject=changes.get("subject", current.override.subject if current.override else None),
            attendees=changes.get(
                "attendees", current.override.attendees if current.override else None
            ),
            sensitivity=changes.get(
                "sensitivity", current.override.sensitivity if current.override else None
            ),
            change_key=self.ids.change_key(),
            modified=self.clock.now(),
        )
        self._check_boundary(target.item, override)
        item = self._with_override(target.item, override)
        self.store.save(box, item)
        self._queue_rooms(box, item, ())
        return Target(item, target.original_start)

    def _cancel_occurrence(self, box: Mailbox, target: Target) -> None:
        assert target.original_start is not None
        instance = target.instance()
        override = Override(
            target.original_start,
            instance.start,
            instance.end,
            cancelled=True,
            change_key=self.ids.change_key(),
            modified=self.clock.now(),
        )
        item = self._with_override(target.item, override)
        self.store.save(box, item)
        if item.is_organizer:
            self._queue_rooms(box, item, ())

    def _with_override(self, item: EventItem, override: Override) -> EventItem:
        others = tuple(o for o in item.overrides if o.original_start != override.original_start)
        return replace(item, overrides=(*others, override), **self._version())

    def _check_boundary(self, item: EventItem, override: Override) -> None:
        original, year = override.original_start, timedelta(days=366)
        before = list(recurrence.original_starts(item, original - year, original))
        after = recurrence.original_starts(item, original + timedelta(seconds=1), original + year)
        following = next(after, None)
        duration = item.end - item.start
        if (before and override.start < before[-1] + duration) or (
            following is not None and override.end > following
        ):
            raise bad_request(
                "Modified occurrence is crossing or overlapping adjacent occurrence.",
                "ErrorOccurrenceCrossingBoundary",
            )

    def _version(self) -> dict[str, Any]:
        return {"change_key": self.ids.change_key(), "modified": self.clock.now()}

    def _checked(self, item: EventItem) -> EventItem:
        if item.end < item.start:
            raise bad_request(
                "The end of an event cannot be before its start.", "ErrorInvalidRequest"
            )
        if item.is_all_day and not (
            _midnight(item.start, item.start_zone) and _midnight(item.end, item.end_zone)
        ):
            raise bad_request(
                "An all-day event must start and end at midnight.", "ErrorInvalidRequest"
            )
        if item.recurrence is not None:
            item = replace(item, recurrence=recurrence.normalized(item.recurrence, item.start_zone))
        return item

    def _queue_rooms(self, box: Mailbox, item: EventItem, before: tuple[Attendee, ...]) -> None:
        if not item.is_organizer:
            return
        named = {a.address.lower() for a in (*item.attendees, *before)}
        for override in item.overrides:
            named.update(a.address.lower() for a in override.attendees or ())
        for address in sorted(named):
            if address in self.tenant.rooms:
                self.schedule_room(RoomJob(box.email, item.id, item.ical_uid, address))


def _apply(item: EventItem, changes: dict[str, Any]) -> EventItem:
    extra = changes.pop("extra", None)
    updated = replace(item, **changes)
    return replace(updated, extra={**item.extra, **extra}) if extra else updated


def _midnight(instant: datetime, zone_name: str) -> bool:
    return instant.astimezone(zone(zone_name)).timetz().replace(tzinfo=None) == time(0)


def raise_if_missing(box: Mailbox | None, key: str) -> Mailbox:
    """The mailbox, or Graph's 404 for a user without one."""
    if box is None:
        raise GraphApiError(
            404,
            "MailboxNotEnabledForRESTAPI",
            f"The mailbox is either inactive, soft-deleted, or is hosted on-premise. ({key})",
        )
    return box
