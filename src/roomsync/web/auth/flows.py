"""Which organization a sign-in is for, and the flows under way.

The organization is the one ``?organization=`` names, else the one whose people have
addresses at the domain of ``?login_hint=`` (its integration's service account, or a
user it knows, is at that domain). Two organizations at one domain must be told apart
with ``?organization=``. A flow row lives ten minutes and is deleted when its callback
comes, so an answer (and its code) is accepted once.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from roomsync.platform.models import Integration, SignInFlow, User
from roomsync.web.exceptions import SignInRefusedError

FLOW_LIFETIME = timedelta(minutes=10)


def integration_for_login(
    session: Session, *, organization_id: str | None, login_hint: str | None
) -> Integration:
    """The integration whose app the person signs in to, or SignInRefusedError."""
    if organization_id:
        return _named(session, organization_id)
    if login_hint and "@" in login_hint:
        return _by_domain(session, login_hint.rsplit("@", 1)[1].strip().lower())
    raise SignInRefusedError(
        "Say who is signing in: open /auth/login?login_hint=<your work email> or "
        "/auth/login?organization=<organization id>.",
        field="login_hint",
    )


def _named(session: Session, organization_id: str) -> Integration:
    try:
        wanted = uuid.UUID(organization_id)
    except ValueError as exc:
        raise SignInRefusedError(
            "organization is not an organization id.", field="organization"
        ) from exc
    chosen = select(Integration).where(Integration.organization_id == wanted)
    found = session.scalars(chosen).first()
    if found is None:
        raise SignInRefusedError(
            f"Organization {organization_id} does not exist or has no Microsoft 365 "
            "integration to sign in with: ask its administrator to connect one.",
            status=404,
            field="organization",
        )
    return found


def _by_domain(session: Session, domain: str) -> Integration:
    users = select(User.organization_id).where(User.email.endswith(f"@{domain}"))
    found = session.scalars(
        select(Integration).where(
            or_(
                Integration.service_account.endswith(f"@{domain}"),
                Integration.organization_id.in_(users),
            )
        )
    ).all()
    if not found:
        raise SignInRefusedError(
            f"No organization on this roomsync signs people in from {domain}: check the "
            "address, or ask your administrator for the sign-in link of your organization.",
            status=403,
            field="login_hint",
        )
    if len(found) > 1:
        raise SignInRefusedError(
            f"More than one organization uses {domain}: sign in with "
            "/auth/login?organization=<organization id>.",
            status=409,
            field="login_hint",
        )
    return found[0]


def save_flow(
    session: Session,
    *,
    integration: Integration,
    named: bool,
    flow: dict[str, Any],
    next_path: str,
    now: datetime,
) -> None:
    """Keep msal's flow under its state; flows nobody finished are dropped on the way, so
    abandoned sign-ins do not pile up."""
    _drop_expired(session, now)
    session.add(
        SignInFlow(
            state=str(flow["state"]),
            organization_id=integration.organization_id if named else None,
            integration_id=integration.id,
            flow=flow,
            next_path=next_path,
            expires_at=now + FLOW_LIFETIME,
        )
    )


def take_flow(session: Session, state: str, *, now: datetime) -> SignInFlow:
    """The flow ``state`` stands for, removed so it cannot be used twice; expired ones go."""
    _drop_expired(session, now)
    found = session.scalars(select(SignInFlow).where(SignInFlow.state == state)).first()
    if found is None:
        raise SignInRefusedError(
            "This sign-in answer matches no sign-in under way: it was used already, took "
            "longer than ten minutes, or was not started here. Sign in again.",
            field="state",
        )
    session.delete(found)
    return found


def _drop_expired(session: Session, now: datetime) -> None:
    session.execute(delete(SignInFlow).where(SignInFlow.expires_at <= now))
