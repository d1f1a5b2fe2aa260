"""Per-integration tunables, stored as JSON in ``integrations.options``.

Every field has the default the README's "Configuration" section lists; an operator overrides
only what differs. Unknown keys are refused so a typo cannot silently do nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from roomsync.m365.fanout import BATCHES_IN_FLIGHT


class IntegrationOptions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rooms_interval_minutes: int = Field(default=30, ge=1, le=24 * 60)
    pull_interval_seconds: int = Field(default=120, ge=10, le=24 * 3600)
    # In listener mode polling is the safety net and can run less often.
    listener_pull_interval_seconds: int = Field(default=900, ge=10, le=24 * 3600)
    window_past_days: int = Field(default=1, ge=0, le=365)
    window_future_days: int = Field(default=90, ge=1, le=1080)
    page_size: int = Field(default=16, ge=1, le=1000)
    max_batches_in_flight: int = Field(default=BATCHES_IN_FLIGHT, ge=1, le=256)
    push_max_attempts: int = Field(default=8, ge=1, le=100)
    room_answer_timeout_seconds: int = Field(default=600, ge=10, le=7 * 24 * 3600)
    # A room listing that loses more than this share of known rooms is not trusted.
    max_retired_share: float = Field(default=0.2, gt=0, le=1)

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None) -> IntegrationOptions:
        return cls.model_validate(stored or {})
