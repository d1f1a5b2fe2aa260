"""Fidelity (a): the official Microsoft Graph Python SDK, unmodified and only configured,
against ``graphsim serve`` over HTTPS: rooms, a meeting with a room, a delta round, and a
subscription whose validation handshake reaches a real loopback webhook."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from azure.identity import ClientSecretCredential

from graphsim import ServerHandle, SimOptions, Simulator, serve
from graphsim.server import serve_asgi
from tests.graphsim.graphsim_testkit import Receiver

# The SDK's own dependencies emit DeprecationWarnings at import time (kiota's
# GetQueryParameters); the suite turns warnings into errors, so they are silenced here only.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.models.attendee import Attendee
    from msgraph.generated.models.attendee_type import AttendeeType
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.event import Event
    from msgraph.generated.models.location import Location
    from msgraph.generated.models.response_type import ResponseType
    from msgraph.generated.models.subscription import Subscription
    from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import (
        DeltaRequestBuilder,
    )
    from msgraph_core import GraphClientFactory

T = TypeVar("T")

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def served() -> Iterator[ServerHandle]:
    sim = Simulator(options=SimOptions(seed=21, room_processing_delay=0.0))
    sim.seed(rooms=3, users=2, events_per_room=3, recurring_series=1, private_meetings=1)
    with serve(sim) as handle:
        yield handle
    sim.close()


async def _with_sdk(handle: ServerHandle, work: Callable[[GraphServiceClient], Awaitable[T]]) -> T:
    """Run ``work`` with an SDK client configured for graphsim, then close its connections."""
    sim = handle.simulator
    credential = ClientSecretCredential(
        sim.tenant_id,
        sim.credentials.client_id,
        sim.credentials.client_secret,
        authority=handle.base_url,
        disable_instance_discovery=True,
        connection_verify=handle.ca_path,
    )
    auth = AzureIdentityAuthenticationProvider(
        credential, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=["127.0.0.1"]
    )
    # The SDK wraps the client's transport and does not close the wrapped one: keep it.
    transport = httpx.AsyncHTTPTransport(verify=handle.ca_path or True)
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(transport=transport)
    )
    adapter = GraphRequestAdapter(auth, http)
    adapter.base_url = f"{handle.base_url}/v1.0"
    try:
        return await work(GraphServiceClient(request_adapter=adapter))
    finally:
        await http.aclose()
        await transport.aclose()
        credential.close()


def test_sdk_lists_rooms(served: ServerHandle) -> None:
    async def scenario(client: GraphServiceClient) -> list[str]:
        result = await client.places.graph_room.get()
        assert result is not None
        assert result.value is not None
        return sorted(r.email_address for r in result.value if r.email_address)

    assert asyncio.run(_with_sdk(served, scenario)) == sorted(served.simulator.tenant.rooms)


def test_sdk_creates_a_meeting_with_a_room(served: ServerHandle) -> None:
    sim = served.simulator
    room = sorted(sim.tenant.rooms)[1]
    organizer = sorted(
        u.mail for u in sim.tenant.users.values() if u.has_mailbox and not u.is_room
    )[0]
    start = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) + timedelta(days=2)

    async def scenario(client: GraphServiceClient) -> Event | None:
        event = Event(
            subject="SDK meeting",
            start=DateTimeTimeZone(date_time=start.strftime("%Y-%m-%dT%H:%M:%S"), time_zone="UTC"),
            end=DateTimeTimeZone(
                date_time=(start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S"),
                time_zone="UTC",
            ),
            location=Location(display_name=room, location_email_address=room),
            attendees=[
                Attendee(
                    email_address=EmailAddress(address=room, name=room), type=AttendeeType.Resource
                )
            ],
            transaction_id="sdk-1",
        )
        created = await client.users.by_user_id(organizer).events.post(event)
        assert created is not None
        assert created.id is not None
        sim.settle()
        return await client.users.by_user_id(organizer).events.by_event_id(created.id).get()

    read = asyncio.run(_with_sdk(served, scenario))
    assert read is not None
    assert read.attendees
    assert read.attendees[0].status is not None
    assert read.attendees[0].status.response == ResponseType.Accepted
    assert any(e["iCalUId"] == read.i_cal_u_id for e in sim.events(room))


def test_sdk_runs_a_delta_round_to_the_delta_link(served: ServerHandle) -> None:
    room = sorted(served.simulator.tenant.rooms)[0]
    now = datetime.now(UTC)

    async def scenario(client: GraphServiceClient) -> tuple[int, int, str]:
        builder = client.users.by_user_id(room).calendar_view.delta
        params = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
            start_date_time=(now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            end_date_time=(now + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        config = RequestConfiguration(query_parameters=params)
        config.headers.add("Prefer", "odata.maxpagesize=2")
        page = await builder.get(request_configuration=config)
        pages, items = 1, 0
        while page is not None and page.odata_next_link:
            items += len(page.value or [])
            next_config: RequestConfiguration[Any] = RequestConfiguration()
            next_config.headers.add("Prefer", "odata.maxpagesize=2")
            page = await builder.with_url(page.odata_next_link).get(
                request_configuration=next_config
            )
            pages += 1
        assert page is not None
        items += len(page.value or [])
        return pages, items, page.odata_delta_link or ""

    pages, items, delta_link = asyncio.run(_with_sdk(served, scenario))
    assert pages >= 2
    assert items >= 3
    assert "$deltatoken=" in delta_link


def test_sdk_creates_a_subscription_with_a_real_handshake(served: ServerHandle) -> None:
    receiver = Receiver()
    room = sorted(served.simulator.tenant.rooms)[2]
    with serve_asgi(receiver.app()) as (hook_base, _port):

        async def scenario(client: GraphServiceClient) -> Subscription | None:
            expires = datetime.now(UTC) + timedelta(days=1)
            request = Subscription(
                change_type="created,updated,deleted",
                notification_url=f"{hook_base}/webhooks/microsoft365",
                resource=f"/users/{room}/events",
                expiration_date_time=expires,
                client_state="sdk-state",
            )
            return await client.subscriptions.post(request)

        created = asyncio.run(_with_sdk(served, scenario))
        served.simulator.set_calendar_processing(room, booking_window_in_days=3000)
        assert created is not None
        assert created.id
        served.simulator.outlook.create_meeting(
            sorted(
                u.mail
                for u in served.simulator.tenant.users.values()
                if u.has_mailbox and not u.is_room
            )[0],
            room,
            "Notify me",
            datetime(2030, 1, 2, 9, tzinfo=UTC),
            datetime(2030, 1, 2, 10, tzinfo=UTC),
        )
        served.simulator.settle()
    assert len(receiver.validations) == 1
    assert [n["subscriptionId"] for n in receiver.notifications()] == [created.id]


def test_graphsim_serve_writes_its_config_and_answers_over_https(tmp_path: Path) -> None:
    config_path = tmp_path / "cfg.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graphsim",
            "serve",
            "--seed",
            "demo",
            "--port",
            "0",
            "--config-out",
            str(config_path),
            "--redirect-uri",
            "https://rooms.example/auth/callback",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not config_path.exists() or not config_path.read_text():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.05)
        config = json.loads(config_path.read_text())
        assert {
            "tenant_id",
            "client_id",
            "client_secret",
            "service_account",
            "login_url",
            "graph_url",
            "ca_bundle",
            "rooms",
            "room_lists",
            "users",
        } <= set(config)
        assert len(config["rooms"]) == 40
        assert "tenants" not in config  # one tenant: the file is as it always was
        assert all("email" in u for u in config["users"])
        assert all(u["password"] for u in config["users"])
        assert [u["admin"] for u in config["users"]].count(True) == 1
        assert "https://rooms.example/auth/callback" in config["redirect_uris"]
        token = httpx.post(
            f"{config['login_url']}/{config['tenant_id']}/oauth2/v2.0/token",
            data={
                "client_id": config["client_id"],
                "client_secret": config["client_secret"],
                "grant_type": "client_credentials",
                "scope": "https://graph.microsoft.com/.default",
            },
            verify=config["ca_bundle"],
        ).json()["access_token"]
        lists = httpx.get(
            f"{config['graph_url']}/v1.0/places/microsoft.graph.roomlist",
            headers={"Authorization": f"Bearer {token}"},
            verify=config["ca_bundle"],
        ).json()["value"]
        assert len(lists) == 4
    finally:
        process.terminate()
        process.communicate(timeout=20)
