"""What a room-calendar event means as a booking, and the status reasons the sync writes
(docs/sync.md, "What each side can see").

- Times: Graph answers in UTC (we send ``Prefer: outlook.timezone="UTC"``) but any
  Windows or IANA zone name it returns is honoured (``roomsync.m365.timezones``).
- All-day events carry midnight-to-midnight dates rather than instants
  (event.md: "start and end must be set to midnight"); they block the room for whole
  days in the integration's time zone.
- The room mailbox often replaces the subject with the organizer's name or deletes it
  (Set-CalendarProcessing AddOrganizerToSubject/DeleteSubject); an empty subject becomes
  the organizer's name.
- ``private`` and ``confidential`` sensitivity make a private booking; ``showAs: free``
  marks an item that does not occupy the room. A room's copy has usually lost its private
  flag (``RemovePrivateProperty``): :mod:`roomsync.sync.pull.organizer_privacy` then corrects the
  copy from the organizer's calendar.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from roomsync.m365.models import DateTimeTimeZone, Event, FreeBusyStatus, Sensitivity
from roomsync.m365.timezones import to_utc
from roomsync.sync.exceptions import UnusableEventError
from roomsync.sync.planner import RoomCopy

PRIVATE_SENSITIVITIES = frozenset({Sensitivity.PRIVATE, Sensitivity.CONFIDENTIAL})
UNTITLED = "Booked in Outlook"
_GRAPH_UTC_LENGTH = len("2026-04-15T11:00:00.0000000")


def room_copy_from_event(event: Event, *, zone: ZoneInfo) -> RoomCopy:
    """The planner's view of one live item of a room's calendar."""
    if event.start is None or event.end is None:
        raise UnusableEventError(f"The room-calendar item {event.id} has no start or end time.")
    all_day = bool(event.is_all_day)
    start, end = _instant(event.start, all_day, zone), _instant(event.end, all_day, zone)
    organizer = event.organizer.email_address if event.organizer else None
    return RoomCopy(
        room_event_id=event.id,
        ical_uid=event.i_cal_u_id or event.id,
        start=start,
        end=end,
        subject=_title(event.subject, organizer.name if organizer else None),
        private=event.sensitivity in PRIVATE_SENSITIVITIES,
        cancelled=bool(event.is_cancelled),
        free=event.show_as == FreeBusyStatus.FREE,
        last_modified=event.last_modified_date_time,
        change_key=event.change_key,
        all_day=all_day,
        organizer_email=organizer.address.lower() if organizer and organizer.address else None,
        organizer_name=organizer.name if organizer else None,
        series_id=event.series_master_id,
    )


def _instant(value: DateTimeTimeZone, all_day: bool, zone: ZoneInfo) -> datetime:
    if not all_day:
        return _utc_instant(value)
    day = date.fromisoformat(value.date_time[:10])
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _utc_instant(value: DateTimeTimeZone) -> datetime:
    """Graph's usual answer, ``2026-04-15T11:00:00.0000000`` in UTC, read directly (two
    per item of a first sync); any other form or zone through :func:`to_utc`."""
    text = value.date_time
    if value.time_zone == "UTC" and len(text) == _GRAPH_UTC_LENGTH and text[19] == ".":
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(text[:26]).replace(tzinfo=UTC)
    return to_utc(value)


def _title(subject: str | None, organizer_name: str | None) -> str:
    cleaned = (subject or "").strip()
    return cleaned or (organizer_name or "").strip() or UNTITLED


CANCELLED_IN_OUTLOOK = "Cancelled in Outlook."
ROOM_DECLINED = "The room mailbox declined the meeting (a conflict or the room's booking policy)."
