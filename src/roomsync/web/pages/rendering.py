"""The pages' Jinja2 environment (templates inside the package, autoescaped) and
``render``, which fills the layout's slots every page shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from roomsync import __version__
from roomsync.web.pages.guard import PageUser, csrf_token

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
STATIC_PREFIX = "/static"
PRODUCT = "roomsync"

environment = Environment(
    loader=FileSystemLoader(PACKAGE_DIR / "templates"),
    autoescape=select_autoescape(("html",), default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.globals.update(product=PRODUCT, version=__version__, static=STATIC_PREFIX)


def render(
    request: Request,
    template: str,
    *,
    user: PageUser | None = None,
    status_code: int = 200,
    nav: list[tuple[str, str]] | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` in the layout: the signed-in person, the sign-out form's CSRF token,
    the navigation (label, path; the current one marked)."""
    html = environment.get_template(template).render(
        request_path=request.url.path,
        user=user,
        csrf=csrf_token(user.cookie) if user else "",
        nav=nav or [],
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
