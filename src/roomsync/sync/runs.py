"""Run history: each workflow run is a ``sync_runs`` row with counts, warnings and errors.

The row is written when the run starts (outcome ``running``) and completed when it ends,
so ``GET /integrations/{id}/status`` shows a run in progress and a run that died. While it
runs, a heartbeat stamps its ``last_seen_at`` every third of ``ROOMSYNC_LEASE_SECONDS``;
a ``running`` row not seen for a whole lease period belongs to a process that died (its
lease has lapsed too), and the next process that looks — a status read, the start of a
run, the scheduler's tick — marks it ``interrupted`` (:func:`mark_interrupted_runs`).
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session

from roomsync.errors import RoomsyncError
from roomsync.platform.db import Database, as_utc, isoformat_utc
from roomsync.platform.enums import SyncRunKind, SyncRunOutcome, SyncRunTrigger
from roomsync.platform.models import SyncRun
from roomsync.sync.context import Clock
from roomsync.sync.heartbeat import Heartbeat
from roomsync.telemetry import SYNC_RUN_SECONDS, SYNC_RUNS

logger = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What a run did, filled in as it goes."""

    run_id: uuid.UUID
    counts: Counter[str] = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, name: str, amount: int = 1) -> None:
        self.counts[name] += amount

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def merge(self, other: RunReport) -> None:
        """Add what a part of the run (one committed transaction) did."""
        self.counts.update(other.counts)
        self.warnings.extend(other.warnings)
        self.errors.extend(other.errors)

    @property
    def outcome(self) -> SyncRunOutcome:
        if self.errors:
            return SyncRunOutcome.FAILED
        return SyncRunOutcome.WARNING if self.warnings else SyncRunOutcome.SUCCEEDED


@contextlib.contextmanager
def recorded_run(
    database: Database,
    *,
    integration_id: uuid.UUID,
    kind: SyncRunKind,
    trigger: SyncRunTrigger,
    clock: Clock,
    liveness: timedelta,
) -> Iterator[RunReport]:
    """Record a run around the block; an exception is recorded as the run's error, then raised.

    ``liveness`` is the lease period: the run's heartbeat beats three times in it, and the
    integration's runs silent for longer are marked interrupted first."""
    now = clock()
    mark_interrupted_runs(database, now=now, liveness=liveness, integration_id=integration_id)
    with database.session() as session:
        run = SyncRun(
            integration_id=integration_id,
            kind=kind,
            trigger=trigger,
            started_at=now,
            last_seen_at=now,
        )
        session.add(run)
    report = RunReport(run.id)
    started = time.monotonic()
    beat = Heartbeat(
        lambda: _seen(database, report.run_id, clock()), period=liveness, name=f"{kind} run"
    )
    try:
        with beat:
            yield report
    except RoomsyncError as exc:
        report.error(exc.message)
        raise
    except Exception as exc:
        logger.exception("The %s run of integration %s failed unexpectedly", kind, integration_id)
        report.error(f"Unexpected {type(exc).__name__}: see the service log for details.")
        raise
    finally:
        _finish(database, report, clock)
        SYNC_RUNS.labels(kind.value, report.outcome.value).inc()
        SYNC_RUN_SECONDS.labels(kind.value).observe(time.monotonic() - started)


def _seen(database: Database, run_id: uuid.UUID, now: datetime) -> None:
    with database.session() as session:
        session.execute(update(SyncRun).where(SyncRun.id == run_id).values(last_seen_at=now))


def _finish(database: Database, report: RunReport, clock: Clock) -> None:
    with database.session() as session:
        run = session.get_one(SyncRun, report.run_id)
        run.finished_at = run.last_seen_at = clock()
        run.outcome = report.outcome
        run.counts = dict(report.counts)
        run.warnings = list(report.warnings)
        run.errors = list(report.errors)


@dataclass(frozen=True)
class InterruptedRun:
    run_id: uuid.UUID
    integration_id: uuid.UUID
    kind: SyncRunKind
    last_seen_at: datetime


def mark_interrupted_runs(
    database: Database,
    *,
    now: datetime,
    liveness: timedelta,
    integration_id: uuid.UUID | None = None,
) -> list[InterruptedRun]:
    """Mark ``interrupted`` every run still ``running`` whose process has not been seen for
    ``liveness`` (of one integration, or of all); returns the runs this call marked."""
    seen = func.coalesce(SyncRun.last_seen_at, SyncRun.started_at)
    query = select(SyncRun.id, SyncRun.integration_id, SyncRun.kind, seen).where(
        SyncRun.outcome == SyncRunOutcome.RUNNING, seen < now - liveness
    )
    if integration_id is not None:
        query = query.where(SyncRun.integration_id == integration_id)
    marked = []
    with database.session() as session:
        for run_id, owner, kind, last_seen in session.execute(query).all():
            run = InterruptedRun(run_id, owner, kind, as_utc(last_seen))
            if _interrupt(session, run):
                marked.append(run)
    for run in marked:
        logger.warning(
            "The %s run %s of integration %s was interrupted: %s",
            run.kind, run.run_id, run.integration_id, interruption_message(run.last_seen_at),
        )  # fmt: skip
    return marked


def interruption_message(last_seen: datetime) -> str:
    return (
        f"The process running this run stopped without finishing it (last seen alive at "
        f"{isoformat_utc(last_seen)}); the next run takes over from what it saved."
    )


def _interrupt(session: Session, run: InterruptedRun) -> bool:
    """Only a row still running is marked: a process may be marking it at the same moment."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.id == run.run_id, SyncRun.outcome == SyncRunOutcome.RUNNING)
        .values(
            outcome=SyncRunOutcome.INTERRUPTED,
            last_seen_at=run.last_seen_at,
            errors=[interruption_message(run.last_seen_at)],
        )
    )
    return cast("CursorResult[Any]", result).rowcount > 0


def interrupted_kinds(
    session: Session, integration_id: uuid.UUID, kinds: Iterable[SyncRunKind]
) -> set[SyncRunKind]:
    """Those of ``kinds`` whose latest run was interrupted: nothing has taken over yet."""
    return {
        kind
        for kind in kinds
        if session.scalar(
            select(SyncRun.outcome)
            .where(SyncRun.integration_id == integration_id, SyncRun.kind == kind)
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        is SyncRunOutcome.INTERRUPTED
    }
