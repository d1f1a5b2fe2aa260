"""The Graph request pipeline shared by HTTP requests and ``$batch`` items.

Order: route lookup (400 ``BadRequest`` for an unknown segment), injected failures,
bearer token (401), per app + mailbox throttling (429), injected latency (time spent "in
the service", so it counts as in flight), then the handler, which checks permissions
(403). Every answer carries ``request-id`` and ``client-request-id`` headers and is logged.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from graphsim.directory.tenant import User
from graphsim.errors import GraphApiError, bad_request, graph_error_body
from graphsim.identity.tokens import AppPrincipal
from graphsim.query import QueryOptions
from graphsim.requestlog import LoggedRequest

if TYPE_CHECKING:
    from graphsim.core import Core

_PREFER_ITEM = re.compile(r'\s*([\w.-]+)\s*(?:=\s*("[^"]*"|[^,;]*))?')


@dataclass
class GraphRequest:
    """One Graph call, from HTTP or from a ``$batch`` item."""

    method: str
    version: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    base_url: str
    in_batch: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.query, QueryOptions):
            self.query = QueryOptions(self.query)

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise bad_request("The request body is not valid JSON.", "RequestBodyRead") from exc

    def prefer(self) -> dict[str, str]:
        """``Prefer`` header preferences, names lower-cased, quotes stripped."""
        return dict(_preferences(self.headers.get("prefer", "")))

    @property
    def root(self) -> str:
        return f"{self.base_url}/{self.version}"


@functools.lru_cache(maxsize=256)
def _preferences(header: str) -> tuple[tuple[str, str], ...]:
    """A client sends the same ``Prefer`` header on every call: it is parsed once."""
    found: dict[str, str] = {}
    for part in header.split(","):
        match = _PREFER_ITEM.match(part)
        if match and match.group(1):
            found[match.group(1).lower()] = (match.group(2) or "").strip().strip('"')
    return tuple(found.items())


@dataclass
class GraphResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    """What a handler gets: the request, the caller and the route's parameters."""

    core: Core
    request: GraphRequest
    principal: AppPrincipal
    params: dict[str, str]

    def user(self) -> User:
        key = self.params["user"]
        user = self.core.tenant.find_user(key)
        if user is None:
            raise GraphApiError(
                404,
                "Request_ResourceNotFound",
                f"Resource '{key}' does not exist or one of its queried "
                "reference-property objects are not present.",
            )
        return user


Handler = Callable[[Ctx], Awaitable[GraphResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    versions: frozenset[str] = frozenset({"v1.0", "beta"})
    outlook: bool = False
    envelope: bool = False


def route(
    method: str,
    pattern: str,
    handler: Handler,
    *,
    beta_only: bool = False,
    outlook: bool = False,
    envelope: bool = False,
) -> Route:
    """A route; ``{name}`` in ``pattern`` captures one path segment. ``outlook`` routes
    count against the per app + mailbox throttling limits; an ``envelope`` route (``$batch``)
    only carries other requests, so latency that is not aimed at it by path is not
    charged to it (its items are charged instead)."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
    versions = frozenset({"beta"}) if beta_only else frozenset({"v1.0", "beta"})
    pattern_re = re.compile(f"^{regex}/?$", re.IGNORECASE)
    return Route(method, pattern_re, handler, versions, outlook, envelope)


class GraphPipeline:
    """Runs a :class:`GraphRequest` through faults, auth, throttling and its handler."""

    def __init__(self, core: Core, routes: list[Route]) -> None:
        self.core, self.routes = core, routes

    async def handle(self, request: GraphRequest) -> GraphResponse:
        request_id = self.core.ids.guid()
        client_request_id = request.headers.get("client-request-id", request_id)
        mailbox, app_id = None, None
        try:
            found, params = self._match(request)
            mailbox = _mailbox_key(self.core, params)
            failure = self.core.faults.failure_for(request.path, mailbox)
            if failure is not None:
                raise failure
            principal = self.core.identity.verify(request.headers.get("authorization"))
            app_id = principal.client_id
            ctx = Ctx(self.core, request, principal, params)
            response = await self._throttled(found, ctx, mailbox if found.outlook else None)
        except GraphApiError as error:
            body = graph_error_body(
                error,
                request_id=request_id,
                client_request_id=client_request_id,
                now=self.core.clock.now(),
            )
            response = GraphResponse(error.status, body, dict(error.headers))
        response.headers.update({"request-id": request_id, "client-request-id": client_request_id})
        self.core.log.add(
            LoggedRequest(
                self.core.clock.now(),
                request.method,
                request.path,
                _query_string(request.query),
                mailbox,
                app_id,
                response.status,
                request.in_batch,
            )
        )
        return response

    async def _throttled(self, found: Route, ctx: Ctx, mailbox: str | None) -> GraphResponse:
        if mailbox is None:
            return await self._run(found, ctx)
        self.core.throttle.enter(ctx.principal.client_id, mailbox)
        try:
            return await self._run(found, ctx)
        finally:
            self.core.throttle.leave(ctx.principal.client_id, mailbox)

    async def _run(self, found: Route, ctx: Ctx) -> GraphResponse:
        # Injected latency stands for time spent in the service, so it counts as in flight.
        delay = self.core.faults.delay_for(ctx.request.path, aimed_only=found.envelope)
        if delay:
            await asyncio.sleep(delay)
        return await found.handler(ctx)

    def _match(self, request: GraphRequest) -> tuple[Route, dict[str, str]]:
        allowed = False
        for candidate in self.routes:
            match = candidate.pattern.match(request.path)
            if match is None or request.version not in candidate.versions:
                continue
            if candidate.method == request.method:
                return candidate, {k: unquote(v) for k, v in match.groupdict().items()}
            allowed = True
        if allowed:
            raise GraphApiError(
                405,
                "Request_BadRequest",
                f"The HTTP method '{request.method}' is not allowed here.",
            )
        segment = next((s for s in request.path.split("/")[::-1] if s), "")
        raise bad_request(f"Resource not found for the segment '{segment}'.")


def _mailbox_key(core: Core, params: dict[str, str]) -> str | None:
    key = params.get("user")
    if key is None:
        return None
    with core.lock:
        user = core.tenant.find_user(key)
    return (user.mail if user else key).lower()


def _query_string(query: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in query.items())
