"""Where one room's delta round starts, and what is saved when a page of it is applied.

A round starts from the saved ``next_link`` (an unfinished round resumes), else from the
saved ``delta_link`` (changes since the last round), else — no link yet, a new day's
window, or Graph said the token expired — from a fresh initial request over the current
window: a *full* round, whose end reconciles bookings the room no longer holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, select
from sqlalchemy.orm import Session

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


@dataclass(frozen=True)
class SavedRound:
    """Where a room's state row says its round stands, as far as starting the next needs.

    ``same_window``: the saved window is the current one. The saved window and start are
    read only for a round still open (a next link) or left unreconciled (full, ended):
    the common case, a finished delta round, needs none of its instants."""

    same_window: bool
    next_link: str | None
    delta_link: str | None
    full_round: bool
    window_start: datetime | None = None
    window_end: datetime | None = None
    round_started_at: datetime | None = None


@dataclass(frozen=True)
class RoomToPull:
    resource_id: uuid.UUID
    organization_id: uuid.UUID
    email: str


def rooms_to_pull(
    session: Session,
    organization_id: uuid.UUID,
    resource_ids: Sequence[uuid.UUID] | None,
    window: DeltaWindow,
) -> list[tuple[RoomToPull, SavedRound | None]]:
    """The organization's active Microsoft 365 rooms (or those of ``resource_ids``) with
    their saved rounds (None: no state row yet), as plain values in one query: a round over
    thousands of rooms needs a few columns of each, not tracked objects."""
    state = RoomSyncState
    open_or_unreconciled = state.next_link.is_not(None) | (
        state.full_round.is_(True) & state.delta_link.is_not(None)
    )
    query = (
        select(
            Resource.id, Resource.email, state.id.is_not(None),
            (state.window_start == window.start) & (state.window_end == window.end),
            state.next_link, state.delta_link, state.full_round,
            *(
                case((open_or_unreconciled, column))
                for column in (state.window_start, state.window_end, state.round_started_at)
            ),
        )
        .outerjoin(state, state.resource_id == Resource.id)
        .where(
            Resource.organization_id == organization_id,
            Resource.email.is_not(None),
            Resource.active.is_(True),
        )
        .order_by(Resource.id)
    )  # fmt: skip
    if resource_ids is not None:
        query = query.where(Resource.id.in_(resource_ids))
    return [
        (
            RoomToPull(row[0], organization_id, row[1] or ""),
            SavedRound(bool(row[3]), *row[4:]) if row[2] else None,
        )
        for row in session.execute(query)
    ]


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

    def round_(full: bool, started_at: datetime = now) -> RoomRound:
        return RoomRound(
            integration_id=integration_id,
            organization_id=room.organization_id,
            resource_id=room.resource_id,
            room_email=room.email,
            window=window,
            zone=zone,
            full=full,
            started_at=started_at,
        )

    if state is not None and state.same_window:
        if state.next_link:
            resumed = round_(state.full_round, state.round_started_at or now)
            return PageRequest(resumed, first=False), state.next_link
        if state.delta_link:
            return PageRequest(round_(False), first=True), state.delta_link
    fresh = round_(True)
    return PageRequest(fresh, first=True), fresh.initial_url


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
