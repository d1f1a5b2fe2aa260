"""What the console's pages share beyond the dashboard: one transaction per page whose
refusals become the page's messages, and query values read without ever answering 500.

A service refusal (:class:`RoomsyncError`) that names a field becomes a message next to
that field; one that does not (404, 403) becomes the error page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from fastapi import Request
from sqlalchemy.orm import Session

from roomsync.errors import RoomsyncError
from roomsync.platform.db import Database
from roomsync.platform.exceptions import InvalidInputError
from roomsync.web.pages.guard import PageError

MAX_SEARCH = 200


@contextmanager
def page_session(request: Request) -> Iterator[Session]:
    """A transaction of the app's database; a refusal that names no field is an error page."""
    database: Database = request.app.state.database
    try:
        with database.session() as session:
            yield session
    except InvalidInputError:
        raise
    except RoomsyncError as exc:
        raise PageError(exc.message, status=exc.http_status) from exc


def search_text(request: Request, name: str = "q") -> str:
    return request.query_params.get(name, "").strip()[:MAX_SEARCH]


def optional_id(value: str | None, *, field: str) -> uuid.UUID | None:
    """A UUID from a query or form value; a message naming ``field`` when it is none."""
    if not value:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError as exc:
        message = f"{field} must be an id such as those the console lists."
        raise InvalidInputError(message, field=field) from exc


def day_of(value: str | None, *, default: date) -> date:
    if not value:
        return default
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidInputError(
            "Give the day as YYYY-MM-DD, for example 2026-12-04.", field="date"
        ) from exc
