"""The ASGI application: Entra ID endpoints, Graph v1.0 and beta, and ``/_sim`` control.

Login and Graph share one base URL; their paths do not collide (``/{tenant}/oauth2/…``,
``/{tenant}/v2.0/.well-known/…`` versus ``/v1.0/…`` and ``/beta/…``).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

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


def _base(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


class Endpoints:
    """Starlette endpoints bound to one :class:`Core`."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.redeemer = Redeemer(core, core.signin)

    async def graph(self, request: Request) -> Response:
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
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    for version in ("v1.0", "beta"):
        routes.append(Route(f"/{version}/{{path:path}}", endpoints.graph, methods=methods))
    return Starlette(routes=routes)
