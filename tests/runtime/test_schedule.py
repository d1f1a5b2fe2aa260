"""When periodic work is due (runtime.schedule)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from roomsync.platform.enums import IntegrationMode
from roomsync.runtime.schedule import IntegrationSchedule, Job, due_jobs
from roomsync.sync.options import IntegrationOptions

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def schedule(
    last: dict[Job, datetime],
    *,
    mode: IntegrationMode = IntegrationMode.POLLING,
    zone: str = "Europe/Paris",
    **options: int,
) -> IntegrationSchedule:
    return IntegrationSchedule(
        integration_id=uuid.uuid4(),
        mode=mode,
        time_zone=zone,
        options=IntegrationOptions(**options),  # type: ignore[arg-type]
        last_started=last,
    )


def test_a_new_integration_imports_rooms_pulls_and_checks_credentials_at_once() -> None:
    assert due_jobs(schedule({}), NOW) == [
        Job.SYNC_ROOMS,
        Job.PULL_BOOKINGS,
        Job.CHECK_CREDENTIALS,
    ]


def test_bookings_are_pulled_every_two_minutes_and_rooms_every_thirty() -> None:
    last = {
        Job.SYNC_ROOMS: NOW - timedelta(minutes=29),
        Job.PULL_BOOKINGS: NOW - timedelta(minutes=2),
        Job.CHECK_CREDENTIALS: NOW - timedelta(hours=1),
    }
    assert due_jobs(schedule(last), NOW) == [Job.PULL_BOOKINGS]
    assert Job.SYNC_ROOMS in due_jobs(schedule(last), NOW + timedelta(minutes=1))


def test_listener_mode_pulls_at_the_safety_net_interval_and_renews_subscriptions() -> None:
    last = {
        Job.SYNC_ROOMS: NOW,
        Job.PULL_BOOKINGS: NOW - timedelta(minutes=5),
        Job.CHECK_CREDENTIALS: NOW,
        Job.RENEW_SUBSCRIPTIONS: NOW - timedelta(hours=2),
    }
    listening = schedule(last, mode=IntegrationMode.LISTENER)
    assert due_jobs(listening, NOW) == [Job.RENEW_SUBSCRIPTIONS]
    assert Job.PULL_BOOKINGS in due_jobs(listening, NOW + timedelta(minutes=10))


def test_intervals_are_configurable_per_integration() -> None:
    last = {Job.PULL_BOOKINGS: NOW - timedelta(seconds=40)}
    assert Job.PULL_BOOKINGS in due_jobs(schedule(last, pull_interval_seconds=30), NOW)


@pytest.mark.parametrize(
    ("zone", "last_local", "now_local", "due"),
    [
        # Paris springs forward on 2026-03-29: that local day has 23 hours.
        ("Europe/Paris", "2026-03-28T00:00:30", "2026-03-29T00:00:10", True),
        ("Europe/Paris", "2026-03-29T00:00:30", "2026-03-29T23:59:00", False),
        # Paris falls back on 2026-10-25: that local day has 25 hours.
        ("Europe/Paris", "2026-10-25T00:00:30", "2026-10-25T23:30:00", False),
        ("Europe/Paris", "2026-10-25T00:00:30", "2026-10-26T00:00:05", True),
        ("America/New_York", "2026-03-07T23:59:00", "2026-03-08T00:01:00", True),
        ("America/New_York", "2026-11-01T00:00:30", "2026-11-01T23:00:00", False),
    ],
)
def test_vanished_rooms_are_reconciled_once_per_local_day_after_midnight(
    zone: str, last_local: str, now_local: str, due: bool
) -> None:
    tz = ZoneInfo(zone)
    last = datetime.fromisoformat(last_local).replace(tzinfo=tz)
    now = datetime.fromisoformat(now_local).replace(tzinfo=tz)
    ran = {Job.RECONCILE_ROOMS: last, Job.SYNC_ROOMS: now, Job.PULL_BOOKINGS: now}
    assert (Job.RECONCILE_ROOMS in due_jobs(schedule(ran, zone=zone), now)) is due


def test_the_first_reconciliation_waits_for_the_first_midnight_after_the_import() -> None:
    imported = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
    ran = {Job.SYNC_ROOMS: imported}
    assert Job.RECONCILE_ROOMS not in due_jobs(schedule(ran), imported + timedelta(hours=2))
    assert Job.RECONCILE_ROOMS in due_jobs(schedule(ran), imported + timedelta(hours=9))
    assert Job.RECONCILE_ROOMS not in due_jobs(schedule({}), imported)


def test_a_job_whose_latest_run_was_interrupted_is_due_at_once() -> None:
    last = {job: NOW - timedelta(minutes=3) for job in Job}
    interrupted = dataclasses.replace(
        schedule(last), interrupted=frozenset({Job.SYNC_ROOMS, Job.RECONCILE_ROOMS})
    )

    assert due_jobs(schedule(last), NOW) == [Job.PULL_BOOKINGS]
    assert due_jobs(interrupted, NOW) == [Job.SYNC_ROOMS, Job.RECONCILE_ROOMS, Job.PULL_BOOKINGS]
