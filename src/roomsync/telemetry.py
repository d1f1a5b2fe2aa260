"""Prometheus metrics roomsync exports on ``GET /metrics`` (prometheus-client's default
registry). Every metric object lives here, so names and labels are kept in one place;
modules that measure something import their metric from this module.
"""

from __future__ import annotations

from prometheus_client import Gauge

CLIENT_SECRET_EXPIRY = Gauge(
    "roomsync_client_secret_expiry_seconds",
    "Seconds until the integration's client secret expires (negative once it has expired), "
    "from the expiry date saved with the secret.",
    ["integration"],
)
