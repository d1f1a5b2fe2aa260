"""App-only tokens from Entra ID through msal, for a client secret or a certificate.

One long-lived ``msal.ConfidentialClientApplication`` per credential: its in-memory token
cache lives inside it, so a token is fetched once and reused until shortly before it
expires (client credentials grant, concepts/auth-v2-service.md). msal reports failures as
error dicts; :class:`TokenProvider` turns them into :mod:`roomsync.m365.exceptions` once.
:class:`TokenProviders` keeps one provider per integration, keyed by a fingerprint of the
credential itself, so a rotated secret is used on the next call and two integrations
that name the same tenant and application never share a provider or its token cache.

A certificate credential signs a client assertion (``client_assertion_type=
urn:ietf:params:oauth:client-assertion-type:jwt-bearer``) with the private key; msal puts
the certificate's SHA-256 thumbprint (``x5t#S256``) and the certificate itself (``x5c``)
in the assertion header, both derived from the PEM certificate given here.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, TypeVar

import httpx
import msal
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from msal.exceptions import MsalServiceError

from roomsync.m365.clouds import CloudEndpoints
from roomsync.m365.error_mapping import error_from_entra, error_from_transport
from roomsync.m365.exceptions import (
    AuthenticationFailed,
    GraphError,
    InvalidCertificate,
    InvalidResponse,
)

T = TypeVar("T")
_PEM_BLOCK = "-----BEGIN {kind}-----"


class TokenSource(Protocol):
    """Anything that hands out a bearer token for Graph (the seam GraphClient uses)."""

    def token(self, force_refresh: bool = False) -> str: ...


@dataclass(frozen=True)
class ClientSecretCredential:
    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)

    def msal_credential(self) -> str | dict[str, str]:
        return self.client_secret

    def fingerprint(self) -> str:
        """A digest of everything that decides which tokens this credential gets."""
        return _digest("secret", self.tenant_id, self.client_id, self.client_secret)


@dataclass(frozen=True)
class CertificateCredential:
    """A private key and its certificate (PEM), checked to belong together on creation."""

    tenant_id: str
    client_id: str
    private_key_pem: str = field(repr=False)
    certificate_pem: str
    passphrase: str | None = field(default=None, repr=False)
    sha1_thumbprint: str = field(init=False)
    sha256_thumbprint: str = field(init=False)
    not_valid_after: datetime = field(init=False)

    def __post_init__(self) -> None:
        certificate = _load_certificate(self.certificate_pem, self.client_id)
        key = _load_private_key(self.private_key_pem, self.passphrase, self.client_id)
        if _public_der(key.public_key()) != _public_der(certificate.public_key()):
            raise InvalidCertificate(
                f"The private key saved for application {self.client_id} does not belong to "
                "its certificate: save the key and certificate that were created together."
            )
        sha1 = certificate.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - x5t, as Azure portal shows it
        object.__setattr__(self, "sha1_thumbprint", sha1)
        object.__setattr__(
            self, "sha256_thumbprint", certificate.fingerprint(hashes.SHA256()).hex().upper()
        )
        object.__setattr__(self, "not_valid_after", certificate.not_valid_after_utc)

    @classmethod
    def from_pem_bundle(
        cls, *, tenant_id: str, client_id: str, pem: str, passphrase: str | None = None
    ) -> CertificateCredential:
        """From one PEM text holding both the private key and the certificate."""
        certificate = _first_block(pem, "CERTIFICATE")
        key = next(
            (block for kind in _KEY_KINDS if (block := _first_block(pem, kind))),
            "",
        )
        return cls(
            tenant_id=tenant_id,
            client_id=client_id,
            private_key_pem=key,
            certificate_pem=certificate,
            passphrase=passphrase,
        )

    def msal_credential(self) -> str | dict[str, str]:
        credential = {
            "private_key": self.private_key_pem,
            "public_certificate": self.certificate_pem,
        }
        if self.passphrase:
            credential["passphrase"] = self.passphrase
        return credential

    def fingerprint(self) -> str:
        """A digest of everything that decides which tokens this credential gets."""
        return _digest(
            "certificate",
            self.tenant_id,
            self.client_id,
            self.private_key_pem,
            self.certificate_pem,
            self.passphrase or "",
        )


Credential = ClientSecretCredential | CertificateCredential
_KEY_KINDS = ("PRIVATE KEY", "RSA PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY")


def _digest(*parts: str) -> str:
    """SHA-256 over length-prefixed parts, so no two different credentials collide."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        hasher.update(len(data).to_bytes(8, "big") + data)
    return hasher.hexdigest()


def _first_block(pem: str, kind: str) -> str:
    begin, end = _PEM_BLOCK.format(kind=kind), f"-----END {kind}-----"
    start = pem.find(begin)
    stop = pem.find(end, start)
    return pem[start : stop + len(end)] + "\n" if start >= 0 and stop >= 0 else ""


def _load_certificate(pem: str, client_id: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError as exc:
        raise InvalidCertificate(
            f"The certificate saved for application {client_id} is not a PEM certificate: "
            "save the public certificate (-----BEGIN CERTIFICATE-----) registered in Azure "
            "portal → App registrations → Certificates & secrets."
        ) from exc


def _load_private_key(pem: str, passphrase: str | None, client_id: str) -> Any:
    try:
        password = passphrase.encode() if passphrase else None
        return serialization.load_pem_private_key(pem.encode(), password=password)
    except (ValueError, TypeError) as exc:
        raise InvalidCertificate(
            f"The private key saved for application {client_id} cannot be read (not PEM, "
            "or a wrong or missing passphrase): save the unencrypted PEM private key of the "
            "registered certificate, or its passphrase."
        ) from exc


def _public_der(public_key: Any) -> bytes:
    return bytes(
        public_key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


class MsalHttpClient:
    """The shared ``httpx.Client`` in the requests-like shape msal calls.

    msal calls ``get``/``post(url, params=, data=, headers=, ...)`` and reads
    ``status_code``, ``text`` and ``headers``, which httpx answers as is; but msal hands its
    signed client assertion over as *bytes*, which httpx would form-encode as ``"b'...'"``,
    so form values are decoded first. ``close`` is a no-op: the client is shared.
    """

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        return self._http.get(url, params=params, headers=_present(headers), **kwargs)

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        if isinstance(data, str | bytes):
            kwargs["content"] = data
        elif data is not None:
            kwargs["data"] = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self._http.post(url, params=params, headers=_present(headers), **kwargs)

    def close(self) -> None:
        """The shared client outlives every msal application."""


def _present(headers: Mapping[str, str | None] | None) -> dict[str, str]:
    return {k: v for k, v in (headers or {}).items() if v is not None}


def msal_application(credential: Credential, *, http: httpx.Client, cloud: CloudEndpoints) -> Any:
    """msal's application for this credential, on the shared client and the cloud's login
    host (instance discovery only against Microsoft's own hosts)."""
    return msal.ConfidentialClientApplication(
        credential.client_id,
        client_credential=credential.msal_credential(),
        authority=cloud.authority(credential.tenant_id),
        http_client=MsalHttpClient(http),
        instance_discovery=cloud.is_microsoft_login_host,
    )


class TokenProvider:
    """Bearer tokens for one credential, from one long-lived msal application."""

    def __init__(self, credential: Credential, *, http: httpx.Client, cloud: CloudEndpoints):
        self.credential = credential
        self._http = http
        self._cloud = cloud
        self._lock = threading.Lock()
        self._application: Any = None

    def token(self, force_refresh: bool = False) -> str:
        """A valid access token; ``force_refresh`` drops the cached one first (after a 401)."""
        application = self._msal_application()
        if force_refresh:
            application.remove_tokens_for_client()
        result = self._translated(
            lambda: application.acquire_token_for_client(scopes=[self._cloud.graph_scope])
        )
        token = result.get("access_token")
        if isinstance(token, str) and token:
            return token
        raise self._entra_error(result)

    def _msal_application(self) -> Any:
        with self._lock:
            if self._application is None:
                self._application = self._translated(self._build_application)
            return self._application

    def _build_application(self) -> Any:
        return msal_application(self.credential, http=self._http, cloud=self._cloud)

    def _translated(self, call: Callable[[], T]) -> T:
        """Runs an msal call, turning whatever it raises into our exceptions."""
        try:
            return call()
        except httpx.TransportError as exc:
            raise error_from_transport(exc, service="Entra ID", url=self._cloud.login_url) from exc
        except MsalServiceError as exc:
            raise self._entra_error({"error": "temporarily_unavailable"}) from exc
        except (ValueError, KeyError) as exc:
            raise self._unreadable_answer(exc) from exc

    def _unreadable_answer(self, exc: ValueError | KeyError) -> GraphError:
        """msal raises ValueError when tenant discovery fails or a reply is not JSON, and
        KeyError when the OpenID configuration lacks an endpoint it needs."""
        discovery = _discovery_error_body(exc)
        if discovery is not None:
            return self._entra_error(discovery)
        if isinstance(exc, KeyError) or "authority" in str(exc).lower():
            return AuthenticationFailed(
                f"roomsync could not read the sign-in configuration of tenant "
                f"{self.credential.tenant_id} from {self._cloud.login_url}: check the tenant "
                "id on the integration and ROOMSYNC_LOGIN_URL."
            )
        return InvalidResponse(
            f"roomsync could not get a token from Entra ID at {self._cloud.login_url} "
            f"({type(exc).__name__}: the answer or the saved credential is unreadable): check "
            "ROOMSYNC_LOGIN_URL, any proxy in between, and the credential on the integration."
        )

    def _entra_error(self, result: Mapping[str, Any]) -> GraphError:
        return error_from_entra(
            _without_secrets(result, self._secrets()),
            tenant_id=self.credential.tenant_id,
            client_id=self.credential.client_id,
        )

    def _secrets(self) -> tuple[str, ...]:
        if isinstance(self.credential, ClientSecretCredential):
            return (self.credential.client_secret,)
        return tuple(s for s in (self.credential.passphrase,) if s)


def _discovery_error_body(exc: BaseException) -> dict[str, Any] | None:
    """The Entra error JSON msal quotes when OpenID discovery fails (it chains the original)."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen)
        if "OIDC Discovery failed" in text and "{" in text:
            try:
                body = json.loads(text[text.index("{") :])
            except ValueError:
                return None
            return body if isinstance(body, dict) and "error" in body else None
        seen = seen.__context__
    return None


def _without_secrets(result: Mapping[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    """A copy of msal's dict in which no secret survives, whatever the server echoed."""
    return {
        key: _redacted(value, secrets) if isinstance(value, str) else value
        for key, value in result.items()
    }


def _redacted(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "[redacted]")
    return text


class TokenProviders:
    """One :class:`TokenProvider` per owner (an integration), never shared between owners.

    Two organizations may enter the same tenant and application id with different
    credentials; a provider is therefore keyed by its owner, and it is replaced as soon as
    the credential it was built from differs (by fingerprint) from the one the owner holds
    now. A wrong secret never borrows a right one's token cache, and one owner's rotation
    or failure leaves every other owner's provider as it was.
    """

    def __init__(self, *, http: httpx.Client, cloud: CloudEndpoints) -> None:
        self._http = http
        self._cloud = cloud
        self._lock = threading.Lock()
        self._providers: dict[str, tuple[str, TokenProvider]] = {}

    def get(self, credential: Credential, *, owner: str) -> TokenProvider:
        """The owner's provider for this very credential (a new one when it changed)."""
        fingerprint = credential.fingerprint()
        with self._lock:
            cached = self._providers.get(owner)
            if cached is not None and cached[0] == fingerprint:
                return cached[1]
            provider = TokenProvider(credential, http=self._http, cloud=self._cloud)
            self._providers[owner] = (fingerprint, provider)
            return provider

    def forget(self, *, owner: str) -> None:
        """Drop an owner's provider and its token cache (credential changed, disabled, gone)."""
        with self._lock:
            self._providers.pop(owner, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._providers)
