"""The shared HTTP client and the national-cloud endpoints."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from roomsync.errors import ConfigurationError
from roomsync.m365.clouds import CHINA_21VIANET, GLOBAL, US_GOVERNMENT_L5_DOD, CloudEndpoints
from roomsync.m365.http import USER_AGENT, build_http_client
from roomsync.settings import Settings
from tests.m365.m365_fakes import self_signed_certificate


def test_the_shared_client_uses_the_given_transport_and_names_roomsync() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client = build_http_client(transport=httpx.MockTransport(handler), timeout=5)

    client.get("https://graph.microsoft.com/v1.0/$metadata")

    assert seen[0].headers["User-Agent"] == USER_AGENT
    assert client.timeout.read == 5


def test_a_private_ca_bundle_is_loaded(tmp_path: Path) -> None:
    _, certificate_pem = self_signed_certificate("graphsim CA")
    bundle = tmp_path / "ca.pem"
    bundle.write_text(certificate_pem)

    client = build_http_client(ca_bundle=bundle)

    assert isinstance(client, httpx.Client)


def test_an_unreadable_ca_bundle_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ROOMSYNC_CA_BUNDLE"):
        build_http_client(ca_bundle=tmp_path / "missing.pem")


def test_endpoints_come_from_settings_without_trailing_slashes() -> None:
    settings = Settings(
        login_url="https://login.graphsim.test:8443/", graph_url="https://127.0.0.1:8443/"
    )

    cloud = CloudEndpoints.from_settings(settings)

    assert cloud.login_url == "https://login.graphsim.test:8443"
    assert cloud.graph_scope == "https://127.0.0.1:8443/.default"
    assert cloud.authority("contoso.onmicrosoft.com") == (
        "https://login.graphsim.test:8443/contoso.onmicrosoft.com"
    )
    assert not cloud.is_microsoft_login_host


def test_national_clouds_are_microsoft_hosts_with_their_own_graph() -> None:
    assert GLOBAL.is_microsoft_login_host
    assert CHINA_21VIANET.graph_scope == "https://microsoftgraph.chinacloudapi.cn/.default"
    assert US_GOVERNMENT_L5_DOD.graph_url == "https://dod-graph.microsoft.us"
    assert US_GOVERNMENT_L5_DOD.is_microsoft_login_host


def test_a_relative_endpoint_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="https://"):
        CloudEndpoints(
            login_url="login.microsoftonline.com", graph_url="https://graph.microsoft.com"
        )
