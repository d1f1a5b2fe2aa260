"""The span a delta round covers: from the start of yesterday to 90 days ahead, in the
integration's time zone (both ends configurable:
``window_past_days``, ``window_future_days``).

Graph fixes the window inside the delta token for the whole round (delta-query-events.md),
so moving it means a new initial request; the window is therefore recomputed only when
the local date changes, which rolls it forward once a day.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from roomsync.m365.calendar import DeltaWindow
from roomsync.sync.options import IntegrationOptions


def current_window(now: datetime, zone: ZoneInfo, options: IntegrationOptions) -> DeltaWindow:
    """The window for a round starting at ``now``: whole local days, DST-correct."""
    today = now.astimezone(zone).date()
    first_day = today - timedelta(days=options.window_past_days)
    last_day = today + timedelta(days=options.window_future_days)
    return DeltaWindow(
        start=datetime.combine(first_day, time(), tzinfo=zone).astimezone(UTC),
        end=datetime.combine(last_day, time(), tzinfo=zone).astimezone(UTC),
    )
