"""Who may run: the one check every workflow entry point makes before touching Graph, and
the one place an integration is stopped.

An integration runs when it is enabled and not stopped. It is *stopped* (``stopped_reason``
set) when Entra ID refuses its credential in a way no retry can fix — an expired client
secret (AADSTS7000222), a wrong or deleted one (AADSTS7000215, 70002), a rejected or
revoked certificate, an app or tenant Entra ID does not know — so its jobs end with one
clear message instead of retrying every two minutes forever. Saving new credentials
clears it (``roomsync.sync.integration.configuration``), and so does a permission check that gets a
token again (``roomsync.sync.integration.doctor``: the cause was fixed in Azure).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator

from sqlalchemy.orm import Session

from roomsync.m365.exceptions import (
    ApplicationNotFound,
    ClientSecretExpired,
    GraphError,
    InvalidCertificate,
    InvalidClientSecret,
    TenantNotFound,
)
from roomsync.platform.db import Database
from roomsync.platform.models import Integration
from roomsync.platform.services.lookup import get_or_raise
from roomsync.sync.exceptions import IntegrationUnavailableError

logger = logging.getLogger(__name__)

_CREDENTIAL_FAILURES = (
    ClientSecretExpired,
    InvalidClientSecret,
    InvalidCertificate,
    ApplicationNotFound,
    TenantNotFound,
)
# A certificate assertion outside its validity window is this server's clock, not the
# credential: it heals when the clock does.
_CLOCK_SKEW = "AADSTS700024"


def load_integration(session: Session, integration_id: uuid.UUID) -> Integration:
    """The integration with this id, or a 404 error saying there is none."""
    return get_or_raise(session, Integration, integration_id, noun="integration")


def ensure_runnable(integration: Integration) -> None:
    """Raise IntegrationUnavailableError (409) unless the integration may run workflows."""
    if integration.stopped_reason:
        raise IntegrationUnavailableError(
            f"Integration {integration.id} is stopped: {integration.stopped_reason} Its jobs "
            "resume once new credentials are saved with PATCH /api/v1/integrations/"
            f"{integration.id}, or once `roomsync integration check {integration.id}` gets "
            "a token again."
        )
    if not integration.enabled:
        raise IntegrationUnavailableError(
            f"Integration {integration.id} is disabled: enable it with PATCH "
            f'/api/v1/integrations/{integration.id} and {{"enabled": true}}.'
        )


def runnable_integration(session: Session, integration_id: uuid.UUID) -> Integration:
    """The shared gate of every workflow: the integration, if it may run now."""
    integration = load_integration(session, integration_id)
    ensure_runnable(integration)
    return integration


def is_credential_failure(exc: BaseException) -> bool:
    """True for Entra ID refusals that retrying cannot fix (see the module docstring)."""
    if not isinstance(exc, _CREDENTIAL_FAILURES):
        return False
    return not (isinstance(exc, InvalidCertificate) and exc.graph_code == _CLOCK_SKEW)


def stop_integration(database: Database, integration_id: uuid.UUID, reason: str) -> None:
    with database.session() as session:
        integration = load_integration(session, integration_id)
        integration.stopped_reason = reason
    logger.error("Integration %s stopped: %s", integration_id, reason)


def resume_integration(session: Session, integration: Integration) -> None:
    """Clear a stop (in the caller's transaction) and say so in the log."""
    if integration.stopped_reason:
        integration.stopped_reason = None
        logger.info("Integration %s resumes: its credentials work again.", integration.id)


@contextlib.contextmanager
def stopping_on_credential_failure(database: Database, integration_id: uuid.UUID) -> Iterator[None]:
    """Around Graph work: a credential failure stops the integration, then propagates."""
    try:
        yield
    except GraphError as exc:
        if is_credential_failure(exc):
            stop_integration(database, integration_id, exc.message)
        raise
