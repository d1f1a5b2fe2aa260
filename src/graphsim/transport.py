"""httpx transports that carry requests to the in-process app.

httpx's own ``ASGITransport`` is async-only. :class:`SyncASGITransport` runs the app on a
dedicated event-loop thread and blocks the calling thread until the answer is complete;
any number of threads may use it at once.
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp

from graphsim.loops import LoopThread


class SyncASGITransport(httpx.BaseTransport):
    """A synchronous transport for ``httpx.Client`` backed by an ASGI app."""

    def __init__(self, app: ASGIApp, loop: LoopThread, timeout: float = 120.0) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._loop, self._timeout = loop, timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        copy = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=body,
            extensions=request.extensions,
        )
        future = self._loop.submit(self._send(copy))
        status, headers, content = future.result(timeout=self._timeout)
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _send(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        return response.status_code, list(response.headers.raw), content


def async_transport(app: ASGIApp) -> httpx.AsyncBaseTransport:
    """An async transport for ``httpx.AsyncClient`` (the app runs on the caller's loop)."""
    return httpx.ASGITransport(app=app)
