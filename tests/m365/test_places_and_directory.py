"""Rooms, room lists and directory users, against Graph answers on a MockTransport."""

from __future__ import annotations

import logging

import httpx
import pytest

from roomsync.m365.directory import find_user_by_email, get_user
from roomsync.m365.exceptions import NotFound, PermissionDenied
from roomsync.m365.places import find_room_lists, find_rooms, list_room_lists, list_rooms
from tests.m365.m365_fakes import GraphRoutes, graph_json, make_graph


def _room(n: int) -> dict[str, object]:
    return {
        "id": f"3162F1E1-C4C0-604B-51D8-{n:012d}",
        "emailAddress": f"room{n}@contoso.com",
        "displayName": f"Conf Room {n}",
        "capacity": 8,
        "building": "1",
        "floorNumber": n % 5,
        "bookingType": "standard",
        "tags": [],
    }


def _paged_rooms(total: int):
    def handler(request: httpx.Request) -> httpx.Response:
        top = int(request.url.params["$top"])
        skip = int(request.url.params["$skip"])
        rooms = [_room(n) for n in range(skip, min(total, skip + top))]
        context = "https://graph.microsoft.com/v1.0/$metadata#places/microsoft.graph.room"
        return graph_json({"@odata.context": context, "@odata.count": total, "value": rooms})

    return handler


def test_all_rooms_are_listed_across_skip_pages() -> None:
    routes = GraphRoutes()
    routes.add("GET", "/v1.0/places/microsoft.graph.room", _paged_rooms(230))

    rooms = list_rooms(make_graph(routes))

    assert len(rooms) == 230
    assert rooms[229].email_address == "room229@contoso.com"
    assert [r.url.params["$skip"] for r in routes.requests] == ["0", "100", "200"]


def test_rooms_of_a_room_list_are_listed_by_the_lists_email() -> None:
    routes = GraphRoutes()
    routes.add(
        "GET", "/v1.0/places/bldg2@contoso.com/microsoft.graph.roomlist/rooms", _paged_rooms(3)
    )

    rooms = list_rooms(make_graph(routes), room_list="bldg2@contoso.com")

    assert [room.display_name for room in rooms] == ["Conf Room 0", "Conf Room 1", "Conf Room 2"]


def test_room_lists_are_listed() -> None:
    routes = GraphRoutes()
    body = {"value": [{"id": "DC40", "displayName": "Building 1", "emailAddress": "b1@contoso.com",
                       "geocoordinates": None, "phone": None}]}  # fmt: skip
    routes.add("GET", "/v1.0/places/microsoft.graph.roomlist", lambda request: graph_json(body))

    (room_list,) = list_room_lists(make_graph(routes))

    assert room_list.email_address == "b1@contoso.com"


def test_find_rooms_goes_through_the_service_account_on_beta() -> None:
    routes = GraphRoutes()
    body = {
        "@odata.context": "https://graph.microsoft.com/beta/$metadata#Collection(microsoft.graph.emailAddress)",
        "value": [{"name": "Conf Room 100", "address": "cf100@contoso.com"}],
    }  # fmt: skip
    path = "/beta/users/sa@contoso.com/findRooms(RoomList='bldg''s@contoso.com')"
    routes.add("GET", path, lambda request: graph_json(body))

    rooms = find_rooms(
        make_graph(routes), service_account="sa@contoso.com", room_list="bldg's@contoso.com"
    )

    assert [room.address for room in rooms] == ["cf100@contoso.com"]


def test_find_rooms_warns_when_the_hundred_room_cap_is_reached(
    caplog: pytest.LogCaptureFixture,
) -> None:
    routes = GraphRoutes()
    body = {"value": [{"name": f"R{n}", "address": f"r{n}@contoso.com"} for n in range(100)]}
    routes.add("GET", "/beta/users/sa@contoso.com/findRooms", lambda request: graph_json(body))

    with caplog.at_level(logging.WARNING):
        rooms = find_rooms(make_graph(routes), service_account="sa@contoso.com")

    assert len(rooms) == 100
    assert "switch the integration's room source to places" in caplog.text


def test_find_rooms_without_delegated_access_says_so() -> None:
    routes = GraphRoutes()
    routes.add(
        "GET",
        "/beta/users/sa@contoso.com/findRoomLists",
        lambda request: httpx.Response(
            403,
            json={"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}},
        ),
    )

    with pytest.raises(PermissionDenied, match="findRooms has no app-only access"):
        find_room_lists(make_graph(routes), service_account="sa@contoso.com")


def test_get_user_selects_the_mapped_properties() -> None:
    routes = GraphRoutes()
    user = {
        "id": "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
        "displayName": "Adele Vance",
        "mail": "AdeleV@contoso.com",
        "userPrincipalName": "AdeleV@contoso.com",
        "officeLocation": "18/2111",
        "city": "Seattle",
        "department": "Retail",
        "onPremisesExtensionAttributes": {"extensionAttribute1": "Desk 12",
                                          "extensionAttribute2": None},
    }  # fmt: skip
    routes.add("GET", "/v1.0/users/AdeleV@contoso.com", lambda request: graph_json(user))

    found = get_user(make_graph(routes), "AdeleV@contoso.com")

    assert found.office_location == "18/2111"
    assert found.on_premises_extension_attributes == {
        "extensionAttribute1": "Desk 12",
        "extensionAttribute2": None,
    }
    assert "onPremisesExtensionAttributes" in routes.requests[0].url.params["$select"]


def test_a_user_whose_upn_differs_from_the_email_is_found_by_mail() -> None:
    routes = GraphRoutes()
    routes.add(
        "GET",
        "/v1.0/users",
        lambda request: graph_json({"value": [{"id": "u2", "mail": "alias@contoso.com"}]}),
    )

    user = find_user_by_email(make_graph(routes), "alias@contoso.com")

    assert user is not None
    assert user.id == "u2"
    assert routes.requests[1].url.params["$filter"] == "mail eq 'alias@contoso.com'"


def test_an_unknown_email_finds_no_user() -> None:
    routes = GraphRoutes()
    routes.add("GET", "/v1.0/users", lambda request: graph_json({"value": []}))

    assert find_user_by_email(make_graph(routes), "nobody@contoso.com") is None


def test_get_user_of_nobody_is_not_found() -> None:
    with pytest.raises(NotFound):
        get_user(make_graph(GraphRoutes()), "nobody@contoso.com")
