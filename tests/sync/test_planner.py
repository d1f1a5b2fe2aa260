"""The planner's table (docs/sync.md), one example per row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from roomsync.m365.calendar import DeltaWindow
from roomsync.sync.planner import (
    ApplyFromOutlook,
    CreateBooking,
    Ignore,
    IgnoreReason,
    KeepPlatformVersion,
    LinkedBooking,
    RecordUnchanged,
    RemovalCheck,
    RoomCopy,
    RoomCopyRemoved,
    VerifyRemoval,
    plan,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WINDOW = DeltaWindow(NOW - timedelta(days=1), NOW + timedelta(days=90))
TEN = NOW + timedelta(hours=1)
ELEVEN = NOW + timedelta(hours=2)
NOON = NOW + timedelta(hours=3)


def room_copy(**changes: object) -> RoomCopy:
    copy = RoomCopy(
        room_event_id="room-1",
        ical_uid="uid-1",
        start=TEN,
        end=ELEVEN,
        subject="Ada Lovelace",
        last_modified=NOW,
        change_key="ck-1",
    )
    return replace(copy, **changes)  # type: ignore[arg-type]


def linked(**changes: object) -> LinkedBooking:
    booking = LinkedBooking(
        booking_id=uuid4(),
        start=TEN,
        end=ELEVEN,
        updated_at=NOW - timedelta(minutes=5),
        outlook_born=False,
        agreed_start=TEN,
        agreed_end=ELEVEN,
        last_change_key="ck-0",
        last_modified=NOW - timedelta(minutes=5),
    )
    return replace(booking, **changes)  # type: ignore[arg-type]


def test_removal_of_an_unknown_meeting_is_ignored() -> None:
    assert plan(RoomCopyRemoved("x"), None, WINDOW) == Ignore(IgnoreReason.UNKNOWN_REMOVAL)


def test_removal_of_a_booking_moved_out_of_the_window_is_ignored() -> None:
    far = NOW + timedelta(days=200)
    booking = linked(start=far, end=far + timedelta(hours=1))
    decision = plan(RoomCopyRemoved("room-1"), booking, WINDOW)
    assert decision == Ignore(IgnoreReason.MOVED_OUT_OF_WINDOW)


def test_removal_of_a_platform_booking_is_verified_with_the_organizer_copy() -> None:
    booking = linked()
    decision = plan(RoomCopyRemoved("room-1"), booking, WINDOW)
    assert decision == VerifyRemoval(booking.booking_id, RemovalCheck.ORGANIZER_COPY)


def test_removal_of_an_outlook_booking_is_verified_with_the_room_copy() -> None:
    booking = linked(outlook_born=True)
    decision = plan(RoomCopyRemoved("room-1"), booking, WINDOW)
    assert decision == VerifyRemoval(booking.booking_id, RemovalCheck.ROOM_COPY)


def test_new_meeting_in_the_window_creates_a_booking() -> None:
    copy = room_copy()
    assert plan(copy, None, WINDOW) == CreateBooking(copy)


def test_unlinked_cancelled_free_or_out_of_window_meetings_are_ignored() -> None:
    far = NOW + timedelta(days=120)
    assert plan(room_copy(cancelled=True), None, WINDOW) == Ignore(IgnoreReason.CANCELLED_UNLINKED)
    assert plan(room_copy(free=True), None, WINDOW) == Ignore(IgnoreReason.SHOWN_AS_FREE)
    assert plan(room_copy(start=far, end=far + timedelta(hours=1)), None, WINDOW) == Ignore(
        IgnoreReason.OUTSIDE_WINDOW
    )


def test_echo_of_our_push_confirms_a_pending_booking_and_changes_nothing_else() -> None:
    booking = linked(awaiting_room=True)
    copy = room_copy(subject="Organizer name the room put there")
    assert plan(copy, booking, WINDOW) == RecordUnchanged(booking.booking_id, copy, confirm=True)


def test_replay_with_the_same_change_key_is_unchanged_even_if_stale() -> None:
    booking = linked(last_change_key="ck-1", last_modified=NOW + timedelta(hours=1))
    decision = plan(room_copy(), booking, WINDOW)
    assert isinstance(decision, RecordUnchanged)


def test_older_version_arriving_late_is_ignored() -> None:
    booking = linked(last_modified=NOW + timedelta(minutes=1))
    decision = plan(room_copy(start=NOON, end=NOON + timedelta(hours=1)), booking, WINDOW)
    assert decision == Ignore(IgnoreReason.OUT_OF_ORDER)


def test_outlook_move_is_applied_without_taking_the_room_subject_for_platform_bookings() -> None:
    booking = linked()
    copy = room_copy(start=ELEVEN, end=NOON)
    assert plan(copy, booking, WINDOW) == ApplyFromOutlook(
        booking.booking_id, copy, with_details=False, confirm=False, overrides=False
    )


def test_outlook_move_back_to_the_previously_pushed_time_is_applied() -> None:
    # Pushed 10-11, then Outlook moved it to 11-12 (applied, so agreed is 11-12),
    # now Outlook moves it back to 10-11: a change from the agreed state, not an echo.
    booking = linked(agreed_start=ELEVEN, agreed_end=NOON, start=ELEVEN, end=NOON)
    decision = plan(room_copy(), booking, WINDOW)
    assert isinstance(decision, ApplyFromOutlook)


def test_subject_change_of_an_outlook_born_booking_is_applied() -> None:
    booking = linked(outlook_born=True, pulled_details_hash=room_copy().details_hash)
    decision = plan(room_copy(subject="Renamed"), booking, WINDOW)
    assert isinstance(decision, ApplyFromOutlook)
    assert decision.with_details


def test_outlook_cancellation_is_applied() -> None:
    booking = linked()
    decision = plan(room_copy(cancelled=True), booking, WINDOW)
    assert isinstance(decision, ApplyFromOutlook)
    assert decision.copy.cancelled
    assert not decision.confirm


def test_a_platform_cancellation_is_final() -> None:
    booking = linked(cancelled=True, has_unpushed_changes=True)
    decision = plan(room_copy(start=ELEVEN, end=NOON), booking, WINDOW)
    assert decision == Ignore(IgnoreReason.ALREADY_CANCELLED)


def test_conflict_later_platform_change_wins() -> None:
    booking = linked(has_unpushed_changes=True, updated_at=NOW + timedelta(seconds=1))
    copy = room_copy(start=ELEVEN, end=NOON)
    assert plan(copy, booking, WINDOW) == KeepPlatformVersion(booking.booking_id, copy)


def test_conflict_later_outlook_change_wins_and_overrides_the_platform() -> None:
    booking = linked(has_unpushed_changes=True, updated_at=NOW - timedelta(seconds=1))
    decision = plan(room_copy(start=ELEVEN, end=NOON), booking, WINDOW)
    assert isinstance(decision, ApplyFromOutlook)
    assert decision.overrides


def test_conflict_tie_goes_to_outlook() -> None:
    booking = linked(has_unpushed_changes=True, updated_at=NOW)
    decision = plan(room_copy(start=ELEVEN, end=NOON), booking, WINDOW)
    assert isinstance(decision, ApplyFromOutlook)


def test_an_outlook_cancellation_wins_even_over_a_later_platform_change() -> None:
    booking = linked(has_unpushed_changes=True, updated_at=NOW + timedelta(hours=1))
    decision = plan(room_copy(cancelled=True), booking, WINDOW)
    assert isinstance(decision, ApplyFromOutlook)
    assert decision.overrides


def test_every_ignore_reason_is_a_member_of_its_own() -> None:
    # Two members with one value would make the second an alias, silently.
    assert len(IgnoreReason.__members__) == len(IgnoreReason)
