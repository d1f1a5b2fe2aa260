"""graphsim: an emulated Microsoft 365 tenant that behaves like Microsoft Graph and Entra ID
as documented.

A separate package: it never imports roomsync, and roomsync never imports it. The Python
API is :class:`Simulator`; :func:`serve` runs one over HTTPS.
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
