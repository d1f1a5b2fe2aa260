"""The wizard's last step: the first room import and booking pull, run in this process on
a thread of their own while the page polls how far they got.

It calls the same workflow functions as ``POST /integrations/{id}/sync/rooms`` and
``…/sync/bookings`` (with ``wait=true``) and, in listener mode, subscribes the rooms
afterwards as that route does. Progress lives in memory, in the process that runs the
import, which is the one the page polls (a second request while one runs joins it
instead of starting another).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass

from roomsync.errors import RoomsyncError
from roomsync.platform.enums import SyncRunTrigger
from roomsync.sync.context import SyncContext
from roomsync.sync.listener.workflow import is_listening
from roomsync.sync.pull.workflow import pull_bookings
from roomsync.sync.rooms.workflow import ImportPhase, ImportProgress, sync_rooms

logger = logging.getLogger(__name__)


@dataclass
class ImportState:
    """How far one integration's first import got."""

    state: str = "running"  # running, done, failed
    stage: str = "Listing the rooms in Microsoft 365"
    rooms_total: int | None = None
    rooms_saved: int = 0
    bookings_total: int | None = None
    bookings_done: int = 0
    message: str = ""

    @property
    def percent(self) -> int:
        """Rooms saved fill the first half of the bar, rooms pulled the second."""
        rooms = self.rooms_saved / self.rooms_total if self.rooms_total else 0.0
        pulled = self.bookings_done / self.bookings_total if self.bookings_total else 0.0
        if self.state == "done":
            return 100
        return min(99, int(50 * rooms + 50 * pulled))

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "percent": self.percent}


class ImportRunner:
    """Runs at most one first import per integration at a time, and remembers the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[uuid.UUID, ImportState] = {}

    def state(self, integration_id: uuid.UUID) -> ImportState | None:
        with self._lock:
            return self._states.get(integration_id)

    def start(
        self,
        ctx: SyncContext,
        integration_id: uuid.UUID,
        after_rooms: Callable[[uuid.UUID], None],
    ) -> ImportState:
        with self._lock:
            current = self._states.get(integration_id)
            if current is not None and current.state == "running":
                return current
            state = self._states[integration_id] = ImportState()
        threading.Thread(
            target=self._run, args=(ctx, integration_id, state, after_rooms),
            name=f"wizard-import-{integration_id}", daemon=True,
        ).start()  # fmt: skip
        return state

    def _run(
        self,
        ctx: SyncContext,
        integration_id: uuid.UUID,
        state: ImportState,
        after_rooms: Callable[[uuid.UUID], None],
    ) -> None:
        try:
            rooms = sync_rooms(
                ctx, integration_id, trigger=SyncRunTrigger.MANUAL,
                progress=lambda step: _on_rooms(state, step),
            )  # fmt: skip
            if is_listening(ctx, integration_id):
                after_rooms(integration_id)
            state.stage = "Reading each room's bookings"
            pulled = pull_bookings(
                ctx, integration_id, trigger=SyncRunTrigger.MANUAL,
                progress=lambda done, total: _on_pull(state, done, total),
            )  # fmt: skip
        except RoomsyncError as exc:
            state.state, state.message = "failed", exc.message
            return
        except Exception:
            logger.exception("The first import of integration %s failed", integration_id)
            state.state, state.message = "failed", "The import failed; the server log says why."
            return
        problems = [*rooms.errors, *pulled.errors]
        state.state = "failed" if problems else "done"
        state.stage = "Done" if not problems else "Finished with errors"
        state.message = "; ".join(problems) or (
            f"{state.rooms_saved} rooms imported, {rooms.counts.get('created', 0)} new; "
            f"bookings of {state.bookings_done} rooms read."
        )


def _on_rooms(state: ImportState, step: ImportProgress) -> None:
    if step.phase is ImportPhase.SAVING:
        state.stage = "Saving the rooms"
        state.rooms_total = step.total
        state.rooms_saved += step.advance
    elif step.phase is ImportPhase.DIRECTORY:
        state.stage = "Reading the rooms' directory attributes"
    elif step.total is not None:
        state.rooms_total = step.total


def _on_pull(state: ImportState, done: int, total: int) -> None:
    state.bookings_done, state.bookings_total = done, total
