"""The ASGI application: Entra ID endpoints, Graph v1.0 and beta, and ``/_sim`` control.

Login and Graph share one base URL; their paths do not collide (``/{tenant}/oauth2/…``,
``/{tenant}/v2.0/.well-known/…`` versus ``/v1.0/…`` and ``/beta/…``).

Graph's own paths go straight from the ASGI call to the pipeline (:class:`GraphsimApp`):
a stand-in should cost its callers little CPU, and Starlette's middleware, router and
``Request`` would otherwise be most of what a ``calendarView/delta`` call costs. The answer
is the same ``Response`` Starlette would have sent.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from graphsim import batch
from graphsim.calendar import events_api
from graphsim.directory import mailbox_settings, places, users_delta
from graphsim.directory import users as directory
from graphsim.errors import TokenEndpointError, token_error_body
from graphsim.graph import GraphPipeline, GraphRequest, GraphResponse
from graphsim.notifications import subscriptions_api
from graphsim.requestlog import LoggedRequest
from graphsim.signin.redeem import USER_GRANTS, Redeemer
from graphsim.signin.routes import signin_routes

if TYPE_CHECKING:
    from graphsim.core import Core

JSON_TYPE = (
    "application/json; odata.metadata=minimal; odata.streaming=true; "
    "IEEE754Compatible=false; charset=utf-8"
)


def graph_routes() -> list[Any]:
    return [
        *places.routes(),
        *users_delta.routes(),
        *directory.routes(),
        *mailbox_settings.routes(),
        *events_api.routes(),
        *subscriptions_api.routes(),
        *batch.routes(),
    ]


def to_http(response: GraphResponse) -> Response:
    headers = dict(response.headers)
    if response.body is None:
        return Response(status_code=response.status, headers=headers)
    if isinstance(response.body, str):
        return Response(response.body, response.status, headers, media_type="text/plain")
    content = json.dumps(response.body, separators=(",", ":")).encode()
    return Response(content, response.status, headers, media_type=JSON_TYPE)


GRAPH_VERSIONS = ("v1.0", "beta")
GRAPH_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


class GraphsimApp(Starlette):
    """Starlette, except that a Graph call (``/v1.0/…`` or ``/beta/…`` with one of the
    methods Graph's route accepts) is handed to :meth:`Endpoints.graph_call` without the
    middleware and router; anything else, a HEAD or a mounted app included, goes through
    Starlette as before."""

    def __init__(self, endpoints: Endpoints, routes: list[BaseRoute]) -> None:
        super().__init__(routes=routes)
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in GRAPH_METHODS:
            version, slash, rest = scope["path"][1:].partition("/")
            # Starlette's ``{path:path}`` is ``.*``, which stops at a line break.
            if (
                slash
                and version in GRAPH_VERSIONS
                and "\n" not in rest
                and not scope.get("root_path")
            ):
                response = await self.endpoints.graph_call(scope, receive, version, rest)
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


class Endpoints:
    """Starlette endpoints bound to one :class:`Core`."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.redeemer = Redeemer(core, core.signin)
        # (scheme, Host header, server) -> base URL, as Starlette's URL would give it.
        self._bases: dict[tuple[Any, ...], str] = {}

    async def graph(self, request: Request) -> Response:
        """A Graph call that came through Starlette's router: one :class:`GraphsimApp`
        does not take directly (a HEAD, a root path, a line break in the path)."""
        version = request.url.path.split("/")[1]
        graph_request = GraphRequest(
            method=request.method,
            version=version,
            path="/" + request.path_params["path"],
            query=dict(request.query_params),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.body(),
            base_url=_base(request),
        )
        return to_http(await self.core.pipeline.handle(graph_request))

    async def graph_call(self, scope: Scope, receive: Receive, version: str, rest: str) -> Response:
        """The same request as :meth:`graph` builds, read from the ASGI scope directly:
        query and headers decoded as Starlette decodes them (latin-1, the last of a
        repeated name wins)."""
        raw_headers = scope["headers"]
        graph_request = GraphRequest(
            method=scope["method"],
            version=version,
            path="/" + rest,
            query=dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers},
            body=await _read_body(receive),
            base_url=self._scope_base(scope, raw_headers),
        )
        return to_http(await self.core.pipeline.handle(graph_request))

    def _scope_base(self, scope: Scope, raw_headers: list[tuple[bytes, bytes]]) -> str:
        host = next((v for k, v in raw_headers if k == b"host"), None)
        key = (scope.get("scheme", "http"), host, scope.get("server"))
        base = self._bases.get(key)
        if base is None:
            url = URL(scope=scope)
            base = self._bases[key] = f"{url.scheme}://{url.netloc}"
        return base

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        form.update(_basic_credentials(request.headers.get("authorization", "")))
        tenant, now = request.path_params["tenant"], self.core.clock.now()
        try:
            with self.core.lock:
                if form.get("grant_type") in USER_GRANTS:
                    body = self.redeemer.token(tenant, form, _base(request))
                else:
                    body = self.core.identity.issue(tenant, form, _base(request))
            status = 200
        except TokenEndpointError as error:
            body = token_error_body(
                error, trace_id=self.core.ids.guid(), correlation_id=self.core.ids.guid(), now=now
            )
            status = error.status
        self.core.log.add(
            LoggedRequest(
                now, "POST", request.url.path, "", None, form.get("client_id"), status, False
            )
        )
        headers = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
        return Response(json.dumps(body), status, headers, media_type="application/json")

    async def openid(self, request: Request) -> Response:
        try:
            body = self.core.identity.openid_configuration(
                _base(request), request.path_params["tenant"]
            )
            status = 200
        except TokenEndpointError as error:
            body = token_error_body(
                error,
                trace_id=self.core.ids.guid(),
                correlation_id=self.core.ids.guid(),
                now=self.core.clock.now(),
            )
            body["error"] = "invalid_tenant"
            status = error.status
        return Response(json.dumps(body), status, media_type="application/json")

    async def instance_discovery(self, request: Request) -> Response:
        """Entra's instance discovery, which msal asks on Microsoft's own login hosts (for
        token-cache aliases): this host is the one preferred network and cache name."""
        host = request.url.netloc
        body = {
            "tenant_discovery_endpoint": (
                f"{_base(request)}/common/v2.0/.well-known/openid-configuration"
            ),
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }
        return Response(json.dumps(body), media_type="application/json")

    async def keys(self, _request: Request) -> Response:
        return Response(json.dumps(self.core.identity.jwks()), media_type="application/json")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _basic_credentials(header: str) -> dict[str, str]:
    """client_secret_basic (RFC 6749 §2.3.1): both parts form-urlencoded, then base64."""
    if not header.lower().startswith("basic "):
        return {}
    try:
        decoded = base64.b64decode(header[6:]).decode()
    except ValueError:
        return {}
    client_id, _, secret = decoded.partition(":")
    return {
        "client_id": unquote(client_id.replace("+", " ")),
        "client_secret": unquote(secret.replace("+", " ")),
    }


def build_app(core: Core, control_routes: list[BaseRoute]) -> Starlette:
    """The whole ASGI app for ``core``; ``control_routes`` are mounted under ``/_sim``."""
    core.pipeline = GraphPipeline(core, graph_routes())
    endpoints = Endpoints(core)
    routes: list[BaseRoute] = [
        *control_routes,
        Route("/common/discovery/instance", endpoints.instance_discovery),
        Route("/{tenant}/oauth2/v2.0/token", endpoints.token, methods=["POST"]),
        Route("/{tenant}/v2.0/.well-known/openid-configuration", endpoints.openid),
        Route("/{tenant}/.well-known/openid-configuration", endpoints.openid),
        Route("/{tenant}/discovery/v2.0/keys", endpoints.keys),
        *signin_routes(core),
    ]
    for version in GRAPH_VERSIONS:
        routes.append(Route(f"/{version}/{{path:path}}", endpoints.graph, methods=[*GRAPH_METHODS]))
    return GraphsimApp(endpoints, routes)
