"""API tokens: bearer secrets per organization, stored as SHA-256 hashes only.

The plain token exists once, in the :class:`IssuedToken` returned at creation; nothing
else ever holds or logs it.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.platform.db import now
from roomsync.platform.enums import Role
from roomsync.platform.models import ApiToken
from roomsync.platform.services.organizations import get_organization
from roomsync.platform.services.validation import clean_name

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
    session: Session, *, organization_id: uuid.UUID, role: Role, name: str
) -> IssuedToken:
    get_organization(session, organization_id=organization_id)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organization_id=organization_id,
        name=clean_name(name),
        role=role,
        token_hash=hash_token(secret),
        token_prefix=secret[:_SHOWN_PREFIX_LENGTH],
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
