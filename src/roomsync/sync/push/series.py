"""A series booked on the platform, pushed as one Graph series (docs/sync.md "Series").

- The series' first push creates its master: ``POST /users/{organizer}/events`` with the
  pattern as ``recurrence`` (``recurrenceTimeZone``: the building's zone, so a weekly 09:00
  stays 09:00 across daylight-saving changes) and a ``transactionId`` made from the
  series id, so a create retried after a lost answer or a crash returns the same master
  (user-post-events.md). Every booking of the series waiting for its first push is claimed
  with it, so the master is created once, from one snapshot.
- The pattern's occurrences the platform does not hold (left out on a clash, cancelled
  before the push) are cancelled at once, each by its own id (event-cancel.md: an
  occurrence's id cancels that occurrence).
- Each booking is attached to its occurrence, found among the master's ``instances`` in a
  window by ``originalStart`` (event-list-instances.md) — an occurrence's iCalUId is its
  own, so the ``iCalUId`` filter on ``/events`` (series masters only) never finds it. The
  link records the occurrence's id and iCalUId: a later move PATCHes the occurrence (Graph
  makes it an exception), a cancellation cancels it, and the room's copy of that
  occurrence (same iCalUId) is matched by the pull as for a single meeting.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.m365.calendar import EventDraft, cancel_event, create_event, series_instances
from roomsync.m365.exceptions import NotFound
from roomsync.m365.graph import GraphClient
from roomsync.m365.models import EmailAddress, Event
from roomsync.m365.timezones import iana_to_windows, to_graph
from roomsync.platform.enums import BookingStatus, OutboxState
from roomsync.platform.models import Booking, BookingSeries, OutboxEntry

LIVE = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
FIND_MARGIN = timedelta(days=1)
"""How far around an occurrence's original start its instance is looked for."""
BEYOND_LAST = timedelta(days=31)


def series_transaction_id(series_id: str) -> str:
    """The master's ``transactionId``: the same for every retry of the series' create."""
    return f"{series_id}-master"


@dataclass(frozen=True)
class SeriesSnapshot:
    """The booking's series as read in the claim."""

    series_id: str
    recurrence: dict[str, Any]
    time_zone: str
    first_start: datetime
    first_end: datetime
    last_start: datetime
    original_start: datetime
    """The start this booking's occurrence has in the pattern."""
    keep: frozenset[datetime]
    """Original starts of the series' live bookings: the occurrences Graph should hold."""
    master_mailbox: str | None
    master_event_id: str | None

    def graph_recurrence(self) -> dict[str, Any]:
        windows = iana_to_windows(self.time_zone) or "UTC"
        return {
            "pattern": self.recurrence["pattern"],
            "range": {**self.recurrence["range"], "recurrenceTimeZone": windows},
        }


@dataclass(frozen=True)
class SeriesMaster:
    """Where Graph holds the series, and its live occurrences by original start."""

    mailbox: str
    event_id: str
    ical_uid: str | None
    occurrences: dict[datetime, Event] = field(default_factory=dict)


# -- read in the claim ------------------------------------------------------------------


def series_mates(session: Session, booking_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Other bookings with pending rows of the series, among ``booking_ids``', that Graph
    does not hold yet: a series' first push takes them all."""
    series_ids = set(
        session.scalars(
            select(Booking.series_id)
            .join(BookingSeries, BookingSeries.series_id == Booking.series_id)
            .where(Booking.id.in_(booking_ids), BookingSeries.master_event_id.is_(None))
        )
    )
    if not series_ids:
        return []
    found = session.scalars(
        select(Booking.id)
        .join(OutboxEntry, OutboxEntry.booking_id == Booking.id)
        .where(Booking.series_id.in_(series_ids), OutboxEntry.state == OutboxState.PENDING)
        .distinct()
    )
    known = set(booking_ids)
    return sorted(booking_id for booking_id in found if booking_id not in known)


def series_snapshots(
    session: Session, bookings: Iterable[Booking]
) -> dict[uuid.UUID, SeriesSnapshot]:
    """The series of each booking made as part of a platform series."""
    wanted = {b.series_id: b for b in bookings if b.series_id}
    if not wanted:
        return {}
    rows = session.scalars(select(BookingSeries).where(BookingSeries.series_id.in_(wanted)))
    series = {row.series_id: row for row in rows}
    live = _live_ids(session, series)
    snapshots = {}
    for booking in bookings:
        row = series.get(booking.series_id or "")
        original = row.occurrences.get(str(booking.id)) if row else None
        if row is None or original is None:
            continue  # an Outlook series, or a booking the series did not make
        snapshots[booking.id] = _snapshot(row, _instant(original), live[row.series_id])
    return snapshots


def _live_ids(session: Session, series: dict[str, BookingSeries]) -> dict[str, set[str]]:
    found = session.execute(
        select(Booking.series_id, Booking.id).where(
            Booking.series_id.in_(series), Booking.status.in_(LIVE)
        )
    )
    live: dict[str, set[str]] = defaultdict(set)
    for series_id, booking_id in found:
        live[series_id or ""].add(str(booking_id))
    return live


def _snapshot(row: BookingSeries, original: datetime, live: set[str]) -> SeriesSnapshot:
    starts = [_instant(value) for value in [*row.occurrences.values(), *row.skipped]]
    return SeriesSnapshot(
        series_id=row.series_id,
        recurrence=dict(row.recurrence),
        time_zone=row.time_zone,
        first_start=row.first_start_at,
        first_end=row.first_end_at,
        last_start=max([*starts, row.first_start_at]),
        original_start=original,
        keep=frozenset(_instant(v) for k, v in row.occurrences.items() if k in live),
        master_mailbox=row.master_mailbox,
        master_event_id=row.master_event_id,
    )


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def record_master(session: Session, series_id: str, master: SeriesMaster) -> None:
    row = session.scalar(select(BookingSeries).where(BookingSeries.series_id == series_id))
    if row is not None and row.master_event_id is None:
        row.master_mailbox, row.master_event_id = master.mailbox, master.event_id
        row.master_ical_uid = master.ical_uid


# -- sent to Graph ----------------------------------------------------------------------


@dataclass(frozen=True)
class MasterDraft:
    """What the master is made of: the first live booking's details, the pattern's times."""

    mailbox: str
    subject: str
    room: EmailAddress
    private: bool
    body_text: str | None


def create_master(graph: GraphClient, series: SeriesSnapshot, draft: MasterDraft) -> SeriesMaster:
    """The series' master (the one a retried create made, if any), with the occurrences
    the platform does not hold cancelled."""
    event = create_event(
        graph,
        draft.mailbox,
        EventDraft(
            subject=draft.subject,
            start=to_graph(series.first_start, series.time_zone),
            end=to_graph(series.first_end, series.time_zone),
            room=draft.room,
            body_text=draft.body_text,
            private=draft.private,
            recurrence=series.graph_recurrence(),
        ),
        booking_id=series.series_id,
        transaction_id=series_transaction_id(series.series_id),
    )
    # Past the last occurrence too: one Graph would expand where roomsync did not (it
    # should not) is cancelled rather than left in the room's calendar.
    end = series.last_start + (series.first_end - series.first_start) + BEYOND_LAST
    instances = series_instances(graph, draft.mailbox, event.id, series.first_start, end)
    kept: dict[datetime, Event] = {}
    for instance in instances:
        original = _original_start(instance)
        if original in series.keep:
            kept[original] = instance
        elif original is not None:
            _cancel_occurrence(graph, draft.mailbox, instance.id)
    return SeriesMaster(draft.mailbox, event.id, event.i_cal_u_id, kept)


def find_occurrence(
    graph: GraphClient, master: SeriesMaster, series: SeriesSnapshot
) -> Event | None:
    """The booking's occurrence (None: it was cancelled in Outlook)."""
    known = master.occurrences.get(series.original_start)
    if known is not None:
        return known
    low = series.original_start - FIND_MARGIN
    high = series.original_start + (series.first_end - series.first_start) + FIND_MARGIN
    for instance in series_instances(graph, master.mailbox, master.event_id, low, high):
        if _original_start(instance) == series.original_start:
            return instance
    return None


def cancel_occurrence_of(graph: GraphClient, master: SeriesMaster, series: SeriesSnapshot) -> None:
    occurrence = find_occurrence(graph, master, series)
    if occurrence is not None:
        _cancel_occurrence(graph, master.mailbox, occurrence.id)


def _cancel_occurrence(graph: GraphClient, mailbox: str, event_id: str) -> None:
    try:
        cancel_event(graph, mailbox, event_id)
    except NotFound:
        return  # already cancelled: a retry after a lost answer


def _original_start(instance: Event) -> datetime | None:
    original = instance.original_start
    return original.astimezone(UTC) if original is not None else None
