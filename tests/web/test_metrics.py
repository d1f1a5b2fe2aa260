"""``GET /metrics`` exposes what operators watch, parsed as Prometheus parses it."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from roomsync.platform.db import Database
from roomsync.platform.enums import ChangeSource, SyncRunTrigger
from roomsync.platform.services.bookings import create_booking
from roomsync.sync.listener.workflow import renew_subscriptions
from roomsync.sync.pull.workflow import pull_bookings
from tests.sync.harness import tomorrow_at
from tests.sync.listener_harness import listening


def scrape(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{base_url}/metrics", timeout=30).raise_for_status().text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_show_runs_graph_statuses_outbox_subscriptions_and_last_success(
    database: Database, tmp_path: Path
) -> None:
    with listening(database, tmp_path, rooms=2) as listener:
        tenant, integration = listener.tenant, str(listener.tenant.integration_id)
        renew_subscriptions(listener.ctx, tenant.integration_id)
        before = scrape(listener.base_url)
        pull_bookings(listener.ctx, tenant.integration_id, trigger=SyncRunTrigger.MANUAL)
        with database.session() as session:
            create_booking(
                session,
                organization_id=tenant.organization_id,
                resource_id=tenant.rooms[tenant.room_emails[0]],
                organizer_email=tenant.users[0],
                title="Pending push",
                start=tomorrow_at(9),
                end=tomorrow_at(10),
                source=ChangeSource.PLATFORM,
            )

        after = scrape(listener.base_url)

    runs = ("roomsync_sync_runs_total", {"kind": "bookings", "outcome": "succeeded"})
    assert (
        value(after, runs[0], **runs[1]) - before.get((runs[0], tuple(sorted(runs[1].items()))), 0)
        == 1
    )
    assert value(after, "roomsync_sync_run_duration_seconds_count", kind="bookings") >= 1
    assert value(after, "roomsync_graph_requests_total", status="200", in_batch="true") >= 2
    assert value(after, "roomsync_outbox_pending", integration=integration) == 1
    assert value(after, "roomsync_outbox_oldest_pending_seconds", integration=integration) >= 0
    assert value(after, "roomsync_subscriptions", integration=integration, state="active") == 2
    assert (
        value(after, "roomsync_subscription_earliest_expiry_seconds", integration=integration)
        > 3600
    )
    assert (
        value(
            after,
            "roomsync_last_success_timestamp_seconds",
            integration=integration,
            kind="bookings",
        )
        > 0
    )
    assert ("roomsync_notification_to_commit_seconds_count", ()) in after
