"""What the room-import, doctor and integration tests share: an emulated tenant, a sync
context whose HTTP transport leads into it, an integration connected to it, and small
changes an Exchange administrator would make to rooms."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from pydantic import SecretStr

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.settings import Settings
from roomsync.sync.context import Clock, SyncContext
from roomsync.sync.integration.configuration import create_integration
from roomsync.sync.integration.settings import RoomListChoice, RoomSelection, RoomSelectionMode
from tests.graphsim.graphsim_testkit import fast_options

SECRET_KEY = "rooms-tests-secret-key-0123456789-abcdefghij"
TIME_ZONE = "Europe/Amsterdam"


def tenant(rooms: int = 6, room_lists: int = 2) -> Simulator:
    """A fast emulated tenant with ``rooms`` rooms spread over ``room_lists`` lists."""
    sim = Simulator(options=fast_options())
    sim.seed(
        rooms=rooms,
        room_lists=room_lists,
        users=2,
        events_per_room=0,
        recurring_series=0,
        private_meetings=0,
    )
    return sim


# graphsim answers any host, but not msal's instance discovery (``/common/discovery/
# instance``), which msal asks Microsoft's own sign-in hosts when it refreshes or drops a
# token; a sign-in host of another name is used without discovery (roomsync.m365.clouds).
LOGIN_URL = "https://login.graphsim.test"


def settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {"secret_key": SecretStr(SECRET_KEY), "login_url": LOGIN_URL}
    return Settings(_env_file=None, **(values | changes))


class SleepRecorder:
    """The Graph client's injectable sleep: records each wait instead of waiting."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def context(
    database: Database,
    sim: Simulator,
    *,
    sleeps: SleepRecorder | None = None,
    clock: Clock | None = None,
) -> SyncContext:
    built = SyncContext.build(settings(), database, transport=sim.transport())
    changes: dict[str, Any] = {"sleep": sleeps or SleepRecorder()}
    if clock is not None:
        changes["clock"] = clock
    return dataclasses.replace(built, **changes)


def connect(
    ctx: SyncContext, sim: Simulator, organization_id: uuid.UUID, **fields: Any
) -> uuid.UUID:
    """An enabled integration of the organization with the tenant's app and secret."""
    values: dict[str, Any] = {
        "tenant_id": sim.tenant_id,
        "client_id": sim.credentials.client_id,
        "client_secret": sim.credentials.client_secret,
        "time_zone": TIME_ZONE,
        "service_account": sim.service_account,
    } | fields
    with ctx.database.session() as session:
        return create_integration(session, ctx, organization_id=organization_id, **values).id


def room_lists(sim: Simulator) -> dict[str, list[str]]:
    """Room list email → the emails of its rooms."""
    with sim.core.lock:
        return {email: list(rl.room_emails) for email, rl in sim.tenant.room_lists.items()}


def change_room(sim: Simulator, email: str, **fields: Any) -> None:
    with sim.core.lock:
        room = sim.tenant.rooms[email]
        for name, value in fields.items():
            setattr(room, name, value)


def remove_room(sim: Simulator, email: str) -> None:
    """The room mailbox is deleted: gone from the places and from its room list."""
    with sim.core.lock:
        del sim.tenant.rooms[email]
        for room_list in sim.tenant.room_lists.values():
            if email in room_list.room_emails:
                room_list.room_emails.remove(email)


def move_room(sim: Simulator, email: str, to_list: str) -> None:
    with sim.core.lock:
        for room_list in sim.tenant.room_lists.values():
            if email in room_list.room_emails:
                room_list.room_emails.remove(email)
        sim.tenant.room_lists[to_list].room_emails.append(email)


GONE_LIST = "closed-wing@contoso.onmicrosoft.com"


def selection_with_a_gone_list(sim: Simulator) -> tuple[RoomSelection, str]:
    """A selection of one room list that no longer exists and one that does (returned)."""
    present = sorted(room_lists(sim))[0]
    selection = RoomSelection(
        mode=RoomSelectionMode.ROOM_LISTS,
        room_lists=(
            RoomListChoice(email=GONE_LIST, name="Closed"),
            RoomListChoice(email=present, name="Open"),
        ),
    )
    return selection, present
