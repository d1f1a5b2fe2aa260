"""``GET /users/delta`` (api-reference/v1.0/api/user-delta.md, concepts/delta-query-users.md).

- Permission: User.Read.All (or ReadWrite / Directory.*); otherwise 403.
- A round without a token lists every user in the directory (room accounts too), pages of
  ``page_size``, each with an ``@odata.nextLink`` (``$skiptoken``) until the last, which
  carries an ``@odata.deltaLink`` (``$deltatoken``). A later round lists the users changed
  since that link, then a new deltaLink (an empty ``value`` when nothing changed).
- Query parameters are given once, in the first request: ``$select`` is encoded in the
  state token, and only the selected properties are tracked for changes; ``id`` always
  comes. Without ``$select``, the default properties come and every change counts.
- A property never set is left out of an item (it is "not included in the response").
- ``@removed``: reason ``changed`` for a user moved to the deleted items (restorable),
  ``deleted`` for one deleted permanently; a restored user comes back as an item.
- ``Prefer: return=minimal`` on a deltaLink round: changed properties only, plus ``id``.
- A token lasts seven days for directory objects; an older one, or one made to expire,
  answers 410 ``syncStateNotFound`` (delta-query-overview.md, "Token duration").
- The function-call forms ``/users/microsoft.graph.delta`` (the SDKs') and ``delta()`` work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from graphsim.directory.changes import DirectoryChange, DirectoryChangeKind, DirectoryChanges
from graphsim.directory.tenant import User
from graphsim.directory.users import project_user
from graphsim.errors import GraphApiError, bad_request
from graphsim.graph import Ctx, GraphResponse, Route, route
from graphsim.identity.authz import USERS_READ, require_directory
from graphsim.listing import selected

PATH = r"/users/(?:microsoft\.graph\.)?delta(?:\(\))?"
TOKEN_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class UsersDeltaState:
    """What a users delta token stands for."""

    phase: str  # "initial" page, "changes" page, or "delta" (a saved deltaLink)
    upto: int  # the last change the round covers
    after: int = 0  # changes rounds: the first change not covered is after this
    offset: int = 0
    select: tuple[str, ...] | None = None
    minimal: bool = False
    generation: int = 0
    issued: float = 0.0  # when the round's first request was made (POSIX seconds)


class _Codec:
    """Opaque, tamper-evident users delta tokens."""

    def __init__(self, seed: int) -> None:
        self._key = hashlib.sha256(f"graphsim-users-{seed}".encode()).digest()

    def encode(self, state: UsersDeltaState) -> str:
        raw = json.dumps(asdict(state), separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def decode(self, token: str) -> UsersDeltaState:
        body, _, signature = token.partition(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            raise bad_request("The delta token is not valid.", "Request_BadRequest")
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        select = data.pop("select")
        return UsersDeltaState(**data, select=tuple(select) if select is not None else None)

    def _sign(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:18]
        return base64.urlsafe_b64encode(digest).decode()


async def users_delta(ctx: Ctx) -> GraphResponse:
    require_directory(ctx.principal, USERS_READ)
    codec = _Codec(ctx.core.options.seed)
    minimal = ctx.request.prefer().get("return") == "minimal"
    with ctx.core.lock:
        changes = ctx.core.directory_changes
        state = _state(ctx, codec, changes, minimal)
        values, following = _page(ctx, changes, state)
    base = f"{ctx.request.root}/users/delta"
    context = f"{ctx.request.root}/$metadata#users"
    if state.select:
        context += f"({','.join(state.select)})"
    body: dict[str, Any] = {"@odata.context": context}
    token = codec.encode(following)
    if following.phase == "delta":
        body["@odata.deltaLink"] = f"{base}?$deltatoken={token}"
    else:
        body["@odata.nextLink"] = f"{base}?$skiptoken={token}"
    body["value"] = values
    return GraphResponse(200, body)


def _state(ctx: Ctx, codec: _Codec, changes: DirectoryChanges, minimal: bool) -> UsersDeltaState:
    query = ctx.request.query
    token = query.get("$skiptoken") or query.get("$deltatoken")
    if not token:
        fields = selected(query)
        select = tuple(sorted(fields)) if fields else None
        if select:  # unknown property names are refused up front, as for GET /users
            project_user(User("", "", "", ""), set(select))
        return UsersDeltaState(
            "initial", changes.seq, select=select, generation=changes.generation,
            issued=ctx.core.clock.now().timestamp(),
        )  # fmt: skip
    state = codec.decode(token)
    _check_fresh(ctx, changes, state)
    if state.phase == "delta":  # a saved deltaLink starts a round of changes
        return replace(state, phase="changes", after=state.upto, upto=changes.seq, minimal=minimal)
    return state


def _check_fresh(ctx: Ctx, changes: DirectoryChanges, state: UsersDeltaState) -> None:
    age = ctx.core.clock.now().timestamp() - state.issued
    if state.generation != changes.generation or age > TOKEN_LIFETIME.total_seconds():
        raise GraphApiError(
            410,
            "syncStateNotFound",
            "The sync state generation is not found. The delta token is expired and data "
            "must be synchronized again.",
        )


def _page(
    ctx: Ctx, changes: DirectoryChanges, state: UsersDeltaState
) -> tuple[list[dict[str, Any]], UsersDeltaState]:
    if state.phase == "initial":
        users = sorted(ctx.core.tenant.users.values(), key=lambda u: u.id)
        items = [_item(u, state) for u in users]
    else:
        tracked = frozenset(f.lower() for f in state.select) if state.select else None
        found = changes.since(state.after, state.upto, tracked)
        items = [_changed_item(ctx, changes, change, state) for change in found]
    size = changes.page_size
    chunk = items[state.offset : state.offset + size]
    if state.offset + size < len(items):
        return chunk, replace(state, offset=state.offset + size)
    saved = UsersDeltaState("delta", state.upto, select=state.select)
    return chunk, replace(saved, generation=state.generation, issued=_now(ctx))


def _now(ctx: Ctx) -> float:
    return ctx.core.clock.now().timestamp()


def _changed_item(
    ctx: Ctx, changes: DirectoryChanges, change: DirectoryChange, state: UsersDeltaState
) -> dict[str, Any]:
    user = ctx.core.tenant.find_user(change.user_id)
    if user is None:
        reason = "deleted" if change.user_id in changes.purged else "changed"
        return {"id": change.user_id, "@removed": {"reason": reason}}
    item = _item(user, state)
    if state.minimal and change.kind is DirectoryChangeKind.UPDATED:
        names = {n.lower() for n in changes.changed_properties(user.id, state.after, state.upto)}
        item = {k: v for k, v in item.items() if k == "id" or k.lower() in names}
    return item


def _item(user: User, state: UsersDeltaState) -> dict[str, Any]:
    fields = set(state.select) | {"id"} if state.select else None
    projected = project_user(user, fields)
    return {k: v for k, v in projected.items() if v is not None}


def routes() -> list[Route]:
    """Before ``/users/{user}``, which would take ``delta`` for a user's name."""
    return [route("GET", PATH, users_delta)]
