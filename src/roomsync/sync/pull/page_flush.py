"""Pages waiting to be applied, and the transaction that applies them with their links.

The pages one ``$batch`` delivered are applied in one transaction together with the link
that follows each of them. Should that transaction fail, each page is tried alone; a page
that still fails marks its room failed for this run and no later page of that room is
applied, so a saved link never skips a page that was not applied.

A *quiet* page — no items, the round's last — changes nothing but its room's link, so
quiet pages wait for one another (up to :data:`QUIET_PAGES_PER_WRITE`, or the end of the
round) and their links are written by one statement: a round in which few rooms changed
costs a transaction per few hundred rooms instead of one per ``$batch``. Replaying a quiet
page after a crash is as harmless as skipping its write: both leave the room where it was.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from roomsync.logs import log_context
from roomsync.m365.calendar import DeltaWindow
from roomsync.m365.models import DeltaPage
from roomsync.platform.db import Database
from roomsync.platform.models import RoomSyncState
from roomsync.sync.context import SyncContext
from roomsync.sync.leases import HeldLease
from roomsync.sync.links import LinkIndex, load_room_indexes
from roomsync.sync.pull.apply import PageApplier
from roomsync.sync.pull.new_bookings import NewBookings
from roomsync.sync.pull.prefetch import (
    Lookups,
    OrganizerDirectory,
    Prefetched,
    perform_lookups,
    plan_page_lookups,
)
from roomsync.sync.pull.rounds import (
    PageRequest,
    RoomRound,
    page_values,
    record_failure,
    record_page,
)
from roomsync.sync.runs import RunReport

logger = logging.getLogger(__name__)
_ANALYZE_FIRST_AT = 1000
QUIET_PAGES_PER_WRITE = 500


@dataclass(frozen=True)
class PendingPage:
    request: PageRequest
    page: DeltaPage
    prefetched: Prefetched = field(default_factory=Prefetched)


@dataclass(frozen=True)
class QuietPage:
    """A page with no items that ended its room's round: only its deltaLink is kept."""

    request: PageRequest
    delta_link: str

    def as_pending(self) -> PendingPage:
        return PendingPage(self.request, DeltaPage(delta_link=self.delta_link))


class PageBuffer:
    def __init__(
        self,
        ctx: SyncContext,
        directory: OrganizerDirectory,
        report: RunReport,
        held: HeldLease,
    ) -> None:
        self.ctx, self.directory, self.report, self.held = ctx, directory, report, held
        self.pages: list[PendingPage] = []
        self.quiet: list[QuietPage] = []
        self.failures: dict[uuid.UUID, tuple[RoomRound, str]] = {}
        self.poisoned: set[uuid.UUID] = set()
        self.completed_full: list[RoomRound] = []
        self.renewed_at = ctx.clock()
        self.growth = TableGrowth(ctx.database)

    def add(self, page: PendingPage) -> None:
        self.pages.append(page)

    def add_quiet(self, page: QuietPage) -> None:
        self.quiet.append(page)

    def fail(self, round_: RoomRound, message: str) -> None:
        self.failures[round_.resource_id] = (round_, message)
        self.report.count("rooms_failed")

    def is_poisoned(self, resource_id: uuid.UUID) -> bool:
        return resource_id in self.poisoned

    def take_completed_full_rounds(self) -> list[RoomRound]:
        completed, self.completed_full = self.completed_full, []
        return completed

    def flush(self, *, final: bool = False) -> None:
        """Apply the pages in hand; quiet ones only with others, when enough wait, or at
        the ``final`` flush of the round."""
        pages, self.pages = self._prefetched(self.pages), []
        failures, self.failures = self.failures, {}  # the prefetch may have added some
        quiet: list[QuietPage] = []
        if pages or failures or final or len(self.quiet) >= QUIET_PAGES_PER_WRITE:
            quiet, self.quiet = self.quiet, []
        if pages or failures or quiet:
            self._apply(pages, failures, quiet)
        self._keep_lease()

    def _prefetched(self, pages: list[PendingPage]) -> list[PendingPage]:
        """The pages with their Graph lookups done, planned for all of them at once; a page
        whose lookups fail is tried alone, and fails its room if it still does."""
        try:
            return self._prefetch_together(pages)
        except Exception:
            logger.exception("Preparing %d delta pages together failed", len(pages))
        ready = []
        for page in pages:
            round_ = page.request.round
            try:
                ready += self._prefetch_together([page])
            except Exception as exc:
                logger.exception("Preparing a delta page of %s failed", round_.room_email)
                self.poisoned.add(round_.resource_id)
                self.report.error(f"{round_.room_email}: {exc}")
                self.fail(round_, f"A delta page could not be prepared: {exc}")
        return [page for page in ready if page.request.round.resource_id not in self.poisoned]

    def _prefetch_together(self, pages: list[PendingPage]) -> list[PendingPage]:
        busy = [page for page in pages if page.page.value]
        if not busy:
            return pages
        with self.ctx.database.session() as session:
            lookups = plan_page_lookups(
                session, [(page.request.round, page.page.value) for page in busy]
            )
        graph = self.directory.graph
        self._ask_organizers_about_privacy(lookups)
        found = {
            id(page): perform_lookups(graph, self.directory, wanted)
            for page, wanted in zip(busy, lookups, strict=True)
        }
        return [replace(page, prefetched=found.get(id(page), page.prefetched)) for page in pages]

    def _ask_organizers_about_privacy(self, lookups: list[Lookups]) -> None:
        """The organizers' private meetings for all the pages at once: a ``$batch`` of 20
        organizers where each page alone would ask for its own few."""
        by_window: dict[DeltaWindow, set[str]] = {}
        for wanted in lookups:
            if wanted.window is not None:
                by_window.setdefault(wanted.window, set()).update(wanted.privacy_of)
        for window, organizers in by_window.items():
            self.directory.privacy.fetch(organizers, window)

    def _apply(
        self,
        pages: list[PendingPage],
        failures: dict[uuid.UUID, tuple[RoomRound, str]],
        quiet: list[QuietPage],
    ) -> None:
        try:
            self._apply_together(pages, failures, quiet)
        except Exception:
            logger.exception(
                "Applying %d delta pages together failed; trying one by one",
                len(pages) + len(quiet),
            )
            for page in [*pages, *(q.as_pending() for q in quiet)]:
                self._apply_alone(page)
            for round_, message in failures.values():
                self._record_failure(round_, message)

    def _apply_together(
        self,
        pages: list[PendingPage],
        failures: dict[uuid.UUID, tuple[RoomRound, str]],
        quiet: list[QuietPage] | None = None,
    ) -> None:
        part = RunReport(self.report.run_id)
        quiet = quiet or []
        with self.ctx.database.session() as session:
            rooms = {p.request.round.resource_id for p in pages} | failures.keys()
            if quiet and not self.ctx.database.is_sqlite:
                # Row locks in one id order, as every writer of room states takes them
                # (an UPDATE ... FROM locks in the order its join meets the rows).
                _lock_rows(session, rooms | {q.request.round.resource_id for q in quiet})
            flush = _Flush(session, lock_room_states(session, rooms), self.ctx.clock(), part)
            flush.load_links(pages)
            for pending in pages:
                flush.apply_page(pending, self.directory)
            flush.save_quiet(quiet)
            created = flush.new_bookings.write(session)
            for resource_id, (_, message) in failures.items():
                record_failure(flush.states[resource_id], message, now=flush.now)
        self.report.merge(part)
        self.completed_full.extend(flush.completed)
        self.growth.add(created)

    def _apply_alone(self, pending: PendingPage) -> None:
        round_ = pending.request.round
        if round_.resource_id in self.poisoned:
            return
        try:
            self._apply_together([pending], {})
        except Exception as exc:
            logger.exception("A delta page of %s could not be applied", round_.room_email)
            self.poisoned.add(round_.resource_id)
            self.report.error(f"{round_.room_email}: a delta page could not be applied ({exc}).")
            self._record_failure(round_, f"A delta page could not be applied: {exc}")

    def _record_failure(self, round_: RoomRound, message: str) -> None:
        with self.ctx.database.session() as session:
            state = lock_room_states(session, {round_.resource_id})[round_.resource_id]
            record_failure(state, message, now=self.ctx.clock())

    def _keep_lease(self) -> None:
        if self.ctx.clock() - self.renewed_at > self.held.ttl / 3:
            self.held.renew()
            self.renewed_at = self.ctx.clock()


@dataclass
class _Flush:
    """One transaction applying pages: its session, the locked room states, what it did."""

    session: Session
    states: dict[uuid.UUID, RoomSyncState]
    now: datetime
    part: RunReport
    completed: list[RoomRound] = field(default_factory=list)
    indexes: dict[str, LinkIndex] = field(default_factory=dict)
    new_bookings: NewBookings = field(default_factory=NewBookings)

    def load_links(self, pages: list[PendingPage]) -> None:
        """The links every page may match, for all rooms at once."""
        wanted: dict[str, tuple[set[str], set[str]]] = {}
        for pending in pages:
            ids, uids = wanted.setdefault(pending.request.round.room_email, (set(), set()))
            ids.update(item.id for item in pending.page.value)
            uids.update(i.i_cal_u_id for i in pending.page.value if i.i_cal_u_id)
        if pages:
            integration_id = pages[0].request.round.integration_id
            self.indexes = load_room_indexes(self.session, integration_id, wanted)

    def apply_page(self, pending: PendingPage, directory: OrganizerDirectory) -> None:
        round_, page = pending.request.round, pending.page
        applier = PageApplier(
            self.session,
            round_,
            directory=directory,
            report=self.part,
            now=self.now,
            index=self.indexes.get(round_.room_email),
            new_bookings=self.new_bookings,
        )
        with log_context(room=round_.room_email):
            applier.apply(page.value, pending.prefetched)
        record_page(
            self.states[round_.resource_id],
            pending.request,
            next_link=page.next_link,
            delta_link=page.delta_link,
            items=len(page.value),
            now=self.now,
        )
        self.part.count("pages")
        self.part.count("items", len(page.value))
        if page.delta_link is not None and round_.full:
            self.completed.append(round_)

    def save_quiet(self, quiet: list[QuietPage]) -> None:
        """The quiet pages' links: per set of values the rooms share (a round's first page
        carries its window, the same for every room of the round), one ``UPDATE`` of those
        for all the rooms, then their links by one executemany of (room, link) alone."""
        by_shared: dict[tuple[tuple[str, object], ...], list[tuple[uuid.UUID, str]]] = {}
        for page in quiet:
            round_ = page.request.round
            shared = page_values(page.request, next_link=None, delta_link=None, now=self.now)
            del shared["delta_link"]
            by_shared.setdefault(tuple(shared.items()), []).append(
                (round_.resource_id, page.delta_link)
            )
            if round_.full:
                self.completed.append(round_)
        links = update(RoomSyncState).where(RoomSyncState.resource_id == bindparam("_room"))
        for common, rooms in by_shared.items():
            rooms.sort()
            self.session.execute(
                update(RoomSyncState)
                .where(RoomSyncState.resource_id.in_([room for room, _ in rooms]))
                .values(dict(common)),
                execution_options={"synchronize_session": False},
            )
            self.session.connection().execute(
                links.values(delta_link=bindparam("_link")),
                [{"_room": room, "_link": link} for room, link in rooms],
            )
        self.part.count("pages", len(quiet))


class TableGrowth:
    """PostgreSQL plans queries with the statistics of the last ``ANALYZE``. A first sync
    grows the booking and link tables from nothing faster than autovacuum notices, and
    plans made for near-empty tables (sequential scans, kept by prepared statements) make
    every later page slower than the one before: their statistics are refreshed each time
    the bookings this round created double."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.created = 0
        self.next_analyze_at = _ANALYZE_FIRST_AT

    def add(self, created: int) -> None:
        self.created += created
        if self.database.is_sqlite or self.created < self.next_analyze_at:
            return
        self.next_analyze_at = 2 * self.created
        with self.database.session() as session:
            session.execute(text("ANALYZE bookings, booking_history, event_links"))


def _lock_rows(session: Session, resource_ids: set[uuid.UUID]) -> None:
    session.execute(
        select(RoomSyncState.id)
        .where(RoomSyncState.resource_id.in_(sorted(resource_ids)))
        .order_by(RoomSyncState.resource_id)
        .with_for_update()
    ).all()


def lock_room_states(
    session: Session, resource_ids: set[uuid.UUID]
) -> dict[uuid.UUID, RoomSyncState]:
    """The rooms' state rows, locked in id order: pages of one room apply one at a time
    even when a notification pull and a round overlap (SQLite serializes anyway)."""
    found = session.scalars(
        select(RoomSyncState)
        .where(RoomSyncState.resource_id.in_(sorted(resource_ids)))
        .order_by(RoomSyncState.resource_id)
        .with_for_update()
    )
    return {state.resource_id: state for state in found}
