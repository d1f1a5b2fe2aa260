"""Signing people in with their Entra ID account: the ``/auth`` routes, id_token
verification, server-side sessions, the cross-site check, and ``GET /api/v1/me``."""
