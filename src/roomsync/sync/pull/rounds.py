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
from roomsync.platform.models import RoomSyncState


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


@dataclass(frozen=True)
class SavedRound:
    """Where a room's state row says its round stands (the columns a round starts from)."""

    window_start: datetime | None
    window_end: datetime | None
    next_link: str | None
    delta_link: str | None
    round_started_at: datetime | None
    full_round: bool


@dataclass(frozen=True)
class RoomToPull:
    resource_id: uuid.UUID
    organization_id: uuid.UUID
    email: str


def begin_round(
    state: SavedRound | None,
    room: RoomToPull,
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
        resource_id=room.resource_id,
        room_email=room.email,
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


def page_values(
    request: PageRequest, *, next_link: str | None, delta_link: str | None, now: datetime
) -> dict[str, object]:
    """The state columns applying a page sets (``events_seen`` restarts on a first page;
    the caller adds the page's items): the link that follows it, and at the round's end
    its outcome."""
    values: dict[str, object] = {}
    round_ = request.round
    if request.first:
        values.update(
            window_start=round_.window.start, window_end=round_.window.end,
            full_round=round_.full, round_started_at=round_.started_at, events_seen=0,
        )  # fmt: skip
    if next_link is not None:
        return values | {"next_link": next_link}
    return values | {
        "next_link": None, "delta_link": delta_link, "last_round_at": now,
        "last_success_at": now, "last_outcome": "succeeded", "last_error": None,
        "consecutive_failures": 0,
    }  # fmt: skip


def record_page(
    state: RoomSyncState, request: PageRequest, *, next_link: str | None,
    delta_link: str | None, items: int, now: datetime,
) -> None:  # fmt: skip
    """The link that follows a page, saved in the page's own transaction."""
    for column, value in page_values(
        request, next_link=next_link, delta_link=delta_link, now=now
    ).items():
        setattr(state, column, value)
    state.events_seen += items


def record_failure(state: RoomSyncState, message: str, *, now: datetime) -> None:
    state.last_round_at = now
    state.last_outcome = "failed"
    state.last_error = message
    state.consecutive_failures += 1
