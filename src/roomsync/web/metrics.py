"""``GET /metrics``: Prometheus text exposition of :mod:`roomsync.telemetry` (no token, as
scrapers expect; it names integrations by id and carries no secrets).

The gauges the database knows (secret expiry, outbox, subscriptions, last success) are
refreshed from it on each scrape, so they are right whichever process serves the scrape.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from roomsync.platform.api.deps import DatabaseDep
from roomsync.sync.integration.secret_expiry import refresh_expiry_gauge
from roomsync.sync.integration.status_metrics import refresh_status_gauges

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(database: DatabaseDep) -> Response:
    now = database.now()
    refresh_expiry_gauge(database, now)
    refresh_status_gauges(database, now)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
