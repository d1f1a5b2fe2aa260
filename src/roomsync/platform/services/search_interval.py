"""The interval a person means by a day, a wall-clock time and a duration.

A person asks for "Tuesday at 10:00 for an hour" in the building's time zone. The start is
that wall-clock time on that day in the zone (so 10:00 stays 10:00 across a change of
daylight-saving time, and its UTC instant moves); the end is the duration later in elapsed
time. A wall-clock time the clocks skip that day (02:30 when they go from 02:00 to 03:00)
is refused naming ``time``; one that happens twice (when they go back) is its first
occurrence, as ``zoneinfo``'s ``fold=0``.

Without a building the zone is the one every building of the organization shares; an
organization whose buildings lie in several zones must name the building (or give instants
with an offset), since "10:00" would mean several instants.

A duration is ISO 8601 (``PT1H``, ``PT1H30M``, ``PT45M``) or a whole number of minutes
(``90``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import Building

# Hours and minutes only: a day (P1D) is not always 24 hours, and a booking is shorter.
_ISO_DURATION = re.compile(r"PT(?=\d)(?:(?P<hours>\d{1,3})H)?(?:(?P<minutes>\d{1,5})M)?")
_MINUTES = re.compile(r"\d{1,5}")
DEFAULT_ZONE = "UTC"


@dataclass(frozen=True)
class WallClockSlot:
    """``day`` at ``at`` (wall-clock, in a zone) for ``duration``."""

    day: date
    at: time
    duration: timedelta

    def interval(self, zone_name: str) -> tuple[datetime, datetime]:
        """The slot's [start, end) as UTC instants in the zone ``zone_name``."""
        zone = ZoneInfo(zone_name)
        start = datetime.combine(self.day, self.at, zone)
        if _skipped(start):
            raise InvalidInputError(
                f"{self.at:%H:%M} does not exist on {self.day} in {zone_name}: the clocks "
                "skip it that day (daylight-saving time begins). Pick another time.",
                field="time",
            )
        start = start.astimezone(UTC)
        return start, start + self.duration


def parse_duration(text: str) -> timedelta:
    """``PT1H30M`` or ``90`` (minutes) as a positive timedelta; else a 422 naming
    ``duration``."""
    text = text.strip()
    if _MINUTES.fullmatch(text):
        minutes = int(text)
    elif (found := _ISO_DURATION.fullmatch(text.upper())) is not None:
        minutes = int(found["hours"] or 0) * 60 + int(found["minutes"] or 0)
    else:
        raise InvalidInputError(
            f"duration {text!r} is neither ISO 8601 (PT1H, PT1H30M) nor a number of minutes.",
            field="duration",
        )
    if minutes <= 0:
        raise InvalidInputError("duration must be longer than zero.", field="duration")
    return timedelta(minutes=minutes)


def search_zone(
    session: Session, *, organization_id: uuid.UUID | None, building_id: uuid.UUID | None
) -> str:
    """The zone a wall-clock search is read in: the building's, else the one zone the
    organization's buildings share (UTC when it has none)."""
    if building_id is not None:
        return building_in_reach(session, organization_id, building_id).time_zone
    where = [] if organization_id is None else [Building.organization_id == organization_id]
    zones = session.scalars(select(Building.time_zone).where(*where).distinct().limit(2)).all()
    if len(zones) > 1:
        raise InvalidInputError(
            "The buildings lie in different time zones, so a date and time mean different "
            "instants: give building_id, or start and end with an offset.",
            field="building_id",
        )
    return zones[0] if zones else DEFAULT_ZONE


def building_in_reach(
    session: Session, organization_id: uuid.UUID | None, building_id: uuid.UUID
) -> Building:
    """The building, if the caller's organization (``None``: every one) has it; else a 422
    naming ``building_id`` (the same for another organization's building, whose id is thus
    not confirmed)."""
    building = session.get(Building, building_id)
    if building is None or organization_id not in (None, building.organization_id):
        raise InvalidInputError(f"There is no building {building_id}.", field="building_id")
    return building


def _skipped(local: datetime) -> bool:
    """True when the wall-clock time ``local`` does not exist: it does not survive a round
    trip through UTC."""
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) != local.replace(tzinfo=None)
