"""Prometheus metrics roomsync exports on ``GET /metrics`` (prometheus-client's default
registry). Every metric object lives here, so names and labels are kept in one place;
modules that measure something import their metric from this module.

Two kinds: *gauges read from the database at scrape time* (outbox, subscriptions, last
success, secret expiry) are right whichever process scrapes them; *counters and histograms*
(Graph requests, runs, notification lag) count what this process did — in the distributed
split each worker exports its own (``roomsync worker --metrics-port``).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CLIENT_SECRET_EXPIRY = Gauge(
    "roomsync_client_secret_expiry_seconds",
    "Seconds until the integration's client secret expires (negative once it has expired), "
    "from the expiry date saved with the secret.",
    ["integration"],
)
SYNC_RUNS = Counter(
    "roomsync_sync_runs_total", "Workflow runs by kind and outcome.", ["kind", "outcome"]
)
SYNC_RUN_SECONDS = Histogram(
    "roomsync_sync_run_duration_seconds",
    "How long workflow runs take, by kind.",
    ["kind"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
GRAPH_REQUESTS = Counter(
    "roomsync_graph_requests_total",
    "Microsoft Graph responses by HTTP status; items of a $batch are counted with in_batch.",
    ["status", "in_batch"],
)
NOTIFICATION_TO_COMMIT = Histogram(
    "roomsync_notification_to_commit_seconds",
    "From a change notification's arrival to the committed pull of its room.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60),
)
NOTIFICATIONS = Counter(
    "roomsync_notifications_total",
    "Change notifications received, by what was done with them.",
    ["outcome"],
)
OUTBOX_PENDING = Gauge(
    "roomsync_outbox_pending", "Pushes owed to Outlook and not yet confirmed.", ["integration"]
)
OUTBOX_FAILED = Gauge(
    "roomsync_outbox_failed", "Pushes given up on (retry them from the API).", ["integration"]
)
OUTBOX_OLDEST_PENDING = Gauge(
    "roomsync_outbox_oldest_pending_seconds",
    "Age of the oldest push still owed to Outlook (0 when none).",
    ["integration"],
)
SUBSCRIPTION_EXPIRY = Gauge(
    "roomsync_subscription_earliest_expiry_seconds",
    "Seconds until the integration's soonest-expiring room subscription expires.",
    ["integration"],
)
SUBSCRIPTIONS = Gauge(
    "roomsync_subscriptions", "Room subscriptions by state.", ["integration", "state"]
)
LAST_SUCCESS = Gauge(
    "roomsync_last_success_timestamp_seconds",
    "Unix time of the last successful run, by integration and kind.",
    ["integration", "kind"],
)
