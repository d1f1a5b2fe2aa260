"""The one page sign-in shows itself: what went wrong, and a way to start again."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in failed · roomsync</title></head>
<body><main><h1>Sign-in did not complete</h1>
<p role="alert">{message}</p>
<p><a href="/auth/login">Sign in again</a></p></main></body></html>
"""


def error_page(message: str, status: int) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(message=escape(message)),
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )
