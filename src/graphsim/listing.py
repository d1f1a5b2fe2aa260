"""Query options shared by collection endpoints: ``$top``, ``$skip``, ``$count``,
``$select``, ``$filter``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from graphsim.errors import bad_request
from graphsim.odata import compile_filter


def int_option(query: dict[str, str], name: str, default: int, maximum: int | None = None) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise bad_request(f"Invalid value '{raw}' for query option '{name}'.") from exc
    if value < 0:
        raise bad_request(f"Invalid value '{raw}' for query option '{name}'.")
    return min(value, maximum) if maximum is not None else value


def selected(query: dict[str, str]) -> set[str] | None:
    raw = query.get("$select")
    return {p.strip() for p in raw.split(",") if p.strip()} if raw else None


def filtered(query: dict[str, str], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    raw = query.get("$filter")
    if not raw:
        return objects
    predicate = compile_filter(raw)
    return [o for o in objects if predicate(o)]


def project(obj: dict[str, Any], fields: set[str] | None, keep: tuple[str, ...]) -> dict[str, Any]:
    """Apply ``$select`` to one object; ``keep`` names always stay (e.g. ``@odata.type``)."""
    if not fields:
        return obj
    wanted = {f.lower() for f in fields} | {k.lower() for k in keep}
    return {k: v for k, v in obj.items() if k.lower() in wanted}


def next_link(root: str, path: str, query: dict[str, str], top: int, skip: int) -> str:
    """The ``@odata.nextLink`` of an offset-paged collection: the same query, next page."""
    params = {**query, "$top": str(top), "$skip": str(skip + top)}
    link = "&".join(f"{k}={quote(v, safe=':')}" for k, v in params.items())
    return f"{root}{path}?{link}"


def wants_count(query: dict[str, str]) -> bool:
    return query.get("$count", "").lower() == "true"
