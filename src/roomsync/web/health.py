"""Probes: ``/healthz`` says the process is up, ``/readyz`` that it can serve requests
(the database answers and carries the newest migration, and the queue answers when this
process queues work)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from roomsync.platform.api.deps import DatabaseDep
from roomsync.platform.exceptions import DatabaseUnavailableError
from roomsync.platform.migrations import is_at_head
from roomsync.runtime.queue import queue_problem

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database and the queue answer; migrations are at head")
def readyz(database: DatabaseDep, request: Request) -> JSONResponse:
    try:
        ready = is_at_head(database)
    except DatabaseUnavailableError as exc:
        return _unavailable(exc.message)
    if not ready:
        return _unavailable(
            "The database schema is not at the newest migration: run `roomsync db upgrade`."
        )
    runtime = request.app.state.runtime
    if runtime is not None and (problem := queue_problem(runtime.huey)):
        return _unavailable(problem)
    return JSONResponse({"status": "ok"})


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
