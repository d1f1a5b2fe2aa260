"""The Python API: one :class:`Simulator` per emulated tenant.

sim = Simulator(seed=7)
sim.seed(rooms=20)
client = httpx.Client(transport=sim.transport(), base_url="https://graph.microsoft.com")
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette

from graphsim.app import build_app
from graphsim.calendar.model import EventItem
from graphsim.calendar.recurrence import instances
from graphsim.calendar.rooms import RoomDecision
from graphsim.calendar.wire import render, series_json
from graphsim.clock import Clock
from graphsim.control import seeding
from graphsim.control.config_out import serve_config
from graphsim.control.faults import FailureRule
from graphsim.control.surface import control_routes
from graphsim.core import Core, SimOptions
from graphsim.directory.admin import DirectoryAdmin
from graphsim.directory.tenant import (
    AppRegistration,
    AutomateProcessing,
    Certificate,
    ClientSecret,
    Tenant,
)
from graphsim.errors import GraphsimError, NotFoundError
from graphsim.identity.credentials import AppCredentials, CertificateCredential
from graphsim.identity.pki import self_signed_rsa
from graphsim.loops import LoopThread
from graphsim.notifications import lifecycle
from graphsim.notifications.lifecycle import LifecycleEvent
from graphsim.notifications.notifier import Delivery, Notifier
from graphsim.outlook import Outlook
from graphsim.records import from_jsonable, to_jsonable
from graphsim.requestlog import RequestLog
from graphsim.signin.controls import SignInControls
from graphsim.transport import SyncASGITransport, async_transport

DEFAULT_ROLES = frozenset({"Calendars.ReadWrite", "Place.Read.All", "User.Read.All"})


class Simulator:
    """An emulated Microsoft 365 tenant (see the README section "graphsim")."""

    def __init__(
        self,
        *,
        seed: int = 1,
        options: SimOptions | None = None,
        clock: Clock | None = None,
        notification_transport: httpx.AsyncBaseTransport | None = None,
        notification_verify: bool | str = True,
        tenant: Tenant | None = None,
        domain: str = "contoso.onmicrosoft.com",
        display_name: str = "Contoso",
    ) -> None:
        """``domain`` and ``display_name`` name a new tenant (not one given as ``tenant``)."""
        self.options = options or SimOptions(seed=seed)
        core = Core(tenant or Tenant("", "", display_name), self.options, clock)
        if tenant is None:
            core.tenant.tenant_id = core.ids.guid()
            core.tenant.domain = domain
        self.core = core
        self.core.subscriptions.use_notifier(
            Notifier(
                core.background,
                self.options.notifications,
                notification_transport,
                notification_verify,
                core.clock,
            )
        )
        self.outlook = Outlook(core)
        self.directory = DirectoryAdmin(core)  # rename, disable, delete… directory users
        self.signin = SignInControls(self)
        self.app: Starlette = _build_app(self)
        self._request_loop: LoopThread | None = None
        self._transport_lock = threading.Lock()
        if tenant is None:
            self.credentials = self.add_app("roomsync", DEFAULT_ROLES)
            self.signin.prepare_default_app()
            self.service_account = seeding.add_user(
                core,
                f"svc-roomsync@{core.tenant.domain}",
                "Room sync service account",
                has_mailbox=False,
            ).mail

    # -- tenant and credentials ---------------------------------------------------------

    @property
    def tenant(self) -> Tenant:
        return self.core.tenant

    @property
    def tenant_id(self) -> str:
        return self.core.tenant.tenant_id

    def add_app(
        self,
        name: str,
        roles: frozenset[str] | set[str],
        secret_lifetime: timedelta = timedelta(days=365),
    ) -> AppCredentials:
        """Register an app with a client secret and granted application permissions."""
        with self.core.lock:
            client_id = self.core.ids.guid()
            secret = ClientSecret(
                self.core.ids.guid(),
                self.core.ids.secret(),
                self.core.clock.now() + secret_lifetime,
            )
            self.core.tenant.apps[client_id] = AppRegistration(
                client_id, name, [secret], roles=set(roles)
            )
        return AppCredentials(self.tenant_id, client_id, secret.value)

    def app_registration(self, client_id: str | None = None) -> AppRegistration:
        key = (client_id or self.credentials.client_id).lower()
        if key not in self.core.tenant.apps:
            raise NotFoundError(f"There is no app registration {key}.")
        return self.core.tenant.apps[key]

    def set_roles(self, roles: set[str], client_id: str | None = None) -> None:
        """Replace an app's granted application permissions (new tokens carry them)."""
        with self.core.lock:
            self.app_registration(client_id).roles = set(roles)

    def add_certificate(self, client_id: str | None = None) -> CertificateCredential:
        """Make a certificate, register its public part on the app, return all of it."""
        pair = self_signed_rsa("graphsim app credential", self.core.clock.now())
        with self.core.lock:
            self.app_registration(client_id).certificates.append(
                Certificate(
                    self.core.ids.guid(),
                    pair.cert_pem,
                    pair.thumbprint_sha1,
                    pair.thumbprint_sha256,
                    self.core.clock.now() + timedelta(days=365),
                )
            )
        return CertificateCredential(pair.key_pem, pair.cert_pem, pair.thumbprint_sha1)

    def add_client_secret(
        self, client_id: str | None = None, lifetime: timedelta = timedelta(days=365)
    ) -> str:
        """A new client secret on the app (what an admin does in Azure portal to rotate)."""
        with self.core.lock:
            secret = ClientSecret(
                self.core.ids.guid(), self.core.ids.secret(), self.core.clock.now() + lifetime
            )
            self.app_registration(client_id).secrets.append(secret)
        return secret.value

    def expire_client_secret(self, client_id: str | None = None) -> None:
        """Every client secret of the app expires now (AADSTS7000222 from then on)."""
        with self.core.lock:
            for secret in self.app_registration(client_id).secrets:
                secret.expires_at = self.core.clock.now() - timedelta(seconds=1)

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is rejected as expired (401)."""
        self.core.identity.expire_access_tokens()

    # -- seeding -----------------------------------------------------------------------

    def seed(self, spec: seeding.SeedSpec | None = None, **fields: int) -> seeding.SeedResult:
        """Add rooms, room lists, users and meetings (``rooms=…, events_per_room=…``)."""
        with self.core.lock:
            return seeding.seed(
                self.core, spec or seeding.SeedSpec(**fields), self.core.clock.now()
            )

    def seed_demo(self, variant: int = 0) -> seeding.SeedResult:
        """The demo tenant; another ``variant`` has other buildings and other people."""
        with self.core.lock:
            return seeding.seed_demo(self.core, self.core.clock.now(), variant)

    @property
    def room_processing_delay(self) -> float:
        """Seconds a room mailbox takes to answer a request (0: as soon as possible)."""
        return self.core.room_delay

    @room_processing_delay.setter
    def room_processing_delay(self, seconds: float) -> None:
        self.core.room_delay = seconds

    def set_calendar_processing(self, room: str, **settings: Any) -> None:
        """Change a room's Set-CalendarProcessing values (``allow_conflicts=True``, …)."""
        with self.core.lock:
            found = self.core.tenant.rooms.get(room.lower())
            if found is None:
                raise NotFoundError(f"{room} is not a room in this tenant.")
            for name, value in settings.items():
                converted = AutomateProcessing(value) if name == "automate_processing" else value
                setattr(found.processing, name, converted)

    # -- faults ------------------------------------------------------------------------

    def inject_latency(self, milliseconds: float, path_contains: str | None = None) -> None:
        self.core.faults.add_latency(milliseconds, path_contains)

    def fail_next(
        self,
        count: int,
        status: int = 503,
        *,
        path_contains: str | None = None,
        mailbox: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``count`` matching Graph requests fail with ``status``."""
        self.core.faults.add_failure(
            FailureRule(status, count, 0.0, path_contains, mailbox, retry_after)
        )

    def error_rate(
        self, rate: float, status: int = 503, *, path_contains: str | None = None
    ) -> None:
        self.core.faults.add_failure(FailureRule(status, None, rate, path_contains))

    def drop_notifications(self, count: int = 1) -> None:
        self.core.faults.drop_notifications += count

    def duplicate_notifications(self, count: int = 1) -> None:
        self.core.faults.duplicate_notifications += count

    def clear_faults(self) -> None:
        self.core.faults.clear()

    def reset_delta(self, mailbox: str) -> None:
        """The next delta request for ``mailbox`` gets 410 Gone with a Location."""
        with self.core.lock:
            self._mailbox(mailbox).reset_pending = True

    def expire_delta_tokens(self, mailbox: str) -> None:
        """Every delta/next link of ``mailbox`` so far gets 410 SyncStateNotFound."""
        with self.core.lock:
            self._mailbox(mailbox).generation += 1

    def force_decline(self, room: str, count: int = 1) -> None:
        """The room declines its next ``count`` requests whatever its calendar says."""
        with self.core.lock:
            declines = self.core.rooms.forced_declines
            declines[room.lower()] = declines.get(room.lower(), 0) + count

    def send_lifecycle(self, subscription_id: str, event: LifecycleEvent | str) -> Delivery | None:
        with self.core.lock:
            return self.core.subscriptions.send_lifecycle(subscription_id, LifecycleEvent(event))

    # -- inspection ----------------------------------------------------------------------

    @property
    def requests(self) -> RequestLog:
        return self.core.log

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self.core.subscriptions.notifier.deliveries)

    @property
    def room_decisions(self) -> list[tuple[Any, RoomDecision]]:
        return list(self.core.rooms.decisions)

    def _mailbox(self, email: str) -> Any:
        box = self.core.store.get(email)
        if box is None:
            raise NotFoundError(f"{email} has no mailbox in this tenant.")
        return box

    def events(self, mailbox: str) -> list[dict[str, Any]]:
        """Every single instance and series master in a mailbox, as Graph renders them."""
        with self.core.lock:
            items = sorted(self._mailbox(mailbox).items.values(), key=lambda i: i.seq_created)
            return [series_json(i, "UTC") for i in items]

    def calendar_view(self, mailbox: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        with self.core.lock:
            found = [
                i
                for item in self._mailbox(mailbox).items.values()
                for i in instances(item, start, end)
            ]
            return [render(i, "UTC") for i in sorted(found, key=lambda i: i.start)]

    def subscriptions(self) -> list[dict[str, Any]]:
        with self.core.lock:
            self.core.subscriptions.sweep()
            return [s.json() for s in self.core.subscriptions.by_id.values()]

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until room processing and notification delivery have finished."""
        if not self.core.background.settle(timeout):
            raise GraphsimError(
                f"graphsim still had {self.core.background.pending} background "
                f"jobs after {timeout} s."
            )
        lifecycle.sweep(self.core)
        if self.core.background.errors:
            raise GraphsimError("graphsim background work failed.") from (
                self.core.background.errors.pop()
            )

    # -- transports, snapshots, lifecycle ------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        """A thread-safe sync transport into this simulator (for ``httpx.Client``)."""
        with self._transport_lock:
            if self._request_loop is None:
                self._request_loop = LoopThread("graphsim-requests")
        return SyncASGITransport(self.app, self._request_loop)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        return async_transport(self.app)

    def config(self, base_url: str, ca_bundle: str | None = None) -> dict[str, Any]:
        """What ``graphsim serve --config-out`` writes, for this simulator at ``base_url``."""
        return serve_config(self, base_url, ca_bundle)

    def snapshot(self) -> dict[str, Any]:
        """The tenant (apps, users, rooms, lists) and every mailbox's items, as JSON data."""
        with self.core.lock:
            mailboxes = {
                email: [to_jsonable(i) for i in box.items.values()]
                for email, box in self.core.store.mailboxes.items()
            }
            return {
                "tenant": to_jsonable(self.core.tenant),
                "mailboxes": mailboxes,
                "credentials": to_jsonable(self.credentials),
                "service_account": self.service_account,
            }

    @classmethod
    def from_snapshot(cls, data: dict[str, Any], **kwargs: Any) -> Simulator:
        tenant = from_jsonable(Tenant, data["tenant"])
        sim = cls(tenant=tenant, **kwargs)
        sim.credentials = from_jsonable(AppCredentials, data["credentials"])
        sim.service_account = data["service_account"]
        with sim.core.lock:
            for email, items in data["mailboxes"].items():
                user = tenant.find_user(email)
                box = sim.core.store.ensure(email, user.id if user else email)
                for raw in sorted(items, key=lambda i: i["seq_created"]):
                    item = from_jsonable(EventItem, raw)
                    sim.core.store.save(box, replace(item, seq_created=box.next_seq()))
        return sim

    def close(self) -> None:
        """Stop the simulator's loops and close its webhook connections."""
        if self._request_loop is not None:
            self._request_loop.close()
        if not self.core.background.loop.is_closed():
            closing = self.core.background.submit(self.core.subscriptions.notifier.aclose())
            closing.result(timeout=10)
        self.core.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _build_app(sim: Simulator) -> Starlette:
    return build_app(sim.core, control_routes(sim))
