"""The room mailbox's answer to a push, read back: the room decides
occupancy (docs/architecture.md#identity-rules, rule 4; docs/sync.md "Pushes").

A pushed booking stays ``pending`` until the room answers. Exchange's booking attendant
answers by writing its own copy into the room's calendar (accepted) or by declining,
which shows on the organizer's copy as the room attendee's ``declined`` response
(user-post-events.md "Setting the location"; Set-CalendarProcessing). So, per booking:

- the room's calendar holds a copy (same iCalUId) at the booking's times → ``confirmed``
  (the pull confirms it the same way when the copy arrives by delta or notification);
- the organizer's copy says the room declined → ``declined``, with the reason;
- no answer after the integration's ``room_answer_timeout_seconds`` → ``declined``, saying
  so (a room that accepts later confirms it again: the booking rules allow it); an answer
  that cannot be read by then (Graph failing, the credential refused) is no answer either;
- the organizer's copy is gone → the meeting was cancelled in Outlook.

The room's calendar is only read, never written: the room mailbox decides.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from roomsync.m365.calendar import events_in_view, find_events_by_ical_uid, get_event
from roomsync.m365.exceptions import GraphError, NotFound
from roomsync.m365.graph import GraphClient
from roomsync.m365.models import Event, ResponseType
from roomsync.platform.enums import BookingStatus, ChangeSource, OutboxState
from roomsync.platform.models import Booking, EventLink, Integration, OutboxEntry
from roomsync.platform.services.bookings import cancel_booking, set_booking_status
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.connection import graph_for
from roomsync.sync.mailbox_pool import map_per_mailbox
from roomsync.sync.mapping import CANCELLED_IN_OUTLOOK, ROOM_DECLINED
from roomsync.sync.options import IntegrationOptions
from roomsync.sync.push.plan import event_times

logger = logging.getLogger(__name__)
SOURCE = ChangeSource.MICROSOFT365
MAX_CHECK_INTERVAL = 60.0
CHECK_LIMIT = 200


class RoomAnswer(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    TIMED_OUT = "timed_out"
    MEETING_GONE = "meeting_gone"
    WAITING = "waiting"
    NOT_AWAITED = "not_awaited"
    """The booking no longer waits for an answer (answered, changed, or never pushed)."""


def judge_answer(
    *, held_by_room: bool, response: ResponseType | None, waited: timedelta, timeout: timedelta
) -> RoomAnswer:
    """What the room said, from its calendar and from the organizer's copy."""
    if held_by_room:
        return RoomAnswer.ACCEPTED
    if response is ResponseType.DECLINED:
        return RoomAnswer.DECLINED
    return RoomAnswer.TIMED_OUT if waited >= timeout else RoomAnswer.WAITING


@dataclass(frozen=True)
class AwaitedAnswer:
    """A pushed booking waiting for its room, as read from the database."""

    booking_id: uuid.UUID
    version: int
    integration_id: uuid.UUID
    room_email: str
    ical_uid: str
    organizer_email: str
    organizer_event_id: str
    start: datetime
    end: datetime
    pushed_at: datetime
    timeout: timedelta
    occurrence: bool = False
    """An occurrence of a series: its room copy is listed by calendarView, not /events."""


@dataclass(frozen=True)
class ReadAnswer:
    """What the room said, and the id of its accepted copy when it holds one."""

    answer: RoomAnswer
    room_event_id: str | None = None


@dataclass(frozen=True)
class AnswerOutcome:
    answer: RoomAnswer
    check_again_in: float | None = None
    """Seconds until it is worth asking again, while the room has not answered."""


def check_room_answer(ctx: SyncContext, booking_id: uuid.UUID) -> AnswerOutcome:
    """Read the room's answer to the booking's last push and apply it."""
    return check_answers_of(ctx, [booking_id])[booking_id]


def check_answers_of(
    ctx: SyncContext, booking_ids: list[uuid.UUID]
) -> dict[uuid.UUID, AnswerOutcome]:
    """The rooms' answers to several pushes (a push task's batch): one transaction reads
    what they wait for, one applies every answer found. A Graph error leaves that booking
    waiting, asked again later."""
    with ctx.database.session() as session:
        awaited = _awaited(session, booking_ids, limit=len(booking_ids))
        integrations = {
            a.integration_id: session.get(Integration, a.integration_id) for a in awaited
        }
    graphs = {key: graph_for(ctx, i) for key, i in integrations.items() if i is not None}
    outcomes = {booking_id: AnswerOutcome(RoomAnswer.NOT_AWAITED) for booking_id in booking_ids}
    readable = [item for item in awaited if item.integration_id in graphs]
    views = _room_views(graphs, readable)
    answers = map_per_mailbox(
        readable,
        lambda item: item.room_email,
        lambda item: _answer_or_wait(ctx, graphs, item, views.get(_view_key(item))),
    )
    answered: list[tuple[AwaitedAnswer, ReadAnswer]] = []
    for item, read in zip(readable, answers, strict=True):
        if read.answer is RoomAnswer.WAITING:
            waited = ctx.clock() - item.pushed_at
            outcomes[item.booking_id] = AnswerOutcome(read.answer, _check_again_in(item, waited))
        else:
            answered.append((item, read))
    if answered:
        with ctx.database.session() as session:
            for item, read in answered:
                applied = _apply(session, item, read)
                outcomes[item.booking_id] = AnswerOutcome(
                    read.answer if applied else RoomAnswer.NOT_AWAITED
                )
    return outcomes


def check_room_answers(
    ctx: SyncContext, *, limit: int = CHECK_LIMIT
) -> dict[uuid.UUID, RoomAnswer]:
    """The periodic safety net: every pushed booking still waiting for its room."""
    with ctx.database.session() as session:
        awaited = _awaited(session, None, limit=limit)
        integrations = {
            a.integration_id: session.get(Integration, a.integration_id) for a in awaited
        }
    graphs = {key: graph_for(ctx, i) for key, i in integrations.items() if i is not None}
    answers: dict[uuid.UUID, RoomAnswer] = {}
    readable = [item for item in awaited if item.integration_id in graphs]
    views = _room_views(graphs, readable)
    for item in awaited:
        read = _answer_or_wait(ctx, graphs, item, views.get(_view_key(item)))
        answer = read.answer
        if answer is not RoomAnswer.WAITING:
            with ctx.database.session() as session:
                answer = answer if _apply(session, item, read) else RoomAnswer.NOT_AWAITED
        answers[item.booking_id] = answer
    return answers


ViewKey = tuple[uuid.UUID, str]


def _view_key(item: AwaitedAnswer) -> ViewKey:
    return item.integration_id, item.room_email


def _room_views(
    graphs: dict[uuid.UUID, GraphClient], items: list[AwaitedAnswer]
) -> dict[ViewKey, list[Event]]:
    """One calendarView per room over the occurrences awaiting it (a series' first push
    awaits all of them), instead of one per occurrence; a room whose view fails is read
    occurrence by occurrence."""
    spans: dict[ViewKey, list[AwaitedAnswer]] = {}
    for item in items:
        if item.occurrence:
            spans.setdefault(_view_key(item), []).append(item)
    views = {}
    for (integration_id, room), group in spans.items():
        if len(group) < 2:
            continue
        low, high = min(i.start for i in group), max(i.end for i in group)
        try:
            views[(integration_id, room)] = events_in_view(graphs[integration_id], room, low, high)
        except GraphError as exc:
            logger.info("The calendar of %s could not be read at once: %s", room, exc.message)
    return views


def _answer_or_wait(
    ctx: SyncContext,
    graphs: dict[uuid.UUID, GraphClient],
    item: AwaitedAnswer,
    view: list[Event] | None = None,
) -> ReadAnswer:
    """The room's answer; when it cannot be read, wait — or, past the timeout, no answer."""
    waited = ctx.clock() - item.pushed_at
    try:
        return _read_answer(graphs[item.integration_id], item, waited, view)
    except GraphError as exc:
        logger.warning("The room's answer to booking %s: %s", item.booking_id, exc.message)
        return ReadAnswer(RoomAnswer.TIMED_OUT if waited >= item.timeout else RoomAnswer.WAITING)


def _check_again_in(awaited: AwaitedAnswer, waited: timedelta) -> float:
    """Seconds until asking again: as long as it has waited (1 s at least, a minute at
    most), and no later than just after its timeout."""
    remaining = (awaited.timeout - waited).total_seconds()
    return min(max(waited.total_seconds(), 1.0), MAX_CHECK_INTERVAL, remaining + 1.0)


def _room_copies(
    graph: GraphClient, awaited: AwaitedAnswer, view: list[Event] | None
) -> list[Event]:
    """The room's copies of the meeting: an occurrence's (its own iCalUId, which the
    ``/events`` filter never matches: it lists series masters) from the room's
    calendarView over the booking's times, or over the series' (``view``)."""
    if not awaited.occurrence:
        return find_events_by_ical_uid(graph, awaited.room_email, awaited.ical_uid)
    if view is None:
        view = events_in_view(graph, awaited.room_email, awaited.start, awaited.end)
    return [event for event in view if event.i_cal_u_id == awaited.ical_uid]


def _read_answer(
    graph: GraphClient, awaited: AwaitedAnswer, waited: timedelta, view: list[Event] | None
) -> ReadAnswer:
    copies = _room_copies(graph, awaited, view)
    wanted = (awaited.start, awaited.end)
    held = next((c for c in copies if not c.is_cancelled and event_times(c) == wanted), None)
    if held is not None:
        return ReadAnswer(RoomAnswer.ACCEPTED, held.id)
    try:
        copy = get_event(graph, awaited.organizer_email, awaited.organizer_event_id)
    except NotFound:
        return ReadAnswer(RoomAnswer.MEETING_GONE)
    attendee = copy.attendee(awaited.room_email)
    if attendee is None and awaited.occurrence:
        # The series no longer books the room (taken off, or moved to another room, whose
        # copies the pull makes bookings of): this room will never answer.
        return ReadAnswer(RoomAnswer.MEETING_GONE)
    response = attendee.status.response if attendee and attendee.status else None
    return ReadAnswer(
        judge_answer(held_by_room=False, response=response, waited=waited, timeout=awaited.timeout)
    )


def _apply(session: Session, awaited: AwaitedAnswer, read: ReadAnswer) -> bool:
    answer = read.answer
    booking = session.get(Booking, awaited.booking_id)
    if booking is None or booking.version != awaited.version:
        return False  # changed since it was read: the next push asks the room again
    link = session.scalar(select(EventLink).where(EventLink.booking_id == booking.id))
    if link is not None and read.room_event_id and link.room_email == awaited.room_email:
        # The room's copy, known before the delta brings it: a removal of it (the meeting
        # cancelled in Outlook before the next pull) then matches this booking.
        link.room_event_id = link.room_event_id or read.room_event_id
    old = booking.version
    if answer is RoomAnswer.MEETING_GONE:
        cancel_booking(session, booking_id=booking.id, reason=CANCELLED_IN_OUTLOOK, source=SOURCE)
    else:
        status, reason = _status_for(answer, awaited.timeout)
        set_booking_status(
            session, booking_id=booking.id, status=status, reason=reason, source=SOURCE
        )
    if link is not None and link.synced_version == old:
        link.synced_version = booking.version  # the sync's own change: nothing to push
    return True


def _status_for(answer: RoomAnswer, timeout: timedelta) -> tuple[BookingStatus, str | None]:
    if answer is RoomAnswer.ACCEPTED:
        return BookingStatus.CONFIRMED, None
    if answer is RoomAnswer.DECLINED:
        return BookingStatus.DECLINED, ROOM_DECLINED
    minutes = timeout.total_seconds() / 60
    return BookingStatus.DECLINED, (
        f"The room mailbox did not answer within {minutes:g} minutes, so the booking was "
        "declined; check that the room accepts meeting requests automatically "
        "(Set-CalendarProcessing -AutomateProcessing AutoAccept). If it accepts later, the "
        "booking is confirmed again."
    )


def _awaited(
    session: Session, booking_ids: list[uuid.UUID] | None, *, limit: int = CHECK_LIMIT
) -> list[AwaitedAnswer]:
    pending_push = exists().where(
        OutboxEntry.booking_id == Booking.id, OutboxEntry.state == OutboxState.PENDING
    )
    pushed_at = (
        select(func.max(OutboxEntry.done_at))
        .where(OutboxEntry.booking_id == Booking.id, OutboxEntry.state == OutboxState.DONE)
        .scalar_subquery()
    )
    query = (
        select(Booking, EventLink, Integration, pushed_at)
        .join(EventLink, EventLink.booking_id == Booking.id)
        .join(Integration, Integration.organization_id == Booking.organization_id)
        .where(
            Booking.status == BookingStatus.PENDING,
            EventLink.organizer_event_id.is_not(None),
            EventLink.ical_uid.is_not(None),
            Integration.enabled.is_(True),
            ~pending_push,
        )
    )
    if booking_ids is not None:
        query = query.where(Booking.id.in_(booking_ids))
    rows = session.execute(query.order_by(Booking.id).limit(limit)).all()
    return [
        _awaited_answer(booking, link, integration, pushed_at)
        for booking, link, integration, pushed_at in rows
        if pushed_at is not None
    ]


def _awaited_answer(
    booking: Booking, link: EventLink, integration: Integration, pushed_at: datetime
) -> AwaitedAnswer:
    options = IntegrationOptions.from_stored(integration.options)
    return AwaitedAnswer(
        booking_id=booking.id,
        version=booking.version,
        integration_id=integration.id,
        room_email=link.room_email,
        ical_uid=link.ical_uid or "",
        organizer_email=link.organizer_email or "",
        organizer_event_id=link.organizer_event_id or "",
        start=booking.start_at,
        end=booking.end_at,
        pushed_at=pushed_at,
        timeout=timedelta(seconds=options.room_answer_timeout_seconds),
        occurrence=booking.series_id is not None,
    )
