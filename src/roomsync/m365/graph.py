"""The synchronous Microsoft Graph client: bearer token, retries, paging, the one error mapping.

Behaviour it implements, from Microsoft's documentation:

- Every call carries ``Authorization: Bearer`` (auth-v2-service.md) and a fresh
  ``client-request-id``; Graph's ``request-id`` answer header is what its support asks
  for, so every log line carries it (never a token).
- 401 means the token is missing or no longer valid (errors.md): the token is refreshed
  once and the call repeated; a second 401 is an error.
- 429, 503 and 504 (and 500/502) are retried after ``Retry-After`` or with exponential
  backoff (throttling.md), see :mod:`roomsync.m365.retry`.
- Collections page with ``@odata.nextLink``, an absolute URL to be followed as given
  (paging.md). ``/places`` returns no nextLink (observed on real tenants; no example in
  api-reference/v1.0/api/place-list.md has one): it pages
  with ``$top``/``$skip``, ending at a page shorter than ``$top`` or at ``@odata.count``.
- Preferences travel in one ``Prefer`` header, comma separated (RFC 7240):
  ``odata.maxpagesize``, ``IdType="ImmutableId"``, ``outlook.timezone``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic_core import from_json

from roomsync.m365.credentials import TokenSource
from roomsync.m365.error_mapping import error_from_graph, error_from_transport
from roomsync.m365.exceptions import GraphConnectionError, InvalidResponse
from roomsync.m365.retry import RETRYABLE_STATUSES, RetryPolicy, parse_retry_after
from roomsync.telemetry import GRAPH_REQUESTS

_log = logging.getLogger(__name__)
_QUERY_SAFE = "$'(),:@/"
_MAX_SKIP_PAGES = 1000

JsonObject = dict[str, Any]


class ApiVersion(StrEnum):
    V1 = "v1.0"
    BETA = "beta"


@dataclass(frozen=True)
class Preferences:
    """What goes in the ``Prefer`` header."""

    max_page_size: int | None = None
    immutable_ids: bool = False
    time_zone: str | None = None

    def headers(self) -> dict[str, str]:
        parts = []
        if self.max_page_size is not None:
            parts.append(f"odata.maxpagesize={self.max_page_size}")
        if self.immutable_ids:
            parts.append('IdType="ImmutableId"')
        if self.time_zone is not None:
            parts.append(f'outlook.timezone="{self.time_zone}"')
        return {"Prefer": ", ".join(parts)} if parts else {}


@dataclass(frozen=True)
class GraphResponse:
    status: int
    headers: Mapping[str, str]
    body: JsonObject
    request_id: str | None

    def values(self) -> list[JsonObject]:
        """The ``value`` array of a collection page."""
        value = self.body.get("value", [])
        return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def encode_query(params: Mapping[str, object]) -> str:
    """Query text with OData's ``$`` and quotes literal and spaces as %20 (never ``+``)."""
    return "&".join(
        f"{quote(name, safe='$')}={quote(str(value), safe=_QUERY_SAFE)}"
        for name, value in params.items()
    )


def path_segment(value: str) -> str:
    """A value (mailbox address, event id) made safe as one URL path segment."""
    return quote(value, safe="@")


def odata_string(value: str) -> str:
    """An OData string literal: single quotes, embedded quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


class GraphClient:
    """Calls Microsoft Graph for one tenant; thread-safe, shared by the fan-out threads."""

    def __init__(
        self,
        http: httpx.Client,
        tokens: TokenSource,
        graph_url: str,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.graph_url = graph_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.sleep = sleep

    def url_for(
        self,
        url_or_path: str,
        *,
        api_version: ApiVersion = ApiVersion.V1,
        params: Mapping[str, object] | None = None,
    ) -> str:
        """An absolute URL: a path goes under ``{graph_url}/{version}``, a URL must be Graph's."""
        if url_or_path.startswith(("https://", "http://")):
            self._check_origin(url_or_path)
            url = url_or_path
        else:
            url = f"{self.graph_url}/{api_version}/{url_or_path.lstrip('/')}"
        if params:
            url += ("&" if "?" in url else "?") + encode_query(params)
        return url

    def request(
        self,
        method: str,
        url_or_path: str,
        *,
        params: Mapping[str, object] | None = None,
        json: object = None,
        headers: Mapping[str, str] | None = None,
        api_version: ApiVersion = ApiVersion.V1,
        idempotent: bool | None = None,
    ) -> GraphResponse:
        """Sends one request (retrying as the module says); raises a GraphError on failure.

        ``idempotent``: whether a request whose connection failed may be sent again (by
        default only a GET; a ``$batch`` of GETs is one too)."""
        url = self.url_for(url_or_path, api_version=api_version, params=params)
        resend = method == "GET" if idempotent is None else idempotent
        response = self._send_with_retries(method, url, json, headers or {}, resend=resend)
        body = _json_or_text(response)
        if not response.is_success:
            raise error_from_graph(
                method=method, url=url, status=response.status_code,
                headers=response.headers, body=body,
            )  # fmt: skip
        if body is not None and not isinstance(body, dict):
            raise InvalidResponse(
                f"Microsoft Graph answered {method} {urlsplit(url).path} with a body that is "
                "not a JSON object; check ROOMSYNC_GRAPH_URL.",
                status=response.status_code,
                request_id=response.headers.get("request-id"),
            )
        return GraphResponse(
            response.status_code, response.headers, body or {}, response.headers.get("request-id")
        )

    def iter_pages(
        self,
        url_or_path: str,
        *,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        api_version: ApiVersion = ApiVersion.V1,
    ) -> Iterator[GraphResponse]:
        """Every page of a collection, following ``@odata.nextLink`` until there is none."""
        page = self.request(
            "GET", url_or_path, params=params, headers=headers, api_version=api_version
        )
        yield page
        while isinstance(next_link := page.body.get("@odata.nextLink"), str):
            page = self.request("GET", next_link, headers=headers)
            yield page

    def iter_values(
        self,
        url_or_path: str,
        *,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
        api_version: ApiVersion = ApiVersion.V1,
    ) -> Iterator[JsonObject]:
        """Every item of a nextLink-paged collection."""
        for page in self.iter_pages(
            url_or_path, params=params, headers=headers, api_version=api_version
        ):
            yield from page.values()

    def iter_skip_pages(
        self,
        path: str,
        *,
        top: int = 100,
        params: Mapping[str, object] | None = None,
        api_version: ApiVersion = ApiVersion.V1,
    ) -> Iterator[list[JsonObject]]:
        """Pages of a ``$top``/``$skip`` collection (``/places``), with ``$count=true``."""
        skip = 0
        for _ in range(_MAX_SKIP_PAGES):
            query = {**(params or {}), "$top": top, "$skip": skip, "$count": "true"}
            page = self.request("GET", path, params=query, api_version=api_version)
            items = page.values()
            yield items
            skip += len(items)
            total = page.body.get("@odata.count")
            if len(items) < top or (isinstance(total, int) and skip >= total):
                return
        raise InvalidResponse(
            f"Microsoft Graph kept returning full pages of {path} past {_MAX_SKIP_PAGES} pages; "
            "it may be ignoring $skip, so roomsync stopped instead of looping."
        )

    def _send_with_retries(
        self, method: str, url: str, json: object, headers: Mapping[str, str], *, resend: bool
    ) -> httpx.Response:
        attempt, refreshed, force_refresh = 1, False, False
        while True:
            try:
                response = self._send_once(method, url, json, headers, force_refresh)
            except GraphConnectionError as exc:
                delay = self.retry.delay(attempt, None) if resend else None
                if delay is None:
                    raise
                if attempt == 1 and isinstance(exc.__cause__, httpx.RemoteProtocolError):
                    # A kept-alive connection the server closed as it was reused: the pool
                    # opens a fresh one, so the first resend need not wait.
                    delay = 0.0
                _log.warning("%s %s: %s; retrying in %.1f s", method, _path(url), exc, delay)
            else:
                force_refresh = response.status_code == 401 and not refreshed
                if force_refresh:
                    refreshed = True
                    continue
                delay = self._retry_delay(response, attempt)
                if delay is None:
                    return response
                self._log_retry(method, url, response, delay, attempt)
            self.sleep(delay)
            attempt += 1

    def _send_once(
        self,
        method: str,
        url: str,
        json: object,
        headers: Mapping[str, str],
        force_refresh: bool,
    ) -> httpx.Response:
        token = self.tokens.token(force_refresh=force_refresh)
        sent_headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "client-request-id": str(uuid.uuid4()),
            **headers,
        }
        try:
            response = self.http.request(method, url, json=json, headers=sent_headers)
        except httpx.TransportError as exc:
            raise error_from_transport(exc, service="Microsoft Graph", url=url) from exc
        _unbind_stream(response)
        GRAPH_REQUESTS.labels(str(response.status_code), "false").inc()
        request_id = response.headers.get("request-id")
        _log.debug(
            "%s %s -> %d (request-id %s)", method, _path(url), response.status_code, request_id,
            extra={"graph_request_id": request_id},
        )  # fmt: skip
        return response

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float | None:
        if response.status_code not in RETRYABLE_STATUSES:
            return None
        return self.retry.delay(attempt, parse_retry_after(response.headers.get("retry-after")))

    def _log_retry(
        self, method: str, url: str, response: httpx.Response, delay: float, attempt: int
    ) -> None:
        request_id = response.headers.get("request-id")
        _log.warning(
            "Microsoft Graph answered %s %s with %d (request-id %s); retry %d of %d in %.1f s",
            method, _path(url), response.status_code, request_id,
            attempt, self.retry.max_attempts - 1, delay, extra={"graph_request_id": request_id},
        )  # fmt: skip

    def _check_origin(self, url: str) -> None:
        """Graph's links are followed only on Graph's own host: the token goes nowhere else."""
        ours, theirs = urlsplit(self.graph_url), urlsplit(url)
        if (ours.scheme, ours.netloc.lower()) != (theirs.scheme, theirs.netloc.lower()):
            raise InvalidResponse(
                f"roomsync was asked to follow a link to {theirs.scheme}://{theirs.netloc}, "
                f"which is not ROOMSYNC_GRAPH_URL ({self.graph_url}); it does not send its "
                "Graph token there."
            )


def _unbind_stream(response: httpx.Response) -> None:
    """Lets a read response go as soon as it is dropped.

    httpx's response and the stream bound to it refer to each other (encode/httpx#3733), so
    a response waits for the cycle collector and keeps its body until then: 700 KB for a
    ``$batch`` of delta pages, 14 MB more at the peak of a first sync. The body is read and
    the stream closed by now (``Client.request`` reads it whole), so an empty stream takes
    the bound one's place.
    """
    response.stream = httpx.ByteStream(b"")


def _json_or_text(response: httpx.Response) -> object:
    """The body as JSON, else as text. pydantic's JSON reader (jiter) parses a delta page a
    third faster than ``json``; what it refuses (a byte-order mark, another encoding) gets
    httpx's own decoding before it counts as text."""
    if not response.content:
        return None
    try:
        return from_json(response.content)
    except ValueError:
        pass
    try:
        return response.json()
    except ValueError:
        return response.text


def _path(url: str) -> str:
    return urlsplit(url).path
