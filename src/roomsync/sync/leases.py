"""Cross-process leases in the database: one holder per integration or room at a time.

A periodic task scheduled twice, two workers picking the same job, or an operator's "sync
now" during a scheduled round must not run the same workflow twice. Leases live in the
``leases`` table so they work the same on SQLite and PostgreSQL across hosts, and they
expire, so a holder killed with ``kill -9`` blocks others for one TTL at most. Every
workflow's TTL is ``ROOMSYNC_LEASE_SECONDS`` (:func:`lease_ttl`), and :func:`kept_lease`
renews it from a heartbeat while its holder lives, however long the workflow runs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from roomsync.platform.db import Database
from roomsync.platform.models import Lease
from roomsync.settings import Settings
from roomsync.sync.context import Clock
from roomsync.sync.exceptions import LeaseHeldError
from roomsync.sync.heartbeat import Heartbeat


def lease_ttl(settings: Settings) -> timedelta:
    """How long a lease outlives a holder that stopped renewing it (``ROOMSYNC_LEASE_SECONDS``)."""
    return timedelta(seconds=settings.lease_seconds)


def new_owner() -> str:
    """A holder name that says where it runs: host, process, thread, and a nonce."""
    nonce = uuid.uuid4().hex[:8]
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}:{nonce}"


class HeldLease:
    def __init__(
        self, database: Database, name: str, owner: str, ttl: timedelta, clock: Clock
    ) -> None:
        self.database, self.name, self.owner, self.ttl, self.clock = (
            database,
            name,
            owner,
            ttl,
            clock,
        )

    def renew(self) -> None:
        """Extend the lease; raises LeaseHeldError if it expired and someone else took it."""
        if not try_acquire(
            self.database, self.name, owner=self.owner, ttl=self.ttl, clock=self.clock
        ):
            raise LeaseHeldError(f"The lease {self.name} was lost to another process.")


def try_acquire(database: Database, name: str, *, owner: str, ttl: timedelta, clock: Clock) -> bool:
    """Take or renew the lease; False if another live holder has it."""
    now = clock()
    try:
        with database.session() as session:
            lease = session.get(Lease, name, with_for_update=True)
            if lease is None:
                session.add(Lease(name=name, owner=owner, expires_at=now + ttl))
            elif lease.owner == owner or lease.expires_at <= now:
                lease.owner, lease.expires_at = owner, now + ttl
            else:
                return False
    except IntegrityError:
        return False  # another process inserted the same lease at the same moment
    return True


def release(database: Database, name: str, *, owner: str) -> None:
    with database.session() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner))


@contextlib.contextmanager
def lease(database: Database, name: str, *, ttl: timedelta, clock: Clock) -> Iterator[HeldLease]:
    """Hold ``name`` for the block, or raise LeaseHeldError at once if another holds it."""
    owner = new_owner()
    if not try_acquire(database, name, owner=owner, ttl=ttl, clock=clock):
        raise LeaseHeldError(f"Another process is already running {name}; this run is skipped.")
    try:
        yield HeldLease(database, name, owner, ttl, clock)
    finally:
        release(database, name, owner=owner)


@contextlib.contextmanager
def kept_lease(
    database: Database, name: str, *, ttl: timedelta, clock: Clock
) -> Iterator[HeldLease]:
    """:func:`lease`, renewed every third of ``ttl`` by a heartbeat until the block ends."""
    with (
        lease(database, name, ttl=ttl, clock=clock) as held,
        Heartbeat(held.renew, period=ttl, name=name),
    ):
        yield held
