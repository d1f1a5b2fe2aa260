"""``roomsync token create|list|revoke``: API tokens of an organization (stored hashed,
shown once). An occupant token acts for one person (``--user``), a display token shows one
resource (``--resource``)."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from roomsync.cli.environment import (
    DatabaseUrlOption,
    DataDirOption,
    command_settings,
    existing_database,
)
from roomsync.platform.db import describe_url
from roomsync.platform.enums import Role
from roomsync.platform.exceptions import InvalidInputError
from roomsync.platform.models import ApiToken, User
from roomsync.platform.services.lookup import MAX_PAGE_SIZE
from roomsync.platform.services.tokens import create_api_token, list_api_tokens, revoke_api_token

app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


@app.command()
def create(  # noqa: PLR0917 - typer passes each option by position
    organization: Annotated[str, typer.Option(help="Id of the organization the token serves.")],
    role: Annotated[str, typer.Option(help="admin, occupant or display.", show_default=False)],
    name: Annotated[str, typer.Option(help="What the token is for, e.g. 'reception kiosk'.")],
    user: Annotated[
        str | None, typer.Option(help="occupant: the email of the person it acts for.")
    ] = None,
    resource: Annotated[
        str | None, typer.Option(help="display: the id of the resource it shows.")
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a token and print it once on stdout: it is stored only as a hash."""
    organization_id = _parse_id(organization)
    token_role = _parse_role(role)
    if token_role is Role.OCCUPANT and not user:
        raise InvalidInputError(
            "--role occupant needs --user EMAIL: an occupant token acts for one person.",
            field="user",
        )
    if token_role is Role.DISPLAY and not resource:
        raise InvalidInputError(
            "--role display needs --resource ID: a display token shows one resource.",
            field="resource",
        )
    resource_id = _parse_id(resource, option="--resource") if resource else None
    database = existing_database(command_settings(database_url, data_dir).database_url)
    try:
        with database.session() as session:
            issued = create_api_token(
                session,
                organization_id=organization_id,
                role=token_role,
                name=name,
                user=user,
                resource_id=resource_id,
            )
    finally:
        database.dispose()
    typer.echo(
        f"Created {token_role.value} token {name!r} for organization {organization_id} in "
        f"{describe_url(database.url)}. It is shown only now: store it safely.",
        err=True,
    )
    typer.echo(issued.secret)


@app.command("list")
def list_tokens(
    organization: Annotated[str, typer.Option(help="Id of the organization.")],
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List the organization's tokens (never their secrets), revoked ones too."""
    organization_id = _parse_id(organization)
    database = existing_database(command_settings(database_url, data_dir).database_url)
    try:
        with database.session() as session:
            lines, cursor = [], None
            while True:
                page = list_api_tokens(
                    session, organization_id=organization_id, limit=MAX_PAGE_SIZE, cursor=cursor
                )
                lines += [_describe(session, token) for token in page.items]
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor
    finally:
        database.dispose()
    typer.echo("id\trole\tname\tuser\tresource\tcreated\tlast used\trevoked")
    for line in lines:
        typer.echo(line)


@app.command()
def revoke(
    token_id: Annotated[str, typer.Argument(help="Id of the token (see `roomsync token list`).")],
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a token: it is refused from the next request on."""
    parsed = _parse_id(token_id, option="TOKEN_ID")
    database = existing_database(command_settings(database_url, data_dir).database_url)
    try:
        with database.session() as session:
            token = revoke_api_token(session, token_id=parsed)
            name = token.name
    finally:
        database.dispose()
    typer.echo(f"Revoked token {parsed} ({name!r}).")


def _describe(session: Session, token: ApiToken) -> str:
    user = session.get(User, token.user_id) if token.user_id else None
    cells = [
        token.id,
        token.role.value,
        token.name,
        user.email if user else "-",
        token.resource_id or "-",
        token.created_at.isoformat(timespec="seconds"),
        token.last_used_at.isoformat(timespec="seconds") if token.last_used_at else "-",
        token.revoked_at.isoformat(timespec="seconds") if token.revoked_at else "-",
    ]
    return "\t".join(str(cell) for cell in cells)


def _parse_id(value: str, *, option: str = "--organization") -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"{option} {value!r} is not an id (a UUID such as "
            "01920000-0000-7000-8000-000000000000).",
            field=option.lstrip("-").lower(),
        ) from exc


def _parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError as exc:
        roles = ", ".join(role.value for role in Role)
        raise InvalidInputError(
            f"--role {value!r} is not a role: use {roles}.", field="role"
        ) from exc
