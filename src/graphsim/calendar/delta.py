"""``calendarView/delta`` rounds (event-delta.md, delta-query-events.md, delta-query-overview.md).

- The window is fixed in the opaque state token; later requests carry only the token.
- An initial round lists the instances in the window as of its first request, paged by
  a stable key (item creation order, then original start), then gives a deltaLink.
- A later round replays the mailbox's change log since the token: changed instances in
  the window in full, and ``@removed`` (reason ``deleted``) for instances that left the
  window or were deleted, and for changed items outside the window.
- Expired tokens (log trimmed, or made to expire) answer 410 ``SyncStateNotFound``, as
  observed on real room mailboxes (microsoft-graph-docs#2350); a forced reset answers
  410 ``resyncRequired`` with a ``Location`` that starts the round over.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from graphsim.calendar import recurrence
from graphsim.calendar.model import EventItem, Instance
from graphsim.calendar.store import Mailbox
from graphsim.errors import GraphApiError, bad_request


@dataclass(frozen=True)
class DeltaState:
    """Everything a delta token stands for."""

    mailbox: str
    generation: int
    start: float
    end: float
    phase: str  # "initial" page, "changes" page, or "delta" (a saved deltaLink)
    after: int = 0
    snapshot: int = 0
    cursor: tuple[int, float] | None = None
    offset: int = 0

    @property
    def window(self) -> tuple[datetime, datetime]:
        return datetime.fromtimestamp(self.start, UTC), datetime.fromtimestamp(self.end, UTC)


@dataclass(frozen=True)
class Removed:
    """An ``@removed`` entry."""

    id: str


Entry = Instance | Removed


@dataclass(frozen=True)
class DeltaPage:
    entries: list[Entry]
    next_state: DeltaState
    done: bool


class TokenCodec:
    """Opaque, tamper-evident state tokens.

    A steady round hands back, for every unchanged mailbox, the very token it was given,
    so tokens and states are remembered both ways (a bounded cache: the tokens of the
    last rounds); a token is read from its text only when it was not made or read here
    lately, and then its signature is checked as always."""

    def __init__(self, key: bytes, capacity: int = 50_000) -> None:
        self._key = key
        self._capacity = capacity
        self._tokens: dict[DeltaState, str] = {}
        self._states: dict[str, DeltaState] = {}

    def encode(self, state: DeltaState) -> str:
        token = self._tokens.get(state)
        if token is None:
            raw = json.dumps(_fields(state), separators=(",", ":")).encode()
            body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            token = f"{body}.{self._sign(body)}"
            self._remember(state, token)
        return token

    def decode(self, token: str) -> DeltaState:
        state = self._states.get(token)
        if state is None:
            state = self._read(token)
            self._remember(state, token)
        return state

    def _read(self, token: str) -> DeltaState:
        body, _, signature = token.partition(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            raise bad_request("The delta token is not valid.", "ErrorInvalidParameter")
        data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        cursor = data.pop("cursor")
        return DeltaState(**data, cursor=tuple(cursor) if cursor else None)

    def _remember(self, state: DeltaState, token: str) -> None:
        if len(self._states) >= self._capacity:
            self._states.clear()
            self._tokens.clear()
        self._states[token] = state
        self._tokens[state] = token

    def _sign(self, body: str) -> str:
        digest = hmac.digest(self._key, body.encode(), "sha256")[:18]
        return base64.urlsafe_b64encode(digest).decode()


def _fields(state: DeltaState) -> dict[str, Any]:
    """``asdict(state)`` without its deep copy (every field is a plain value)."""
    return {
        "mailbox": state.mailbox,
        "generation": state.generation,
        "start": state.start,
        "end": state.end,
        "phase": state.phase,
        "after": state.after,
        "snapshot": state.snapshot,
        "cursor": state.cursor,
        "offset": state.offset,
    }


def start_state(box: Mailbox, start: datetime, end: datetime) -> DeltaState:
    if end <= start:
        raise bad_request("endDateTime must be after startDateTime.", "ErrorInvalidParameter")
    return DeltaState(
        box.email, box.generation, start.timestamp(), end.timestamp(), "initial", snapshot=box.seq
    )


def check(box: Mailbox, state: DeltaState, restart_url: Callable[[], str]) -> None:
    """410 for a forced reset (``Location``: ``restart_url()``) or an expired token."""
    if box.reset_pending:
        box.reset_pending = False
        raise GraphApiError(
            410,
            "resyncRequired",
            "The delta token is no longer valid, and the app must reset the sync state.",
            headers={"Location": restart_url()},
        )
    stale = state.after if state.phase != "initial" else state.snapshot
    if state.generation != box.generation or stale < box.floor:
        raise GraphApiError(
            410,
            "SyncStateNotFound",
            f"The sync state generation is not found; generation={state.generation};"
            f"[highest={box.generation}].",
        )


def page(box: Mailbox, state: DeltaState, size: int) -> DeltaPage:
    if state.phase == "initial":
        return _initial_page(box, state, size)
    if state.phase == "delta":
        if state.after == box.seq and state.snapshot == state.offset == 0 and not state.cursor:
            # Nothing changed since this deltaLink: an empty last page, the same link.
            return DeltaPage([], state, True)
        state = replace(state, phase="changes", snapshot=box.seq, offset=0)
    entries = _changes(box, state)
    chunk = entries[state.offset : state.offset + size]
    if state.offset + size < len(entries):
        return DeltaPage(chunk, replace(state, offset=state.offset + size), False)
    return DeltaPage(chunk, _saved(state, state.snapshot), True)


def _saved(state: DeltaState, upto: int) -> DeltaState:
    return replace(state, phase="delta", after=upto, snapshot=0, cursor=None, offset=0)


def _initial_page(box: Mailbox, state: DeltaState, size: int) -> DeltaPage:
    low, high = state.window
    listed = sorted(
        (
            inst
            for item in box.items.values()
            if item.seq_created <= state.snapshot
            for inst in recurrence.instances(item, low, high)
        ),
        key=lambda i: i.sort_key,
    )
    remaining = [i for i in listed if state.cursor is None or i.sort_key > state.cursor]
    chunk: list[Entry] = list(remaining[:size])
    if len(remaining) > size:
        return DeltaPage(chunk, replace(state, cursor=remaining[size - 1].sort_key), False)
    return DeltaPage(chunk, _saved(state, state.snapshot), True)


def _changes(box: Mailbox, state: DeltaState) -> list[Entry]:
    low, high = state.window
    first_seen: dict[str, EventItem | None] = {}
    for change in box.changes_between(state.after, state.snapshot):
        first_seen.setdefault(change.item_id, change.previous)
    entries: list[Entry] = []
    for item_id, before in first_seen.items():
        after = box.items.get(item_id)
        was = {i.id for i in recurrence.instances(before, low, high)} if before else set()
        now = recurrence.instances(after, low, high) if after else []
        entries.extend(now)
        entries.extend(Removed(gone) for gone in sorted(was - {i.id for i in now}))
        if not was and not now:
            entries.append(Removed(item_id))
    return entries
