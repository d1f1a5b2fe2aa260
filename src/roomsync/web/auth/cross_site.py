"""Cross-site request forgery: a state-changing request that carries the session cookie
must come from roomsync's own pages.

Browsers say where a request comes from in ``Sec-Fetch-Site`` (``same-origin``, or
``none`` when the person typed it) and, on every POST, in ``Origin``. A request with
the cookie is let through when either header says roomsync's own origin
(``ROOMSYNC_PUBLIC_URL``), and refused with 403 otherwise, a missing ``Origin`` too.
``/auth/callback`` is exempt: Entra ID posts the sign-in answer there from its own
origin, and the flow's ``state`` is what ties that answer to this browser. Requests
without the cookie (bearer API tokens) are not affected.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from roomsync.platform.services.sessions import COOKIE_NAME

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXEMPT_PATHS = frozenset({"/auth/callback"})
_SAME_SITE = frozenset({"same-origin", "none"})


class CrossSiteGuard:
    """ASGI middleware refusing cookie-authenticated writes from other origins."""

    def __init__(self, app: ASGIApp, *, public_url: str) -> None:
        self.app = app
        self.origin = origin_of(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._refused(Request(scope)):
            await _forbidden()(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refused(self, request: Request) -> bool:
        if request.method in SAFE_METHODS or request.url.path in EXEMPT_PATHS:
            return False
        if COOKIE_NAME not in request.cookies:
            return False
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site not in _SAME_SITE
        return origin_of(request.headers.get("origin", "")) != self.origin


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _forbidden() -> Response:
    return JSONResponse(
        {
            "error": {
                "code": "cross_site_request",
                "message": "This request carries a roomsync session cookie but does not come "
                "from roomsync's own pages (Origin / Sec-Fetch-Site), so it was refused.",
                "details": None,
            }
        },
        status_code=403,
    )
