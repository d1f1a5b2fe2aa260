"""Where one room's delta round starts, and what is saved when a page of it is applied.

A round starts from the saved ``next_link`` (an unfinished round resumes), else from the
saved ``delta_link`` (changes since the last round), else — no link yet, a new day's
window, or Graph said the token expired — from a fresh initial request over the current
window: a *full* round, whose end reconciles bookings the room no longer holds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from roomsync.m365.calendar import DeltaWindow, delta_request_url
from roomsync.platform.models import Resource, RoomSyncState


@dataclass(frozen=True)
class RoomRound:
    """One room's round in progress: the fan-out's context for its requests."""

    integration_id: uuid.UUID
    organization_id: uuid.UUID
    resource_id: uuid.UUID
    room_email: str
    window: DeltaWindow
    zone: ZoneInfo
    full: bool
    started_at: datetime

    def restarted(self, window: DeltaWindow, now: datetime) -> RoomRound:
        """The same room, starting over with a full round (the token expired or was reset)."""
        return replace(self, window=window, full=True, started_at=now)

    @property
    def initial_url(self) -> str:
        return delta_request_url(self.room_email, self.window)


@dataclass(frozen=True)
class PageRequest:
    """The fan-out's context for one delta request: the round, and whether it opens it."""

    round: RoomRound
    first: bool


def begin_round(
    state: RoomSyncState | None,
    room: Resource,
    *,
    integration_id: uuid.UUID,
    window: DeltaWindow,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[PageRequest, str]:
    """The first request of ``room``'s round now, and its URL."""
    base = RoomRound(
        integration_id=integration_id,
        organization_id=room.organization_id,
        resource_id=room.id,
        room_email=room.email or "",
        window=window,
        zone=zone,
        full=True,
        started_at=now,
    )
    if state is None or state.window_start != window.start or state.window_end != window.end:
        return PageRequest(base, first=True), base.initial_url
    if state.next_link:
        started = state.round_started_at or now
        resumed = replace(base, full=state.full_round, started_at=started)
        return PageRequest(resumed, first=False), state.next_link
    if state.delta_link:
        return PageRequest(replace(base, full=False), first=True), state.delta_link
    return PageRequest(base, first=True), base.initial_url


def record_page(
    state: RoomSyncState, request: PageRequest, *, next_link: str | None,
    delta_link: str | None, items: int, now: datetime,
) -> None:  # fmt: skip
    """The link that follows a page, saved in the page's own transaction."""
    round_ = request.round
    if request.first:
        state.window_start, state.window_end = round_.window.start, round_.window.end
        state.full_round = round_.full
        state.round_started_at = round_.started_at
        state.events_seen = 0
    state.events_seen += items
    if next_link is not None:
        state.next_link = next_link
        return
    state.next_link = None
    state.delta_link = delta_link
    state.last_round_at = state.last_success_at = now
    state.last_outcome, state.last_error, state.consecutive_failures = "succeeded", None, 0


def record_failure(state: RoomSyncState, message: str, *, now: datetime) -> None:
    state.last_round_at = now
    state.last_outcome = "failed"
    state.last_error = message
    state.consecutive_failures += 1
