"""Server-rendered pages (Jinja2) over the same service functions the REST API uses:
the admin console at ``/admin``, and the shared layout, stylesheet and script that every
page builds on. ``install_pages`` mounts the package's static files, its routers, and
the answers of a page that cannot be shown (sign in first, or an error page)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from roomsync.web.pages import admin, admin_rooms, admin_tokens, display, docs, occupant, wizard
from roomsync.web.pages.guard import PageError, SignInNeededError, page_user
from roomsync.web.pages.rendering import STATIC_DIR, STATIC_PREFIX, render


def install_pages(app: FastAPI) -> None:
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(docs.router)
    app.include_router(admin.router)
    app.include_router(wizard.router)
    app.include_router(occupant.router)
    app.include_router(admin_rooms.router)
    app.include_router(admin_tokens.router)
    app.include_router(display.router)
    app.add_exception_handler(SignInNeededError, _sign_in_first)
    app.add_exception_handler(PageError, _error_page)


async def _sign_in_first(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeededError)  # the registration guarantees it
    return RedirectResponse(exc.location, status_code=303)


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)  # the registration guarantees it
    heading = {403: "Not allowed", 404: "Not found"}.get(exc.status, "Cannot show this page")
    return render(
        request,
        "error.html",
        user=page_user(request),
        status_code=exc.status,
        heading=heading,
        message=exc.message,
    )
