"""``roomsync token ...``: API tokens of an organization (stored hashed, shown once)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from roomsync.cli.db import DatabaseUrlOption
from roomsync.cli.environment import load_settings, migrated_database
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.services.tokens import create_api_token

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@app.command()
def create(
    organization: Annotated[str, typer.Option(help="Id of the organization the token serves.")],
    role: Annotated[Role, typer.Option(help="admin or occupant.", case_sensitive=False)],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'reception kiosk'.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a token and print it once on stdout: it is stored only as a hash."""
    organization_id = _parse_id(organization)
    database = migrated_database(database_url or load_settings().database_url)
    try:
        with database.session() as session:
            issued = create_api_token(
                session, organization_id=organization_id, role=role, name=name
            )
    finally:
        database.dispose()
    typer.echo(
        f"Created {role.value} token {name!r} for organization {organization_id}. "
        "It is shown only now: store it safely.",
        err=True,
    )
    typer.echo(issued.secret)


def _parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"--organization {value!r} is not an organization id (a UUID such as "
            "01920000-0000-7000-8000-000000000000): list them with GET /api/v1/organizations.",
            field="organization",
        ) from exc
