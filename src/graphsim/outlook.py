"""Acting as Outlook users: what people do in Outlook, without any app in between.

These calls write the same way Graph requests do (so room processing, change logs and
notifications follow), but carry no token, are not throttled and are not in the request
log: they are the "other side" a sync product has to notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from graphsim.errors import NotFoundError
from graphsim.ids import occurrence_id

if TYPE_CHECKING:
    from graphsim.calendar.store import Mailbox
    from graphsim.core import Core


def when(instant: datetime) -> dict[str, str]:
    """A ``dateTimeTimeZone`` in UTC for an aware datetime."""
    if instant.tzinfo is None:
        raise ValueError("graphsim needs timezone-aware datetimes.")
    return {"dateTime": instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def recurrence(
    pattern: str,
    start: date,
    *,
    count: int | None = None,
    until: date | None = None,
    interval: int = 1,
    days_of_week: Sequence[str] = (),
    day_of_month: int | None = None,
    index: str | None = None,
    time_zone: str = "UTC",
) -> dict[str, Any]:
    """A ``patternedRecurrence`` (e.g. ``recurrence("weekly", d, count=5,
    days_of_week=["monday"])``); without count or until the series has no end."""
    pattern_json: dict[str, Any] = {"type": pattern, "interval": interval}
    if days_of_week:
        pattern_json["daysOfWeek"] = list(days_of_week)
    if day_of_month is not None:
        pattern_json["dayOfMonth"] = day_of_month
    if index is not None:
        pattern_json["index"] = index
    range_json: dict[str, Any] = {
        "type": "noEnd",
        "startDate": start.isoformat(),
        "recurrenceTimeZone": time_zone,
    }
    if count is not None:
        range_json.update(type="numbered", numberOfOccurrences=count)
    elif until is not None:
        range_json.update(type="endDate", endDate=until.isoformat())
    return {"pattern": pattern_json, "range": range_json}


class Outlook:
    """Outlook users' actions on their own calendars."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def _mailbox(self, email: str) -> Mailbox:
        user = self.core.tenant.find_user(email)
        if user is None or not user.has_mailbox:
            raise NotFoundError(f"{email} is not a user with a mailbox in this tenant.")
        return self.core.store.ensure(user.mail, user.id)

    def create_meeting(
        self,
        organizer: str,
        rooms: str | Sequence[str],
        subject: str,
        start: datetime,
        end: datetime,
        *,
        recurrence: dict[str, Any] | None = None,
        private: bool = False,
        attendees: Sequence[str] = (),
        body: str = "",
    ) -> str:
        """A meeting booked in Outlook with the given room(s); returns its event id."""
        room_emails = [rooms] if isinstance(rooms, str) else list(rooms)
        with self.core.lock:
            payload = self._meeting_payload(
                room_emails, subject, start=start, end=end, attendees=attendees, body=body
            )
            if private:
                payload["sensitivity"] = "private"
            if recurrence is not None:
                payload["recurrence"] = recurrence
            item, _ = self.core.events.create(self._mailbox(organizer), payload)
            return item.id

    def _meeting_payload(
        self,
        rooms: list[str],
        subject: str,
        *,
        start: datetime,
        end: datetime,
        attendees: Sequence[str],
        body: str,
    ) -> dict[str, Any]:
        people = [
            {"emailAddress": {"address": a, "name": a}, "type": "required"} for a in attendees
        ]
        resources = []
        for email in rooms:
            room = self.core.tenant.rooms.get(email.lower())
            if room is None:
                raise NotFoundError(f"{email} is not a room in this tenant.")
            resources.append(
                {
                    "emailAddress": {"address": room.email, "name": room.display_name},
                    "type": "resource",
                }
            )
        first = self.core.tenant.rooms[rooms[0].lower()] if rooms else None
        payload: dict[str, Any] = {
            "subject": subject,
            "body": {"contentType": "html", "content": body},
            "start": when(start),
            "end": when(end),
            "attendees": people + resources,
        }
        if first is not None:
            payload["location"] = {
                "displayName": first.display_name,
                "locationEmailAddress": first.email,
            }
        return payload

    def update_meeting(self, organizer: str, event_id: str, changes: dict[str, Any]) -> None:
        """Apply Graph-shaped ``changes`` (e.g. ``{"subject": "…"}``) to a meeting."""
        with self.core.lock:
            self.core.events.update(self._mailbox(organizer), event_id, changes)

    def move_meeting(self, organizer: str, event_id: str, start: datetime, end: datetime) -> None:
        self.update_meeting(organizer, event_id, {"start": when(start), "end": when(end)})

    def shorten_meeting(self, organizer: str, event_id: str, end: datetime) -> None:
        self.update_meeting(organizer, event_id, {"end": when(end)})

    def cancel_meeting(self, organizer: str, event_id: str) -> None:
        """Cancel a meeting (or one occurrence, given its id), as its organizer."""
        with self.core.lock:
            self.core.events.cancel(self._mailbox(organizer), event_id)

    def move_occurrence(
        self,
        organizer: str,
        series_id: str,
        original_start: datetime,
        start: datetime,
        end: datetime,
    ) -> str:
        """Move one occurrence of a series; returns the occurrence's id."""
        oid = occurrence_id(series_id, original_start.astimezone(UTC))
        self.move_meeting(organizer, oid, start, end)
        return oid

    def cancel_occurrence(self, organizer: str, series_id: str, original_start: datetime) -> str:
        oid = occurrence_id(series_id, original_start.astimezone(UTC))
        self.cancel_meeting(organizer, oid)
        return oid
