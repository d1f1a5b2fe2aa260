"""Rooms and room lists (v1.0 /places, beta findRooms) and directory users."""

from __future__ import annotations

import httpx
import pytest

from graphsim import Simulator
from tests.graphsim.graphsim_testkit import Graph, token_for


def test_room_listing_has_room_properties_and_no_next_link(graph: Graph, sim: Simulator) -> None:
    body = graph.get("/places/microsoft.graph.room").json()
    assert body["@odata.context"].endswith("$metadata#places/microsoft.graph.room")
    assert "@odata.nextLink" not in body
    assert {r["emailAddress"] for r in body["value"]} == set(sim.tenant.rooms)
    room = body["value"][0]
    assert room["@odata.type"] == "#microsoft.graph.room"
    assert {
        "capacity",
        "building",
        "floorNumber",
        "isWheelChairAccessible",
        "bookingType",
        "placeId",
        "nickname",
        "tags",
    } <= set(room)


@pytest.mark.parametrize(
    "segment", ["microsoft.graph.room", "Microsoft.Graph.Room", "MICROSOFT.GRAPH.ROOM"]
)
def test_type_segment_is_case_insensitive(graph: Graph, segment: str) -> None:
    assert len(graph.get(f"/places/{segment}").json()["value"]) == 4


def test_default_page_is_100_and_top_skip_count_page_explicitly() -> None:
    sim = Simulator(seed=5)
    sim.seed(rooms=130, users=1, events_per_room=0, recurring_series=0)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            graph = Graph(http, token_for(sim, http))
            first = graph.get("/places/microsoft.graph.room").json()
            assert len(first["value"]) == 100
            assert "@odata.nextLink" not in first
            rest = graph.get(
                "/places/microsoft.graph.room",
                params={"$top": "100", "$skip": "100", "$count": "true"},
            ).json()
            assert len(rest["value"]) == 30
            assert rest["@odata.count"] == 130
    finally:
        sim.close()


def test_filter_on_room_properties(graph: Graph, sim: Simulator) -> None:
    building = next(iter(sim.tenant.rooms.values())).building
    body = graph.get(
        "/places/microsoft.graph.room", params={"$filter": f"building eq '{building}'"}
    ).json()
    assert body["value"]
    assert all(r["building"] == building for r in body["value"])


def test_room_lists_and_their_rooms_by_email(graph: Graph, sim: Simulator) -> None:
    lists = graph.get("/places/microsoft.graph.roomlist").json()["value"]
    assert {rl["emailAddress"] for rl in lists} == set(sim.tenant.room_lists)
    assert lists[0]["@odata.type"] == "#microsoft.graph.roomList"
    first = lists[0]["emailAddress"]
    rooms = graph.get(f"/places/{first}/microsoft.graph.roomlist/rooms").json()["value"]
    assert {r["emailAddress"] for r in rooms} == set(sim.tenant.room_lists[first].room_emails)


def test_room_list_addressed_by_id_is_refused(graph: Graph) -> None:
    room_list = graph.get("/places/microsoft.graph.roomlist").json()["value"][0]
    response = graph.get(f"/places/{room_list['id']}/microsoft.graph.roomlist/rooms")
    assert response.status_code == 400


def test_places_need_place_read_all(sim: Simulator, http: httpx.Client) -> None:
    sim.set_roles({"Calendars.Read"})
    response = Graph(http, token_for(sim, http)).get("/places/microsoft.graph.room")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "ErrorAccessDenied"


def test_find_rooms_is_beta_only_and_returns_email_addresses(
    graph: Graph, beta: Graph, sim: Simulator
) -> None:
    assert graph.get(f"/users/{sim.service_account}/findRooms").status_code == 400
    body = beta.get(f"/users/{sim.service_account}/findRooms").json()
    assert body["@odata.context"].endswith("Collection(microsoft.graph.emailAddress)")
    assert {r["address"] for r in body["value"]} == set(sim.tenant.rooms)
    assert set(body["value"][0]) == {"name", "address"}


def test_find_rooms_in_a_room_list_and_find_room_lists(beta: Graph, sim: Simulator) -> None:
    room_list = sorted(sim.tenant.room_lists)[0]
    account = sim.service_account
    found = beta.get(f"/users/{account}/findRooms(RoomList='{room_list}')").json()["value"]
    assert {r["address"] for r in found} == set(sim.tenant.room_lists[room_list].room_emails)
    lists = beta.get(f"/users/{account}/findRoomLists").json()["value"]
    assert {rl["address"] for rl in lists} == set(sim.tenant.room_lists)


def test_find_rooms_returns_only_the_first_100() -> None:
    sim = Simulator(seed=6)
    sim.seed(rooms=120, users=1, events_per_room=0, recurring_series=0)
    try:
        with httpx.Client(transport=sim.transport()) as http:
            beta = Graph(http, token_for(sim, http), "beta")
            found = beta.get(f"/users/{sim.service_account}/findRooms").json()["value"]
            assert len(found) == 100
    finally:
        sim.close()


def test_room_mailbox_is_a_directory_user_with_extension_attributes(
    graph: Graph, sim: Simulator
) -> None:
    room = sorted(sim.tenant.rooms)[0]
    fields = "displayName,mail,officeLocation,city,department,onPremisesExtensionAttributes"
    body = graph.get(f"/users/{room}", params={"$select": fields}).json()
    assert body["mail"] == room
    assert body["department"] == "Facilities"
    assert body["onPremisesExtensionAttributes"]["extensionAttribute1"] is not None
    assert "extensionAttribute15" in body["onPremisesExtensionAttributes"]


def test_user_default_properties(graph: Graph, sim: Simulator) -> None:
    body = graph.get(f"/users/{sim.service_account}").json()
    assert body["@odata.context"].endswith("$metadata#users/$entity")
    assert body["userPrincipalName"] == sim.service_account
    assert "department" not in body


def test_unknown_user_is_404_request_resource_not_found(graph: Graph) -> None:
    response = graph.get("/users/nobody@contoso.onmicrosoft.com")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "Request_ResourceNotFound"


def test_unknown_select_property_is_400(graph: Graph, sim: Simulator) -> None:
    response = graph.get(f"/users/{sim.service_account}", params={"$select": "shoeSize"})
    assert response.status_code == 400


def test_users_need_user_read_all(sim: Simulator, http: httpx.Client) -> None:
    sim.set_roles({"Calendars.Read"})
    response = Graph(http, token_for(sim, http)).get(f"/users/{sim.service_account}")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "Authorization_RequestDenied"


def test_directory_read_all_also_reads_users(sim: Simulator, http: httpx.Client) -> None:
    sim.set_roles({"Directory.Read.All"})
    response = Graph(http, token_for(sim, http)).get(f"/users/{sim.service_account}")
    assert response.status_code == 200


def test_unknown_segment_is_400_bad_request(graph: Graph) -> None:
    response = graph.get("/nothingHere")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BadRequest"
    assert {"date", "request-id", "client-request-id"} <= set(error["innerError"])
