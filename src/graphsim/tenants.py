"""Several emulated tenants behind one host, as Microsoft serves every tenant from the same
login and Graph addresses: one :class:`Simulator` per tenant (its own directory, calendars,
app registration, signing key and notifications) and :class:`TenantRouter`, the ASGI app
that hands each request to the tenant it is for.

- Login (``/{tenant}/oauth2/v2.0/…``, ``/{tenant}/v2.0/.well-known/…``,
  ``/{tenant}/discovery/v2.0/keys``): the tenant the segment names, by id or domain.
  ``common`` and ``organizations`` go to the tenant that registered the ``client_id``
  (of the query, or of the token request's form or HTTP Basic credentials), else to the
  tenant of the ``login_hint`` or ``domain_hint`` domain; their keys are every tenant's
  keys, as Microsoft's ``common`` keys sign for every tenant. A segment naming no tenant
  is AADSTS90002 (reference-error-codes.md, "InvalidTenantName").
- Graph (``/v1.0/…``, ``/beta/…``, ``$batch``): the tenant named by the ``tid`` claim of
  the bearer token, read without verifying it only to choose; that tenant then verifies
  the token as always, so a token of one tenant never reads another, and a token of no
  tenant here is 401 ``InvalidAuthenticationToken``.
- ``/_sim/…`` is the first tenant's control surface; ``/_sim/tenants/{tenant}/…`` another
  tenant's, and ``GET /_sim/tenants`` lists each tenant's configuration.
- Anything else goes to the first tenant (``/common/discovery/instance`` included, which
  names only the host).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx
from starlette.types import Receive, Scope, Send

from graphsim.core import SimOptions
from graphsim.errors import TokenEndpointError, token_error_body
from graphsim.loops import LoopThread
from graphsim.server import ServerHandle, serve_asgi, write_tls_files
from graphsim.signin.authorize import MULTI_TENANT, redirect_uri_registered
from graphsim.simulator import Simulator
from graphsim.transport import SyncASGITransport

# Microsoft's fictitious companies, for the demo's tenants in turn; later ones are numbered.
COMPANIES = (
    ("contoso", "Contoso"),
    ("fabrikam", "Fabrikam"),
    ("northwind", "Northwind Traders"),
    ("adatum", "Adatum"),
    ("tailspintoys", "Tailspin Toys"),
    ("woodgrovebank", "Woodgrove Bank"),
)
_GRAPH_VERSIONS = frozenset({"v1.0", "beta"})
# What follows ``/{tenant}`` in the login paths.
_LOGIN_PATHS = frozenset(
    {
        "/oauth2/v2.0/authorize",
        "/oauth2/v2.0/token",
        "/oauth2/v2.0/logout",
        "/v2.0/.well-known/openid-configuration",
        "/.well-known/openid-configuration",
        "/discovery/v2.0/keys",
    }
)
_KEYS = "/discovery/v2.0/keys"
_SIM_TENANTS = "/_sim/tenants"
_REMEMBERED_TOKENS = 4096


def company(index: int) -> tuple[str, str]:
    """The directory domain and display name of the ``index``-th tenant (0 is Contoso)."""
    if index < len(COMPANIES):
        slug, name = COMPANIES[index]
    else:
        slug, name = f"tenant{index + 1}", f"Tenant {index + 1}"
    return f"{slug}.onmicrosoft.com", name


def make_tenants(
    count: int, *, seed: int = 1, options: SimOptions | None = None, **simulator: Any
) -> list[Simulator]:
    """``count`` new tenants: the first is what ``Simulator(seed=seed)`` (or
    ``Simulator(options=options)``) is; the others have their own domain, name and ids,
    from the seeds that follow (``seed + 1``, ``seed + 2``, …)."""
    if count < 1:
        raise ValueError("There must be at least one tenant.")
    base = options or SimOptions(seed=seed)
    sims = [Simulator(options=base, **simulator)]
    for index in range(1, count):
        domain, name = company(index)
        own = replace(base, seed=base.seed + index)
        sims.append(Simulator(options=own, domain=domain, display_name=name, **simulator))
    return sims


class TenantRouter:
    """One ASGI app in front of several simulators; see the module docstring."""

    def __init__(self, simulators: Sequence[Simulator]) -> None:
        if not simulators:
            raise ValueError("A TenantRouter needs at least one tenant.")
        self.simulators = list(simulators)
        self._names: dict[str, Simulator] = {}
        for sim in self.simulators:
            for name in (sim.tenant_id, sim.tenant.domain):
                if name.lower() in self._names:
                    raise ValueError(f"Two tenants are named {name}.")
                self._names[name.lower()] = sim
        self._by_token: dict[str, Simulator | None] = {}
        self._request_loop: LoopThread | None = None
        self._loop_lock = threading.Lock()

    @property
    def first(self) -> Simulator:
        return self.simulators[0]

    # -- finding the tenant ------------------------------------------------------------

    def named(self, name: str) -> Simulator | None:
        """The tenant whose id or directory domain is ``name``."""
        return self._names.get(name.lower())

    def of_client(self, client_id: str | None) -> Simulator | None:
        """The tenant where the app ``client_id`` is registered."""
        key = (client_id or "").lower()
        return next((s for s in self.simulators if key and key in s.tenant.apps), None)

    def of_address(self, address: str | None) -> Simulator | None:
        """The tenant of an email address's (or a bare domain's) domain."""
        return self.named(address.rsplit("@", 1)[-1].strip()) if address else None

    def of_token(self, authorization: str | None) -> Simulator | None:
        """The tenant named by the ``tid`` claim of a bearer token (unverified); a client
        sends one token for an hour, so the answer is remembered."""
        if not authorization:
            return None
        known = self._by_token.get(authorization)
        if known is not None or authorization in self._by_token:
            return known
        found = self._tid_tenant(authorization)
        if len(self._by_token) >= _REMEMBERED_TOKENS:
            self._by_token.clear()
        self._by_token[authorization] = found
        return found

    def _tid_tenant(self, authorization: str) -> Simulator | None:
        if not authorization.lower().startswith("bearer "):
            return None
        parts = authorization[7:].strip().split(".")
        if len(parts) != 3:
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (ValueError, binascii.Error):
            return None
        tid = claims.get("tid") if isinstance(claims, dict) else None
        return self.named(tid) if isinstance(tid, str) else None

    # -- ASGI --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.first.app(scope, receive, send)
            return
        path: str = scope["path"]
        segment, _, rest = path[1:].partition("/")
        tail = f"/{rest}"
        sim: Simulator | None = self.first
        if segment in _GRAPH_VERSIONS:
            sim = self.of_token(_authorization(scope)) or self.first
        elif path == _SIM_TENANTS or path.startswith(_SIM_TENANTS + "/"):
            await self._sim_tenants(scope, receive, send)
            return
        elif tail in _LOGIN_PATHS and segment.lower() in MULTI_TENANT:
            if tail == _KEYS:
                await _send_json(send, 200, self._all_keys())
                return
            sim, receive = await self._multi_tenant(scope, receive, tail)
        elif tail in _LOGIN_PATHS:
            # An unknown tenant's endpoints answer AADSTS90002 as any tenant would.
            sim = self.named(segment) or (None if tail == _KEYS else self.first)
        if sim is None:
            await _send_json(send, 400, self._tenant_not_found(segment))
            return
        await sim.app(scope, receive, send)

    async def _multi_tenant(
        self, scope: Scope, receive: Receive, tail: str
    ) -> tuple[Simulator, Receive]:
        """The tenant a ``common`` or ``organizations`` request is for, and the
        ``receive`` to hand on (a token request's body is read here to find its app)."""
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        client_id = query.get("client_id")
        if tail == "/oauth2/v2.0/token":
            body = await _read_body(receive)
            form = dict(parse_qsl(body.decode("latin-1")))
            client_id = form.get("client_id") or _basic_client_id(_authorization(scope))
            receive = _replay(body, receive)
        found = (
            self.of_client(client_id)
            or self.of_address(query.get("login_hint"))
            or self.of_address(query.get("domain_hint"))
            or self._registering(query.get("post_logout_redirect_uri"))
        )
        return found or self.first, receive

    def _registering(self, uri: str | None) -> Simulator | None:
        """The tenant with an app that registered ``uri`` (a logout without client_id)."""
        if not uri:
            return None
        return next(
            (
                s
                for s in self.simulators
                if any(redirect_uri_registered(a, uri) for a in s.tenant.signin.apps.values())
            ),
            None,
        )

    def _tenant_not_found(self, segment: str) -> dict[str, Any]:
        error = TokenEndpointError(
            400,
            "invalid_tenant",
            90002,
            f"Tenant '{segment}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud.",
        )
        core = self.first.core
        with core.lock:
            ids = core.ids.guid(), core.ids.guid()
        return token_error_body(error, trace_id=ids[0], correlation_id=ids[1], now=core.clock.now())

    def _all_keys(self) -> dict[str, Any]:
        return {"keys": [k for s in self.simulators for k in s.core.identity.jwks()["keys"]]}

    async def _sim_tenants(self, scope: Scope, receive: Receive, send: Send) -> None:
        rest = scope["path"][len(_SIM_TENANTS) :].strip("/")
        if not rest:
            base = _base_url(scope)
            await _send_json(
                send, 200, {"tenants": [tenant_config(s, base) for s in self.simulators]}
            )
            return
        name, _, tail = rest.partition("/")
        sim = self.named(unquote(name))
        if sim is None:
            message = f"No tenant here is named {name}."
            await _send_json(send, 404, {"error": {"code": "NotFoundError", "message": message}})
            return
        inner = f"/_sim/{tail}"
        await sim.app({**scope, "path": inner, "raw_path": inner.encode()}, receive, send)

    # -- the Python API ----------------------------------------------------------------

    def config(self, base_url: str, ca_bundle: str | None = None) -> dict[str, Any]:
        """What ``graphsim serve --tenants N --config-out`` writes: the first tenant's
        configuration, as with one tenant, plus ``tenants`` listing every tenant's."""
        return {
            **self.first.config(base_url, ca_bundle),
            "tenants": [tenant_config(s, base_url, ca_bundle) for s in self.simulators],
        }

    def transport(self) -> httpx.BaseTransport:
        """A thread-safe sync transport into every tenant (for ``httpx.Client``)."""
        with self._loop_lock:
            if self._request_loop is None:
                self._request_loop = LoopThread("graphsim-tenants")
        return SyncASGITransport(self, self._request_loop)

    def close(self) -> None:
        if self._request_loop is not None:
            self._request_loop.close()
        for sim in self.simulators:
            sim.close()

    def __enter__(self) -> TenantRouter:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def tenant_config(sim: Simulator, base_url: str, ca_bundle: str | None = None) -> dict[str, Any]:
    """One tenant's entry in ``tenants``: its configuration with its domain and name."""
    return {
        "domain": sim.tenant.domain,
        "name": sim.tenant.display_name,
        **sim.config(base_url, ca_bundle),
    }


@contextlib.contextmanager
def serve_tenants(
    router: TenantRouter,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = True,
    tls_dir: str | Path | None = None,
) -> Iterator[ServerHandle]:
    """Serve every tenant of ``router`` on one port with one CA, as ``serve`` serves one
    (the handle's ``simulator`` is the first tenant)."""
    with tempfile.TemporaryDirectory(prefix="graphsim-") as scratch:
        directory = Path(tls_dir) if tls_dir else Path(scratch)
        ca_path, cert, key = None, None, None
        if tls:
            ca, cert_path, key_path = write_tls_files(directory, router.first)
            ca_path, cert, key = str(ca.resolve()), str(cert_path), str(key_path)
        with serve_asgi(router, host=host, port=port, certfile=cert, keyfile=key) as (base, bound):
            yield ServerHandle(base, ca_path, bound, router.first)


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            return str(value.decode("latin-1"))
    return None


def _basic_client_id(header: str | None) -> str | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return unquote(decoded.partition(":")[0].replace("+", " "))


def _base_url(scope: Scope) -> str:
    headers = dict(scope["headers"])
    host = headers.get(b"host", b"").decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}"


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` once, then whatever the client sends next."""
    sent = False

    async def again() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})
