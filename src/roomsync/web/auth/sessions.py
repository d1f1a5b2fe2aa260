"""Server-side sign-in sessions behind the ``roomsync_session`` cookie.

The cookie holds a random value; the table holds its SHA-256 only. A session is valid
until it is revoked (logout), left idle for ``ROOMSYNC_SESSION_IDLE_MINUTES``, or older
than ``ROOMSYNC_SESSION_MAX_HOURS``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.logs import forget_secret, register_session_id
from roomsync.platform.enums import Role
from roomsync.platform.models import SignInSession, User
from roomsync.settings import Settings

COOKIE_NAME = "roomsync_session"
# last_seen_at is written at most this often, so reading a page is not a write each time.
_TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SignedIn:
    """The person behind a live session."""

    session_id: uuid.UUID
    organization_id: uuid.UUID
    role: Role
    email: str
    name: str


def open_session(
    session: Session, *, user: User, role: Role, settings: Settings, now: datetime
) -> str:
    """A new session for ``user``; returns the cookie value (never stored as such)."""
    value = secrets.token_urlsafe(32)
    register_session_id(value)
    session.add(
        SignInSession(
            token_hash=_digest(value),
            user_id=user.id,
            organization_id=user.organization_id,
            role=role,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_max_hours),
        )
    )
    session.flush()
    return value


def find_session(
    session: Session, value: str, *, settings: Settings, now: datetime
) -> SignedIn | None:
    """The live session with this cookie value (its last use recorded), else None."""
    row = session.scalars(
        select(SignInSession).where(SignInSession.token_hash == _digest(value))
    ).first()
    if row is None or not _alive(row, settings, now):
        return None
    register_session_id(value)
    if now - row.last_seen_at >= _TOUCH_EVERY:
        row.last_seen_at = now
    user = session.get(User, row.user_id)
    if user is None:
        return None
    return SignedIn(row.id, row.organization_id, row.role, user.email, user.name)


def revoke_session(session: Session, value: str, *, now: datetime) -> bool:
    """End the session with this cookie value; False when there was none to end."""
    forget_secret(value)
    row = session.scalars(
        select(SignInSession).where(SignInSession.token_hash == _digest(value))
    ).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def _alive(row: SignInSession, settings: Settings, now: datetime) -> bool:
    idle = timedelta(minutes=settings.session_idle_minutes)
    return row.revoked_at is None and now < row.expires_at and now < row.last_seen_at + idle


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
