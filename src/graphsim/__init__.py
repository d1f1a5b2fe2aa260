"""graphsim: an emulated Microsoft 365 tenant that behaves like Microsoft Graph and Entra ID
as documented.

A separate package: it never imports roomsync, and roomsync imports it only for ``roomsync demo``
(both checked by ``make lint``). The Python API is :class:`Simulator`; :func:`serve` runs one
over HTTPS.

    app              the ASGI app: Entra ID, Graph v1.0 and beta, /_sim
    batch            POST /$batch
    cli              the graphsim command line (graphsim serve)
    clock            real time, or a manual clock for tests
    core             the simulator's state and parts
    errors           graphsim's errors and how Graph and Entra ID put them on the wire
    graph            the request pipeline shared by HTTP requests and $batch items
    ids              identifiers shaped like Microsoft's, from a seeded generator
    listing          $top, $skip, $count, $filter, $select of collection endpoints
    loops            event loops on their own threads (requests, background work)
    odata            a small OData $filter evaluator
    outlook          acting as Outlook users, without any app in between
    query            Query options, found by name without regard to case
    records          dataclasses to and from JSON, for tenant snapshots
    requestlog       every Graph request answered, for tests that count calls
    server           serve(): uvicorn on a thread, HTTPS from graphsim's own CA
    simulator        Simulator: the Python API, one per emulated tenant
    tenants          several tenants behind one host (graphsim serve --tenants N)
    throttling       Outlook throttling per app and mailbox (429 + Retry-After)
    timezones        dateTimeTimeZone and the time zone names Graph accepts
    transport        httpx transports into the in-process app

identity/  Entra ID: tokens, credentials, certificates, app permissions
    authz            the application permissions (token roles) each endpoint needs
    credentials      what an admin hands a daemon: ids and a secret or certificate
    pki              graphsim's CA, its HTTPS certificate, app certificates
    tokens           the v2.0 token endpoint (client credentials) and OpenID metadata

directory/  apps, users, rooms and room lists; /users and /places
    admin            What an Entra ID admin does to people, as ``sim.directory``: rename, ...
    changes          The directory's change log, what ``GET /users/delta`` replays
    places           v1.0 /places, beta findRooms and findRoomLists
    tenant           apps, users, rooms and room lists of the tenant
    users            GET /users and /users/{id | userPrincipalName}
    users_delta      ``GET /users/delta`` (api-reference/v1.0/api/user-delta.md, ...

calendar/  mailbox calendars: events, recurrence, delta, room processing
    delta            calendarView/delta rounds
    events_api       /users/{id}/events over HTTP, cancel included
    model            stored items: single instances, series masters, exceptions
    parse            reading event request bodies
    recurrence       patternedRecurrence expanded into occurrences
    rooms            room-mailbox processing (Exchange's booking attendant)
    service          creating, updating, deleting and cancelling events
    store            mailboxes and their change logs (delta costs O(changes))
    views            calendarView, calendarView/delta and events over HTTP
    wire             events as Graph writes them

notifications/  subscriptions, notifications and their delivery to webhooks
    endpoints        How Graph rates a webhook endpoint ...
    lifecycle        Lifecycle events that happen by themselves ...
    notifier         delivery to webhook endpoints
    subscriptions    subscriptions on /users/{id}/events and what they send
    subscriptions_api  /subscriptions over HTTP

control/  the /_sim control surface, seeding, faults, simulated users
    activity         simulated Outlook users booking now and then
    faults           injected latency, errors, dropped or duplicated notifications
    seeding          populating tenants: any size for tests, the demo's
    surface          the /_sim control surface: the Simulator API over HTTP
"""

from graphsim.clock import ManualClock, SystemClock
from graphsim.control.seeding import SeedSpec
from graphsim.core import NotificationTimings, SimOptions
from graphsim.errors import GraphsimError
from graphsim.identity.credentials import AppCredentials, CertificateCredential
from graphsim.notifications.lifecycle import LifecycleEvent
from graphsim.outlook import recurrence
from graphsim.server import ServerHandle, serve
from graphsim.simulator import Simulator
from graphsim.throttling import ThrottleLimits

__all__ = [
    "AppCredentials",
    "CertificateCredential",
    "GraphsimError",
    "LifecycleEvent",
    "ManualClock",
    "NotificationTimings",
    "SeedSpec",
    "ServerHandle",
    "SimOptions",
    "Simulator",
    "SystemClock",
    "ThrottleLimits",
    "recurrence",
    "serve",
]
