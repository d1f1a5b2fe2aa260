"""Fakes behind the HTTP seam: Graph and Entra ID answers shaped as Microsoft documents them.

Nothing here patches roomsync: every fake is an ``httpx.MockTransport`` handler (or the
``TokenSource`` protocol GraphClient takes), so the code under test runs unchanged.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from roomsync.m365.graph import GraphClient
from roomsync.m365.retry import RetryPolicy

GRAPH_URL = "https://graph.microsoft.com"
EMULATOR_LOGIN_URL = "https://login.graphsim.test"
TENANT_ID = "7a1b2c3d-0000-4000-8000-00000000cafe"
CLIENT_ID = "0f1e2d3c-1111-4111-8111-00000000beef"
ODATA_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;charset=utf-8"

Handler = Callable[[httpx.Request], httpx.Response]


def graph_json(
    body: dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    """A Graph success answer with the headers Graph sends (request-id, OData content type)."""
    sent = {"request-id": str(uuid.uuid4()), "Content-Type": ODATA_JSON, **(headers or {})}
    return httpx.Response(status, headers=sent, content=json.dumps(body).encode())


def graph_error_body(code: str, message: str, *, request_id: str) -> dict[str, Any]:
    """The OData error shape of concepts/errors.md, with the innerError Graph adds."""
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": "2025-02-13T10:17:05",
                "request-id": request_id,
                "client-request-id": str(uuid.uuid4()),
            },
        }
    }


def graph_error(
    status: int,
    code: str,
    message: str,
    *,
    request_id: str = "93b6f17e-c05d-4f45-ad2a-6665c708d8a0",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = graph_error_body(code, message, request_id=request_id)
    sent = {"request-id": request_id, "Content-Type": "application/json", **(headers or {})}
    return httpx.Response(status, headers=sent, content=json.dumps(body).encode())


def too_many_requests(retry_after: str | None = "10") -> httpx.Response:
    """The sample 429 of concepts/throttling.md."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return graph_error(429, "TooManyRequests", "Please retry again later.", headers=headers)


class StaticTokens:
    """A TokenSource handing out numbered tokens; a forced refresh moves to the next one."""

    def __init__(self) -> None:
        self.issued = 1
        self.forced_refreshes = 0
        self._lock = threading.Lock()

    def token(self, force_refresh: bool = False) -> str:
        with self._lock:
            if force_refresh:
                self.forced_refreshes += 1
                self.issued += 1
            return f"token-{self.issued}"


class SleepRecorder:
    """Stands in for time.sleep: remembers each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.waits.append(seconds)

    @property
    def total(self) -> float:
        with self._lock:
            return sum(self.waits)


def make_graph(
    handler: Handler,
    *,
    tokens: StaticTokens | None = None,
    retry: RetryPolicy | None = None,
    sleep: SleepRecorder | None = None,
) -> GraphClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    return GraphClient(
        http, tokens or StaticTokens(), GRAPH_URL, retry=retry, sleep=sleep or SleepRecorder()
    )


# --- Entra ID ----------------------------------------------------------------------------


def entra_error(
    status: int, error: str, aadsts: int, text: str, *, correlation_id: str = "cdd450da-0001"
) -> httpx.Response:
    """An Entra ID token error as reference-error-codes.md shows it."""
    body = {
        "error": error,
        "error_description": f"AADSTS{aadsts}: {text}\r\nTrace ID: c15f09ad-701\r\n"
        f"Correlation ID: {correlation_id}\r\nTimestamp: 2024-12-27 14:53:13Z",
        "error_codes": [aadsts],
        "timestamp": "2024-12-27 14:53:13Z",
        "trace_id": "c15f09ad-701",
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={aadsts}",
    }
    return httpx.Response(status, json=body)


class EntraStub:
    """The two Entra endpoints msal uses: OpenID discovery and the v2.0 token endpoint."""

    def __init__(self, login_url: str = EMULATOR_LOGIN_URL) -> None:
        self.login_url = login_url
        self.token_requests: list[dict[str, str]] = []
        self.other_hosts: list[str] = []
        self.discovery_answer: Callable[[str], httpx.Response] | None = None
        self.token_answer: Callable[[dict[str, str]], httpx.Response] = self.issue_token

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not str(request.url).startswith(self.login_url):
            self.other_hosts.append(request.url.host)
            return httpx.Response(404)
        tenant = request.url.path.split("/")[1]
        if request.url.path.endswith("/.well-known/openid-configuration"):
            if self.discovery_answer is not None:
                return self.discovery_answer(tenant)
            return httpx.Response(200, json=self.openid_configuration(tenant))
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.token_requests.append(form)
        return self.token_answer(form)

    def openid_configuration(self, tenant: str) -> dict[str, Any]:
        base = f"{self.login_url}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{base}/v2.0",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
        }

    def issue_token(self, form: dict[str, str]) -> httpx.Response:
        number = len(self.token_requests)
        return httpx.Response(
            200,
            json={
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": f"eyJ0.access-{number}",
            },
        )


def self_signed_certificate(common_name: str = "roomsync-test") -> tuple[str, str]:
    """A fresh RSA key and a self-signed certificate for it, both PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


# --- $batch ------------------------------------------------------------------------------

ItemAnswer = tuple[int, dict[str, str], Any]


class BatchEndpoint:
    """``POST /$batch`` as json-batching.md describes it, each item answered by ``answer``.

    Answers come back in reverse order (Graph promises no order). ``posts`` keeps the items
    of every POST; ``slept_before`` the total the client had slept when each POST arrived.
    """

    def __init__(
        self,
        answer: Callable[[dict[str, Any]], ItemAnswer],
        *,
        sleeps: SleepRecorder | None = None,
        version: str = "v1.0",
    ) -> None:
        self.answer = answer
        self.sleeps = sleeps
        self.version = version
        self.posts: list[list[dict[str, Any]]] = []
        self.slept_before: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        assert request.url.path == f"/{self.version}/$batch"
        items = json.loads(request.content)["requests"]
        assert 1 <= len(items) <= 20
        with self._lock:
            self.posts.append(items)
            self.slept_before.append(self.sleeps.total if self.sleeps else 0.0)
        responses = []
        for item in reversed(items):
            status, headers, body = self.answer(item)
            responses.append({"id": item["id"], "status": status, "headers": headers, "body": body})
        return graph_json({"responses": responses})


def ok_item(body: Any = None) -> ItemAnswer:
    return 200, {"Content-Type": ODATA_JSON}, body if body is not None else {"value": []}


def throttled_item(retry_after: str) -> ItemAnswer:
    body = graph_error_body("TooManyRequests", "Please retry again later.", request_id="b-429")
    return 429, {"Content-Type": "application/json", "Retry-After": retry_after}, body


class GraphRoutes:
    """A few Graph endpoints by method and decoded path; every request is kept."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.requests: list[httpx.Request] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        self.routes[(method, path)] = handler

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return graph_error(
                404, "ResourceNotFound", f"Resource not found for the segment {request.url.path}"
            )
        return handler(request)

    def json_sent(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)
