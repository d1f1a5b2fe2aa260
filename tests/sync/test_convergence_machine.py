"""The platform and the room mailboxes agree after anything either side does.

A hypothesis state machine whose rules are real actions on both sides: bookings made,
moved, moved to another room and cancelled through the platform's booking services;
series booked on the platform and their occurrences moved or cancelled one, this and the
following, or all at once; meetings, series, occurrences and private meetings made,
moved, moved to another room and cancelled in Outlook (graphsim, as their organizers);
Graph failing (5xx, 429 with Retry-After, an error rate, latency), delta links reset or
expired; the real pull, push, answer reads and outbox sweep in any order. After every
``settle`` (faults cleared, pushes drained, answers read, pulls) both sides must hold the
same meetings (``convergence_check``).

The machine runs twice: in polling mode, and in listener mode (``ListenerConvergence``),
where roomsync's own subscription sweep subscribes to the rooms and Graph's notifications
are held, then delivered in order or reversed, dropped, duplicated or overtaken, into
roomsync's webhook request side and the pulls it asks for (``convergence_listener``). A
settle is what a deployment ends with: Graph's retries deliver what is left, and the
safety-net pull runs.

``ROOMSYNC_CONVERGENCE_EXAMPLES`` sets the number of examples (30 by default, about half a
minute on SQLite); long runs set it to hundreds.
"""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from roomsync.m365.exceptions import GraphError
from roomsync.platform.db import Database
from roomsync.platform.migrations import upgrade
from roomsync.platform.models import Base
from tests.sync.convergence_check import divergences
from tests.sync.convergence_listener import Listener
from tests.sync.convergence_world import SERIES_DAYS, SLOTS, World

EXAMPLES = int(os.environ.get("ROOMSYNC_CONVERGENCE_EXAMPLES", "30"))
LONG_RUN = (
    "ROOMSYNC_CONVERGENCE_EXAMPLES" in os.environ or "ROOMSYNC_CONVERGENCE_STEPS" in os.environ
)
"""A long run searches afresh each time; ``make test``'s bounded run replays the same
examples every time (hypothesis' ``derandomize``), so a red suite is a red suite on every
machine and a divergence it finds is replayed by anyone."""
STEPS = int(os.environ.get("ROOMSYNC_CONVERGENCE_STEPS", "20"))
# A run lasts in proportion to its examples (a few seconds each): long runs get the time.
RUN_TIMEOUT = pytest.mark.timeout(max(300, 8 * EXAMPLES * STEPS // 20))

index = st.integers(0, 7)
slots = st.integers(0, SLOTS - 1)
rooms = st.integers(0, 1)
people = st.integers(0, 2)
hours = st.sampled_from([1, 1, 2])
days = st.integers(0, SERIES_DAYS - 1)
scopes = st.sampled_from(["occurrence", "following", "series"])


class Convergence(RuleBasedStateMachine):
    database_url = ""
    listener = False

    def __init__(self) -> None:
        super().__init__()
        self.database = Database(self.database_url)
        self.world = World(self.database, listener=self.listener)
        self.settled = True
        self.slow = False

    def teardown(self) -> None:
        """The run ends with a settle too, so every example is checked at least once."""
        try:
            if not self.settled:
                self.settle()
        finally:
            self.world.close()
            self.forget()

    def forget(self) -> None:
        with self.database.session() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
        self.database.dispose()

    def changed(self) -> None:
        self.settled = False

    # -- the platform --------------------------------------------------------------------

    @rule(room=rooms, at=slots, length=hours, organizer=people)
    def platform_books(self, room: int, at: int, length: int, organizer: int) -> None:
        self.world.book(room, at, length, organizer)
        self.changed()

    @rule(booking=index, at=slots)
    def platform_moves(self, booking: int, at: int) -> None:
        self.world.move_booking(booking, at)
        self.changed()

    @rule(booking=index, room=rooms)
    def platform_changes_room(self, booking: int, room: int) -> None:
        self.world.change_booking_room(booking, room)
        self.changed()

    @rule(booking=index)
    def platform_cancels(self, booking: int) -> None:
        self.world.cancel_booking(booking)
        self.changed()

    @rule(room=rooms, at=slots, organizer=people)
    def platform_books_a_series(self, room: int, at: int, organizer: int) -> None:
        self.world.book_series(room, at, organizer)
        self.changed()

    @rule(booking=index, at=slots, scope=scopes)
    def platform_moves_occurrences(self, booking: int, at: int, scope: str) -> None:
        self.world.move_occurrences(booking, at, scope)
        self.changed()

    @rule(booking=index, scope=scopes)
    def platform_cancels_occurrences(self, booking: int, scope: str) -> None:
        self.world.cancel_occurrences(booking, scope)
        self.changed()

    # -- Outlook -------------------------------------------------------------------------

    @rule(organizer=people, room=rooms, at=slots, length=hours, private=st.booleans())
    def outlook_creates(
        self, organizer: int, room: int, at: int, length: int, *, private: bool
    ) -> None:
        self.world.create_meeting(organizer, room, at, length, private=private, series=False)
        self.changed()

    @rule(organizer=people, room=rooms, at=slots, private=st.booleans())
    def outlook_creates_a_series(
        self, organizer: int, room: int, at: int, *, private: bool
    ) -> None:
        self.world.create_meeting(organizer, room, at, 1, private=private, series=True)
        self.changed()

    @rule(meeting=index, at=slots)
    def outlook_moves(self, meeting: int, at: int) -> None:
        self.world.move_meeting(meeting, at)
        self.changed()

    @rule(meeting=index, room=rooms)
    def outlook_changes_room(self, meeting: int, room: int) -> None:
        self.world.change_meeting_room(meeting, room)
        self.changed()

    @rule(meeting=index)
    def outlook_takes_the_room_off(self, meeting: int) -> None:
        self.world.take_room_off(meeting)
        self.changed()

    @rule(meeting=index)
    def outlook_cancels(self, meeting: int) -> None:
        self.world.cancel_meeting(meeting)
        self.changed()

    @rule(series=index, day=days)
    def outlook_cancels_an_occurrence(self, series: int, day: int) -> None:
        self.world.cancel_occurrence(series, day)
        self.changed()

    @rule(series=index, day=days, at=slots)
    def outlook_moves_an_occurrence(self, series: int, day: int, at: int) -> None:
        self.world.move_occurrence(series, day, at)
        self.changed()

    # -- faults --------------------------------------------------------------------------

    @rule(count=st.integers(1, 3), status=st.sampled_from([429, 500, 503, 504]))
    def graph_fails_next(self, count: int, status: int) -> None:
        retry_after = 1 if status == 429 else None
        self.world.sim.fail_next(count, status, retry_after=retry_after)

    @rule()
    def graph_fails_often(self) -> None:
        self.world.sim.error_rate(0.3)

    @precondition(lambda self: not self.slow)
    @rule()
    def graph_is_slow(self) -> None:
        self.world.sim.inject_latency(10)  # real waits: once until the next settle
        self.slow = True

    @rule(room=rooms)
    def delta_reset(self, room: int) -> None:
        self.world.sim.reset_delta(self.world.room(room))

    @rule(room=rooms)
    def delta_tokens_expire(self, room: int) -> None:
        self.world.sim.expire_delta_tokens(self.world.room(room))

    # -- the sync ------------------------------------------------------------------------

    @rule()
    def pull(self) -> None:
        self.world.pull()

    @rule(booking=index)
    def push(self, booking: int) -> None:
        self.world.push(booking)

    @rule(seconds=st.sampled_from([5, 30, 120]))
    def time_passes(self, seconds: int) -> None:
        self.world.clock.advance(seconds)

    @rule()
    def sweep(self) -> None:
        self.world.sweep()

    @precondition(lambda self: not self.settled)
    @rule()
    def settle(self) -> None:
        self.world.settle()
        self.settled, self.slow = True, False
        found = divergences(self.world)
        assert not found, "The two sides disagree after a settle:\n" + "\n".join(found)

    @invariant()
    def nothing_raised_by_graph(self) -> None:
        """Background work of graphsim (room processing) never failed."""
        assert not self.world.sim.core.background.errors


class ListenerConvergence(Convergence):
    """The same machine in listener mode: Graph's notifications are held, and delivered
    (in order or reversed), dropped, sent twice or overtaken by later ones, each delivery
    running roomsync's webhook request side and the pulls it asks for."""

    listener = True

    def notifications(self) -> Listener:
        assert self.world.listener is not None
        return self.world.listener

    @rule(count=st.integers(1, 4), reverse=st.booleans())
    def notifications_delivered(self, count: int, *, reverse: bool) -> None:
        self.notifications().deliver(count, reverse=reverse)

    @rule(count=st.integers(1, 3))
    def notifications_dropped(self, count: int) -> None:
        self.notifications().drop(count)

    @rule(which=index)
    def notification_duplicated(self, which: int) -> None:
        self.notifications().duplicate(which)

    @rule(count=st.integers(1, 3))
    def notifications_overtaken(self, count: int) -> None:
        self.notifications().delay(count)

    @rule(count=st.integers(1, 2))
    def graph_drops_notifications(self, count: int) -> None:
        self.world.sim.drop_notifications(count)

    @rule(count=st.integers(1, 2))
    def graph_duplicates_notifications(self, count: int) -> None:
        self.world.sim.duplicate_notifications(count)

    @rule()
    def subscriptions_renewed(self) -> None:
        # As the runtime's scheduled sweep: a sweep Graph failed fails, and the next one (at
        # the latest the settle's) tries again.
        with contextlib.suppress(GraphError):
            self.notifications().renew()


def machine_settings() -> settings:
    return settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=not LONG_RUN,
        database=None if not LONG_RUN else settings.default.database,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated SQLite file for every example (each empties it when done)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('convergence') / 'roomsync.db'}"
    upgrade(url)
    return url


@RUN_TIMEOUT
def test_both_sides_converge_after_anything_either_side_does(sqlite_url: str) -> None:
    Convergence.database_url = sqlite_url
    run_state_machine_as_test(Convergence, settings=machine_settings())


@RUN_TIMEOUT
def test_both_sides_converge_in_listener_mode_whatever_notifications_do(sqlite_url: str) -> None:
    ListenerConvergence.database_url = sqlite_url
    run_state_machine_as_test(ListenerConvergence, settings=machine_settings())
