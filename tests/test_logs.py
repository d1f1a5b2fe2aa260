"""Log lines: JSON with the integration, room and Graph request-id; never a secret."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from collections.abc import Iterator

import pytest

from roomsync.logs import (
    build_handler,
    forget_secret,
    log_context,
    register_client_state,
    register_secret,
    register_session_id,
)
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


def test_a_secret_registered_while_other_threads_log_never_breaks_a_line(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    stop = threading.Event()
    registered: list[str] = []

    def register() -> None:
        n = 0
        while not stop.is_set() and n < 3_000:
            value = f"racing-secret-{n:06d}"
            register_secret(value)
            registered.append(value)
            n += 1

    adder = threading.Thread(target=register)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: inside the mask's loop too
    adder.start()
    try:
        for n in range(2_000):
            logger.info("line %d with racing-secret-%06d", n, n)
    finally:
        stop.set()
        adder.join()
        sys.setswitchinterval(interval)
    logged = lines(stream)

    assert len(logged) == 2_000  # a failed mask would show as a "--- Logging error ---"
    assert len(registered) > 100
    logger.info("all of them: %s", " ".join(registered[:: max(1, len(registered) // 50)]))
    assert "racing-secret" not in str(lines(stream)[-1]["message"])
    for value in registered:  # the other tests' lines need not be checked against 3,000
        forget_secret(value)


def test_client_states_and_session_ids_are_masked_once_registered(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    register_client_state("cs-" + "q" * 40)
    register_session_id("sess-" + "z" * 40)
    logger.warning("state %s for session %s", "cs-" + "q" * 40, "sess-" + "z" * 40)
    logger.warning("Cookie: roomsync_session=never-registered-value; other=1")
    forget_secret("sess-" + "z" * 40)
    logger.warning("ended %s", "sess-" + "z" * 40)

    first, cookie, ended = (str(entry["message"]) for entry in lines(stream))
    assert first == "state *** for session ***"
    assert "never-registered-value" not in cookie
    assert ended == "ended sess-" + "z" * 40  # a forgotten session id is ordinary text again


def test_a_traceback_and_a_stack_are_inside_the_json_line_and_redacted(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    register_secret("Another-Private-Secret")
    try:
        raise RuntimeError("Graph refused Another-Private-Secret")
    except RuntimeError:
        logger.error("push failed", exc_info=True, stack_info=True)
    [entry] = lines(stream)

    assert "RuntimeError: Graph refused ***" in str(entry["exception"])
    assert "Traceback (most recent call last)" in str(entry["exception"])
    assert "Stack (most recent call last)" in str(entry["stack"])
    assert "Another-Private-Secret" not in stream.getvalue()


def test_a_lone_surrogate_or_bad_arguments_still_give_one_json_line(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning("clientState was %s", "\ud800")
    logger.warning("a library's %d mismatch", "not-a-number")
    surrogate, mismatch = lines(stream)

    assert surrogate["message"] == "clientState was \ud800"
    assert "mismatch" in str(mismatch["message"])
    assert "not-a-number" in str(mismatch["message"])
