"""Bookings listed by start: keyset pages on (start, id), whose cursor names the last
booking of a page, so a page never repeats or skips one whatever changes before it."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from roomsync.platform.db import isoformat_utc
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Booking
from roomsync.platform.services.lookup import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page

_SEPARATOR = "|"


def paginate_by_start(
    session: Session,
    *,
    where: Sequence[ColumnElement[bool]] = (),
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> Page[Booking]:
    statement = select(Booking).where(*where)
    if cursor:
        start, booking_id = _parse(cursor)
        statement = statement.where(
            or_(
                Booking.start_at > start,
                and_(Booking.start_at == start, Booking.id > booking_id),
            )
        )
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    ordered = statement.order_by(Booking.start_at, Booking.id).limit(limit + 1)
    rows = session.scalars(ordered).all()
    if len(rows) <= limit:
        return Page(items=rows, next_cursor=None)
    return Page(items=rows[:limit], next_cursor=_cursor(rows[limit - 1]))


def _cursor(booking: Booking) -> str:
    text = f"{isoformat_utc(booking.start_at)}{_SEPARATOR}{booking.id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _parse(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        start, booking_id = base64.urlsafe_b64decode(padded).decode().split(_SEPARATOR)
        return datetime.fromisoformat(start), uuid.UUID(booking_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInputError(
            "cursor is not one this API handed out: pass next_cursor from the previous page.",
            field="cursor",
        ) from exc
