"""``roomsync token ...``: API tokens of an organization (stored hashed, shown once)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from roomsync.cli.environment import (
    DatabaseUrlOption,
    DataDirOption,
    command_settings,
    existing_database,
)
from roomsync.platform.db import describe_url
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.services.tokens import create_api_token

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@app.command()
def create(
    organization: Annotated[str, typer.Option(help="Id of the organization the token serves.")],
    role: Annotated[str, typer.Option(help="admin or occupant.", show_default=False)],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'reception kiosk'.")],
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a token and print it once on stdout: it is stored only as a hash."""
    organization_id = _parse_id(organization)
    token_role = _parse_role(role)
    database = existing_database(command_settings(database_url, data_dir).database_url)
    try:
        with database.session() as session:
            issued = create_api_token(
                session, organization_id=organization_id, role=token_role, name=name
            )
    finally:
        database.dispose()
    typer.echo(
        f"Created {token_role.value} token {name!r} for organization {organization_id} in "
        f"{describe_url(database.url)}. It is shown only now: store it safely.",
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


def _parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError as exc:
        roles = " or ".join(role.value for role in Role)
        raise InvalidInputError(
            f"--role {value!r} is not a role: use {roles}.", field="role"
        ) from exc
