"""Finding rows by id, flushing unique rows, and cursor pagination over time-ordered ids."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from roomsync.platform.exceptions import DuplicateError, InvalidInputError, NotFoundError
from roomsync.platform.models.base import Entity

M = TypeVar("M", bound=Entity)
T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def get_or_raise(session: Session, model: type[M], row_id: uuid.UUID, *, noun: str) -> M:
    row = session.get(model, row_id)
    if row is None:
        raise NotFoundError(f"There is no {noun} with the id {row_id}.")
    return row


def flush_unique(session: Session, *, message: str, field: str) -> None:
    """Flush, turning a unique-constraint violation into a 409 that says what clashed."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateError(message, details=[{"field": field, "message": message}]) from exc


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; ``next_cursor`` is None on the last page."""

    items: Sequence[T]
    next_cursor: str | None


def paginate(
    session: Session,
    model: type[M],
    *,
    where: Sequence[ColumnElement[bool]] = (),
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[M]:
    """Rows of ``model`` in creation order (UUIDv7), after the row named by ``cursor``."""
    statement = select(model).where(*where)
    if cursor:
        statement = statement.where(model.id > parse_cursor(cursor))
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = session.scalars(statement.order_by(model.id).limit(limit + 1)).all()
    if len(rows) <= limit:
        return Page(items=rows, next_cursor=None)
    return Page(items=rows[:limit], next_cursor=str(rows[limit - 1].id))


def parse_cursor(cursor: str) -> uuid.UUID:
    try:
        return uuid.UUID(cursor)
    except ValueError as exc:
        raise InvalidInputError(
            "cursor is not one this API handed out: pass next_cursor from the previous page.",
            field="cursor",
        ) from exc
