"""Entra ID for daemons: the v2.0 token endpoint (client credentials) and OpenID metadata;
the user grants (authorization code, refresh token) are in ``graphsim.signin``.

- ``POST /{tenant}/oauth2/v2.0/token``: ``client_secret`` (form or HTTP Basic) or a
  certificate ``client_assertion`` (a JWT signed with the registered certificate's key;
  ``aud`` = the token endpoint, ``iss`` = ``sub`` = client id, ``exp`` checked; msal sends
  ``x5t`` or ``x5t#S256``, RS256 or PS256). Scope must be ``{resource}/.default``.
- Errors (reference-error-codes.md; statuses as observed): wrong secret 401
  ``invalid_client`` AADSTS7000215; expired secret 401 AADSTS7000222; unknown app 400
  ``unauthorized_client`` AADSTS700016; unknown tenant 400 AADSTS90002.
- Access tokens: RS256 JWTs with ``roles``, ``tid``, ``appid``, ``aud``, ``exp``
  (lifetime configurable, default 3599 s as in auth-v2-service.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import load_pem_x509_certificate
from jwt.types import Options

from graphsim.clock import Clock
from graphsim.directory.tenant import AppRegistration, Certificate, Tenant
from graphsim.errors import GraphApiError, TokenEndpointError
from graphsim.ids import IdFactory

GRAPH_RESOURCE = "https://graph.microsoft.com"
_KNOWN_RESOURCES = frozenset(
    {
        "https://graph.microsoft.com",
        "https://graph.microsoft.us",
        "https://dod-graph.microsoft.us",
        "https://microsoftgraph.chinacloudapi.cn",
        "00000003-0000-0000-c000-000000000000",
    }
)
# Time claims are checked against the simulator's clock, not pyjwt's wall clock.
_SIGNATURE_ONLY: Options = {
    "verify_exp": False,
    "verify_aud": False,
    "verify_nbf": False,
    "verify_iat": False,
}
_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000"'
)


@dataclass(frozen=True)
class AppPrincipal:
    """Who a valid access token speaks for."""

    client_id: str
    roles: frozenset[str]
    tenant_id: str


@dataclass(frozen=True, slots=True)
class _VerifiedToken:
    """An access token whose signature checked out: its time claims and its app."""

    expires: float
    not_before: float
    issued: float
    principal: AppPrincipal


# Verified tokens kept at once; past that the cache starts over (tokens live an hour).
_VERIFIED_CAPACITY = 10_000


def unauthorized(message: str) -> GraphApiError:
    return GraphApiError(
        401, "InvalidAuthenticationToken", message, headers={"WWW-Authenticate": _WWW_AUTHENTICATE}
    )


def _invalid_client(aadsts: int, text: str) -> TokenEndpointError:
    return TokenEndpointError(401, "invalid_client", aadsts, text)


class Identity:
    """Signs and checks tokens for one tenant."""

    def __init__(self, tenant: Tenant, clock: Clock, ids: IdFactory, lifetime: int = 3599) -> None:
        self.tenant, self.clock, self.ids = tenant, clock, ids
        self.lifetime = lifetime
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = base64.urlsafe_b64encode(
            hashlib.sha1(  # noqa: S324 - a key id, not security
                self._key.public_key().public_numbers().n.to_bytes(256, "big")
            ).digest()
        ).decode()
        self._public_key = self._key.public_key()
        self.revoked_before: datetime | None = None
        self._lock = threading.Lock()
        self._verified: dict[str, _VerifiedToken] = {}

    def openid_configuration(self, base: str, tenant: str) -> dict[str, Any]:
        """For ``common`` and ``organizations`` the endpoints stay multi-tenant and the
        issuer is the ``{tenantid}`` template (v2-protocols-oidc.md)."""
        multi = tenant.lower() in ("common", "organizations")
        if not multi:
            self._tenant_or_error(tenant)
        root = f"{base}/{tenant.lower() if multi else self.tenant.tenant_id}"
        return {
            "token_endpoint": f"{root}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{root}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{{tenantid}}/v2.0" if multi else f"{root}/v2.0",
            "request_uri_parameter_supported": False,
            "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            "end_session_endpoint": f"{root}/oauth2/v2.0/logout",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
        }

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": self.kid,
                    "n": _b64(numbers.n.to_bytes(256, "big")),
                    "e": _b64(numbers.e.to_bytes(3, "big")),
                }
            ]
        }

    def issue(self, tenant: str, form: dict[str, str], base: str) -> dict[str, Any]:
        """The token response for a client-credentials request, or a TokenEndpointError."""
        self._tenant_or_error(tenant)
        if form.get("grant_type") != "client_credentials":
            raise TokenEndpointError(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        app = self.client_app(form)
        resource = _resource(form.get("scope", ""), base)
        method = self.authenticate_client(app, form, base, tenant)
        return self._token_response(app, resource, method)

    def client_app(self, form: dict[str, str]) -> AppRegistration:
        """The enabled app registration named by the request's ``client_id``."""
        client_id = form.get("client_id", "")
        if not client_id:
            raise TokenEndpointError(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            )
        app = self.tenant.apps.get(client_id.lower())
        if app is None or not app.enabled:
            raise TokenEndpointError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.tenant.display_name}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in "
                "the tenant. You may have sent your authentication request to the wrong tenant.",
            )
        return app

    def authenticate_client(
        self, app: AppRegistration, form: dict[str, str], base: str, tenant: str
    ) -> str:
        """``appidacr``: "1" for a client secret, "2" for a certificate assertion."""
        return self._authenticate(app, form, self._token_urls(base, tenant))

    def _token_urls(self, base: str, tenant: str) -> set[str]:
        """Audiences a client assertion may name: this endpoint under any tenant alias."""
        names = {tenant, self.tenant.tenant_id, self.tenant.domain}
        hosts = {base, "https://login.microsoftonline.com"}
        return {f"{h}/{n}/oauth2/v2.0/token".lower() for h in hosts for n in names}

    def _tenant_or_error(self, tenant: str) -> None:
        if not self.tenant.matches(tenant):
            raise TokenEndpointError(
                400,
                "invalid_request",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant "
                "ID and are signing into the correct cloud.",
            )

    def _authenticate(
        self, app: AppRegistration, form: dict[str, str], token_urls: set[str]
    ) -> str:
        if form.get("client_assertion"):
            if form.get("client_assertion_type") != _ASSERTION_TYPE:
                raise TokenEndpointError(
                    400,
                    "invalid_request",
                    90014,
                    "The client_assertion_type is missing or not valid.",
                )
            self._check_assertion(app, form["client_assertion"], token_urls)
            return "2"
        secret = form.get("client_secret")
        if not secret:
            raise TokenEndpointError(
                400,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'.",
            )
        match = next((s for s in app.secrets if _same(s.value, secret)), None)
        if match is None:
            raise _invalid_client(
                7000215,
                "Invalid client secret provided. Ensure the secret being sent "
                "in the request is the client secret value, not the client "
                f"secret ID, for a secret added to app '{app.client_id}'.",
            )
        if match.expires_at <= self.clock.now():
            raise _invalid_client(
                7000222,
                f"The provided client secret keys for app '{app.client_id}' "
                "are expired. Visit the Azure portal to create new keys for "
                "your app: https://aka.ms/NewClientSecret, or consider using "
                "certificate credentials for added security: "
                "https://aka.ms/certCreds.",
            )
        return "1"

    def _check_assertion(self, app: AppRegistration, assertion: str, token_urls: set[str]) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as exc:
            raise _invalid_client(50027, "JWT token is invalid or malformed.") from exc
        cert = _registered_certificate(app, header)
        if cert is None:
            raise _invalid_client(
                700027,
                "The certificate with identifier used to sign the "
                "client assertion is not registered on application.",
            )
        key = load_pem_x509_certificate(cert.cert_pem.encode()).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise _invalid_client(700027, "The registered certificate must hold an RSA key.")
        try:
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256", "PS256"],
                options=_SIGNATURE_ONLY,
            )
        except jwt.PyJWTError as exc:
            raise _invalid_client(700027, "Client assertion failed signature validation.") from exc
        self._check_assertion_claims(app, claims, token_urls)

    def _check_assertion_claims(
        self, app: AppRegistration, claims: dict[str, Any], token_urls: set[str]
    ) -> None:
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if not token_urls & {str(a).lower() for a in audiences}:
            raise _invalid_client(
                50027,
                "Invalid JWT token. The client assertion's audience "
                "must be this tenant's token endpoint.",
            )
        if not (claims.get("iss") == claims.get("sub") == app.client_id):
            raise _invalid_client(
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )
        now = self.clock.now().timestamp()
        if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now - 300:
            raise _invalid_client(700024, "Client assertion is not within its valid time range.")
        if isinstance(claims.get("nbf"), int | float) and claims["nbf"] > now + 300:
            raise _invalid_client(700024, "Client assertion is not within its valid time range.")

    def _token_response(self, app: AppRegistration, resource: str, method: str) -> dict[str, Any]:
        now = self.clock.now()
        principal = self.ids.guid()
        claims = {
            "aud": resource,
            "iss": f"https://sts.windows.net/{self.tenant.tenant_id}/",
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.lifetime)).timestamp()),
            "app_displayname": app.display_name,
            "appid": app.client_id,
            "appidacr": method,
            "idp": f"https://sts.windows.net/{self.tenant.tenant_id}/",
            "idtyp": "app",
            "oid": principal,
            "roles": sorted(app.roles),
            "sub": principal,
            "tid": self.tenant.tenant_id,
            "uti": self.ids.guid().replace("-", "")[:22],
            "ver": "1.0",
        }
        token = self.sign(claims, x5t=True)
        return {
            "token_type": "Bearer",
            "expires_in": self.lifetime,
            "ext_expires_in": self.lifetime,
            "access_token": token,
        }

    def sign(self, claims: dict[str, Any], *, x5t: bool) -> str:
        """An RS256 JWT signed with the key the JWKS serves (v1.0 tokens also name it
        ``x5t``, v2.0 tokens only ``kid``: id-token-claims-reference.md)."""
        headers = {"kid": self.kid, "x5t": self.kid} if x5t else {"kid": self.kid}
        return jwt.encode(claims, self._key, algorithm="RS256", headers=headers)

    def verify(self, authorization: str | None) -> AppPrincipal:
        """The app behind a ``Bearer`` header; 401 ``InvalidAuthenticationToken`` otherwise.

        A token's signature is checked once: its claims are kept by the token's text (a
        client sends the same token for an hour), and the time claims are checked against
        the clock on every request, so expiry and :meth:`expire_access_tokens` still apply
        to the very next call."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise unauthorized("Access token is empty.")
        token = authorization[7:].strip()
        verified = self._verified.get(token)
        if verified is None:
            verified = self._verify_signature(token)
        now = self.clock.now().timestamp()
        revoked = self.revoked_before.timestamp() if self.revoked_before else None
        if (
            verified.expires <= now
            or verified.not_before > now + 300
            or (revoked is not None and verified.issued <= revoked)
        ):
            raise unauthorized("Lifetime validation failed, the token is expired.")
        return verified.principal

    def _verify_signature(self, token: str) -> _VerifiedToken:
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                options=_SIGNATURE_ONLY,
            )
        except jwt.PyJWTError as exc:
            raise unauthorized("Access token validation failure. Invalid audience.") from exc
        verified = _VerifiedToken(
            claims["exp"],
            claims["nbf"],
            claims["iat"],
            AppPrincipal(claims["appid"], frozenset(claims.get("roles", [])), claims["tid"]),
        )
        if len(self._verified) >= _VERIFIED_CAPACITY:
            self._verified.clear()
        self._verified[token] = verified
        return verified

    def expire_access_tokens(self) -> None:
        """Every token issued so far stops working (as if each had expired)."""
        self.revoked_before = self.clock.now()


def _resource(scope: str, base: str) -> str:
    scopes = scope.split()
    if len(scopes) != 1 or not scopes[0].endswith("/.default"):
        raise TokenEndpointError(
            400,
            "invalid_scope",
            1002012,
            f"The provided value for scope {scope} is not valid. Client credential flows must "
            "have a scope value with /.default suffixed to the resource identifier "
            "(application ID URI).",
        )
    resource = scopes[0][: -len("/.default")].rstrip("/")
    if resource.lower() not in _KNOWN_RESOURCES and resource.lower() != base.lower():
        raise TokenEndpointError(
            400,
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant.",
        )
    return resource


def _registered_certificate(app: AppRegistration, header: dict[str, Any]) -> Certificate | None:
    sha1 = _thumb(header.get("x5t"))
    sha256 = _thumb(header.get("x5t#S256"))
    for cert in app.certificates:
        if sha1 == cert.thumbprint_sha1.upper() or sha256 == cert.thumbprint_sha256.upper():
            return cert
    return None


def _thumb(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return raw.hex().upper()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _same(stored: str, given: str) -> bool:
    return hmac.compare_digest(stored.encode(), given.encode())
