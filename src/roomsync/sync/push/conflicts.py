"""Before a PATCH: did Outlook change the meeting since our last push, and who wins?

A push never silently overwrites a later Outlook edit (docs/sync.md "Pushes"). The
organizer's copy is read first; its ``changeKey`` changes on every change to the item
(event.md), including the room's answer being written onto its attendee entry, so a new
changeKey alone proves nothing: only times that differ from the agreed state are an
Outlook edit. When both sides changed, the planner's :func:`later_side` decides: the later
of the copy's ``lastModifiedDateTime`` and the booking's ``updated_at`` wins, ties (and a
copy without a timestamp) go to Outlook — one function for the pull and the push.

Pure: no I/O, property-tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from roomsync.sync.planner import Side, later_side


class PatchVerdict(StrEnum):
    NO_OUTLOOK_CHANGE = "no_outlook_change"
    """Outlook holds what we last agreed on: push the platform's change."""
    PLATFORM_WINS = "platform_wins"
    """Both changed, the platform later: push, and record Outlook's version as the loser."""
    OUTLOOK_WINS = "outlook_wins"
    """Outlook changed later (or alone): take its times, record the platform's version,
    push nothing."""


@dataclass(frozen=True)
class OrganizerCopy:
    """The organizer's copy as just read from Graph (times in UTC)."""

    change_key: str | None
    last_modified: datetime | None
    start: datetime
    end: datetime


@dataclass(frozen=True)
class PlatformSide:
    """What the platform knows: the agreed times, the changeKey of our last push, and
    whether (and when) the booking changed since."""

    agreed_start: datetime | None
    agreed_end: datetime | None
    pushed_change_key: str | None
    changed_since_agreed: bool
    updated_at: datetime


def decide_before_patch(copy: OrganizerCopy, platform: PlatformSide) -> PatchVerdict:
    """Rule 5 applied to a push about to PATCH the organizer's copy."""
    if copy.change_key is not None and copy.change_key == platform.pushed_change_key:
        return PatchVerdict.NO_OUTLOOK_CHANGE
    if (copy.start, copy.end) == (platform.agreed_start, platform.agreed_end):
        return PatchVerdict.NO_OUTLOOK_CHANGE
    if not platform.changed_since_agreed:
        return PatchVerdict.OUTLOOK_WINS
    winner = later_side(outlook_modified=copy.last_modified, platform_updated=platform.updated_at)
    return PatchVerdict.OUTLOOK_WINS if winner is Side.OUTLOOK else PatchVerdict.PLATFORM_WINS
