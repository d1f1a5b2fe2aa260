"""Properties of the planner, and a two-sided model that must converge after each sync.

The model below is a reference executor: it carries decisions out on plain values the
way the real executors do on the database and Graph, so that hypothesis can drive long
random interleavings of Outlook edits, platform edits, pushes, pulls and replays.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from roomsync.m365.calendar import DeltaWindow
from roomsync.sync.planner import (
    ApplyFromOutlook,
    CreateBooking,
    Ignore,
    KeepPlatformVersion,
    LinkedBooking,
    RecordUnchanged,
    RoomCopy,
    RoomCopyRemoved,
    VerifyRemoval,
    plan,
)

EPOCH = datetime(2026, 11, 23, tzinfo=UTC)
WINDOW = DeltaWindow(EPOCH, EPOCH + timedelta(days=90))

hours = st.integers(min_value=-48, max_value=24 * 100)
instants = hours.map(lambda h: EPOCH + timedelta(hours=h))
spans = st.tuples(hours, st.integers(min_value=1, max_value=8)).map(
    lambda t: (EPOCH + timedelta(hours=t[0]), EPOCH + timedelta(hours=t[0] + t[1]))
)
maybe_instants = st.none() | instants


@st.composite
def room_copies(draw: st.DrawFn) -> RoomCopy:
    start, end = draw(spans)
    return RoomCopy(
        room_event_id=draw(st.sampled_from(["r1", "r2"])),
        ical_uid="uid",
        start=start,
        end=end,
        subject=draw(st.sampled_from(["Ada", "Grace", "Standup"])),
        private=draw(st.booleans()),
        cancelled=draw(st.booleans()),
        free=draw(st.booleans()),
        last_modified=draw(maybe_instants),
        change_key=draw(st.none() | st.sampled_from(["a", "b", "c"])),
    )


@st.composite
def linked_bookings(draw: st.DrawFn) -> LinkedBooking:
    start, end = draw(spans)
    agreed = draw(st.none() | spans)
    return LinkedBooking(
        booking_id=uuid4(),
        start=start,
        end=end,
        updated_at=draw(instants),
        outlook_born=draw(st.booleans()),
        cancelled=draw(st.booleans()),
        awaiting_room=draw(st.booleans()),
        has_unpushed_changes=draw(st.booleans()),
        agreed_start=agreed[0] if agreed else None,
        agreed_end=agreed[1] if agreed else None,
        pulled_details_hash=draw(st.none() | st.sampled_from(["x", "y"])),
        last_change_key=draw(st.none() | st.sampled_from(["a", "b", "c"])),
        last_modified=draw(maybe_instants),
        room_event_id=draw(st.none() | st.sampled_from(["r1", "r2"])),
    )


def apply_to_link(decision: object, booking: LinkedBooking) -> LinkedBooking:
    """What the executors record about the room copy after a decision."""
    if isinstance(decision, CreateBooking):  # a booking of its own, holding the copy
        copy = decision.copy
        return LinkedBooking(
            booking_id=uuid4(),
            start=copy.start,
            end=copy.end,
            updated_at=booking.updated_at,
            outlook_born=True,
            agreed_start=copy.start,
            agreed_end=copy.end,
            pulled_details_hash=copy.details_hash,
            last_change_key=copy.change_key,
            last_modified=copy.last_modified,
            room_event_id=copy.room_event_id,
        )
    if isinstance(decision, RecordUnchanged | ApplyFromOutlook | KeepPlatformVersion):
        copy = decision.copy
        booking = replace(
            booking, last_change_key=copy.change_key, room_event_id=copy.room_event_id
        )
        booking = replace(booking, last_modified=copy.last_modified or booking.last_modified)
    if isinstance(decision, ApplyFromOutlook):
        copy = decision.copy
        booking = replace(
            booking,
            start=copy.start,
            end=copy.end,
            cancelled=copy.cancelled,
            agreed_start=copy.start,
            agreed_end=copy.end,
            pulled_details_hash=copy.details_hash,
            has_unpushed_changes=False,
        )
    return booking


@given(room_copies(), linked_bookings())
def test_a_matched_meeting_creates_a_second_booking_only_when_the_room_holds_it_again(
    copy: RoomCopy, booking: LinkedBooking
) -> None:
    # Only a cancelled booking, whose cancellation was carried out, and a live copy the
    # link never held: the organizer gave the meeting its room back.
    if isinstance(plan(copy, booking, WINDOW), CreateBooking):
        assert booking.cancelled
        assert not booking.has_unpushed_changes
        assert not copy.cancelled
        assert copy.room_event_id != booking.room_event_id


def test_a_cancelled_booking_whose_room_holds_the_meeting_again_is_booked_anew() -> None:
    start = EPOCH + timedelta(hours=3)
    copy = RoomCopy("r2", "uid", start, start + timedelta(hours=1), "Ada", private=False)
    cancelled = LinkedBooking(
        booking_id=uuid4(),
        start=copy.start,
        end=copy.end,
        updated_at=EPOCH,
        outlook_born=True,
        cancelled=True,
        room_event_id="r1",
    )
    assert plan(copy, cancelled, WINDOW) == CreateBooking(copy)
    # the same copy it held, or a cancel still to push: the cancellation stands
    assert isinstance(plan(copy, replace(cancelled, room_event_id="r2"), WINDOW), Ignore)
    assert isinstance(plan(copy, replace(cancelled, has_unpushed_changes=True), WINDOW), Ignore)


@given(room_copies(), linked_bookings())
def test_planning_the_same_item_again_after_applying_it_changes_nothing(
    copy: RoomCopy, booking: LinkedBooking
) -> None:
    after = apply_to_link(plan(copy, booking, WINDOW), booking)
    again = plan(copy, after, WINDOW)
    assert isinstance(again, RecordUnchanged | Ignore | KeepPlatformVersion)
    assert apply_to_link(again, after) == after


@given(room_copies(), linked_bookings())
def test_a_copy_equal_to_the_agreed_state_never_changes_the_booking(
    copy: RoomCopy, booking: LinkedBooking
) -> None:
    agreed = replace(
        booking,
        agreed_start=copy.start,
        agreed_end=copy.end,
        pulled_details_hash=copy.details_hash,
    )
    live = replace(copy, cancelled=False)
    assert not isinstance(plan(live, agreed, WINDOW), ApplyFromOutlook | KeepPlatformVersion)


@given(room_copies(), linked_bookings())
def test_conflicts_are_decided_by_modification_time_with_ties_to_outlook(
    copy: RoomCopy, booking: LinkedBooking
) -> None:
    decision = plan(copy, booking, WINDOW)
    if isinstance(decision, KeepPlatformVersion):
        assert booking.has_unpushed_changes
        assert copy.last_modified is not None
        assert copy.last_modified < booking.updated_at
    if isinstance(decision, ApplyFromOutlook) and decision.overrides and not copy.cancelled:
        assert copy.last_modified is None or copy.last_modified >= booking.updated_at


@given(linked_bookings())
def test_removals_inside_the_window_are_always_verified_before_cancelling(
    booking: LinkedBooking,
) -> None:
    decision = plan(RoomCopyRemoved("r1"), booking, WINDOW)
    in_window = WINDOW.contains(booking.start, booking.end)
    assert isinstance(decision, VerifyRemoval) == (in_window and not booking.cancelled)


@dataclass
class OutlookMeeting:
    start: datetime
    end: datetime
    cancelled: bool
    version: int
    modified: datetime


class BothSidesConverge(RuleBasedStateMachine):
    """Random edits on both sides; after a push and a pull the two sides agree."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = EPOCH
        start = EPOCH + timedelta(days=1)
        self.meeting = OutlookMeeting(start, start + timedelta(hours=1), False, 1, self.clock)
        self.history: list[RoomCopy] = []
        self.booking = LinkedBooking(
            booking_id=uuid4(),
            start=self.meeting.start,
            end=self.meeting.end,
            updated_at=self.clock,
            outlook_born=False,
            agreed_start=self.meeting.start,
            agreed_end=self.meeting.end,
            last_change_key="1",
            last_modified=self.clock,
        )

    def tick(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def copy(self) -> RoomCopy:
        m = self.meeting
        return RoomCopy(
            room_event_id="r",
            ical_uid="uid",
            start=m.start,
            end=m.end,
            subject="Organizer",
            cancelled=m.cancelled,
            last_modified=m.modified,
            change_key=str(m.version),
        )

    def outlook_changes(self, start: datetime, end: datetime, cancelled: bool) -> None:
        self.history.append(self.copy())
        m = self.meeting
        self.meeting = OutlookMeeting(start, end, cancelled, m.version + 1, self.tick())

    @precondition(lambda self: not self.meeting.cancelled)
    @rule(shift=st.integers(min_value=-3, max_value=3), cancel=st.booleans())
    def outlook_edit(self, shift: int, cancel: bool) -> None:
        delta = timedelta(hours=shift)
        self.outlook_changes(self.meeting.start + delta, self.meeting.end + delta, cancel)

    @precondition(lambda self: not self.booking.cancelled)
    @rule(shift=st.integers(min_value=-3, max_value=3), cancel=st.booleans())
    def platform_edit(self, shift: int, cancel: bool) -> None:
        delta = timedelta(hours=shift)
        b = self.booking
        self.booking = replace(
            b,
            start=b.start + delta,
            end=b.end + delta,
            cancelled=cancel,
            updated_at=self.tick(),
            has_unpushed_changes=True,
        )

    @rule()
    def pull(self) -> None:
        self.receive(self.copy())

    @precondition(lambda self: bool(self.history))
    @rule(data=st.data())
    def replay_an_old_version(self, data: st.DataObject) -> None:
        self.receive(data.draw(st.sampled_from(self.history)))

    def receive(self, copy: RoomCopy) -> None:
        self.booking = apply_to_link(plan(copy, self.booking, WINDOW), self.booking)

    @rule()
    def push(self) -> None:
        """The push worker: read Outlook first (conflicts go through the planner), then
        make Outlook hold the booking's current state if the platform's change stands."""
        self.pull()
        b = self.booking
        if self.meeting.cancelled:
            # The pull has cancelled the booking too; there is nothing left to send.
            assert b.cancelled
            self.booking = replace(b, has_unpushed_changes=False)
            return
        if not b.has_unpushed_changes:
            return
        self.outlook_changes(b.start, b.end, b.cancelled)
        self.booking = replace(
            b,
            agreed_start=b.start,
            agreed_end=b.end,
            has_unpushed_changes=False,
            last_change_key=str(self.meeting.version),
            last_modified=self.meeting.modified,
        )

    @invariant()
    def a_push_then_a_pull_leaves_both_sides_equal(self) -> None:
        saved = (self.booking, self.meeting, list(self.history), self.clock)
        self.push()
        self.pull()
        meeting, booking = self.meeting, self.booking
        assert booking.cancelled == meeting.cancelled
        if not meeting.cancelled:
            assert (booking.start, booking.end) == (meeting.start, meeting.end)
        assert not booking.has_unpushed_changes
        self.booking, self.meeting, self.history, self.clock = saved


BothSidesConverge.TestCase.settings = settings(max_examples=150, stateful_step_count=25)
test_both_sides_converge = BothSidesConverge.TestCase
