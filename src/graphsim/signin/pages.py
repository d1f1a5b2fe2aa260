"""The HTML graphsim's sign-in service shows: the sign-in form (inputs labelled "Email"
and "Password", a "Sign in" button, each label tied to its input), error pages, the
``form_post`` answer, and the signed-out page. Plain HTML, no script needed except to
auto-submit a ``form_post`` answer (a button does it without script)."""

from __future__ import annotations

from html import escape

from graphsim.signin.errors import AuthorizeError, LoginError

_HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title}</title></head><body><main>"
)
_TAIL = "</main></body></html>"


def _page(title: str, body: str) -> str:
    return _HEAD.format(title=escape(title)) + body + _TAIL


def sign_in_page(organization: str, action: str, email: str, error: LoginError | None) -> str:
    alert = ""
    if error is not None:
        alert = f'<p role="alert" id="error">{escape(error.message)} (AADSTS{error.aadsts})</p>'
    form = (
        f'<form method="post" action="{escape(action)}">'
        '<p><label for="email">Email</label><br>'
        f'<input id="email" name="email" type="email" autocomplete="username" '
        f'value="{escape(email)}" required></p>'
        '<p><label for="password">Password</label><br>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required></p>'
        '<p><button type="submit">Sign in</button></p></form>'
    )
    heading = f"<h1>Sign in</h1><p>to {escape(organization)}</p>"
    return _page("Sign in to your account", heading + alert + form)


def error_page(error: AuthorizeError) -> str:
    return _page(
        "Sign in error",
        "<h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p role="alert">AADSTS{error.aadsts}: {escape(error.description)}</p>'
        f"<p>Error: {escape(error.error)}</p>",
    )


def form_post_page(redirect_uri: str, params: dict[str, str]) -> str:
    fields = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    return _page(
        "Working...",
        f'<form method="post" action="{escape(redirect_uri)}" id="answer">{fields}'
        "<noscript><p>Script is off: press the button to continue.</p></noscript>"
        '<button type="submit">Continue</button></form>'
        "<script>document.getElementById('answer').submit()</script>",
    )


def signed_out_page(note: str | None) -> str:
    extra = f"<p>{escape(note)}</p>" if note else ""
    return _page(
        "Signed out",
        "<h1>You signed out of your account</h1>"
        "<p>It's a good idea to close all browser windows.</p>" + extra,
    )
