"""The dashboard's per-room health table: filtered, sorted and paged on the server, so it
works without JavaScript and stays small with thousands of rooms (the page's script only
swaps the table in place instead of reloading the page).

The query parameters are ``rooms_q`` (name or email contains), ``rooms_sort`` (a column
key), ``rooms_dir`` (``asc``/``desc``) and ``rooms_page`` (from 1). A value the table
does not know falls back to its default rather than refusing the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from roomsync.sync.integration.room_health import RoomHealth

PAGE_SIZE = 50
MAX_QUERY = 200


def _text(value: str | None) -> str:
    return (value or "").lower()


def _number(value: float | int | None) -> float:
    return -1.0 if value is None else float(value)


SORT_KEYS: dict[str, Callable[[RoomHealth], Any]] = {
    "name": lambda room: (_text(room.name), room.email),
    "lag": lambda room: _number(room.lag_seconds),
    "last_round": lambda room: room.last_round_at.timestamp() if room.last_round_at else 0.0,
    "items": lambda room: room.events_seen,
    "errors": lambda room: room.consecutive_failures,
    "subscription": lambda room: _text(room.subscription_state),
}
COLUMNS = (
    ("name", "Room"),
    ("lag", "Lag (s)"),
    ("last_round", "Last round"),
    ("items", "Items"),
    ("errors", "Errors"),
    ("subscription", "Subscription"),
)


@dataclass(frozen=True)
class RoomQuery:
    search: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> RoomQuery:
        sort = params.get("rooms_sort", "name")
        page = params.get("rooms_page", "1")
        return cls(
            search=params.get("rooms_q", "").strip()[:MAX_QUERY],
            sort=sort if sort in SORT_KEYS else "name",
            descending=params.get("rooms_dir") == "desc",
            page=int(page) if page.isdigit() and 0 < int(page) < 1_000_000 else 1,
        )

    def params(self, **changes: Any) -> str:
        """This query as a URL query string, with ``changes`` applied."""
        query = replace(self, **changes)
        values = {
            "rooms_q": query.search,
            "rooms_sort": query.sort if query.sort != "name" else "",
            "rooms_dir": "desc" if query.descending else "",
            "rooms_page": str(query.page) if query.page > 1 else "",
        }
        return urlencode({key: value for key, value in values.items() if value})

    def sorted_by(self, key: str) -> str:
        """The query string of a click on column ``key``: flips the order when it is current."""
        descending = not self.descending if key == self.sort else key in ("lag", "errors")
        return self.params(sort=key, descending=descending, page=1)


@dataclass(frozen=True)
class RoomTable:
    query: RoomQuery
    rows: Sequence[RoomHealth]
    matched: int
    total: int
    first: int
    """1-based position of the first row shown (0 when none)."""
    pages: int

    @property
    def previous(self) -> str | None:
        return self.query.params(page=self.query.page - 1) if self.query.page > 1 else None

    @property
    def next(self) -> str | None:
        return self.query.params(page=self.query.page + 1) if self.query.page < self.pages else None


def room_table(rooms: Sequence[RoomHealth], query: RoomQuery) -> RoomTable:
    needle = query.search.lower()
    matched = [r for r in rooms if needle in r.name.lower() or needle in r.email]
    ordered = sorted(matched, key=SORT_KEYS[query.sort], reverse=query.descending)
    pages = max(1, -(-len(ordered) // PAGE_SIZE))
    page = min(query.page, pages)
    start = (page - 1) * PAGE_SIZE
    shown = ordered[start : start + PAGE_SIZE]
    return RoomTable(
        query=replace(query, page=page),
        rows=shown,
        matched=len(ordered),
        total=len(rooms),
        first=start + 1 if shown else 0,
        pages=pages,
    )
