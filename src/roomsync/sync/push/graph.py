"""Sending a planned push to Microsoft Graph (identity rule 2 in
docs/architecture.md#identity-rules; docs/sync.md "Pushes").

- create: ``POST /users/{organizer}/events`` with the room as ``resource`` attendee and
  location, the booking id in our extended property and a ``transactionId`` made from
  the booking id, so a retry after a lost answer returns the event the first try made
  (user-post-events.md). Such a retry may return an older version of the booking; what
  differs is patched at once. An organizer without a mailbox (404) is booked through the
  integration's service account when it has one — never in the room's own mailbox.
- update: the organizer's copy is read first (by id, or for a meeting born in Outlook by
  iCalUId in the organizer's mailbox) so that identity rule 5 decides a concurrent Outlook edit
  before anything is overwritten; then only what differs is PATCHed.
- cancel: ``POST …/cancel`` as organizer with a comment (event-cancel.md; 202), ``DELETE``
  where Graph refuses it (400: not the organizer), a 404 meaning it is already gone.
- release: a cancelled Outlook-born booking takes the room out of the organizer's meeting.

Graph errors are raised to the caller, which records them on the outbox rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from roomsync.m365.calendar import (
    booking_id_of,
    cancel_event,
    create_event,
    delete_event,
    events_in_view,
    find_events_by_booking_id,
    find_events_by_ical_uid,
    get_event,
    update_event,
)
from roomsync.m365.exceptions import BadRequest, NotFound
from roomsync.m365.graph import GraphClient
from roomsync.m365.models import EmailAddress, Event, Sensitivity
from roomsync.platform.enums import BookingStatus
from roomsync.sync.exceptions import PushRefusedError
from roomsync.sync.push.conflicts import (
    OrganizerCopy,
    PatchVerdict,
    PlatformSide,
    decide_before_patch,
)
from roomsync.sync.push.outbox import PushJob
from roomsync.sync.push.plan import (
    PushKind,
    event_times,
    patch_for,
    plan_push,
    release_room_patch,
)
from roomsync.sync.push.series import (
    MasterDraft,
    SeriesMaster,
    SeriesSnapshot,
    cancel_occurrence_of,
    create_master,
    find_occurrence,
)

CANCEL_COMMENT = "This room booking was cancelled in the workspace booking system."
RELEASE_COMMENT = (
    "Nobody checked in to this meeting's room in time, so the room was released for others."
)


def transaction_id(booking_id: object) -> str:
    """The create's ``transactionId``: the same for every retry of one booking's create."""
    return f"roomsync-{booking_id}"


@dataclass(frozen=True)
class EventFacts:
    """Where the organizer's copy lives, as Graph last answered for it."""

    mailbox: str
    event_id: str
    ical_uid: str | None
    change_key: str | None
    web_link: str | None = None

    @classmethod
    def of(cls, mailbox: str, event: Event) -> EventFacts:
        return cls(mailbox, event.id, event.i_cal_u_id, event.change_key, event.web_link)


@dataclass(frozen=True)
class Pushed:
    """Graph now holds the booking (or, for ``event`` None, no longer holds the meeting)."""

    kind: PushKind
    event: EventFacts | None = None
    overridden: dict[str, Any] | None = None
    """Outlook's version of the meeting, when the platform's later change overwrote it."""


@dataclass(frozen=True)
class OutlookWon:
    """Outlook changed the meeting later than the platform: nothing was sent."""

    event: EventFacts
    start: datetime
    end: datetime
    last_modified: datetime | None


@dataclass(frozen=True)
class OutlookCancelled:
    """The organizer's copy is gone: the meeting was cancelled or deleted in Outlook."""


PushResult = Pushed | OutlookWon | OutlookCancelled


class PushSender:
    """Carries one :class:`PushJob` out against Graph."""

    def __init__(
        self, graph: GraphClient, job: PushJob, master: SeriesMaster | None = None
    ) -> None:
        self.graph = graph
        self.job = job
        self.booking = job.booking
        self.master = master

    def send(self) -> PushResult:
        link, series = self.job.link, self.job.series
        if series is not None and (link is None or link.organizer_event_id is None):
            return self._first_series_push(series)
        kind = plan_push(self.booking, link, attempted=self.job.attempted)
        if kind is PushKind.CREATE:
            return self._create()
        if kind is PushKind.UPDATE:
            return self._update()
        if kind is PushKind.CANCEL:
            return self._cancel()
        if kind is PushKind.RELEASE_ROOM:
            return self._release_room()
        return Pushed(PushKind.NOTHING)

    # -- create -------------------------------------------------------------------------

    def _create(self) -> PushResult:
        mailbox = self._booking_mailbox()
        try:
            event = self._post(mailbox)
        except NotFound as exc:
            mailbox = self._fallback_mailbox(mailbox, exc)
            event = self._post(mailbox)
        changes = patch_for(self.booking, None, event) | self._detail_changes(event)
        if changes:  # a retried create returned the first, older version of the booking
            event = update_event(self.graph, mailbox, event.id, changes)
        return Pushed(PushKind.CREATE, EventFacts.of(mailbox, event))

    # -- an occurrence of a platform series (push/series.py) ----------------------------

    def series_master(self, series: SeriesSnapshot) -> SeriesMaster:
        """Where Graph holds the booking's series: created now if no push recorded it."""
        if self.master is not None:
            return self.master
        if series.master_mailbox and series.master_event_id:
            return SeriesMaster(series.master_mailbox, series.master_event_id, None)
        mailbox = self._booking_mailbox()
        on_behalf = mailbox != self.booking.organizer_email
        body = f"Booked for {self.booking.organizer_email} by roomsync." if on_behalf else None
        draft = MasterDraft(
            mailbox=mailbox,
            subject=self.booking.title,
            room=EmailAddress(name=self.booking.room_name, address=self.booking.room_email),
            private=self.booking.private,
            body_text=body,
        )
        return create_master(self.graph, series, draft)

    def _first_series_push(self, series: SeriesSnapshot) -> PushResult:
        status = self.booking.status
        if status is BookingStatus.DECLINED:
            return Pushed(PushKind.NOTHING)
        if status is BookingStatus.CANCELLED:
            if self.master is not None or series.master_event_id is not None:
                cancel_occurrence_of(self.graph, self.series_master(series), series)
            return Pushed(PushKind.CANCEL)
        master = self.series_master(series)
        occurrence = find_occurrence(self.graph, master, series)
        if occurrence is None:
            return OutlookCancelled()
        changes = patch_for(self.booking, None, occurrence) | self._detail_changes(occurrence)
        if changes:  # changed on the platform before its first push: an exception
            occurrence = update_event(self.graph, master.mailbox, occurrence.id, changes)
        return Pushed(PushKind.CREATE, EventFacts.of(master.mailbox, occurrence))

    def _booking_mailbox(self) -> str:
        organizer, service = self.booking.organizer_email, self.job.service_account
        return service if self.job.organizer_external and service else organizer

    def _post(self, mailbox: str) -> Event:
        on_behalf = mailbox != self.booking.organizer_email
        try:
            return create_event(
                self.graph,
                mailbox,
                self.booking.draft(body_text=self.booking.body_text(mailbox)),
                booking_id=str(self.booking.booking_id),
                transaction_id=transaction_id(self.booking.booking_id),
            )
        except NotFound as exc:
            if on_behalf:
                raise self._no_mailbox(f" nor does the service account {mailbox}") from exc
            raise

    def _fallback_mailbox(self, mailbox: str, exc: NotFound) -> str:
        service = self.job.service_account
        if not service or service == mailbox:
            raise self._no_mailbox(
                ", and the integration has no service account to book on their behalf"
            ) from exc
        return service

    def _no_mailbox(self, why: str) -> PushRefusedError:
        return PushRefusedError(
            f"The organizer {self.booking.organizer_email} has no mailbox in Microsoft 365"
            f"{why}, so the booking cannot be sent to the room. Set the integration's "
            "service_account to a mailbox roomsync may write to (or book with an organizer "
            "from the tenant), then retry the push."
        )

    def _detail_changes(self, event: Event) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        if event.subject is not None and event.subject != self.booking.title:
            changes["subject"] = self.booking.title
        private = event.sensitivity in {Sensitivity.PRIVATE, Sensitivity.CONFIDENTIAL}
        if event.sensitivity is not None and private != self.booking.private:
            changes["sensitivity"] = "private" if self.booking.private else "normal"
        return changes

    # -- update -------------------------------------------------------------------------

    def _update(self) -> PushResult:
        found = self._organizer_copy(required=True)
        if found is None:
            return OutlookCancelled()
        mailbox, copy = found
        times = event_times(copy)
        if copy.is_cancelled or times is None:
            return OutlookCancelled()
        verdict = decide_before_patch(self._copy_facts(copy, times), self._platform_side())
        if verdict is PatchVerdict.OUTLOOK_WINS:
            facts = EventFacts.of(mailbox, copy)
            return OutlookWon(facts, times[0], times[1], copy.last_modified_date_time)
        changes = patch_for(self.booking, self.job.link, copy)
        updated = update_event(self.graph, mailbox, copy.id, changes) if changes else copy
        overridden = (
            _outlook_version(copy, times) if verdict is PatchVerdict.PLATFORM_WINS else None
        )
        return Pushed(PushKind.UPDATE, EventFacts.of(mailbox, updated), overridden)

    def _copy_facts(self, copy: Event, times: tuple[datetime, datetime]) -> OrganizerCopy:
        return OrganizerCopy(copy.change_key, copy.last_modified_date_time, *times)

    def _platform_side(self) -> PlatformSide:
        link = self.job.link
        return PlatformSide(
            agreed_start=link.agreed_start if link else None,
            agreed_end=link.agreed_end if link else None,
            pushed_change_key=link.organizer_change_key if link else None,
            changed_since_agreed=self.booking.version > (link.synced_version if link else 0),
            updated_at=self.booking.updated_at,
        )

    def _organizer_copy(self, *, required: bool) -> tuple[str, Event] | None:
        """The organizer's copy: by id when a push recorded it (None: it was deleted),
        else by iCalUId (``required``: not finding it is an error, not a cancellation —
        the meeting may simply live where roomsync cannot see it)."""
        link = self.job.link
        if link is None or not link.organizer_email:
            raise PushRefusedError(
                f"roomsync does not know who organizes the meeting of booking "
                f"{self.booking.booking_id}: change it in Outlook."
            )
        mailbox = link.organizer_email
        if link.organizer_event_id is not None:
            try:
                return mailbox, get_event(self.graph, mailbox, link.organizer_event_id)
            except NotFound:
                return None
        copies = [
            event
            for event in self._by_ical_uid(mailbox, link.ical_uid or "")
            if event.is_organizer is not False
        ] or self._occurrence_in_view(mailbox, link.ical_uid)
        if copies:
            return mailbox, copies[0]
        if required:
            raise PushRefusedError(
                f"The meeting of booking {self.booking.booking_id} was not found in the "
                f"calendar of its organizer {mailbox}: change it in Outlook."
            )
        return None

    def _occurrence_in_view(self, mailbox: str, ical_uid: str | None) -> list[Event]:
        """An occurrence (or exception) of a series with this iCalUId, from the organizer's
        calendarView over the agreed times: the ``/events`` filter lists masters only."""
        link = self.job.link
        start = link.agreed_start if link and link.agreed_start else self.booking.start
        end = link.agreed_end if link and link.agreed_end else self.booking.end
        if not ical_uid:
            return []
        listed = events_in_view(self.graph, mailbox, start, end)
        return [e for e in listed if e.i_cal_u_id == ical_uid and e.is_organizer is not False]

    def _by_ical_uid(self, mailbox: str, ical_uid: str) -> list[Event]:
        try:
            return find_events_by_ical_uid(self.graph, mailbox, ical_uid)
        except NotFound as exc:
            raise PushRefusedError(
                f"The organizer {mailbox} has no mailbox in this tenant, so roomsync cannot "
                "change their meeting: change it in Outlook."
            ) from exc

    # -- cancel and release ---------------------------------------------------------------

    def _cancel(self) -> PushResult:
        for mailbox, event_id in self._cancel_targets():
            self._cancel_one(mailbox, event_id)
        return Pushed(PushKind.CANCEL)

    def _cancel_targets(self) -> list[tuple[str, str]]:
        link = self.job.link
        if link is not None and link.organizer_email and link.organizer_event_id:
            return [(link.organizer_email, link.organizer_event_id)]
        # A create may have reached Graph without its answer reaching us: find it by tag.
        mailboxes = dict.fromkeys([self.booking.organizer_email, self.job.service_account])
        return [
            (mailbox, event.id)
            for mailbox in mailboxes
            if mailbox
            for event in self._tagged(mailbox)
        ]

    def _tagged(self, mailbox: str) -> list[Event]:
        booking_id = str(self.booking.booking_id)
        try:
            found = find_events_by_booking_id(self.graph, mailbox, booking_id)
        except NotFound:
            return []
        return [event for event in found if booking_id_of(event) in (None, booking_id)]

    def _cancel_one(self, mailbox: str, event_id: str) -> None:
        try:
            cancel_event(self.graph, mailbox, event_id, comment=self._cancel_comment())
        except NotFound:
            return
        except BadRequest:
            try:
                delete_event(self.graph, mailbox, event_id)
            except NotFound:
                return

    def _cancel_comment(self) -> str:
        released = self.booking.status is BookingStatus.RELEASED
        return RELEASE_COMMENT if released else CANCEL_COMMENT

    def _release_room(self) -> PushResult:
        found = self._organizer_copy(required=False)
        room = self.job.link.room_email if self.job.link else self.booking.room_email
        if found is None or found[1].attendee(room) is None:
            return Pushed(PushKind.RELEASE_ROOM)
        mailbox, copy = found
        if copy.series_master_id is not None:
            # One occurrence of an Outlook series: cancelled as the organizer would cancel
            # it in Outlook (the room's attendance is the series', not the occurrence's).
            self._cancel_one(mailbox, copy.id)
            return Pushed(PushKind.RELEASE_ROOM)
        update_event(self.graph, mailbox, copy.id, release_room_patch(copy, room))
        return Pushed(PushKind.RELEASE_ROOM)


def awaits_room(job: PushJob, result: PushResult) -> bool:
    """After this push, the booking waits for the room mailbox's answer."""
    live = isinstance(result, Pushed | OutlookWon)
    return live and job.booking.status is BookingStatus.PENDING


def _outlook_version(copy: Event, times: tuple[datetime, datetime]) -> dict[str, Any]:
    modified = copy.last_modified_date_time
    return {
        "start": times[0].isoformat(),
        "end": times[1].isoformat(),
        "subject": copy.subject,
        "last_modified": modified.isoformat() if modified else None,
    }
