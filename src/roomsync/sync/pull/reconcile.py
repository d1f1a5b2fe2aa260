"""The end of a full round: bookings the room's calendar no longer holds (an
expired or reset delta token, ``syncStateNotFound``/410, starts a fresh full round that
reconciles; docs/architecture.md#the-four-workflows).

A full round lists everything in the window, so a linked booking it did not see has left
the room's calendar — or the window. Each is treated exactly like an ``@removed`` item
(verified with Graph before anything is cancelled, docs/sync.md), except when the whole
calendar came back empty while many bookings are linked to it: one side looking wiped is
not propagated (the guard vdirsyncer keeps); a warning asks an operator to look.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from roomsync.m365.graph import GraphClient
from roomsync.m365.models import Event, Removed
from roomsync.platform.enums import OutboxState
from roomsync.platform.models import Booking, EventLink, OutboxEntry, RoomSyncState
from roomsync.platform.services.booking_rules import CLOSED_STATUSES
from roomsync.sync.context import SyncContext
from roomsync.sync.pull.apply import PageApplier
from roomsync.sync.pull.page_flush import lock_room_states
from roomsync.sync.pull.prefetch import OrganizerDirectory, perform_lookups, plan_lookups
from roomsync.sync.pull.rounds import RoomRound
from roomsync.sync.runs import RunReport

logger = logging.getLogger(__name__)
WIPE_GUARD = 5
_ROOMS_PER_QUERY = 500
"""A full round that sees nothing while at least this many bookings are linked is distrusted."""


def reconcile_full_rounds(
    ctx: SyncContext,
    graph: GraphClient,
    directory: OrganizerDirectory,
    rounds: list[RoomRound],
    report: RunReport,
) -> None:
    """:func:`reconcile_room` for each of ``rounds``. The rooms whose full round saw every
    linked booking (all of them, usually) are closed together in one transaction: a first
    sync of 500 rooms otherwise ends with 500 pairs of transactions, one after the other."""
    with ctx.database.session() as session:
        unseen = _rooms_with_unseen(session, rounds)
    for round_ in rounds:
        if round_.resource_id in unseen:
            reconcile_room(ctx, graph, directory, round_, report)
    settled = {r.resource_id for r in rounds if r.resource_id not in unseen}
    if settled:
        with ctx.database.session() as session:
            for state in lock_room_states(session, settled).values():
                state.full_round = False
        report.count("reconciled_rooms", len(settled))


def _rooms_with_unseen(session: Session, rounds: list[RoomRound]) -> set[uuid.UUID]:
    """Those of the rooms for which :func:`_unseen` would find something, asked for rounds
    that share a start and window together."""
    groups: dict[tuple[object, ...], list[RoomRound]] = {}
    for round_ in rounds:
        key = (round_.integration_id, round_.started_at, round_.window)
        groups.setdefault(key, []).append(round_)
    found: set[uuid.UUID] = set()
    for group in groups.values():
        by_email = {round_.room_email: round_.resource_id for round_ in group}
        emails = sorted(by_email)
        for start in range(0, len(emails), _ROOMS_PER_QUERY):
            chunk = emails[start : start + _ROOMS_PER_QUERY]
            query = _unseen_query(EventLink.room_email, group[0], chunk)
            found.update(by_email[email] for email in session.scalars(query.distinct()) if email)
    return found


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
    query = _unseen_query(EventLink.room_event_id, round_, [round_.room_email])
    return [room_event_id for room_event_id in session.scalars(query) if room_event_id]


def _unseen_query(
    wanted: InstrumentedAttribute[str] | InstrumentedAttribute[str | None],
    round_: RoomRound,
    room_emails: list[str],
) -> Select[str | None]:
    """``wanted`` of the links of these rooms that ``round_``'s start and window make
    unseen (the rooms' rounds share that start and window)."""
    push_in_flight = exists().where(
        OutboxEntry.booking_id == Booking.id, OutboxEntry.state == OutboxState.PENDING
    )
    return (
        select(wanted)
        .join(Booking, Booking.id == EventLink.booking_id)
        .where(
            EventLink.integration_id == round_.integration_id,
            EventLink.room_email.in_(room_emails),
            EventLink.room_event_id.is_not(None),
            or_(EventLink.last_seen_at.is_(None), EventLink.last_seen_at < round_.started_at),
            Booking.status.not_in(CLOSED_STATUSES),
            Booking.start_at < round_.window.end,
            Booking.end_at > round_.window.start,
            ~push_in_flight,
        )
    )
