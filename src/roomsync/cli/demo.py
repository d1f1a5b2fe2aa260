"""``roomsync demo``: the platform on embedded SQLite with demo data, ready to try.

Until the emulated Microsoft 365 tenant joins it, the demo serves the platform alone: an
organization, a building and a few rooms are created when the database is new, and each
start prints a fresh admin token (tokens are stored hashed, so an old one cannot be shown
again) and a curl command that books a room.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from roomsync.cli.environment import load_settings, migrated_database
from roomsync.cli.exceptions import DemoCheckError
from roomsync.platform.enums import Role
from roomsync.platform.models import Organization, Resource
from roomsync.platform.services.buildings import create_building
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.resources import create_resource
from roomsync.platform.services.tokens import create_api_token
from roomsync.web.app import create_app
from roomsync.web.server import serve, serving_in_background

DEMO_ORGANIZATION = "Demo Organization"
DEMO_HOST = "127.0.0.1"


@dataclass(frozen=True)
class DemoAccess:
    token: str
    room_id: str
    rooms: int


def demo(
    port: Annotated[int, typer.Option(help="Port for the API.", min=1, max=65535)] = 8000,
    data_dir: Annotated[
        Path, typer.Option(help="Where the demo keeps its SQLite database.")
    ] = Path("demo-data"),
    once: Annotated[bool, typer.Option("--once", help="Start, check /healthz, exit.")] = False,
    rooms: Annotated[int, typer.Option(help="Rooms to create in a new demo.", min=1)] = 4,
) -> None:
    """Try roomsync locally: demo data on SQLite in --data-dir, API on 127.0.0.1:PORT."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{(data_dir / 'roomsync.db').resolve()}"
    settings = load_settings().for_demo().model_copy(update={"database_url": url})
    database = migrated_database(url)
    with database.session() as session:
        access = _prepare(session, rooms=rooms)
    _print_instructions(access, port)
    app = create_app(settings, database)
    if not once:
        serve(app, host=DEMO_HOST, port=port, log_level=settings.log_level)
        return
    with serving_in_background(app, host=DEMO_HOST, port=port) as base_url:
        _check_health(base_url)
    typer.echo(f"Demo check passed: {base_url}/healthz answered ok.")


def _prepare(session: Session, *, rooms: int) -> DemoAccess:
    organization = session.scalars(
        select(Organization).where(Organization.name == DEMO_ORGANIZATION)
    ).first() or _seed(session, rooms=rooms)
    first_room = session.scalars(
        select(Resource).where(Resource.organization_id == organization.id).order_by(Resource.id)
    ).first()
    issued = create_api_token(
        session, organization_id=organization.id, role=Role.ADMIN, name="demo admin"
    )
    room_count = len(
        session.scalars(
            select(Resource.id).where(Resource.organization_id == organization.id)
        ).all()
    )
    room_id = str(first_room.id) if first_room else ""
    return DemoAccess(token=issued.secret, room_id=room_id, rooms=room_count)


def _seed(session: Session, *, rooms: int) -> Organization:
    organization = create_organization(session, name=DEMO_ORGANIZATION)
    building = create_building(
        session, organization_id=organization.id, name="Demo HQ", time_zone="Europe/Amsterdam"
    )
    for number in range(1, rooms + 1):
        create_resource(
            session,
            building_id=building.id,
            name=f"Room {number}",
            capacity=4 + 2 * number,
            floor=str(number % 3),
            attributes={"screen": number % 2 == 1},
        )
    return organization


def _print_instructions(access: DemoAccess, port: int) -> None:
    base = f"http://{DEMO_HOST}:{port}"
    start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    body = (
        f'{{"resource_id": "{access.room_id}", "organizer_email": "you@example.com", '
        f'"title": "Demo meeting", "start": "{start:%Y-%m-%dT%H:%M:%SZ}", '
        f'"end": "{start + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"}}'
    )
    typer.echo(f"roomsync demo: {access.rooms} rooms, API on {base} (OpenAPI: {base}/docs)")
    typer.echo(f"Admin token (shown once): {access.token}")
    typer.echo("Book a room:")
    typer.echo(
        f"  curl -s -X POST {base}/api/v1/bookings -H 'Authorization: Bearer {access.token}' "
        f"-H 'Content-Type: application/json' -d '{body}'"
    )


def _check_health(base_url: str) -> None:
    try:
        response = httpx.get(f"{base_url}/healthz", timeout=10)
    except httpx.HTTPError as exc:
        raise DemoCheckError(
            f"The demo server did not answer on {base_url}/healthz: {exc}."
        ) from exc
    if response.status_code != 200 or response.json() != {"status": "ok"}:
        raise DemoCheckError(
            f"{base_url}/healthz answered {response.status_code} {response.text!r}, not ok."
        )
