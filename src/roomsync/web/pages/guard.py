"""Who is looking at a page, and the CSRF token every form carries.

A page reads the ``roomsync_session`` cookie: either a person's sign-in session
(``find_session``), or the super-admin's, opened by pasting ``ROOMSYNC_ADMIN_TOKEN`` on
``/admin/sign-in``. The super-admin's cookie is ``sa.<expiry>.<mac>``, a keyed hash of the
expiry under the admin token, so changing the token ends every such session and the
database holds none. The CSRF token is a hash of the cookie value: a page of ours can
print it, another site cannot compute it. Forms also pass the Origin check of
``CrossSiteGuard``.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote, urlsplit

from fastapi import Request
from pydantic import SecretStr

from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.services.sessions import COOKIE_NAME, find_session, form_token
from roomsync.settings import Settings

SUPER_ADMIN_PREFIX = "sa."


@dataclass(frozen=True)
class PageUser:
    """The viewer of a page; ``organization_id`` None for the super-admin (all of them)."""

    role: Role
    organization_id: uuid.UUID | None
    email: str | None
    name: str
    cookie: str

    @property
    def is_super_admin(self) -> bool:
        return self.organization_id is None


class SignInNeededError(Exception):
    """No live session: the page redirects to sign-in and comes back to ``next_path``."""

    def __init__(self, login_path: str, next_path: str) -> None:
        super().__init__(next_path)
        self.location = f"{login_path}?next={quote(next_path, safe='/')}"


class PageError(Exception):
    """A page that cannot be shown: an error page saying why (403 unless told)."""

    def __init__(self, message: str, *, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status if 400 <= status < 500 else 403


def page_user(request: Request) -> PageUser | None:
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie:
        return None
    settings: Settings = request.app.state.settings
    database: Database = request.app.state.database
    now = database.clock()
    if cookie.startswith(SUPER_ADMIN_PREFIX):
        token = settings.admin_token
        if token is None or not _super_admin_valid(cookie, token, now):
            return None
        return PageUser(Role.ADMIN, None, None, "Super-admin", cookie)
    with database.session() as session:
        found = find_session(session, cookie, settings=settings, now=now)
    if found is None:
        return None
    return PageUser(found.role, found.organization_id, found.email, found.name, cookie)


def require_role(request: Request, role: Role, *, login_path: str) -> PageUser:
    """The viewer when they hold ``role``; else sign-in (none) or a 403 page (another)."""
    user = page_user(request)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if user is None:
        raise SignInNeededError(login_path, path)
    if user.role is not role:
        raise PageError(
            f"This page is for the {role.value} role; you are signed in as {user.role.value}."
        )
    return user


def check_form(request: Request, user: PageUser, token: str | None) -> None:
    """Refuse a form whose CSRF token is not this session's (403)."""
    if not token or not hmac.compare_digest(token, csrf_token(user.cookie)):
        raise PageError(
            "This form was not sent from a roomsync page opened in this session; "
            "reload the page and send it again."
        )


def csrf_token(cookie: str) -> str:
    """The form token of a cookie: the same rule as a sign-in session's own."""
    return form_token(cookie)


def same_origin_path(candidate: str | None, default: str) -> str:
    """``candidate`` when it is a path on this site (``/…``, not ``//host``), else default."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return default
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or "\\" in candidate:
        return default
    return candidate


def open_super_admin(admin_token: SecretStr, now: datetime, hours: float) -> str:
    expiry = int((now + timedelta(hours=hours)).timestamp())
    return f"{SUPER_ADMIN_PREFIX}{expiry}.{_mac(admin_token, expiry)}"


def _super_admin_valid(cookie: str, admin_token: SecretStr, now: datetime) -> bool:
    _, _, rest = cookie.partition(SUPER_ADMIN_PREFIX)
    expiry_text, _, mac = rest.partition(".")
    if not expiry_text.isdigit():
        return False
    expiry = int(expiry_text)
    return hmac.compare_digest(mac, _mac(admin_token, expiry)) and now.timestamp() < expiry


def _mac(admin_token: SecretStr, expiry: int) -> str:
    key = admin_token.get_secret_value().encode()
    return hmac.new(key, f"super-admin-session:{expiry}".encode(), hashlib.sha256).hexdigest()
