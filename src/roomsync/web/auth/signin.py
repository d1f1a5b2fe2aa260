"""The two halves of a sign-in, without HTTP: :func:`start_sign_in` (which app, msal's
flow saved under its ``state``) and :func:`finish_sign_in` (the answer redeemed, the
id_token verified, the person upserted, a session opened).

The signed-in person's organization is the one whose integration's ``tenant_id`` equals
the verified ``tid`` and whose ``client_id`` equals the verified ``aud``. When several
organizations share that tenant and app, the sign-in must have named one
(``?organization=``), and both claims must still match it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.m365.jwks import SigningKeys
from roomsync.m365.signin import AuthCodeSignIn
from roomsync.platform.enums import Role
from roomsync.platform.models import Integration, Organization
from roomsync.platform.services.organizations import is_listed_admin
from roomsync.platform.services.sessions import open_session
from roomsync.settings import Settings
from roomsync.sync.context import SyncContext
from roomsync.sync.integration.connection import credential_of
from roomsync.web.auth.flows import integration_for_login, save_flow, take_flow
from roomsync.web.auth.id_token import Expected, Identity, verify_id_token
from roomsync.web.auth.people import upsert_person
from roomsync.web.exceptions import SignInRefusedError

CALLBACK_PATH = "/auth/callback"
_KEYS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Login:
    organization: str | None
    login_hint: str | None
    next_path: str | None


@dataclass(frozen=True)
class SignedInCookie:
    value: str
    next_path: str


def start_sign_in(ctx: SyncContext, settings: Settings, login: Login) -> str:
    """Where to send the browser: the authorize URL of the organization's tenant
    (``settings`` are the app's: its public URL and session lifetimes)."""
    next_path = same_origin_path(login.next_path)
    with ctx.database.session() as session:
        integration = integration_for_login(
            session, organization_id=login.organization, login_hint=login.login_hint
        )
        signin = AuthCodeSignIn(credential_of(ctx, integration), http=ctx.http, cloud=ctx.cloud)
        named, integration_id = bool(login.organization), integration.id
    flow = signin.start(redirect_uri=redirect_uri(settings), login_hint=login.login_hint)
    with ctx.database.session() as session:
        chosen = session.get_one(Integration, integration_id)
        save_flow(
            session,
            integration=chosen,
            named=named,
            flow=flow,
            next_path=next_path,
            now=ctx.database.clock(),
        )
    return browser_address(str(flow["auth_uri"]), settings)


def browser_address(auth_uri: str, settings: Settings) -> str:
    """The authorize URL as the browser must open it (``sign_in_page_url`` when set)."""
    if not settings.sign_in_page_url:
        return auth_uri
    page = urlsplit(settings.sign_in_page_url)
    return urlunsplit(urlsplit(auth_uri)._replace(scheme=page.scheme, netloc=page.netloc))


def finish_sign_in(
    ctx: SyncContext, settings: Settings, keys: SigningKeys, answer: dict[str, str]
) -> SignedInCookie:
    """The session cookie for a verified answer; SignInRefusedError or SignInFailed otherwise."""
    state = answer.get("state")
    if not state:
        raise SignInRefusedError(
            "The sign-in answer carries no state: sign in again.", field="state"
        )
    # Its own transaction: the flow is spent even when what follows fails.
    with ctx.database.session() as session:
        row = take_flow(session, state, now=ctx.database.clock())
        flow, named, next_path = dict(row.flow), row.organization_id, row.next_path or "/"
        integration = session.get_one(Integration, row.integration_id)
        signin = AuthCodeSignIn(credential_of(ctx, integration), http=ctx.http, cloud=ctx.cloud)
        expected = Expected(integration.tenant_id, integration.client_id, str(flow["nonce"]))
    identity = verify_id_token(signin.finish(flow, answer), expected, keys=keys, cloud=ctx.cloud)
    with ctx.database.session() as session:
        organization_id = organization_of(session, identity, named=named)
        user = upsert_person(session, organization_id=organization_id, identity=identity)
        listed = is_listed_admin(session.get_one(Organization, organization_id), identity.email)
        role = Role.ADMIN if identity.is_admin or listed else Role.OCCUPANT
        value = open_session(
            session, user=user, role=role, settings=settings, now=ctx.database.clock()
        )
    return SignedInCookie(value=value, next_path=next_path)


def organization_of(session: Session, identity: Identity, *, named: uuid.UUID | None) -> uuid.UUID:
    """The one organization the verified ``tid`` and ``aud`` (and the sign-in) point to."""
    matching = set(
        session.scalars(
            select(Integration.organization_id).where(
                Integration.tenant_id == identity.tenant_id,
                Integration.client_id == identity.client_id,
            )
        )
    )
    if named is not None and named in matching:
        return named
    if named is None and len(matching) == 1:
        return matching.pop()
    if not matching or named is not None:
        raise SignInRefusedError(
            f"No organization on this roomsync uses tenant {identity.tenant_id} with "
            f"application {identity.client_id}: ask your administrator to connect it.",
            status=403,
        )
    raise SignInRefusedError(
        "More than one organization uses this tenant and application: sign in with "
        "/auth/login?organization=<organization id>.",
        status=409,
        field="organization",
    )


def same_origin_path(next_path: str | None) -> str:
    """``next`` when it is a path on this site, "/" when absent, else SignInRefusedError.

    A path must start with one "/" (not "//" or "/\\", which browsers read as another
    host) and carry no scheme, host or control character."""
    if not next_path:
        return "/"
    parts = urlsplit(next_path)
    offsite = parts.scheme or parts.netloc or next_path.startswith(("//", "/\\"))
    if offsite or not next_path.startswith("/") or any(ord(c) < 0x20 for c in next_path):
        raise SignInRefusedError(
            "next must be a path on this site (starting with a single /), not another address.",
            field="next",
        )
    return next_path


def redirect_uri(settings: Settings) -> str:
    return f"{settings.public_url.rstrip('/')}{CALLBACK_PATH}"


def signing_keys_of(app: FastAPI, ctx: SyncContext) -> SigningKeys:
    """The app's one cache of tenants' signing keys (built on first sign-in)."""
    with _KEYS_LOCK:
        keys: SigningKeys | None = getattr(app.state, "signing_keys", None)
        if keys is None:
            keys = app.state.signing_keys = SigningKeys(http=ctx.http, cloud=ctx.cloud)
        return keys


def flow_answer(fields: dict[str, Any]) -> dict[str, str]:
    """The fields of an authorization response msal reads, as strings."""
    wanted = ("code", "state", "error", "error_description", "error_uri", "session_state")
    return {k: str(fields[k]) for k in wanted if k in fields}
