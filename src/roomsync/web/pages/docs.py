"""``/docs``: Swagger UI from the package's own copy of swagger-ui-dist (see
``static/vendor/assets.json``), so the page renders where no CDN can be reached."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from roomsync.web.pages.rendering import STATIC_PREFIX

router = APIRouter(include_in_schema=False)
VENDOR = f"{STATIC_PREFIX}/vendor/swagger-ui"


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} API",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PREFIX}/favicon.svg",
    )
