"""Server-side sign-in sessions behind the ``roomsync_session`` cookie.

The cookie holds a random value; the table holds its SHA-256 only. A session is valid
until it is revoked (logout), left idle for ``ROOMSYNC_SESSION_IDLE_MINUTES``, or older
than ``ROOMSYNC_SESSION_MAX_HOURS``.

Each session has a form token (``SignedIn.csrf_token``) derived from the cookie value:
roomsync's HTML forms carry it in a hidden ``csrf_token`` field and the route checks it
with :func:`check_form_token`, on top of the ``Origin``/``Sec-Fetch-Site`` check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.logs import forget_secret, register_session_id
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import PermissionDeniedError
from roomsync.platform.models import SignInSession, User
from roomsync.settings import Settings

COOKIE_NAME = "roomsync_session"
CSRF_FIELD = "csrf_token"
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
    user_id: uuid.UUID
    csrf_token: str


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
    return SignedIn(
        row.id, row.organization_id, row.role, user.email, user.name, user.id, form_token(value)
    )


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


def form_token(value: str) -> str:
    """The session's form token: a keyed digest of the cookie value, so it needs no column
    and a page of another session (or another site) cannot know it."""
    return hmac.new(value.encode(), b"roomsync form token", hashlib.sha256).hexdigest()


def check_form_token(signed_in: SignedIn, sent: str | None) -> None:
    """403 naming ``csrf_token`` unless a form sent this session's token."""
    if sent and hmac.compare_digest(sent.encode(), signed_in.csrf_token.encode()):
        return
    message = "The form's csrf_token does not belong to this session: reload the page."
    raise PermissionDeniedError(message, details=[{"field": CSRF_FIELD, "message": message}])


def _alive(row: SignInSession, settings: Settings, now: datetime) -> bool:
    idle = timedelta(minutes=settings.session_idle_minutes)
    return row.revoked_at is None and now < row.expires_at and now < row.last_seen_at + idle


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
