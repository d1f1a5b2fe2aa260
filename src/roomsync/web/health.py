"""Probes: ``/healthz`` says the process is up, ``/readyz`` that it can serve requests
(the database answers and carries the newest migration)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from roomsync.platform.api.deps import DatabaseDep
from roomsync.platform.exceptions import DatabaseUnavailableError
from roomsync.platform.migrations import is_at_head

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and its migrations are at head")
def readyz(database: DatabaseDep) -> JSONResponse:
    try:
        ready = is_at_head(database)
    except DatabaseUnavailableError as exc:
        return JSONResponse({"status": "unavailable", "reason": exc.message}, status_code=503)
    if not ready:
        reason = "The database schema is not at the newest migration: run `roomsync db upgrade`."
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ok"})
