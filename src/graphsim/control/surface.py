"""The ``/_sim`` control surface: the Python API of :class:`graphsim.Simulator` over HTTP,
for the demo, benchmarks and tests in other processes. Not part of Graph; no token.

    GET  /_sim/config                       tenant, app credentials, rooms, lists, users
    POST /_sim/seed                         {"rooms", "room_lists", "users", "events_per_room", …}
    POST /_sim/outlook/meetings             {"organizer", "rooms", "subject", "start", "end",
                                             "recurrence"?, "private"?} → {"id"}
    POST /_sim/outlook/meetings/{id}/move   {"organizer", "start", "end"}
    POST /_sim/outlook/meetings/{id}/cancel {"organizer"}
    GET  /_sim/mailboxes/{email}/events     the mailbox's items as Graph renders them
    GET  /_sim/requests?method=&path_contains=&mailbox=   {"count", "requests"}
    POST /_sim/faults                       {"latency_ms", "path_contains", "fail_next",
                                             "status", "error_rate", "drop_notifications",
                                             "duplicate_notifications", "clear"}
    POST /_sim/users/{email}/{verb}         rename {"name"}, address {"email"}, disable,
                                            enable, delete {"permanent"?}, restore
    POST /_sim/tokens/expire, /_sim/secrets/expire, /_sim/delta/{email}/reset,
         /_sim/delta/{email}/expire, /_sim/rooms/{email}/decline,
         /_sim/subscriptions/{id}/lifecycle {"event"}, /_sim/settle
    GET  /_sim/snapshot
    POST /_sim/signin/…                     sign-in settings (graphsim.signin.controls)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from graphsim.control.seeding import SeedSpec
from graphsim.errors import GraphApiError, GraphsimError

if TYPE_CHECKING:
    from graphsim.simulator import Simulator

Endpoint = Callable[[Request], Awaitable[Response]]


def _instant(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset.")
    return parsed


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    data = json.loads(raw) if raw else {}
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    return data


def _guarded(work: Callable[[Request], Awaitable[Any]]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            result = await work(request)
        except (GraphsimError, ValueError, KeyError, TypeError) as exc:
            message = exc.message if isinstance(exc, GraphApiError) else str(exc)
            return JSONResponse({"error": {"code": type(exc).__name__, "message": message}}, 400)
        return JSONResponse(result if result is not None else {"ok": True})

    return endpoint


def control_routes(sim: Simulator) -> list[BaseRoute]:
    """Routes bound to ``sim``."""

    async def config(request: Request) -> Any:
        return sim.config(f"{request.url.scheme}://{request.url.netloc}")

    async def seed(request: Request) -> Any:
        body = await _json(request)
        if body.pop("demo", False):
            result = sim.seed_demo()
        else:
            result = sim.seed(SeedSpec(**{k: int(v) for k, v in body.items()}))
        return {
            "rooms": result.rooms,
            "room_lists": result.room_lists,
            "users": result.users,
            "meetings": result.meetings,
        }

    async def create_meeting(request: Request) -> Any:
        body = await _json(request)
        event_id = sim.outlook.create_meeting(
            body["organizer"],
            body["rooms"],
            body.get("subject", "Meeting"),
            _instant(body["start"]),
            _instant(body["end"]),
            recurrence=body.get("recurrence"),
            private=bool(body.get("private", False)),
            attendees=body.get("attendees", ()),
        )
        return {"id": event_id}

    async def move_meeting(request: Request) -> Any:
        body = await _json(request)
        sim.outlook.move_meeting(
            body["organizer"],
            request.path_params["event"],
            _instant(body["start"]),
            _instant(body["end"]),
        )

    async def cancel_meeting(request: Request) -> Any:
        body = await _json(request)
        sim.outlook.cancel_meeting(body["organizer"], request.path_params["event"])

    async def events(request: Request) -> Any:
        return {"value": sim.events(request.path_params["email"])}

    async def requests(request: Request) -> Any:
        params = request.query_params
        found = sim.requests.entries(
            method=params.get("method"),
            path_contains=params.get("path_contains"),
            mailbox=params.get("mailbox"),
            status=int(params["status"]) if "status" in params else None,
        )
        return {
            "count": len(found),
            "requests": [
                {
                    "at": e.at.isoformat(),
                    "method": e.method,
                    "path": e.path,
                    "query": e.query,
                    "mailbox": e.mailbox,
                    "status": e.status,
                    "in_batch": e.in_batch,
                }
                for e in found[-1000:]
            ],
        }

    async def faults(request: Request) -> Any:
        body = await _json(request)
        if body.get("clear"):
            sim.clear_faults()
        if "latency_ms" in body:
            sim.inject_latency(float(body["latency_ms"]), body.get("path_contains"))
        if "fail_next" in body:
            sim.fail_next(
                int(body["fail_next"]),
                int(body.get("status", 503)),
                path_contains=body.get("path_contains"),
                mailbox=body.get("mailbox"),
            )
        if "error_rate" in body:
            sim.error_rate(
                float(body["error_rate"]),
                int(body.get("status", 503)),
                path_contains=body.get("path_contains"),
            )
        sim.drop_notifications(int(body.get("drop_notifications", 0)))
        sim.duplicate_notifications(int(body.get("duplicate_notifications", 0)))

    async def simple(request: Request) -> Any:
        action, key = request.path_params["action"], request.path_params.get("key", "")
        actions: dict[str, Callable[[], Any]] = {
            "tokens/expire": sim.expire_access_tokens,
            "secrets/expire": sim.expire_client_secret,
            "settle": sim.settle,
            "delta/reset": lambda: sim.reset_delta(key),
            "delta/expire": lambda: sim.expire_delta_tokens(key),
            "rooms/decline": lambda: sim.force_decline(key),
        }
        if action not in actions:
            raise ValueError(f"Unknown control action {action!r}.")
        actions[action]()

    async def roles(request: Request) -> Any:
        """What an admin does in Azure portal → API permissions: the app's granted
        application permissions replaced (tokens issued from now on carry them)."""
        body = await _json(request)
        sim.set_roles({str(role) for role in body["roles"]}, body.get("client_id"))

    async def lifecycle(request: Request) -> Any:
        body = await _json(request)
        sim.send_lifecycle(request.path_params["sid"], str(body["event"]))

    async def snapshot(_request: Request) -> Any:
        return sim.snapshot()

    return [
        Route("/_sim/config", _guarded(config)),
        Route("/_sim/seed", _guarded(seed), methods=["POST"]),
        Route("/_sim/outlook/meetings", _guarded(create_meeting), methods=["POST"]),
        Route("/_sim/outlook/meetings/{event}/move", _guarded(move_meeting), methods=["POST"]),
        Route("/_sim/outlook/meetings/{event}/cancel", _guarded(cancel_meeting), methods=["POST"]),
        Route("/_sim/mailboxes/{email}/events", _guarded(events)),
        Route("/_sim/requests", _guarded(requests)),
        Route("/_sim/faults", _guarded(faults), methods=["POST"]),
        Route("/_sim/subscriptions/{sid}/lifecycle", _guarded(lifecycle), methods=["POST"]),
        Route("/_sim/snapshot", _guarded(snapshot)),
        Route("/_sim/apps/roles", _guarded(roles), methods=["POST"]),
        _directory_route(sim),
        *sim.signin.routes(),
        Route("/_sim/{action:path}/{key}/{verb}", _guarded(_keyed(simple)), methods=["POST"]),
        Route("/_sim/{action:path}", _guarded(simple), methods=["POST"]),
    ]


def _keyed(work: Callable[[Request], Awaitable[Any]]) -> Callable[[Request], Awaitable[Any]]:
    """``/_sim/delta/{email}/reset`` → action ``delta/reset`` with key ``email``."""

    async def run(request: Request) -> Any:
        params = request.path_params
        params["action"] = f"{params['action']}/{params.pop('verb')}"
        return await work(request)

    return run


def _directory_route(sim: Simulator) -> Route:
    """``/_sim/users/{email}/{verb}``: an admin's change to a directory user."""

    async def directory_user(request: Request) -> Any:
        body, email = await _json(request), request.path_params["email"]
        admin = sim.directory
        verbs: dict[str, Callable[[], Any]] = {
            "rename": lambda: admin.rename(email, str(body["name"])),
            "address": lambda: admin.change_address(email, str(body["email"])),
            "disable": lambda: admin.set_account_enabled(email, False),
            "enable": lambda: admin.set_account_enabled(email, True),
            "delete": lambda: admin.delete(email, permanent=bool(body.get("permanent"))),
            "restore": lambda: admin.restore(email),
        }
        verb = request.path_params["verb"]
        if verb not in verbs:
            raise ValueError(f"Unknown directory action {verb!r}.")
        verbs[verb]()

    return Route("/_sim/users/{email}/{verb}", _guarded(directory_user), methods=["POST"])
