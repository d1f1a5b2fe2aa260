"""Rule 5 before a PATCH: an Outlook edit of the organizer's copy and a platform edit of the
same booking resolve deterministically, and both sides end up holding the same meeting."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from roomsync.m365.calendar import DeltaWindow
from roomsync.platform.db import Database
from roomsync.platform.enums import HistoryKind
from roomsync.platform.models import BookingHistory
from roomsync.sync.planner import KeepPlatformVersion, LinkedBooking, RoomCopy, plan
from roomsync.sync.push.conflicts import (
    OrganizerCopy,
    PatchVerdict,
    PlatformSide,
    decide_before_patch,
)
from roomsync.sync.push.room_answers import check_room_answer
from tests.sync.harness import StepClock, Tenant, tomorrow_at
from tests.sync.push_support import book, connected, meetings, move, pull, push, span

T0 = datetime(2030, 1, 7, 9, tzinfo=UTC)
instants = st.integers(min_value=0, max_value=48).map(lambda n: T0 + timedelta(minutes=30 * n))
maybe_instants = st.none() | instants
change_keys = st.none() | st.sampled_from(["ck-a", "ck-b"])


@st.composite
def sides(draw: st.DrawFn) -> tuple[OrganizerCopy, PlatformSide]:
    start = draw(instants)
    copy = OrganizerCopy(
        change_key=draw(change_keys),
        last_modified=draw(maybe_instants),
        start=start,
        end=start + timedelta(hours=draw(st.integers(1, 3))),
    )
    agreed_start = draw(st.sampled_from([copy.start, copy.start + timedelta(hours=1)]))
    platform = PlatformSide(
        agreed_start=agreed_start,
        agreed_end=copy.end,
        pushed_change_key=draw(change_keys),
        changed_since_agreed=draw(st.booleans()),
        updated_at=draw(instants),
    )
    return copy, platform


@given(sides())
def test_an_unchanged_change_key_or_agreed_times_mean_outlook_did_not_edit(
    pair: tuple[OrganizerCopy, PlatformSide],
) -> None:
    copy, platform = pair
    untouched = (copy.change_key is not None and copy.change_key == platform.pushed_change_key) or (
        (copy.start, copy.end) == (platform.agreed_start, platform.agreed_end)
    )

    verdict = decide_before_patch(copy, platform)

    assert (verdict is PatchVerdict.NO_OUTLOOK_CHANGE) == untouched


@given(sides())
def test_when_both_sides_changed_the_later_wins_and_ties_go_to_outlook(
    pair: tuple[OrganizerCopy, PlatformSide],
) -> None:
    copy, platform = pair
    verdict = decide_before_patch(copy, platform)
    if verdict is PatchVerdict.NO_OUTLOOK_CHANGE:
        return
    platform_later = (
        platform.changed_since_agreed
        and copy.last_modified is not None
        and copy.last_modified < platform.updated_at
    )
    assert verdict is (PatchVerdict.PLATFORM_WINS if platform_later else PatchVerdict.OUTLOOK_WINS)


@given(sides())
def test_the_push_and_the_pull_planner_pick_the_same_winner(
    pair: tuple[OrganizerCopy, PlatformSide],
) -> None:
    copy, platform = pair
    verdict = decide_before_patch(copy, platform)
    if verdict is PatchVerdict.NO_OUTLOOK_CHANGE or not platform.changed_since_agreed:
        return
    room_copy = RoomCopy(
        "room-id", "uid", copy.start, copy.end, "Organizer", last_modified=copy.last_modified
    )
    booking = LinkedBooking(
        booking_id=uuid.uuid4(),
        start=T0,
        end=T0 + timedelta(hours=1),
        updated_at=platform.updated_at,
        outlook_born=False,
        has_unpushed_changes=True,
        agreed_start=platform.agreed_start,
        agreed_end=platform.agreed_end,
    )
    window = DeltaWindow(T0 - timedelta(days=1), T0 + timedelta(days=90))

    decision = plan(room_copy, booking, window)

    assert isinstance(decision, KeepPlatformVersion) == (verdict is PatchVerdict.PLATFORM_WINS)


@given(sides())
def test_the_verdict_depends_only_on_the_facts(pair: tuple[OrganizerCopy, PlatformSide]) -> None:
    copy, platform = pair
    assert decide_before_patch(copy, platform) is decide_before_patch(copy, platform)


# --- both sides edit the same booking, end to end through graphsim ------------------------


@pytest.fixture
def clock() -> StepClock:
    """Stopped at the present: only the edits below move it, so which edit is later is
    decided here, not by how fast the machine runs."""
    return StepClock(datetime.now(UTC))


@pytest.fixture
def tenant(database: Database, clock: StepClock) -> Iterator[Tenant]:
    with connected(database, rooms=1, clock=clock, graph_on_clock=True) as tenant:
        yield tenant


def pushed_and_confirmed(tenant: Tenant) -> tuple[uuid.UUID, str]:
    room = tenant.room_emails[0]
    booking_id = book(tenant, room, tomorrow_at(9), tomorrow_at(10))
    push(tenant, booking_id)
    pull(tenant)
    [event] = meetings(tenant.sim, tenant.users[0])
    return booking_id, event["id"]


def edit_outlook(tenant: Tenant, event_id: str, clock: StepClock) -> None:
    """The organizer moves the meeting in Outlook; then a second passes."""
    tenant.sim.outlook.move_meeting(tenant.users[0], event_id, tomorrow_at(13), tomorrow_at(14))
    tenant.sim.settle()
    tick(clock)


def edit_platform(tenant: Tenant, booking_id: uuid.UUID, clock: StepClock) -> None:
    """Someone moves the booking on the platform; then a second passes."""
    move(tenant, booking_id, tomorrow_at(16), tomorrow_at(17))
    tick(clock)


def tick(clock: StepClock) -> None:
    assert clock.now is not None
    clock.now += timedelta(seconds=1)


def overridden(tenant: Tenant, booking_id: uuid.UUID) -> list[str]:
    with tenant.database.session() as session:
        rows = session.scalars(
            select(BookingHistory).where(
                BookingHistory.booking_id == booking_id,
                BookingHistory.kind == HistoryKind.CONFLICT_OVERRIDDEN,
            )
        )
        return [row.data["winner"] for row in rows]


@pytest.mark.parametrize("first", ["push", "pull"])
@pytest.mark.parametrize("later", ["outlook", "platform"])
def test_simultaneous_edits_converge_to_the_later_one_on_both_sides(
    tenant: Tenant, clock: StepClock, first: str, later: str
) -> None:
    room, organizer = tenant.room_emails[0], tenant.users[0]
    booking_id, event_id = pushed_and_confirmed(tenant)
    if later == "outlook":
        edit_platform(tenant, booking_id, clock)
        edit_outlook(tenant, event_id, clock)
    else:
        edit_outlook(tenant, event_id, clock)
        edit_platform(tenant, booking_id, clock)

    if first == "push":
        push(tenant, booking_id)
    pull(tenant)
    push(tenant, booking_id)
    pull(tenant)
    check_room_answer(tenant.ctx, booking_id)

    expected = (
        (tomorrow_at(13), tomorrow_at(14))
        if later == "outlook"
        else (
            tomorrow_at(16),
            tomorrow_at(17),
        )
    )
    booking = tenant.booking(booking_id)
    [event] = meetings(tenant.sim, organizer)
    [room_copy] = meetings(tenant.sim, room)
    assert (booking.start_at, booking.end_at) == expected
    assert span(event) == expected
    assert span(room_copy) == expected
    assert later in overridden(tenant, booking_id)
    assert [b.id for b in tenant.bookings(room)] == [booking_id]


def test_an_outlook_edit_that_wins_is_not_overwritten_by_a_patch(
    tenant: Tenant, clock: StepClock
) -> None:
    booking_id, event_id = pushed_and_confirmed(tenant)
    edit_platform(tenant, booking_id, clock)
    edit_outlook(tenant, event_id, clock)
    tenant.sim.requests.clear()

    push(tenant, booking_id)

    assert tenant.sim.requests.count(method="PATCH") == 0
    booking = tenant.booking(booking_id)
    assert (booking.start_at, booking.end_at) == (tomorrow_at(13), tomorrow_at(14))
    assert overridden(tenant, booking_id) == ["outlook"]
