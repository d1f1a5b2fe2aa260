"""The dashboard's per-room health table: filtered, sorted and paged in the database, so it
works without JavaScript and stays small and quick with thousands of rooms (the page's
script only swaps the table in place instead of reloading the page).

The query parameters are ``rooms_q`` (name or email contains), ``rooms_sort`` (a column
key), ``rooms_dir`` (``asc``/``desc``) and ``rooms_page`` (from 1). A value the table
does not know falls back to its default rather than refusing the page.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from roomsync.sync.integration.room_health import (
    RoomHealth,
    RoomHealthPage,
    RoomOrder,
    room_health_page,
)

PAGE_SIZE = 50
MAX_QUERY = 200


SORTS = {order.value for order in RoomOrder}
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
            sort=sort if sort in SORTS else "name",
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


def room_table(
    session: Session, integration_id: uuid.UUID, query: RoomQuery, *, total: int
) -> RoomTable:
    """The page of rooms ``query`` asks for (the last one when it asks past the end)."""

    def read(page: int) -> RoomHealthPage:
        return room_health_page(
            session, integration_id, search=query.search, order=RoomOrder(query.sort),
            descending=query.descending, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
        )  # fmt: skip

    found = read(query.page)
    pages = max(1, -(-found.matched // PAGE_SIZE))
    page = min(query.page, pages)
    if page != query.page:
        found = read(page)
    start = (page - 1) * PAGE_SIZE
    return RoomTable(
        query=replace(query, page=page),
        rows=found.rows,
        matched=found.matched,
        total=total,
        first=start + 1 if found.rows else 0,
        pages=pages,
    )
