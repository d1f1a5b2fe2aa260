"""``roomsync demo``: an emulated Microsoft 365 tenant and the platform synced with it.

graphsim runs in this process with a seeded tenant (room lists as buildings, rooms with
realistic fields, people, two weeks of meetings including recurring and private ones, and
simulated Outlook users booking now and then); the platform runs on SQLite in the data
directory with an organization connected to the tenant in listener mode. Graph calls go
through graphsim's in-process transport; graphsim's change notifications reach roomsync's
webhook over real HTTP on loopback, as Graph's would. This module is the only product code
that imports graphsim (docs/decisions.md §3), and only ``roomsync demo`` imports it.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

from graphsim import SimOptions, Simulator
from graphsim.control.activity import start_activity
from graphsim.simulator import DEFAULT_ROLES
from graphsim.tenants import TenantRouter, make_tenants, serve_tenants
from roomsync.logs import configure_logging
from roomsync.platform.db import Database
from roomsync.platform.enums import IntegrationMode, Role, SyncRunTrigger
from roomsync.platform.migrations import upgrade_database
from roomsync.platform.models import Resource
from roomsync.platform.services.organizations import create_organization
from roomsync.platform.services.tokens import create_api_token
from roomsync.runtime.heap import settle_heap
from roomsync.runtime.runtime import EmbeddedConsumer, Runtime
from roomsync.settings import DEMO_KEY_FILE, Settings
from roomsync.sync.exceptions import LeaseHeldError
from roomsync.sync.integration.configuration import create_integration
from roomsync.sync.integration.room_health import room_health
from roomsync.sync.listener.subscriptions import SubscriptionState
from roomsync.sync.listener.workflow import renew_subscriptions
from roomsync.sync.pull.workflow import Progress, pull_bookings
from roomsync.sync.rooms.workflow import ProgressCallback, sync_rooms
from roomsync.sync.runs import RunReport
from roomsync.web.app import create_app
from roomsync.web.server import serving_in_background

HOST = "127.0.0.1"
ZONE = "Europe/Paris"
ROOM_ANSWER_SECONDS = 0.5
WORKERS = 4
SLOT = timedelta(minutes=30)
UNCONNECTED = "Fabrikam (demo)"


@dataclass(frozen=True)
class DemoOptions:
    port: int
    data_dir: Path
    rooms: int | None = None
    """None: graphsim's demo tenant (~40 rooms); else that many rooms."""
    activity_seconds: float = 20.0
    """Seconds between simulated Outlook changes (0: none)."""
    setup: bool = False
    """Leave the organization unconnected, for the set-up wizard (``--setup``)."""


@dataclass
class Tenant:
    rooms: list[str]
    users: list[str]


@dataclass
class Connected:
    """What the demo made on the platform side."""

    organization_id: uuid.UUID
    integration_id: uuid.UUID
    admin_token: str
    report: dict[str, RunReport] = field(default_factory=dict)


class Demo:
    """One demo: build it, ``start()`` it, connect, then serve or check the round trip."""

    def __init__(self, options: DemoOptions, settings: Settings) -> None:
        self.options = options
        self.base_url = f"http://{HOST}:{options.port}"
        # Two emulated tenants behind one address, as Microsoft's: the demo organization's,
        # and Fabrikam's, left unconnected for the set-up wizard.
        self.sim, self.other = make_tenants(
            2, options=SimOptions(seed=11, room_processing_delay=ROOM_ANSWER_SECONDS)
        )
        self.router = TenantRouter([self.sim, self.other])
        self.other.seed_demo(variant=1)
        # the wizard proposes the time zone from the mailbox settings
        self.other.set_roles(set(DEFAULT_ROLES) | {"MailboxSettings.Read"})
        seeded = self.sim.seed_demo() if options.rooms is None else self.sim.seed(
            rooms=options.rooms, room_lists=4, users=30, events_per_room=6,
            recurring_series=3, private_meetings=3,
        )  # fmt: skip
        self.tenant = Tenant(seeded.rooms, seeded.users)
        if options.setup:
            self.sim.set_roles(set(DEFAULT_ROLES) | {"MailboxSettings.Read"})
        self.settings = _demo_settings(settings, options, self.base_url)
        configure_logging(self.settings)
        self.database = _fresh_database(options.data_dir, self.settings.database_url)
        self.runtime = Runtime(self.settings, self.database, transport=self.router.transport())
        settle_heap()
        self.consumer: EmbeddedConsumer | None = None
        self.stop_activity = threading.Event()

    @contextlib.contextmanager
    def start(self) -> Iterator[str]:
        """Serve the API and webhooks, and graphsim for inspection; yields graphsim's
        plain-HTTP base URL (for people looking at the tenant). Workers start later
        (:meth:`run_workers`), once the first import and pull are done."""
        app = create_app(self.settings, self.database, runtime=self.runtime)
        with (
            serving_in_background(app, host=HOST, port=self.options.port),
            serve_tenants(self.router, host=HOST, port=self.options.port + 1, tls=False) as graph,
        ):
            try:
                yield graph.base_url
            finally:
                self._stop()

    def run_workers(self) -> None:
        """Workers, the scheduler, and simulated Outlook users, until the demo stops."""
        self.consumer = self.runtime.start_workers(workers=WORKERS, periodic=True)
        if self.options.activity_seconds > 0:
            start_activity(
                self.sim, self.tenant.rooms, self.tenant.users,
                self.options.activity_seconds, self.stop_activity,
            )  # fmt: skip

    def connect(self) -> Connected:
        """The demo organization, its admin token and its integration with the tenant."""
        credentials = self.sim.credentials
        with self.database.session() as session:
            organization = create_organization(session, name="Contoso (demo)")
            token = create_api_token(
                session, organization_id=organization.id, role=Role.ADMIN, name="demo admin"
            )
            integration = create_integration(
                session,
                self.runtime.ctx,
                organization_id=organization.id,
                tenant_id=credentials.tenant_id,
                client_id=credentials.client_id,
                client_secret=credentials.client_secret,
                service_account=self.sim.service_account,
                time_zone=ZONE,
                mode=IntegrationMode.LISTENER,
            )
            # Another organization, on the second emulated tenant, to connect with the wizard.
            create_organization(session, name=UNCONNECTED)
            return Connected(organization.id, integration.id, token.secret)

    def prepare_setup(self) -> list[str]:
        """``--setup``: the demo organization without an integration, and what the set-up
        wizard asks for, as Azure portal would show it."""
        with self.database.session() as session:
            create_organization(session, name="Contoso (demo)")
        return [
            "\nroomsync demo --setup: the organization is not connected yet. Open "
            f"{self.base_url}/admin/setup",
            f"  and paste the admin token (ROOMSYNC_ADMIN_TOKEN): {self._super_admin_token()}",
            *self.app_registration_lines(self.sim),
            "\nPress Ctrl-C to stop.",
        ]

    def wizard_lines(self) -> list[str]:
        """How to connect the unconnected organization with the set-up wizard."""
        people = [u for u in self.other.signin.config_users() if u["password"]]
        admin = next((u for u in people if u["admin"]), None)
        lines = [
            f"\nSet-up wizard: {UNCONNECTED} is not connected yet. Open "
            f"{self.base_url}/admin/sign-in,",
            f"  paste the admin token (ROOMSYNC_ADMIN_TOKEN): {self._super_admin_token()}",
            "  and choose Set up.",
            *self.app_registration_lines(self.other),
        ]
        if admin is not None:
            lines.append(
                f"  Once connected, its admin signs in as {admin['email']}  "
                f"password {admin['password']}"
            )
        return lines

    def app_registration_lines(self, sim: Simulator) -> list[str]:
        """A tenant's app registration as Azure portal shows it (what the wizard asks)."""
        credentials = sim.credentials
        secret = sim.app_registration().secrets[0]
        return [
            f"  The {sim.tenant.display_name} app registration, as Azure portal shows it:",
            f"    Application (client) ID   {credentials.client_id}",
            f"    Directory (tenant) ID     {credentials.tenant_id}",
            f"    Client secret (Value)     {credentials.client_secret}",
            f"    Client secret expires     {secret.expires_at:%Y-%m-%d}",
            f"    Service account           {sim.service_account}",
        ]

    def _super_admin_token(self) -> str:
        token = self.settings.admin_token  # _demo_settings makes one when none is set
        return token.get_secret_value() if token else "(none)"

    def import_rooms(self, connected: Connected, progress: ProgressCallback | None) -> RunReport:
        report = sync_rooms(
            self.runtime.ctx, connected.integration_id, trigger=SyncRunTrigger.MANUAL,
            progress=progress,
        )  # fmt: skip
        connected.report["rooms"] = report
        return report

    def pull(self, connected: Connected, progress: Progress | None) -> RunReport:
        report = pull_bookings(
            self.runtime.ctx, connected.integration_id, trigger=SyncRunTrigger.MANUAL,
            progress=progress,
        )  # fmt: skip
        connected.report["bookings"] = report
        return report

    def subscribe(self, connected: Connected, *, wait: float = 30.0) -> int:
        """A change-notification subscription per room (listener mode; the scheduler's sweep
        may be making them already): how many rooms are listened to once all are, or once
        ``wait`` seconds have passed."""
        with contextlib.suppress(LeaseHeldError):  # the scheduler's sweep is doing it
            renew_subscriptions(self.runtime.ctx, connected.integration_id)
        deadline = time.monotonic() + wait
        while (listened := self._listened(connected)) < len(self.tenant.rooms):
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)
        return listened

    def instructions(self, *, token: str, tenant_url: str, listening: int) -> list[str]:
        """What to open and try, with a real room, real free slots and the admin token."""
        room, organizer = self.tenant.rooms[0], self.tenant.users[0]
        api, auth = f"{self.base_url}/api/v1", f"-H 'Authorization: Bearer {token}'"
        json = "-H 'Content-Type: application/json'"
        ours, theirs = self.free_slot(room, days_ahead=1), self.free_slot(room, days_ahead=2)
        booking = (
            f'{{"resource_id": "{self.room_id(room)}", "organizer_email": "{organizer}", '
            f'"title": "Try-out", "start": "{_z(ours)}", "end": "{_z(ours + SLOT)}"}}'
        )
        meeting = (
            f'{{"organizer": "{organizer}", "rooms": "{room}", "subject": "From Outlook", '
            f'"start": "{_z(theirs)}", "end": "{_z(theirs + SLOT)}"}}'
        )
        return [
            f"\nroomsync demo: listening to {listening} rooms of the emulated tenant.",
            f"API {self.base_url} (OpenAPI {self.base_url}/docs); emulated tenant {tenant_url}",
            f"Admin token (shown once): {token}",
            *self.sign_in_lines(),
            f"\nBook {room} (its mailbox answers within a second; see the status):",
            f"  curl -s -X POST {api}/bookings {auth} {json} -d '{booking}'",
            f"  curl -s '{api}/resources?limit=5' {auth}   # the rooms imported",
            "See it in the room's own calendar (the emulated Exchange mailbox):",
            f"  curl -s {tenant_url}/_sim/mailboxes/{room}/events",
            "Book in 'Outlook' and watch it reach the platform within seconds:",
            f"  curl -s -X POST {tenant_url}/_sim/outlook/meetings {json} -d '{meeting}'",
            "Both bookings, as the platform has them:",
            f"  curl -s '{api}/bookings?resource_id={self.room_id(room)}"
            f"&start={_z(ours)}&end={_z(theirs + SLOT)}' {auth}",
            *self.wizard_lines(),
            "\nPress Ctrl-C to stop.",
        ]

    def sign_in_lines(self) -> list[str]:
        """Whom to sign in as (graphsim's seeded people): the holder of Roomsync.Admin and
        one occupant, with their passwords."""
        people = [u for u in self.sim.signin.config_users() if u["password"]]
        admin = next((u for u in people if u["admin"]), None)
        occupant = next((u for u in people if not u["admin"]), None)
        lines = [
            f"\nFind and book a room: {self.base_url}/  (admin console: {self.base_url}/admin)",
            f"Sign in with Microsoft (the emulated tenant's page, {self.base_url}/auth/login) "
            "as one of these people:",
        ]
        for label, user in (("admin", admin), ("occupant", occupant)):
            if user is not None:
                lines.append(f"  as {label}: {user['email']}  password {user['password']}")
        return lines

    def _listened(self, connected: Connected) -> int:
        with self.database.session() as session:
            rooms = room_health(session, connected.integration_id)
        return sum(room.subscription_state is SubscriptionState.ACTIVE for room in rooms)

    def room_id(self, email: str) -> uuid.UUID:
        with self.database.session() as session:
            return session.scalars(select(Resource.id).where(Resource.email == email)).one()

    def free_slot(self, room: str, *, days_ahead: int, length: timedelta = SLOT) -> datetime:
        """The first half hour of that day (from 06:00 UTC) with nothing in the room's
        calendar and the hour after it free too, so a move by an hour stays free."""
        day = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0)
        day += timedelta(days=days_ahead)
        busy = [
            _span(event) for event in self.sim.calendar_view(room, day, day + timedelta(days=1))
        ]
        for step in range(30):
            start = day + step * length
            if all(end <= start or begin >= start + 3 * length for begin, end in busy):
                return start
        raise LookupError(f"{room} has no free hour on {day:%Y-%m-%d}.")

    def _stop(self) -> None:
        self.stop_activity.set()
        self.runtime.ctx.stopping.set()
        if self.consumer is not None:
            self.consumer.stop(graceful=True)
        self.runtime.close()
        self.router.close()


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(event: dict[str, Any]) -> tuple[datetime, datetime]:
    def instant(value: dict[str, str]) -> datetime:
        return datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=UTC)

    return instant(event["start"]), instant(event["end"])


def _demo_settings(settings: Settings, options: DemoOptions, base_url: str) -> Settings:
    data = options.data_dir.resolve()
    return settings.for_demo(data / DEMO_KEY_FILE).model_copy(
        update={
            "database_url": f"sqlite:///{data / 'roomsync.db'}",
            "queue_url": f"sqlite:///{data / 'roomsync-queue.db'}",
            "public_url": base_url,
            # roomsync reaches the tenant in-process; a browser signing in reaches it here.
            "sign_in_page_url": f"http://{HOST}:{options.port + 1}",
            "log_level": "WARNING",
            "admin_token": settings.admin_token or SecretStr(secrets.token_urlsafe(24)),
        }
    )


def _fresh_database(data_dir: Path, url: str) -> Database:
    """The demo's tenant lives in memory, so each demo starts from an empty database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    for name in ("roomsync.db", "roomsync-queue.db"):
        for suffix in ("", "-wal", "-shm"):
            (data_dir / f"{name}{suffix}").unlink(missing_ok=True)
    database = Database(url)
    upgrade_database(database)
    return database
