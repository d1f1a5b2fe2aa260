"""Who is calling: the super-admin (``ROOMSYNC_ADMIN_TOKEN``) or an organization's API token.

An organization's token only ever reaches that organization's data: naming another
organization's object is answered 403. Occupant tokens read resources and bookings and
book; everything else needs an admin token.
"""

from __future__ import annotations

import hmac
import uuid
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy.orm import Session

from roomsync.platform.enums import Role
from roomsync.platform.exceptions import (
    AuthenticationError,
    InvalidInputError,
    PermissionDeniedError,
)
from roomsync.platform.services.tokens import find_api_token


@dataclass(frozen=True)
class Principal:
    """The caller. ``organization_id`` is None only for the super-admin; ``email`` is the
    person the caller acts for, None while no token is bound to a person."""

    role: Role
    organization_id: uuid.UUID | None = None
    email: str | None = None

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

    def check_super_admin(self) -> None:
        if not self.is_super_admin:
            raise PermissionDeniedError("Only ROOMSYNC_ADMIN_TOKEN may do this.")


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
    return Principal(role=token.role, organization_id=token.organization_id)
