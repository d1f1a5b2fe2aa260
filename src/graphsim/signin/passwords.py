"""Seeded user passwords: deterministic under the simulator's seed, so the demo can print
them and tests can compute them, and compared in constant time."""

from __future__ import annotations

import base64
import hmac

_ALPHABET = str.maketrans("", "", "=")


def deterministic_password(seed: int, email: str) -> str:
    """A password like ``Sim-k3vq-7hwd-p2ma`` derived from the seed and the address."""
    digest = hmac.new(f"graphsim-password-{seed}".encode(), email.lower().encode(), "sha256")
    text = base64.b32encode(digest.digest()).decode().translate(_ALPHABET).lower()
    return f"Sim-{text[0:4]}-{text[4:8]}-{text[8:12]}"


def same_password(stored: str | None, given: str) -> bool:
    if stored is None:
        return False
    return hmac.compare_digest(stored.encode(), given.encode())
