"""The end of a full round: bookings the room's calendar no longer holds (issue "Delta
pull": ``syncStateNotFound``/410 → a fresh full round that reconciles).

A full round lists everything in the window, so a linked booking it did not see has left
the room's calendar — or the window. Each is treated exactly like an ``@removed`` item
(verified with Graph before anything is cancelled, docs/sync.md), except when the whole
calendar came back empty while many bookings are linked to it: one side looking wiped is
not propagated (the guard vdirsyncer keeps); a warning asks an operator to look.
"""

from __future__ import annotations

import logging

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from roomsync.m365.graph import GraphClient
from roomsync.m365.models import Event, Removed
from roomsync.platform.enums import BookingStatus, OutboxState
from roomsync.platform.models import Booking, EventLink, OutboxEntry, RoomSyncState
from roomsync.sync.apply import PageApplier
from roomsync.sync.context import SyncContext
from roomsync.sync.page_flush import lock_room_states
from roomsync.sync.prefetch import OrganizerDirectory, perform_lookups, plan_lookups
from roomsync.sync.rounds import RoomRound
from roomsync.sync.runs import RunReport

logger = logging.getLogger(__name__)
WIPE_GUARD = 5
"""A full round that sees nothing while at least this many bookings are linked is distrusted."""


def reconcile_room(
    ctx: SyncContext,
    graph: GraphClient,
    directory: OrganizerDirectory,
    round_: RoomRound,
    report: RunReport,
) -> None:
    with ctx.database.session() as session:
        unseen = _unseen(session, round_)
        state = session.scalar(
            select(RoomSyncState).where(RoomSyncState.resource_id == round_.resource_id)
        )
        seen = state.events_seen if state else 0
        items = [
            Event(id=room_event_id, removed=Removed(reason="deleted")) for room_event_id in unseen
        ]
        lookups = plan_lookups(session, round_, items) if items else None
    if unseen and seen == 0 and len(unseen) >= WIPE_GUARD:
        report.warn(
            f"The calendar of {round_.room_email} came back empty while {len(unseen)} bookings "
            "are linked to it; none was cancelled. Check the room mailbox, then run a pull again."
        )
        items, lookups = [], None
    prefetched = perform_lookups(graph, directory, lookups) if lookups else None
    part = RunReport(report.run_id)
    with ctx.database.session() as session:
        state = lock_room_states(session, {round_.resource_id})[round_.resource_id]
        if items and prefetched is not None:
            applier = PageApplier(
                session, round_, directory=directory, report=part, now=ctx.clock()
            )
            applier.apply(items, prefetched)
        state.full_round = False
    part.count("reconciled_rooms")
    report.merge(part)


def _unseen(session: Session, round_: RoomRound) -> list[str]:
    """Room event ids of live bookings in the window that the full round did not see."""
    push_in_flight = exists().where(
        OutboxEntry.booking_id == Booking.id, OutboxEntry.state == OutboxState.PENDING
    )
    query = (
        select(EventLink.room_event_id)
        .join(Booking, Booking.id == EventLink.booking_id)
        .where(
            EventLink.integration_id == round_.integration_id,
            EventLink.room_email == round_.room_email,
            EventLink.room_event_id.is_not(None),
            or_(EventLink.last_seen_at.is_(None), EventLink.last_seen_at < round_.started_at),
            Booking.status != BookingStatus.CANCELLED,
            Booking.start_at < round_.window.end,
            Booking.end_at > round_.window.start,
            ~push_in_flight,
        )
    )
    return [room_event_id for room_event_id in session.scalars(query) if room_event_id]
