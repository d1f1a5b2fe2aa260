"""A page of API tokens names the person each occupant token acts for with one query for
the whole page, not one per token. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from roomsync.platform.db import Database
from roomsync.platform.enums import Role
from roomsync.platform.services.tokens import list_api_tokens, token_user_emails


def test_the_people_of_a_page_of_tokens_are_read_in_one_query(
    database: Database, factory: Any
) -> None:
    organization_id = factory.organization("Acme")
    people = [f"person{n}@acme.test" for n in range(8)]
    for email in people:
        factory.token(organization_id, Role.OCCUPANT, user=email)
    factory.token(organization_id, Role.ADMIN)
    statements: list[str] = []
    event.listen(database.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    with database.session() as session:
        page = list_api_tokens(session, organization_id=organization_id, limit=50, cursor=None)
        before = len(statements)
        emails = token_user_emails(session, page.items)
        queries = len(statements) - before

    assert queries == 1
    assert sorted(emails.values()) == people
    assert len(page.items) == 9
