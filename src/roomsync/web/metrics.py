"""``GET /metrics``: Prometheus text exposition of :mod:`roomsync.telemetry` (no token, as
scrapers expect; it names integrations by id and carries no secrets).

The secret-expiry gauge is refreshed from the database on each scrape, so it is never a
day old.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from roomsync.platform.api.deps import DatabaseDep
from roomsync.platform.db import utcnow
from roomsync.sync.secret_expiry import refresh_expiry_gauge

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(database: DatabaseDep) -> Response:
    refresh_expiry_gauge(database, utcnow())
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
