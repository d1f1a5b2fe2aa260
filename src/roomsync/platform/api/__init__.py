"""The platform's REST API under ``/api/v1``: one router per resource (README, "API overview")."""

from __future__ import annotations

from fastapi import APIRouter

from roomsync.platform.api import (
    availability,
    bookings,
    buildings,
    checkin,
    organizations,
    resources,
    tokens,
    users,
)
from roomsync.platform.api.schemas import error_responses

API_PREFIX = "/api/v1"


def build_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, responses=error_responses(401, 403, 404, 422))
    for module in (
        organizations,
        buildings,
        resources,
        availability,
        users,
        bookings,
        checkin,
        tokens,
    ):
        router.include_router(module.router)
    return router
