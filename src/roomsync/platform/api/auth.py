"""Who is calling: the super-admin (``ROOMSYNC_ADMIN_TOKEN``), an organization's API token,
or a person signed in with Microsoft (the ``roomsync_session`` cookie).

An organization's token only ever reaches that organization's data: naming another
organization's object is answered 403. Occupant tokens read resources and bookings and
book; everything else needs an admin token.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass
from typing import Literal

from pydantic import SecretStr
from sqlalchemy.orm import Session

from roomsync.platform.enums import Role
from roomsync.platform.exceptions import (
    AuthenticationError,
    InvalidInputError,
    PermissionDeniedError,
)
from roomsync.platform.models import ApiToken, User
from roomsync.platform.services.sessions import SignedIn
from roomsync.platform.services.tokens import find_api_token


@dataclass(frozen=True)
class Principal:
    """The caller. ``organization_id`` is None only for the super-admin; ``email`` (with
    ``user_id`` and ``name``) is the person the caller acts for, None for tokens bound to
    no person; ``session`` is the sign-in session when the caller came with its cookie."""

    role: Role
    organization_id: uuid.UUID | None = None
    email: str | None = None
    user_id: uuid.UUID | None = None
    name: str | None = None
    session: SignedIn | None = None
    resource_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        """Who acts, as a booking's history records it."""
        if self.email is not None:
            return self.email
        return f"api token {self.token_id}" if self.token_id else "ROOMSYNC_ADMIN_TOKEN"

    @property
    def via(self) -> Literal["session", "token"]:
        return "session" if self.session is not None else "token"

    @property
    def is_super_admin(self) -> bool:
        return self.organization_id is None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def check_access(self, organization_id: uuid.UUID) -> None:
        """Refuse (403) unless the caller may see data of ``organization_id``."""
        if self.organization_id is not None and self.organization_id != organization_id:
            raise PermissionDeniedError(
                "This token belongs to another organization and cannot reach that object."
            )

    def check_admin(self, organization_id: uuid.UUID | None = None) -> None:
        """Refuse (403) unless the caller administers ``organization_id`` (or everything)."""
        if not self.is_admin:
            raise PermissionDeniedError("This needs an admin token; occupant tokens may only book.")
        if organization_id is not None:
            self.check_access(organization_id)

    def target_organization(self, requested: uuid.UUID | None) -> uuid.UUID:
        """The organization a new object goes to: the token's own, unless the super-admin
        names one (it must)."""
        if requested is not None:
            self.check_access(requested)
            return requested
        if self.organization_id is None:
            raise InvalidInputError(
                "organization_id is required when using ROOMSYNC_ADMIN_TOKEN.",
                field="organization_id",
            )
        return self.organization_id

    def list_scope(self, requested: uuid.UUID | None) -> uuid.UUID | None:
        """The organization a list is limited to (None: all, for the super-admin only)."""
        if requested is not None:
            self.check_access(requested)
            return requested
        return self.organization_id

    def check_display_request(self, method: str, path: str, query: dict[str, str]) -> None:
        """A display token reads its one resource (and its bookings and schedule) and
        ``/api/v1/me``, and checks in to or ends bookings (whose room the route checks);
        anything else is 403."""
        if self.role is not Role.DISPLAY:
            return
        own = f"/api/v1/resources/{self.resource_id}"
        readable = (
            path in ("/api/v1/me", own)
            or path.startswith(own + "/")
            or (path == "/api/v1/bookings" and query.get("resource_id") == str(self.resource_id))
        )
        if method == "POST" and _is_booking_action(path):
            return
        if method not in ("GET", "HEAD") or not readable:
            raise PermissionDeniedError(
                f"A display token reads only its resource {self.resource_id} "
                "(and its bookings and schedule)."
            )

    def check_super_admin(self) -> None:
        if not self.is_super_admin:
            raise PermissionDeniedError("Only ROOMSYNC_ADMIN_TOKEN may do this.")


_DISPLAY_ACTIONS = frozenset({"check-in", "end", "extend"})


def _is_booking_action(path: str) -> bool:
    parts = path.strip("/").split("/")
    return (
        len(parts) == 5 and parts[:3] == ["api", "v1", "bookings"] and parts[4] in _DISPLAY_ACTIONS
    )


def authenticate(
    session: Session, *, secret: str | None, admin_token: SecretStr | None
) -> Principal:
    """The principal behind a bearer ``secret``, or 401."""
    if not secret:
        raise AuthenticationError(
            "Send an API token as `Authorization: Bearer <token>` "
            "(create one with `roomsync token create`)."
        )
    if admin_token is not None and hmac.compare_digest(
        secret.encode(), admin_token.get_secret_value().encode()
    ):
        return Principal(role=Role.ADMIN)
    token = find_api_token(session, secret=secret)
    if token is None:
        raise AuthenticationError("The bearer token is unknown or revoked.")
    if token.role is Role.OCCUPANT:
        return _person_principal(session, token)
    return Principal(
        role=token.role,
        organization_id=token.organization_id,
        resource_id=token.resource_id,
        token_id=token.id,
    )


def _person_principal(session: Session, token: ApiToken) -> Principal:
    user = session.get(User, token.user_id) if token.user_id is not None else None
    if user is None:
        raise AuthenticationError(
            "This occupant token acts for no person and no longer works: replace it with "
            f"`roomsync token create --organization {token.organization_id} --role occupant "
            "--user EMAIL --name NAME` (and revoke it with `roomsync token revoke "
            f"{token.id}`)."
        )
    return Principal(
        role=Role.OCCUPANT,
        organization_id=token.organization_id,
        email=user.email,
        user_id=user.id,
        name=user.name,
        token_id=token.id,
    )


def signed_in_principal(signed_in: SignedIn | None) -> Principal:
    """The principal of a live sign-in session, or 401 saying to sign in again."""
    if signed_in is None:
        raise AuthenticationError(
            "The roomsync_session cookie opens no session (signed out, idle too long, "
            "or expired): sign in again at /auth/login."
        )
    return Principal(
        role=signed_in.role,
        organization_id=signed_in.organization_id,
        email=signed_in.email,
        user_id=signed_in.user_id,
        name=signed_in.name,
        session=signed_in,
    )
