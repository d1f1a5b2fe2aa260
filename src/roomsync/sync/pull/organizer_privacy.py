"""A meeting's privacy as its organizer's copy says it, whatever the room's copy says.

A room mailbox rewrites its copy of a meeting (Set-CalendarProcessing defaults): it clears
the private flag (``RemovePrivateProperty``) and puts the organizer's name in place of the
subject (``AddOrganizerToSubject``, ``DeleteSubject``); with ``DeleteSubject`` off it keeps
the real subject. Read alone, the room's copy would make every private meeting a public
booking, titled with the organizer's name or, worse, with the subject occupants must not
read. So the sync asks each organizer's calendar, once per pull and window, for its private
meetings (:mod:`roomsync.m365.private_meetings`: one query per organizer, not one per
meeting) and a room copy whose instance is among them is a private booking titled with the
organizer's own subject, which only admins see ("Private booking" for everyone else).

An organizer outside the tenant has no mailbox roomsync can read (404), and an application
access policy may keep roomsync out of a mailbox (403): the room's copy is then all there is
(README "Limits"), with a warning unless the organizer is simply external. A failure that
passes (throttling, 5xx, the network, the credential) fails the page instead, which the
next pull applies again: a private meeting is never made public by a lookup that failed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from roomsync.m365.calendar import DeltaWindow
from roomsync.m365.exceptions import (
    AuthenticationFailed,
    GraphConnectionError,
    GraphError,
    NotFound,
    ServiceUnavailable,
    Throttled,
)
from roomsync.m365.graph import GraphClient
from roomsync.m365.models import Event
from roomsync.m365.private_meetings import PrivateMeetings, read_private_meetings
from roomsync.platform.enums import Origin
from roomsync.sync.links import LinkIndex
from roomsync.sync.planner import RoomCopy

# Failures that pass: a private meeting must not become public because Graph was busy.
_PASSING = (Throttled, ServiceUnavailable, GraphConnectionError, AuthenticationFailed)

Privacy = dict[str, PrivateMeetings | None]
"""Organizer email → its private meetings, or None when its calendar cannot be read."""


class OrganizerPrivacy:
    """Each organizer's private meetings in a window, asked for once per run."""

    def __init__(self, graph: GraphClient, warnings: list[str]) -> None:
        """``warnings``: where the run's warnings are collected."""
        self.graph = graph
        self.known: dict[tuple[str, DeltaWindow], PrivateMeetings | None] = {}
        self.warnings = warnings

    def fetch(self, organizers: Iterable[str], window: DeltaWindow) -> None:
        """Ask Graph about the organizers not asked about yet (raises what must be retried)."""
        missing = sorted({email for email in organizers if (email, window) not in self.known})
        if not missing:
            return
        for email, answer in read_private_meetings(self.graph, missing, window).items():
            self.known[(email, window)] = self._settled(email, answer)

    def of(self, organizers: Iterable[str], window: DeltaWindow) -> Privacy:
        return {email: self.known.get((email, window)) for email in organizers}

    def _settled(self, email: str, answer: PrivateMeetings | GraphError) -> PrivateMeetings | None:
        if not isinstance(answer, GraphError):
            return answer
        if isinstance(answer, _PASSING):
            raise answer  # the page fails and the next pull asks again
        if not isinstance(answer, NotFound):  # NotFound: an organizer outside the tenant
            self.warnings.append(
                f"The calendar of the organizer {email} could not be read ({answer.message}); "
                "whether its meetings are private is taken from the rooms' copies, which "
                "usually say they are not. Let roomsync's application read that mailbox."
            )
        return None


def as_organizer_sees_it(copy: RoomCopy, privacy: Privacy) -> RoomCopy:
    """The room copy with the privacy (and, when private, the subject) of the organizer's
    copy; unchanged when the organizer's calendar could not be read."""
    private = privacy.get(copy.organizer_email or "")
    if private is None:
        return copy
    subject = private.get(copy.ical_uid)
    if subject is None:
        return replace(copy, private=False) if copy.private else copy
    return replace(copy, private=True, subject=subject.strip() or copy.subject)


def organizers_to_ask(index: LinkIndex, items: Sequence[Event]) -> frozenset[str]:
    """Organizers of the live items whose booking takes its privacy from Outlook: new
    meetings and Outlook-born bookings (a platform-born booking keeps the platform's)."""
    asked = set()
    for event in items:
        if event.removed is not None or (email := organizer_of(event)) is None:
            continue
        link = index.match(event.id, event.i_cal_u_id)
        if link is None or index.booking_of(link).origin is Origin.MICROSOFT365:
            asked.add(email)
    return frozenset(asked)


def privacy_for(
    privacy: OrganizerPrivacy,
    window: DeltaWindow,
    organizers: frozenset[str],
    found_again: Iterable[Event | None],
) -> Privacy:
    """What a page needs: its organizers' private meetings, and those of the organizers of
    room copies a removal check found under a new id (they are applied as live items)."""
    wanted = organizers | {e for event in found_again if event and (e := organizer_of(event))}
    privacy.fetch(wanted, window)
    return privacy.of(wanted, window)


def organizer_of(event: Event) -> str | None:
    """The organizer's address in lower case, as :class:`RoomCopy` holds it."""
    address = event.organizer.email_address if event.organizer else None
    return address.address.lower() if address and address.address else None
