"""``GET /users/delta`` as Microsoft documents it: api-reference/v1.0/api/user-delta.md and
concepts/delta-query-users.md (rounds of nextLink pages ending in a deltaLink, ``$select``
encoded in the token and only selected properties tracked, ``@removed`` reasons
``changed`` for a deleted user and ``deleted`` for a permanently deleted one,
``Prefer: return=minimal``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from graphsim import Simulator
from graphsim.clock import ManualClock
from tests.graphsim.graphsim_testkit import Graph, token_for

PEOPLE = "displayName,givenName,surname,mail,accountEnabled"


def _round(graph: Graph, url: str, **kwargs: Any) -> tuple[list[dict[str, Any]], str, int]:
    """Every item of a round, its deltaLink and how many pages it took."""
    items: list[dict[str, Any]] = []
    pages = 0
    while True:
        response = graph.get(url, **kwargs)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        items += body["value"]
        assert ("@odata.nextLink" in body) != ("@odata.deltaLink" in body)
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"], pages
        url = body["@odata.nextLink"]
        assert "$skiptoken=" in url
        kwargs.pop("params", None)  # the query is in the token from now on


def _user(sim: Simulator, index: int = 0) -> str:
    """The address of one of the seeded people (not a room, not the service account)."""
    people = sorted(u.mail for u in sim.tenant.users.values() if u.has_mailbox and not u.is_room)
    return people[index]


def test_initial_round_pages_every_user_then_gives_a_delta_link(
    sim: Simulator, graph: Graph
) -> None:
    sim.core.directory_changes.page_size = 3
    items, delta_link, pages = _round(graph, "/users/delta")
    assert {i["id"] for i in items} == {u.id for u in sim.tenant.users.values()}
    assert pages == -(-len(sim.tenant.users) // 3)
    assert "$deltatoken=" in delta_link
    first = next(i for i in items if i.get("mail") == _user(sim))
    assert set(first) <= {
        "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
        "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
    }  # fmt: skip
    assert "jobTitle" not in first  # never set: left out, not null
    again, _, _ = _round(graph, delta_link)
    assert again == []  # no changes: an empty value with a new deltaLink


def test_select_is_kept_in_the_token_and_only_selected_properties_are_tracked(
    sim: Simulator, graph: Graph
) -> None:
    items, link, _ = _round(graph, "/users/delta", params={"$select": "displayName"})
    assert all(set(i) <= {"id", "displayName"} for i in items)
    sim.directory.set_account_enabled(_user(sim), False)  # not selected: not tracked
    assert _round(graph, link)[0] == []
    sim.directory.rename(_user(sim), "Ada Lovelace")
    changed, _, _ = _round(graph, link)
    assert changed == [{"id": sim.tenant.find_user(_user(sim)).id, "displayName": "Ada Lovelace"}]  # type: ignore[union-attr]


def test_rename_and_disable_come_as_changed_users(sim: Simulator, graph: Graph) -> None:
    _, link, _ = _round(graph, "/users/delta", params={"$select": PEOPLE})
    sim.directory.rename(_user(sim), "Grace Hopper")
    sim.directory.set_account_enabled(_user(sim, 1), False)
    changed, _, _ = _round(graph, link)
    by_mail = {i["mail"]: i for i in changed}
    assert set(by_mail) == {_user(sim), _user(sim, 1)}
    assert by_mail[_user(sim)]["displayName"] == "Grace Hopper"
    assert by_mail[_user(sim)]["givenName"] == "Grace"
    assert by_mail[_user(sim, 1)]["accountEnabled"] is False


def test_deleted_user_is_removed_changed_and_permanently_deleted_is_removed_deleted(
    sim: Simulator, graph: Graph
) -> None:
    _, link, _ = _round(graph, "/users/delta", params={"$select": PEOPLE})
    soft, hard = sim.tenant.find_user(_user(sim)), sim.tenant.find_user(_user(sim, 1))
    assert soft is not None
    assert hard is not None
    sim.directory.delete(soft.mail)
    sim.directory.delete(hard.mail, permanent=True)
    changed, link, _ = _round(graph, link)
    assert {i["id"]: i["@removed"] for i in changed} == {
        soft.id: {"reason": "changed"},
        hard.id: {"reason": "deleted"},
    }
    assert graph.get(f"/users/{soft.id}").status_code == 404
    sim.directory.restore(soft.id)
    restored, _, _ = _round(graph, link)
    assert [(i["id"], "@removed" in i) for i in restored] == [(soft.id, False)]


def test_minimal_response_carries_only_changed_properties(sim: Simulator, graph: Graph) -> None:
    _, link, _ = _round(graph, "/users/delta", params={"$select": PEOPLE})
    sim.directory.set_account_enabled(_user(sim), False)
    changed, _, _ = _round(graph, link, headers={"Prefer": "return=minimal"})
    assert [set(i) for i in changed] == [{"id", "accountEnabled"}]


def test_sdk_function_form_unknown_property_and_permission(
    sim: Simulator, graph: Graph, http: httpx.Client
) -> None:
    assert graph.get("/users/microsoft.graph.delta").status_code == 200
    unknown = graph.get("/users/delta", params={"$select": "displayName,shoeSize"})
    assert unknown.status_code == 400
    assert "shoeSize" in unknown.json()["error"]["message"]
    sim.set_roles({"Calendars.ReadWrite"})
    denied = Graph(http, token_for(sim, http)).get("/users/delta")
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "Authorization_RequestDenied"


def test_a_new_address_is_reported_and_the_mailbox_follows(sim: Simulator, graph: Graph) -> None:
    _, link, _ = _round(graph, "/users/delta", params={"$select": PEOPLE})
    new = f"ada.new@{sim.tenant.domain}"
    sim.directory.change_address(_user(sim), new)
    changed, _, _ = _round(graph, link)
    assert [i["mail"] for i in changed] == [new]
    assert graph.get(f"/users/{new}/calendarView", params={
        "startDateTime": "2030-01-01T00:00:00Z", "endDateTime": "2030-01-02T00:00:00Z",
    }).status_code == 200  # fmt: skip


def test_an_expired_delta_link_answers_410_sync_state_not_found(
    sim: Simulator, graph: Graph
) -> None:
    _, link, _ = _round(graph, "/users/delta")
    sim.directory.expire_delta_tokens()
    expired = graph.get(link)
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "syncStateNotFound"
    assert _round(graph, "/users/delta")[1] != link  # a fresh round works


def test_a_delta_link_older_than_seven_days_has_expired() -> None:
    clock = ManualClock()
    with Simulator(seed=3, clock=clock) as sim, httpx.Client(transport=sim.transport()) as http:
        sim.seed(users=2, rooms=1, events_per_room=0, recurring_series=0, private_meetings=0)
        _, first, _ = _round(Graph(http, token_for(sim, http)), "/users/delta")
        clock.advance(timedelta(days=6))
        _, second, _ = _round(Graph(http, token_for(sim, http)), first)  # a newer link
        clock.advance(timedelta(days=6))
        graph = Graph(http, token_for(sim, http))
        assert graph.get(first).status_code == 410
        assert graph.get(second).status_code == 200
