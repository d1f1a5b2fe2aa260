"""Room mailbox processing — Exchange's resource booking attendant (Set-CalendarProcessing).

For a meeting that names a room, the room mailbox (with ``AutomateProcessing=AutoAccept``):
- accepts when the slot is free: its calendar gets its own copy (a new id, the same
  iCalUId), with the subject replaced by the organizer's name (``AddOrganizerToSubject`` +
  ``DeleteSubject``), the body removed (``DeleteComments``) and the private flag cleared
  (``RemovePrivateProperty``); the organizer's attendee entry for the room becomes
  ``accepted``;
- declines when the slot conflicts (unless ``AllowConflicts``), lies beyond
  ``BookingWindowInDays``, lasts longer than ``MaximumDurationInMinutes``, or the room is
  ``reserved``: no copy (an earlier copy is removed) and the entry becomes ``declined``;
- follows updates (a move re-runs the checks) and cancellations (the copy is removed).

For a series (Set-CalendarProcessing, AllowConflicts, AllowRecurringMeetings,
ConflictPercentageAllowed, MaximumConflictInstances): ``AllowRecurringMeetings=$false``
declines every series; otherwise, unless ``AllowConflicts``, the series is declined when
its occurrences that conflict are more than ``MaximumConflictInstances`` or more than
``ConflictPercentageAllowed`` percent of the occurrences up to the booking window (both 0
by default: one conflict declines the series). Within those limits the series is accepted
and each conflicting occurrence declined: the room's copy of it is cancelled and the
organizer's copy of it (an exception) shows the room's ``declined``. A conflicting
exception (an occurrence moved on its own) is declined on its own, whatever the limits.
``AutomateProcessing=None`` leaves the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from graphsim.calendar import recurrence
from graphsim.calendar.model import (
    Attendee,
    EventItem,
    Instance,
    Override,
    ResponseType,
)
from graphsim.calendar.service import RoomJob
from graphsim.calendar.store import CalendarStore, Mailbox
from graphsim.clock import Clock
from graphsim.directory.tenant import (
    AutomateProcessing,
    BookingType,
    CalendarProcessing,
    Room,
    Tenant,
)
from graphsim.ids import IdFactory


@dataclass
class RoomDecision:
    """What the room answered, with the reason for a decline."""

    response: ResponseType
    reason: str = ""
    declined_occurrences: set[datetime] = field(default_factory=set)


class RoomProcessor:
    """Runs :class:`RoomJob`s against the store (under the simulator's lock)."""

    def __init__(self, store: CalendarStore, tenant: Tenant, ids: IdFactory, clock: Clock) -> None:
        self.store, self.tenant, self.ids, self.clock = store, tenant, ids, clock
        self.forced_declines: dict[str, int] = {}
        self.decisions: list[tuple[RoomJob, RoomDecision]] = []

    def run(self, job: RoomJob) -> RoomDecision | None:
        room = self.tenant.rooms.get(job.room)
        organizer_box = self.store.get(job.organizer)
        if room is None or organizer_box is None:
            return None
        room_box = self.store.ensure(room.email, self._room_user_id(room))
        item = organizer_box.items.get(job.item_id)
        copy_id = room_box.by_ical.get(job.ical_uid)
        if item is None or item.is_cancelled or not _names(item, room.email):
            if copy_id is not None:
                self.store.delete(room_box, copy_id)
            return None
        if room.processing.automate_processing is AutomateProcessing.NONE:
            return None
        decision = self._decide(room, room_box, item)
        self.decisions.append((job, decision))
        if decision.response is ResponseType.ACCEPTED:
            self._write_copy(room, room_box, item, copy_id, decision)
        elif copy_id is not None:
            self.store.delete(room_box, copy_id)
        self._answer(organizer_box, item, room.email, decision)
        return decision

    def _room_user_id(self, room: Room) -> str:
        user = self.tenant.find_user(room.email)
        return user.id if user else room.id

    def _decide(self, room: Room, room_box: Mailbox, item: EventItem) -> RoomDecision:
        if self.forced_declines.get(room.email, 0) > 0:
            self.forced_declines[room.email] -= 1
            return RoomDecision(ResponseType.DECLINED, "forced decline")
        rules = room.processing
        if item.is_series and not rules.allow_recurring_meetings:
            return RoomDecision(ResponseType.DECLINED, "AllowRecurringMeetings is $false")
        policy = _policy_violation(room, rules, item, self.clock.now())
        if policy:
            return RoomDecision(ResponseType.DECLINED, policy)
        if rules.allow_conflicts:
            return RoomDecision(ResponseType.ACCEPTED)
        return self._conflicts(rules, room_box, item)

    def _conflicts(
        self, rules: CalendarProcessing, room_box: Mailbox, item: EventItem
    ) -> RoomDecision:
        now = self.clock.now()
        horizon = now + timedelta(days=rules.booking_window_in_days)
        wanted = recurrence.instances(
            item, now if item.is_series else item.start, horizon if item.is_series else item.end
        )
        if not wanted:
            return RoomDecision(ResponseType.ACCEPTED)
        low, high = min(i.start for i in wanted), max(i.end for i in wanted)
        busy = [
            inst
            for other in room_box.items.values()
            if other.ical_uid != item.ical_uid and not other.is_cancelled
            for inst in recurrence.instances(other, low, high)
        ]
        clashing = [w for w in wanted if any(_overlap(w, b) for b in busy)]
        if not clashing:
            return RoomDecision(ResponseType.ACCEPTED)
        regular = [w for w in clashing if w.override is None]
        if not item.is_series or _too_many(rules, len(regular), len(wanted)):
            return RoomDecision(ResponseType.DECLINED, "conflict")
        starts = {w.original_start for w in clashing if w.original_start is not None}
        return RoomDecision(ResponseType.ACCEPTED, "conflicting occurrences declined", starts)

    def _write_copy(
        self, room: Room, box: Mailbox, item: EventItem, copy_id: str | None, decision: RoomDecision
    ) -> None:
        rules, now = room.processing, self.clock.now()
        previous = box.items.get(copy_id) if copy_id else None
        overrides = tuple(
            replace(
                o,
                subject=None,
                sensitivity=None if rules.remove_private_property else o.sensitivity,
                cancelled=o.cancelled or o.original_start in decision.declined_occurrences,
            )
            for o in _with_declined(item, decision.declined_occurrences)
        )
        copy = replace(
            item,
            id=previous.id if previous else self.ids.item_id(),
            seq_created=previous.seq_created if previous else box.next_seq(),
            created=previous.created if previous else now,
            modified=now,
            change_key=self.ids.change_key(),
            subject=_room_subject(rules, item.subject, item.organizer_name),
            body="" if rules.delete_comments else item.body,
            sensitivity="normal" if rules.remove_private_property else item.sensitivity,
            is_organizer=False,
            response=ResponseType.ACCEPTED,
            response_time=now,
            overrides=overrides,
            transaction_id=None,
            extended=(),
            source_mailbox=item.organizer_address,
            source_item_id=item.id,
        )
        self.store.save(box, copy)

    def _answer(self, box: Mailbox, item: EventItem, room: str, decision: RoomDecision) -> None:
        now = self.clock.now()
        attendees = _respond(item.attendees, room, decision.response, now)
        overrides = tuple(
            replace(
                o,
                attendees=_respond(o.attendees or item.attendees, room, ResponseType.DECLINED, now),
            )
            if o.original_start in decision.declined_occurrences
            else o
            for o in _with_declined(item, decision.declined_occurrences)
        )
        if attendees == item.attendees and overrides == item.overrides:
            return
        updated = replace(
            item,
            attendees=attendees,
            overrides=overrides,
            change_key=self.ids.change_key(),
            modified=now,
        )
        self.store.save(box, updated)


def _names(item: EventItem, room: str) -> bool:
    return any(a.address.lower() == room for a in item.attendees)


def _too_many(rules: CalendarProcessing, conflicts: int, occurrences: int) -> bool:
    """More conflicts than the room allows a series (none when both limits are 0)."""
    if conflicts == 0:
        return False
    percentage = 100 * conflicts / max(occurrences, 1)
    return (
        conflicts > rules.maximum_conflict_instances
        or percentage > rules.conflict_percentage_allowed
    )


def _with_declined(item: EventItem, declined: set[datetime]) -> tuple[Override, ...]:
    """The series' exceptions, with one added for each declined regular occurrence (the
    room's answer to that occurrence is kept on it, as Exchange keeps it)."""
    have = {o.original_start for o in item.overrides}
    duration = item.end - item.start
    added = tuple(Override(start, start, start + duration) for start in sorted(declined - have))
    return (*item.overrides, *added)


def _overlap(a: Instance, b: Instance) -> bool:
    return a.start < b.end and b.start < a.end


def _policy_violation(room: Room, rules: CalendarProcessing, item: EventItem, now: datetime) -> str:
    if room.booking_type is BookingType.RESERVED:
        return "the room is reserved and cannot be booked"
    if item.end - item.start > timedelta(minutes=rules.maximum_duration_in_minutes):
        return "longer than MaximumDurationInMinutes"
    if item.start > now + timedelta(days=rules.booking_window_in_days):
        return "beyond BookingWindowInDays"
    return ""


def _room_subject(rules: CalendarProcessing, subject: str, organizer: str) -> str:
    if rules.add_organizer_to_subject:
        return organizer if rules.delete_subject else f"{organizer} {subject}"
    return "" if rules.delete_subject else subject


def _respond(
    attendees: tuple[Attendee, ...], room: str, response: ResponseType, now: datetime
) -> tuple[Attendee, ...]:
    return tuple(
        replace(a, response=response, response_time=now)
        if a.address.lower() == room and a.response is not response
        else a
        for a in attendees
    )


__all__ = ["Override", "RoomDecision", "RoomProcessor"]
