"""Log lines: JSON with the integration, room and Graph request-id; never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from roomsync.logs import build_handler, log_context, register_secret
from roomsync.settings import LogFormat


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("roomsync.test.logs")
    handler = build_handler(LogFormat.JSON, stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_bound_integration_room_and_request_id(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    with log_context(integration="int-1"), log_context(room="room1@contoso.com"):
        logger.info("pulled %d pages", 3, extra={"graph_request_id": "req-9"})
    logger.info("outside")

    inside, outside = lines(stream)
    assert inside["message"] == "pulled 3 pages"
    assert (inside["integration"], inside["room"], inside["graph_request_id"]) == (
        "int-1",
        "room1@contoso.com",
        "req-9",
    )
    assert "integration" not in outside


@pytest.mark.parametrize(
    "leak",
    [
        "client_secret=s3cr3t-value-xyz",
        '{"clientState": "abcdef123456"}',
        "Authorization: Bearer abc.def.ghi",
        "token eyJhbGciOiJSUzI1NiJ9.eyJyb2xlcyI6WyJhIl19.c2lnbmF0dXJl",
    ],
)
def test_secret_shaped_text_is_masked(
    captured: tuple[logging.Logger, io.StringIO], leak: str
) -> None:
    logger, stream = captured
    logger.warning("Graph said: %s", leak)
    message = str(lines(stream)[0]["message"])
    assert "***" in message
    for secret in ("s3cr3t-value-xyz", "abcdef123456", "abc.def.ghi", "c2lnbmF0dXJl"):
        assert secret not in message


def test_a_registered_secret_is_masked_in_messages_and_tracebacks(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    register_secret("Very-Private-Client-Secret")
    try:
        raise ValueError("login failed with Very-Private-Client-Secret")
    except ValueError:
        logger.exception("token request for Very-Private-Client-Secret failed")
    text = stream.getvalue()
    assert "Very-Private-Client-Secret" not in text
    assert "login failed with ***" in text
