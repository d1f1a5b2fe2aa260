"""What every workflow needs, built once per process: settings, database, the shared
``httpx.Client`` (also handed to msal), token clients, the secret box and the clock.

Tests and graphsim swap the HTTP transport here — the one seam to Microsoft 365 — and
may inject a clock; nothing else is replaced.

One clock: the context and its database read the same one, so the timestamps the platform
writes (``updated_at``, ``cancelled_at``) and the instants the sync compares them with
never come from two sources. :meth:`SyncContext.build` given a ``clock`` makes it the
database's clock too (``database.clock``); given none, the context takes the database's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from roomsync.m365.clouds import CloudEndpoints
from roomsync.m365.credentials import TokenProviders
from roomsync.m365.http import build_http_client
from roomsync.platform.crypto import SecretBox
from roomsync.platform.db import Clock, Database, utcnow
from roomsync.settings import Settings

__all__ = ["Clock", "SyncContext"]


@dataclass(frozen=True)
class SyncContext:
    settings: Settings
    database: Database
    secrets: SecretBox
    http: httpx.Client
    cloud: CloudEndpoints
    tokens: TokenProviders
    clock: Clock = utcnow
    sleep: Callable[[float], None] = field(default=time.sleep)
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set on shutdown: long workflows finish the page in hand, commit and return."""

    @classmethod
    def build(
        cls,
        settings: Settings,
        database: Database,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Clock | None = None,
    ) -> SyncContext:
        """The context of one process; ``clock``, when given, becomes ``database``'s too."""
        if clock is not None:
            database.clock = clock
        http = build_http_client(ca_bundle=settings.ca_bundle, transport=transport)
        cloud = CloudEndpoints.from_settings(settings)
        return cls(
            settings=settings,
            database=database,
            secrets=SecretBox.from_settings(settings),
            http=http,
            cloud=cloud,
            tokens=TokenProviders(http=http, cloud=cloud),
            clock=database.clock,
        )

    def close(self) -> None:
        self.http.close()
