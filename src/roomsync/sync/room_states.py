"""The per-room sync-state rows (``room_sync_state``): the pull keeps a room's delta link in its
row, the listener its subscription, so both make sure the rows exist before a round.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from roomsync.platform.db import Database, new_id
from roomsync.platform.models import RoomSyncState

# Rows per INSERT: SQLite allows 32,766 bound values per statement.
_INSERT_CHUNK = 500


def ensure_room_states(
    database: Database, *, integration_id: uuid.UUID, resource_ids: list[uuid.UUID]
) -> None:
    """A sync-state row for every room, created race-free (insert, ignoring duplicates)."""
    with database.session() as session:
        present = set(session.scalars(select(RoomSyncState.resource_id)))
    resource_ids = [resource_id for resource_id in resource_ids if resource_id not in present]
    insert = sqlite_insert if database.is_sqlite else pg_insert
    now = database.now()
    for start in range(0, len(resource_ids), _INSERT_CHUNK):
        rows = [
            {
                "id": new_id(),
                "resource_id": resource_id,
                "integration_id": integration_id,
                "events_seen": 0,
                "consecutive_failures": 0,
                "full_round": False,
                "created_at": now,
                "updated_at": now,
            }
            for resource_id in resource_ids[start : start + _INSERT_CHUNK]
        ]
        with database.session() as session:
            session.execute(insert(RoomSyncState).values(rows).on_conflict_do_nothing())
