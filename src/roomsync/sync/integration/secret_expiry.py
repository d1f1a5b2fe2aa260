"""Client secrets expire (Azure portal offers at most 24 months): warn well before, in
status, logs and metrics, at 30, 14, 7 and 1 days.

The expiry date is the one saved with the secret (``client_secret_expires_at``; Graph
cannot tell an application its own secret's end date without Application.Read.All).
When the date passes unnoticed, Entra ID answers AADSTS7000222 and the integration stops
(``roomsync.sync.integration.access``) until a new secret is saved.

:func:`check_secret_expiries` is the daily job the runtime schedules: it sets the gauge
``roomsync_client_secret_expiry_seconds{integration=…}`` and logs one warning per
integration inside the warning period. ``GET /metrics`` refreshes the gauge too, so a
scrape never shows a day-old value.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from roomsync.platform.db import Database, isoformat_utc
from roomsync.platform.models import Integration
from roomsync.sync.context import SyncContext
from roomsync.telemetry import CLIENT_SECRET_EXPIRY

logger = logging.getLogger(__name__)

WARNING_DAYS = (30, 14, 7, 1)
_SECONDS_PER_DAY = 86_400
_gauge_lock = threading.Lock()


def days_until(moment: datetime | None, now: datetime) -> int | None:
    """Whole days from ``now`` to ``moment`` (negative once past), None when unknown."""
    if moment is None:
        return None
    return math.floor((moment - now).total_seconds() / _SECONDS_PER_DAY)


@dataclass(frozen=True)
class SecretExpiry:
    """How long an integration's client secret has left, and what to say about it."""

    integration_id: uuid.UUID
    expires_at: datetime
    seconds_left: float

    @property
    def days_left(self) -> int:
        """Whole days left (0 on the last day, negative once expired)."""
        return math.floor(self.seconds_left / _SECONDS_PER_DAY)

    @property
    def expired(self) -> bool:
        return self.seconds_left <= 0

    @property
    def threshold(self) -> int | None:
        """The smallest warning threshold (30, 14, 7, 1 days) already reached, if any."""
        reached = [days for days in WARNING_DAYS if self.seconds_left <= days * _SECONDS_PER_DAY]
        return min(reached) if reached else None

    @property
    def notice(self) -> str | None:
        """The warning to show, or None while more than 30 days are left."""
        advice = (
            "create a new one in Azure portal → App registrations → Certificates & secrets, "
            f"then save it with PATCH /api/v1/integrations/{self.integration_id} "
            '({"client_secret": …, "client_secret_expires_at": …}).'
        )
        when = isoformat_utc(self.expires_at)
        subject = f"The client secret of integration {self.integration_id}"
        if self.expired:
            return f"{subject} expired on {when}: {advice}"
        if self.threshold is None:
            return None
        days = f"{self.threshold} day" + ("s" if self.threshold > 1 else "")
        return f"{subject} expires within {days} ({when}): {advice}"


def secret_expiry(integration: Integration, now: datetime) -> SecretExpiry | None:
    """None when the integration has no client secret or no saved expiry date."""
    expires_at = integration.client_secret_expires_at
    if expires_at is None or not integration.client_secret_encrypted:
        return None
    return SecretExpiry(integration.id, expires_at, (expires_at - now).total_seconds())


def secret_expiries(database: Database, now: datetime) -> list[SecretExpiry]:
    with database.session() as session:
        integrations = session.scalars(select(Integration).order_by(Integration.id)).all()
        return [e for i in integrations if (e := secret_expiry(i, now)) is not None]


def refresh_expiry_gauge(database: Database, now: datetime) -> list[SecretExpiry]:
    """Set the gauge for every integration with a known expiry; drop the others."""
    expiries = secret_expiries(database, now)
    with _gauge_lock:
        CLIENT_SECRET_EXPIRY.clear()
        for expiry in expiries:
            CLIENT_SECRET_EXPIRY.labels(integration=str(expiry.integration_id)).set(
                expiry.seconds_left
            )
    return expiries


def check_secret_expiries(ctx: SyncContext) -> list[SecretExpiry]:
    """The daily check: refresh the gauge and log each secret inside its warning period."""
    expiries = refresh_expiry_gauge(ctx.database, ctx.clock())
    for expiry in expiries:
        if expiry.notice is not None:
            level = logging.ERROR if expiry.expired else logging.WARNING
            logger.log(level, "%s", expiry.notice)
    return expiries
