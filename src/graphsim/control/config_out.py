"""The file ``graphsim serve --config-out`` writes: what a client needs to reach the
emulated tenant (ids, secret, URLs, CA) and what the tenant holds (rooms, room lists,
users with their passwords, the redirect URIs its app accepts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graphsim.simulator import Simulator


def serve_config(sim: Simulator, base_url: str, ca_bundle: str | None) -> dict[str, Any]:
    """The configuration of ``sim`` served at ``base_url``."""
    with sim.core.lock:
        tenant = sim.core.tenant
        return {
            "tenant_id": tenant.tenant_id,
            "client_id": sim.credentials.client_id,
            "client_secret": sim.credentials.client_secret,
            "service_account": sim.service_account,
            "login_url": base_url,
            "graph_url": base_url,
            "ca_bundle": ca_bundle,
            "rooms": [
                {
                    "email": r.email,
                    "name": r.display_name,
                    "room_list": next(
                        (
                            rl.email
                            for rl in tenant.room_lists.values()
                            if r.email in rl.room_emails
                        ),
                        None,
                    ),
                }
                for r in tenant.rooms.values()
            ],
            "room_lists": [
                {"email": r.email, "name": r.display_name} for r in tenant.room_lists.values()
            ],
            "users": sim.signin.config_users(),
            "redirect_uris": list(sim.signin.app(None).redirect_uris),
        }
