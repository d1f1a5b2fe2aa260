"""The authorize URL a browser is sent to: Entra ID's own, or the sign-in page's address."""

from __future__ import annotations

from roomsync.settings import Settings
from roomsync.web.auth.signin import browser_address

AUTH_URI = (
    "https://login.microsoftonline.com/tid/oauth2/v2.0/authorize?client_id=app&state=s"
    "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fauth%2Fcallback"
)


def test_without_a_sign_in_page_address_the_browser_goes_where_msal_says() -> None:
    assert browser_address(AUTH_URI, Settings(sign_in_page_url=None)) == AUTH_URI


def test_a_sign_in_page_address_changes_only_scheme_and_host() -> None:
    settings = Settings(sign_in_page_url="http://127.0.0.1:8701")
    assert browser_address(AUTH_URI, settings) == (
        "http://127.0.0.1:8701/tid/oauth2/v2.0/authorize?client_id=app&state=s"
        "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fauth%2Fcallback"
    )
