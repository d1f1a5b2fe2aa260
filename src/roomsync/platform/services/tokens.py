"""API tokens: bearer secrets per organization, stored as SHA-256 hashes only.

The plain token exists once, in the :class:`IssuedToken` returned at creation; nothing
else ever holds or logs it. An occupant token acts for one person (``user``), a display
token shows one resource; a revoked token stops working at once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.db import now
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import ApiToken, User
from roomsync.platform.services.lookup import Page, get_or_raise, paginate
from roomsync.platform.services.organizations import get_organization
from roomsync.platform.services.resources import get_resource
from roomsync.platform.services.users import organizer_user
from roomsync.platform.services.validation import clean_name, normalize_email

TOKEN_PREFIX = "rs_"  # noqa: S105 - marks roomsync tokens in logs and scanners; not a secret
_SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
# Recording every use would turn each read into a write; a coarse timestamp is enough.
_LAST_USED_PRECISION = timedelta(minutes=5)


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str = field(repr=False)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(
    session: Session,
    *,
    organization_id: uuid.UUID,
    role: Role,
    name: str,
    user: str | None = None,
    resource_id: uuid.UUID | None = None,
) -> IssuedToken:
    """A new token; an occupant token needs ``user`` (the email it acts for), a display
    token ``resource_id`` (a resource of the organization), an admin token neither."""
    get_organization(session, organization_id=organization_id)
    user_id = _bound_user(session, organization_id, role, user)
    resource_id = _bound_resource(session, organization_id, role, resource_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organization_id=organization_id,
        name=clean_name(name),
        role=role,
        token_hash=hash_token(secret),
        token_prefix=secret[:_SHOWN_PREFIX_LENGTH],
        user_id=user_id,
        resource_id=resource_id,
    )
    session.add(token)
    session.flush()
    return IssuedToken(token=token, secret=secret)


def find_api_token(session: Session, *, secret: str) -> ApiToken | None:
    """The live token whose hash matches ``secret``; marks it used."""
    token = session.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(secret), ApiToken.revoked_at.is_(None)
        )
    ).first()
    if token is not None:
        used_at = now(session)
        if token.last_used_at is None or used_at - token.last_used_at > _LAST_USED_PRECISION:
            token.last_used_at = used_at
    return token


def list_api_tokens(
    session: Session,
    *,
    organization_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[ApiToken]:
    """Tokens (revoked ones too) by creation, of one organization or all."""
    where = [] if organization_id is None else [ApiToken.organization_id == organization_id]
    return paginate(session, ApiToken, where=where, limit=limit, cursor=cursor)


def token_user_emails(session: Session, tokens: Sequence[ApiToken]) -> dict[uuid.UUID, str]:
    """The email each occupant token acts for, by user id: one query for a whole page."""
    user_ids = {token.user_id for token in tokens if token.user_id is not None}
    if not user_ids:
        return {}
    rows = session.execute(select(User.id, User.email).where(User.id.in_(user_ids)))
    return {user_id: email for user_id, email in rows}


def get_api_token(session: Session, *, token_id: uuid.UUID) -> ApiToken:
    return get_or_raise(session, ApiToken, token_id, noun="token")


def revoke_api_token(session: Session, *, token_id: uuid.UUID) -> ApiToken:
    """Revoke the token (again is no change); it is refused from the next request on."""
    token = get_api_token(session, token_id=token_id)
    if token.revoked_at is None:
        token.revoked_at = now(session)
    session.flush()
    return token


def _bound_user(
    session: Session, organization_id: uuid.UUID, role: Role, user: str | None
) -> uuid.UUID | None:
    if role is not Role.OCCUPANT:
        if user:
            raise InvalidInputError("Only occupant tokens act for a person.", field="user")
        return None
    if not user:
        raise InvalidInputError(
            "An occupant token acts for one person: give the email it books as (user).",
            field="user",
        )
    email = normalize_email(user, field="user")
    return organizer_user(session, organization_id=organization_id, email=email).id


def _bound_resource(
    session: Session, organization_id: uuid.UUID, role: Role, resource_id: uuid.UUID | None
) -> uuid.UUID | None:
    if role is not Role.DISPLAY:
        if resource_id is not None:
            raise InvalidInputError("Only display tokens show one resource.", field="resource_id")
        return None
    if resource_id is None:
        raise InvalidInputError(
            "A display token shows one resource: give its id (resource_id).", field="resource_id"
        )
    resource = get_resource(session, resource_id=resource_id)
    if resource.organization_id != organization_id:
        raise InvalidInputError(
            "The resource belongs to another organization.", field="resource_id"
        )
    return resource.id
