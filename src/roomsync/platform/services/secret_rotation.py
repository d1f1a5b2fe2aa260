"""Re-encrypting every stored secret with the current ``ROOMSYNC_SECRET_KEY``.

Each value is rotated in its own short transaction and only if the row still holds the
ciphertext that was read (a compare-and-set), so an interrupted rotation leaves every row
readable, a re-run skips what is already under the current key, and a credential saved
meanwhile by a running server is never overwritten. ``updated_at`` is left alone: the
secret itself did not change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import InstrumentedAttribute

from roomsync.platform.crypto import SecretBox, SecretUnreadableError
from roomsync.platform.db import Database
from roomsync.platform.models import Integration, RoomSyncState

SealedRow = type[Integration] | type[RoomSyncState]


@dataclass(frozen=True)
class SealedColumn:
    """One column that holds encrypted values, and what to call them in messages."""

    label: str
    owner: str
    model: SealedRow
    column: InstrumentedAttribute[str | None]


SEALED_COLUMNS: Sequence[SealedColumn] = (
    SealedColumn("client secret", "integration", Integration, Integration.client_secret_encrypted),
    SealedColumn("certificate", "integration", Integration, Integration.certificate_encrypted),
    SealedColumn(
        "subscription clientState",
        "room sync state",
        RoomSyncState,
        RoomSyncState.subscription_client_state_encrypted,
    ),
)


class Rotation(StrEnum):
    ROTATED = "rotated"
    CURRENT = "already_current"
    CHANGED = "changed_meanwhile"
    UNREADABLE = "unreadable"


@dataclass
class RotationTally:
    """What a rotation did to one column."""

    sealed: SealedColumn
    counts: dict[Rotation, int] = field(default_factory=lambda: dict.fromkeys(Rotation, 0))
    unreadable: list[uuid.UUID] = field(default_factory=list)


Progress = Callable[[SealedColumn, int, int], None]
"""Called with the column, the rows done and the rows to do."""


def rotate_secrets(
    database: Database, box: SecretBox, *, progress: Progress | None = None
) -> list[RotationTally]:
    """Re-encrypt every stored secret with ``box``'s current key, one row at a time."""
    tallies = []
    for sealed in SEALED_COLUMNS:
        tally = RotationTally(sealed)
        row_ids = _rows_holding(database, sealed)
        for done, row_id in enumerate(row_ids, start=1):
            outcome = _rotate_row(database, box, sealed, row_id)
            tally.counts[outcome] += 1
            if outcome is Rotation.UNREADABLE:
                tally.unreadable.append(row_id)
            if progress is not None:
                progress(sealed, done, len(row_ids))
        tallies.append(tally)
    return tallies


def _rows_holding(database: Database, sealed: SealedColumn) -> list[uuid.UUID]:
    with database.session() as session:
        query = select(sealed.model.id).where(sealed.column.is_not(None))
        return list(session.scalars(query.order_by(sealed.model.id)))


def _rotate_row(
    database: Database, box: SecretBox, sealed: SealedColumn, row_id: uuid.UUID
) -> Rotation:
    with database.session() as session:
        stored = session.scalar(select(sealed.column).where(sealed.model.id == row_id))
        if stored is None:
            return Rotation.CHANGED
        if box.is_current(stored):
            return Rotation.CURRENT
        try:
            rotated = box.rotate(stored)
        except SecretUnreadableError:
            return Rotation.UNREADABLE
        written = session.execute(
            update(sealed.model)
            .where(sealed.model.id == row_id, sealed.column == stored)
            .values({sealed.column: rotated, sealed.model.updated_at: sealed.model.updated_at})
        )
        return (
            Rotation.ROTATED if cast(CursorResult[Any], written).rowcount == 1 else Rotation.CHANGED
        )
