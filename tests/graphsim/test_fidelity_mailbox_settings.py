"""``GET /users/{id}/mailboxSettings`` as api-reference/v1.0/api/user-get-mailboxsettings.md
describes it: the whole settings object, one setting by its own path, the time zone in the
Windows format Exchange uses by default, MailboxSettings.Read required, and no settings
for an account without a mailbox."""

from __future__ import annotations

import httpx

from graphsim import Simulator
from graphsim.simulator import DEFAULT_ROLES
from roomsync.m365.graph import GraphClient
from roomsync.m365.mailbox_settings import mailbox_time_zone
from tests.graphsim.graphsim_testkit import Graph, token_for

READER = DEFAULT_ROLES | {"MailboxSettings.Read"}


def _room(sim: Simulator) -> str:
    room = next(iter(sim.tenant.rooms))
    sim.tenant.users[room].time_zone = "Romance Standard Time"
    return room


def test_all_settings_come_back_with_the_documented_properties(
    sim: Simulator, http: httpx.Client
) -> None:
    sim.set_roles(set(READER))
    room = _room(sim)
    body = Graph(http, token_for(sim, http)).get(f"/users/{room}/mailboxSettings").json()
    assert body["@odata.context"].endswith("/mailboxSettings")
    assert body["timeZone"] == "Romance Standard Time"
    documented = {"automaticRepliesSetting", "language", "workingHours", "dateFormat",
                  "timeFormat", "userPurpose", "delegateMeetingMessageDeliveryOptions"}  # fmt: skip
    assert documented <= set(body)
    assert body["workingHours"]["timeZone"] == {"name": "Romance Standard Time"}
    assert body["userPurpose"] == {"value": "room"}


def test_one_string_setting_is_answered_as_an_odata_value(
    sim: Simulator, http: httpx.Client
) -> None:
    sim.set_roles(set(READER))
    room = _room(sim)
    answer = Graph(http, token_for(sim, http)).get(f"/users/{room}/mailboxSettings/timeZone")
    assert answer.status_code == 200
    assert answer.json()["value"] == "Romance Standard Time"
    assert answer.json()["@odata.context"].endswith("/mailboxSettings/timeZone")
    hours = Graph(http, token_for(sim, http)).get(f"/users/{room}/mailboxSettings/workingHours")
    assert hours.json()["startTime"] == "08:00:00.0000000"


def test_without_mailbox_settings_read_the_call_is_denied(
    sim: Simulator, http: httpx.Client
) -> None:
    room = _room(sim)
    answer = Graph(http, token_for(sim, http)).get(f"/users/{room}/mailboxSettings")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "ErrorAccessDenied"


def test_an_account_without_a_mailbox_has_no_settings(sim: Simulator, http: httpx.Client) -> None:
    sim.set_roles(set(READER))
    answer = Graph(http, token_for(sim, http)).get(f"/users/{sim.service_account}/mailboxSettings")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "MailboxNotEnabledForRESTAPI"


def test_roomsync_reads_the_windows_zone_as_its_iana_name(
    sim: Simulator, http: httpx.Client
) -> None:
    sim.set_roles(set(READER))
    room = _room(sim)
    token = token_for(sim, http)

    class Fixed:
        def token(self, force_refresh: bool = False) -> str:
            return token

    graph = GraphClient(http, Fixed(), "https://graph.microsoft.com")
    assert mailbox_time_zone(graph, room) == "Europe/Paris"
