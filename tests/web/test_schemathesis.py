"""A schemathesis run over every operation of the OpenAPI description, stateful phase
included, against the ASGI app (its sync context leading into graphsim) on SQLite and on
PostgreSQL: no answer is a 5xx, and none contradicts the description (status, media
type, headers, body schema, ``Allow``), and input that breaks the schema is refused.

``positive_data_acceptance`` stays off: some rules cannot be written in JSON Schema (an
email address that parses, a unique name, an end after the start) and are answered with
a documented 4xx. ``ROOMSYNC_SCHEMATHESIS_EXAMPLES`` sets the examples per operation
(default 5: about 2,000 cases per database in ``make test``; 120 gives about 6,700).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from pydantic import SecretStr
from schemathesis.engine import Status, events, from_schema

from graphsim import Simulator
from roomsync.platform.db import Database
from roomsync.web.app import create_app
from tests.sync.rooms_testkit import context, settings, tenant
from tests.web.tenants import ADMIN_TOKEN

pytestmark = pytest.mark.slow  # generated requests against every operation

EXAMPLES = int(os.environ.get("ROOMSYNC_SCHEMATHESIS_EXAMPLES", "5"))
_DISABLED_CHECKS = ("positive_data_acceptance",)


@dataclass
class RunSummary:
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    phases_run: set[str] = field(default_factory=set)

    def add(self, finished: events.ScenarioFinished) -> None:
        recorder = finished.recorder
        self.cases += len(recorder.cases)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.failure_info is not None:
                    case = recorder.cases[case_id].value
                    failure = check.failure_info.failure
                    self.failures.append(
                        f"{recorder.label}: {check.name}: {failure.title}: {failure.message}\n"
                        f"    {case.as_curl_command()[:500]}"
                    )


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with tenant() as simulator:
        yield simulator


def run_schemathesis(database: Database, sim: Simulator) -> RunSummary:
    ctx = context(database, sim)
    app = create_app(settings(admin_token=SecretStr(ADMIN_TOKEN)), database, sync_context=ctx)
    config = schemathesis.Config.from_dict(
        {
            "headers": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
            "generation": {"max-examples": EXAMPLES},
            "checks": {name: {"enabled": False} for name in _DISABLED_CHECKS},
            "seed": 13,
        }
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    summary = RunSummary()
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                summary.add(event)
            elif isinstance(event, events.PhaseFinished) and event.status is not Status.SKIP:
                summary.phases_run.add(event.phase.name.value)
            elif isinstance(event, events.NonFatalError):
                summary.errors.append(f"{event.label}: {event.value!r}")
            elif isinstance(event, events.FatalError):
                summary.errors.append(repr(event.exception))
    finally:
        ctx.close()
    return summary


def test_schemathesis_finds_no_5xx_and_no_answer_the_description_contradicts(
    database: Database, sim: Simulator
) -> None:
    summary = run_schemathesis(database, sim)
    print(f"schemathesis: {summary.cases} cases, {len(summary.failures)} failures")
    assert summary.cases > 100
    assert {"coverage", "fuzzing", "stateful"} <= summary.phases_run
    assert summary.errors == []
    assert summary.failures == [], "\n".join(summary.failures[:20])
