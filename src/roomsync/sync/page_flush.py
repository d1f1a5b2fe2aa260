"""Pages waiting to be applied, and the transaction that applies them with their links.

The pages one ``$batch`` delivered are applied in one transaction together with the link
that follows each of them. Should that transaction fail, each page is tried alone; a page
that still fails marks its room failed for this run and no later page of that room is
applied, so a saved link never skips a page that was not applied.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from roomsync.logs import log_context
from roomsync.m365.models import DeltaPage
from roomsync.platform.db import Database, new_id
from roomsync.platform.models import RoomSyncState
from roomsync.sync.apply import PageApplier
from roomsync.sync.context import SyncContext
from roomsync.sync.leases import HeldLease
from roomsync.sync.links import LinkIndex, load_room_indexes
from roomsync.sync.new_bookings import NewBookings
from roomsync.sync.prefetch import (
    OrganizerDirectory,
    Prefetched,
    perform_lookups,
    plan_page_lookups,
)
from roomsync.sync.rounds import PageRequest, RoomRound, record_failure, record_page
from roomsync.sync.runs import RunReport

logger = logging.getLogger(__name__)
# Rows per INSERT: SQLite allows 32,766 bound values per statement.
_INSERT_CHUNK = 500
_ANALYZE_FIRST_AT = 1000


@dataclass(frozen=True)
class PendingPage:
    request: PageRequest
    page: DeltaPage
    prefetched: Prefetched = field(default_factory=Prefetched)


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
        self.failures: dict[uuid.UUID, tuple[RoomRound, str]] = {}
        self.poisoned: set[uuid.UUID] = set()
        self.completed_full: list[RoomRound] = []
        self.renewed_at = ctx.clock()
        self.growth = TableGrowth(ctx.database)

    def add(self, page: PendingPage) -> None:
        self.pages.append(page)

    def fail(self, round_: RoomRound, message: str) -> None:
        self.failures[round_.resource_id] = (round_, message)
        self.report.count("rooms_failed")

    def is_poisoned(self, resource_id: uuid.UUID) -> bool:
        return resource_id in self.poisoned

    def take_completed_full_rounds(self) -> list[RoomRound]:
        completed, self.completed_full = self.completed_full, []
        return completed

    def flush(self) -> None:
        pages, self.pages = self._prefetched(self.pages), []
        failures, self.failures = self.failures, {}  # the prefetch may have added some
        if pages or failures:
            self._apply(pages, failures)
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
        found = {
            id(page): perform_lookups(graph, self.directory, wanted)
            for page, wanted in zip(busy, lookups, strict=True)
        }
        return [replace(page, prefetched=found.get(id(page), page.prefetched)) for page in pages]

    def _apply(
        self, pages: list[PendingPage], failures: dict[uuid.UUID, tuple[RoomRound, str]]
    ) -> None:
        try:
            self._apply_together(pages, failures)
        except Exception:
            logger.exception(
                "Applying %d delta pages together failed; trying one by one", len(pages)
            )
            for page in pages:
                self._apply_alone(page)
            for round_, message in failures.values():
                self._record_failure(round_, message)

    def _apply_together(
        self, pages: list[PendingPage], failures: dict[uuid.UUID, tuple[RoomRound, str]]
    ) -> None:
        part = RunReport(self.report.run_id)
        with self.ctx.database.session() as session:
            rooms = {p.request.round.resource_id for p in pages} | failures.keys()
            flush = _Flush(session, lock_room_states(session, rooms), self.ctx.clock(), part)
            flush.load_links(pages)
            for pending in pages:
                flush.apply_page(pending, self.directory)
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


def ensure_room_states(
    database: Database, *, integration_id: uuid.UUID, resource_ids: list[uuid.UUID]
) -> None:
    """A sync-state row for every room, created race-free (insert, ignoring duplicates)."""
    with database.session() as session:
        present = set(session.scalars(select(RoomSyncState.resource_id)))
    resource_ids = [resource_id for resource_id in resource_ids if resource_id not in present]
    insert = sqlite_insert if database.is_sqlite else pg_insert
    now = database.now()
    for start in range(0, len(resource_ids), _INSERT_CHUNK):
        rows = [
            {
                "id": new_id(),
                "resource_id": resource_id,
                "integration_id": integration_id,
                "events_seen": 0,
                "consecutive_failures": 0,
                "full_round": False,
                "created_at": now,
                "updated_at": now,
            }
            for resource_id in resource_ids[start : start + _INSERT_CHUNK]
        ]
        with database.session() as session:
            session.execute(insert(RoomSyncState).values(rows).on_conflict_do_nothing())


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
