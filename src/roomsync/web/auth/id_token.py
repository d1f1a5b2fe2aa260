"""Verifying the id_token of a sign-in ourselves, whatever msal already checked
(id-token-claims-reference.md): an RS256 signature by a key the tenant publishes,
``iss`` = ``{login}/{tid}/v2.0`` for the integration's tenant, ``aud`` = its application
id, ``exp``/``nbf``/``iat`` with a small skew, and the ``nonce`` of this very flow (msal
sends the SHA-256 of the flow's nonce, so that is what comes back).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import jwt

from roomsync.m365.clouds import CloudEndpoints
from roomsync.m365.exceptions import SignInFailed
from roomsync.m365.jwks import SigningKeys

CLOCK_SKEW_SECONDS = 120
ADMIN_APP_ROLE = "Roomsync.Admin"
_REQUIRED = ("iss", "aud", "exp", "iat", "nbf", "tid", "oid", "nonce")


@dataclass(frozen=True)
class Identity:
    """Who signed in, from verified claims."""

    tenant_id: str
    client_id: str
    object_id: str
    email: str
    name: str
    roles: tuple[str, ...]

    @property
    def is_admin(self) -> bool:
        return ADMIN_APP_ROLE in self.roles


@dataclass(frozen=True)
class Expected:
    """What the id_token must say: the integration's tenant and app, the flow's nonce."""

    tenant_id: str
    client_id: str
    nonce: str


def verify_id_token(
    token: str, expected: Expected, *, keys: SigningKeys, cloud: CloudEndpoints
) -> Identity:
    """The identity in ``token``, or SignInFailed saying which check it failed."""
    key = keys.key(expected.tenant_id, _kid(token))
    claims = _decoded(token, key, expected, cloud)
    digest = hashlib.sha256(expected.nonce.encode()).hexdigest()
    if claims["nonce"] != digest:
        raise SignInFailed("The id_token's nonce is not this sign-in's: sign in again.")
    if claims["tid"] != expected.tenant_id:
        raise SignInFailed(f"The id_token is for tenant {claims['tid']}, not this organization's.")
    return _identity(claims)


def _kid(token: str) -> str:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as exc:
        raise SignInFailed("The id_token is not a JSON Web Token: sign in again.") from exc
    if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
        raise SignInFailed("The id_token is not signed with RS256 by a named key.")
    return str(header["kid"])


def _decoded(
    token: str, key: jwt.PyJWK, expected: Expected, cloud: CloudEndpoints
) -> dict[str, Any]:
    issuer = f"{cloud.authority(expected.tenant_id)}/v2.0"
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=expected.client_id,
            issuer=issuer,
            leeway=CLOCK_SKEW_SECONDS,
            options={"require": list(_REQUIRED)},
        )
    except jwt.InvalidTokenError as exc:
        raise SignInFailed(f"The id_token does not verify: {_reason(exc)}") from exc
    return claims


def _reason(exc: jwt.InvalidTokenError) -> str:
    reasons: dict[type[jwt.InvalidTokenError], str] = {
        jwt.ExpiredSignatureError: "it has expired.",
        jwt.ImmatureSignatureError: "it is not valid yet.",
        jwt.InvalidAudienceError: "it was issued to another application (aud).",
        jwt.InvalidIssuerError: "it was issued by another tenant or authority (iss).",
        jwt.InvalidSignatureError: "its signature is not the tenant's.",
        jwt.MissingRequiredClaimError: f"{exc}.",
    }
    return next((text for kind, text in reasons.items() if isinstance(exc, kind)), f"{exc}.")


def _identity(claims: dict[str, Any]) -> Identity:
    email = claims.get("email") or claims.get("preferred_username")
    if not isinstance(email, str) or "@" not in email:
        raise SignInFailed(
            "The id_token carries no email address: grant the app the delegated `email` "
            "permission and give the account a mail address."
        )
    roles = claims.get("roles") or []
    return Identity(
        tenant_id=str(claims["tid"]),
        client_id=str(claims["aud"]),
        object_id=str(claims["oid"]),
        email=email.strip().lower(),
        name=str(claims.get("name") or email),
        roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
    )
