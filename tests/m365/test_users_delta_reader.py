"""The users delta wire models read Microsoft's own example pages (concepts/delta-query-users.md):
items, ``@removed`` with its reason, and exactly one of nextLink / deltaLink."""

from __future__ import annotations

import pytest

from roomsync.m365.directory import RemovedReason, UsersDeltaPage
from roomsync.m365.exceptions import InvalidResponse
from roomsync.m365.wire import parse_wire

INITIAL_PAGE = {
    "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(displayName,givenName,surname)",
    "@odata.nextLink": "https://graph.microsoft.com/v1.0/users/delta?$skiptoken=oEBwdSP6uehIAxQOWq_3Ksh",
    "value": [
        {"displayName": "Cameron White", "givenName": "Cameron", "surname": "White",
         "id": "ffff7b1a-13b6-477b-8c0c-380905cd99f7"},
        {"id": "86462606-fde0-4fc4-9e0c-a20eb73e54c6", "@removed": {"reason": "deleted"}},
    ],
}  # fmt: skip


def test_a_documented_page_reads_as_changes_and_removals() -> None:
    page = parse_wire(UsersDeltaPage, INITIAL_PAGE, source="test")
    person, removed = page.value
    assert (person.display_name, person.removed, person.address) == ("Cameron White", None, None)
    assert removed.removed is not None
    assert removed.removed.reason is RemovedReason.DELETED
    assert page.next_link is not None
    assert page.delta_link is None


def test_an_unknown_removal_reason_is_read_and_a_page_without_a_link_is_refused() -> None:
    odd = {**INITIAL_PAGE, "value": [{"id": "x", "@removed": {"reason": "archived"}}]}
    [item] = parse_wire(UsersDeltaPage, odd, source="test").value
    assert item.removed is not None
    assert item.removed.reason is RemovedReason.UNKNOWN
    with pytest.raises(InvalidResponse, match="does not fit UsersDeltaPage"):
        parse_wire(UsersDeltaPage, {"value": []}, source="GET /users/delta")


def test_the_address_is_the_mail_else_the_upn_in_lower_case() -> None:
    page = parse_wire(
        UsersDeltaPage,
        {"@odata.deltaLink": "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=a",
         "value": [{"id": "1", "mail": "Ada@Contoso.com"},
                   {"id": "2", "userPrincipalName": "Bob@Contoso.com", "accountEnabled": False}]},
        source="test",
    )  # fmt: skip
    assert [(i.address, i.account_enabled) for i in page.value] == [
        ("ada@contoso.com", None),
        ("bob@contoso.com", False),
    ]
