"""Run history: each workflow run is a ``sync_runs`` row with counts, warnings and errors.

The row is written when the run starts (outcome ``running``) and completed when it ends,
so ``GET /integrations/{id}/status`` shows a run in progress and a run that died.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from roomsync.errors import RoomsyncError
from roomsync.platform.db import Database
from roomsync.platform.enums import SyncRunKind, SyncRunOutcome, SyncRunTrigger
from roomsync.platform.models import SyncRun
from roomsync.sync.context import Clock
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
) -> Iterator[RunReport]:
    """Record a run around the block; an exception is recorded as the run's error, then raised."""
    with database.session() as session:
        run = SyncRun(integration_id=integration_id, kind=kind, trigger=trigger, started_at=clock())
        session.add(run)
    report = RunReport(run.id)
    started = time.monotonic()
    try:
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


def _finish(database: Database, report: RunReport, clock: Clock) -> None:
    with database.session() as session:
        run = session.get_one(SyncRun, report.run_id)
        run.finished_at = clock()
        run.outcome = report.outcome
        run.counts = dict(report.counts)
        run.warnings = list(report.warnings)
        run.errors = list(report.errors)
