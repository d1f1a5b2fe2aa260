"""What is due now, per integration: the periodic work.

- rooms every 30 minutes (``rooms_interval_minutes``);
- bookings pulled every 2 minutes (``pull_interval_seconds``), or, in listener mode where
  notifications bring changes within seconds, at the safety-net interval
  (``listener_pull_interval_seconds``);
- vanished rooms retired once per local day, after midnight in the integration's time
  zone (DST-correct: local dates are compared, not 24-hour spans);
- subscriptions renewed (listener mode) and credentials checked, on their own rhythm.

A job whose latest run was interrupted (its process died) is due at once: the dead run
did not do the work, so the next one is not kept waiting a whole interval for it.

A pure function of the clock and the last runs, so the scheduler is testable; the
runtime's periodic task turns the answer into queued tasks. Leases make a job queued twice
harmless, so being generous here costs a skipped run, never a double one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from roomsync.platform.enums import IntegrationMode, SyncRunKind
from roomsync.sync.options import IntegrationOptions

SUBSCRIPTION_RENEWAL_INTERVAL = timedelta(hours=1)
CREDENTIAL_CHECK_INTERVAL = timedelta(days=1)
# The dispatcher runs every minute; a job due within this slack runs now rather than
# waiting a whole extra minute.
SLACK = timedelta(seconds=5)


class Job(StrEnum):
    SYNC_ROOMS = "sync_rooms"
    RECONCILE_ROOMS = "reconcile_rooms"
    PULL_BOOKINGS = "pull_bookings"
    RENEW_SUBSCRIPTIONS = "renew_subscriptions"
    CHECK_CREDENTIALS = "check_credentials"


JOB_OF_RUN = {
    SyncRunKind.ROOMS: Job.SYNC_ROOMS,
    SyncRunKind.RECONCILE: Job.RECONCILE_ROOMS,
    SyncRunKind.BOOKINGS: Job.PULL_BOOKINGS,
}
"""The job that does again the work of an interrupted run of each kind."""


@dataclass(frozen=True)
class IntegrationSchedule:
    """What the scheduler knows of one enabled integration."""

    integration_id: uuid.UUID
    mode: IntegrationMode
    time_zone: str
    options: IntegrationOptions
    last_started: dict[Job, datetime]
    interrupted: frozenset[Job] = frozenset()
    """Jobs whose latest run was interrupted and not yet taken over."""


def due_jobs(schedule: IntegrationSchedule, now: datetime) -> list[Job]:
    return [job for job in Job if _is_due(job, schedule, now)]


def _is_due(job: Job, schedule: IntegrationSchedule, now: datetime) -> bool:
    last = schedule.last_started.get(job)
    if job in schedule.interrupted:
        return True
    if job is Job.RECONCILE_ROOMS:
        # Before the first reconciliation, the first room import is the day to move on from.
        since = last or schedule.last_started.get(Job.SYNC_ROOMS)
        return _new_local_day(since, now, ZoneInfo(schedule.time_zone))
    if job is Job.RENEW_SUBSCRIPTIONS and schedule.mode is not IntegrationMode.LISTENER:
        return False
    return last is None or now - last >= interval(job, schedule) - SLACK


def interval(job: Job, schedule: IntegrationSchedule) -> timedelta:
    options = schedule.options
    if job is Job.SYNC_ROOMS:
        return timedelta(minutes=options.rooms_interval_minutes)
    if job is Job.PULL_BOOKINGS:
        listening = schedule.mode is IntegrationMode.LISTENER
        seconds = (
            options.listener_pull_interval_seconds if listening else options.pull_interval_seconds
        )
        return timedelta(seconds=seconds)
    if job is Job.RENEW_SUBSCRIPTIONS:
        return SUBSCRIPTION_RENEWAL_INTERVAL
    return CREDENTIAL_CHECK_INTERVAL


def _new_local_day(last: datetime | None, now: datetime, zone: ZoneInfo) -> bool:
    """True once per local calendar day: the first time we look after local midnight.

    Not before rooms were ever imported: there is nothing to reconcile yet."""
    if last is None:
        return False
    return now.astimezone(zone).date() > last.astimezone(zone).date()
