"""What the token endpoint returns for a signed-in user.

- ``id_token`` (id-token-claims-reference.md): RS256, header ``kid`` only; ``aud`` = the
  client id, ``iss`` = ``{login}/{tid}/v2.0``, ``iat``/``nbf``/``exp`` (one hour),
  ``nonce`` when the request had one, ``tid``, ``sub`` (pairwise: differs per app),
  ``ver`` 2.0, ``uti``; with the ``profile`` scope ``oid``, ``name`` and
  ``preferred_username``; with ``email`` the ``email`` claim; ``roles`` with the values of
  the app roles assigned to the user (left out when there are none).
- Delegated access token for Microsoft Graph (access-token-claims-reference.md): a v1.0
  token (``iss`` sts.windows.net) with ``scp`` (space-separated scopes), ``oid``,
  ``upn``, ``unique_name``, ``name``, ``appid``, ``appidacr``, ``amr``; its audience is
  Graph's application id when only OpenID Connect scopes were asked for.
- ``client_info`` (base64url JSON ``{"uid": oid, "utid": tid}``) when the request sends
  ``client_info=1``, as msal does to key its token cache by account.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from graphsim.directory.tenant import AppRegistration, User
from graphsim.signin.scopes import GRAPH_PREFIXES, OIDC_SCOPES

if TYPE_CHECKING:
    from graphsim.core import Core

ID_TOKEN_LIFETIME = timedelta(hours=1)
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


@dataclass(frozen=True)
class Grant:
    """What a code or refresh token stands for: a user's sign-in to an app."""

    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    nonce: str | None = None


@dataclass(frozen=True)
class Issuance:
    """How this token request went: the login URL it reached (``iss``), the client
    credential used (``appidacr``), the new refresh token, and whether to add
    ``client_info``."""

    base: str
    method: str
    refresh_token: str | None
    client_info: bool


def pairwise_subject(tenant_id: str, client_id: str, user_id: str) -> str:
    """The ``sub`` claim: stable for a user and an app, different for each app."""
    raw = hashlib.sha256(f"{tenant_id}|{client_id.lower()}|{user_id}".encode()).digest()
    return _b64(raw)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class UserTokens:
    """Signs a user's tokens with the tenant's key."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def response(
        self, app: AppRegistration, user: User, grant: Grant, issuance: Issuance
    ) -> dict[str, Any]:
        lifetime = self.core.options.access_token_lifetime
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(_scope_names(grant.scopes)),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": self.access_token(app, user, grant, issuance.method),
        }
        if "openid" in grant.scopes:
            body["id_token"] = self.id_token(app, user, grant, issuance.base)
        if issuance.refresh_token:
            body["refresh_token"] = issuance.refresh_token
        if issuance.client_info:
            info = {"uid": user.id, "utid": self.core.tenant.tenant_id}
            body["client_info"] = _b64(json.dumps(info).encode())
        return body

    def _times(self, lifetime: timedelta) -> dict[str, int]:
        now = self.core.clock.now()
        stamp = int(now.timestamp())
        return {"iat": stamp, "nbf": stamp, "exp": int((now + lifetime).timestamp())}

    def id_token(self, app: AppRegistration, user: User, grant: Grant, base: str) -> str:
        tid = self.core.tenant.tenant_id
        claims: dict[str, Any] = {
            "aud": app.client_id,
            "iss": f"{base}/{tid}/v2.0",
            **self._times(ID_TOKEN_LIFETIME),
            "sub": pairwise_subject(tid, app.client_id, user.id),
            "tid": tid,
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        if "profile" in grant.scopes:
            claims.update(oid=user.id, name=user.display_name)
            claims["preferred_username"] = user.user_principal_name
        if "email" in grant.scopes and user.mail:
            claims["email"] = user.mail
        roles = self.core.tenant.signin.app(app.client_id).role_values(user.id)
        if roles:
            claims["roles"] = roles
        return self.core.identity.sign(claims, x5t=False)

    def access_token(self, app: AppRegistration, user: User, grant: Grant, method: str) -> str:
        tid = self.core.tenant.tenant_id
        only_oidc = all(s in OIDC_SCOPES for s in grant.scopes)
        claims: dict[str, Any] = {
            "aud": GRAPH_APP_ID if only_oidc else "https://graph.microsoft.com",
            "iss": f"https://sts.windows.net/{tid}/",
            **self._times(timedelta(seconds=self.core.options.access_token_lifetime)),
            "acr": "1",
            "amr": ["pwd"],
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "appidacr": method,
            "idtyp": "user",
            "name": user.display_name,
            "oid": user.id,
            "scp": " ".join(s for s in grant.scopes if s != "offline_access"),
            "sub": pairwise_subject(tid, GRAPH_APP_ID, user.id),
            "tid": tid,
            "unique_name": user.user_principal_name,
            "upn": user.user_principal_name,
            "uti": secrets.token_urlsafe(16),
            "ver": "1.0",
        }
        return self.core.identity.sign(claims, x5t=True)


def _scope_names(scopes: tuple[str, ...]) -> list[str]:
    """Scopes as the response names them: Graph permissions with Graph's resource URI."""
    return [s if s in OIDC_SCOPES else f"{GRAPH_PREFIXES[0]}{s}" for s in scopes]
