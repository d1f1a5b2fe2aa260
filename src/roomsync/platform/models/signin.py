"""Sign-in state kept on the server: flows under way and the sessions they open.

A flow is the browser's trip to Entra ID and back. Its row is found by the ``state`` the
callback carries, not by a cookie, because Entra ID answers with a cross-site form POST
and browsers leave ``SameSite=Lax`` cookies off it. A session is stored by the SHA-256 of
its cookie value, so the table alone lets no one sign in.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from roomsync.platform.enums import Role
from roomsync.platform.models.base import Base, Entity, EnumText

STATE_LENGTH = 128
DIGEST_LENGTH = 64


class SignInFlow(Entity, Base):
    """An authorization code flow started by ``/auth/login``; deleted when used or expired.

    ``flow`` is msal's own flow dict (it holds the PKCE verifier and the nonce)."""

    __tablename__ = "signin_flows"

    state: Mapped[str] = mapped_column(String(STATE_LENGTH), unique=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organizations.id"))
    integration_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE")
    )
    flow: Mapped[dict[str, Any]] = mapped_column()
    next_path: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SignInSession(Entity, Base):
    """A signed-in person's session; valid until revoked, idle too long, or too old."""

    __tablename__ = "signin_sessions"

    token_hash: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[Role] = mapped_column(EnumText(Role))
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
