"""Logging: one line per event, as text or JSON (``ROOMSYNC_LOG_FORMAT``), carrying the
integration, room and Graph request-id it concerns — and never a secret.

Workflows bind context with :func:`log_context`; every record logged inside the block
(on that thread) carries those fields. Secrets are kept out twice: messages are written
without them in the first place, and a filter on the handler masks any value registered
with :func:`register_secret` plus anything shaped like a bearer token, a JWT or a
``client_secret=`` pair, in case one slips through a library's own message.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType

from roomsync.settings import LogFormat, Settings

CONTEXT_FIELDS = ("integration", "room", "booking", "graph_request_id")
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
MASK = "***"
_context: ContextVar[dict[str, str]] = ContextVar("roomsync_log_context", default={})  # noqa: B039 - never mutated
_PATTERNS = (
    re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    re.compile(
        r"(?i)((?:client_secret|client_assertion|access_token|refresh_token|password|"
        r"clientstate|roomsync_session)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,;}]+"
    ),
)


class _Secrets:
    """Exact values to mask wherever they appear (client secrets, clientStates, session ids).

    Copy-on-write: a change builds a new tuple under the lock and publishes it in one
    assignment, so a thread that logs reads a complete snapshot without taking the lock
    and never sees the collection change while it iterates.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: tuple[str, ...] = ()

    def add(self, value: str) -> None:
        if len(value) < 8:  # shorter strings would mask ordinary words
            return
        with self.lock:
            if value not in self.values:  # longest first: a secret inside another goes too
                values = list(self.values)
                bisect.insort(values, value, key=lambda known: -len(known))
                self.values = tuple(values)

    def discard(self, value: str) -> None:
        with self.lock:
            self.values = tuple(known for known in self.values if known != value)

    def mask(self, text: str) -> str:
        for value in self.values:  # one read of the attribute: an immutable snapshot
            if value in text:
                text = text.replace(value, MASK)
        return text


_secrets = _Secrets()


def register_secret(value: str) -> None:
    """Never let ``value`` reach a log line."""
    _secrets.add(value)


def register_client_state(value: str) -> None:
    """Mask a subscription's clientState: whoever reads it could forge notifications."""
    _secrets.add(value)


def register_session_id(value: str) -> None:
    """Mask a sign-in session id (the ``roomsync_session`` cookie) from now on; call
    :func:`forget_secret` when the session ends."""
    _secrets.add(value)


def forget_secret(value: str) -> None:
    """Stop masking ``value`` (a session that ended), so the set stays the live ones."""
    _secrets.discard(value)


def redact(text: str) -> str:
    text = _secrets.mask(text)
    text = _PATTERNS[0].sub(f"Bearer {MASK}", text)
    text = _PATTERNS[1].sub(MASK, text)
    return _PATTERNS[2].sub(lambda m: m.group(1) + MASK, text)


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Bind fields (``integration=…``, ``room=…``) to every record logged in the block."""
    bound = {key: str(value) for key, value in fields.items() if value is not None}
    token = _context.set({**_context.get(), **bound})
    try:
        yield
    finally:
        _context.reset(token)


class ContextAndRedaction(logging.Filter):
    """Adds the bound context to each record and masks secrets in its message, its
    traceback and its stack, so every handler and format writes the masked text only."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        record.msg = redact(_message(record))
        record.args = None
        if record.exc_info:
            if record.exc_info[1] is not None:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _message(record: logging.LogRecord) -> str:
    """The record's message; a library's mismatched arguments are shown, not raised (a
    raise would make logging print a plain-text error of its own)."""
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        return f"{record.msg!s} {record.args!r}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in CONTEXT_FIELDS:
            if (value := getattr(record, key, None)) is not None:
                line[key] = value
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        text = json.dumps(line, ensure_ascii=False, default=str)
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate from the wire: escape it, keep the line
            text = json.dumps(line, default=str)
        return text


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = " ".join(
            f"{key}={value}" for key in CONTEXT_FIELDS if (value := getattr(record, key, None))
        )
        return f"{text} [{context}]" if context else text


def build_handler(log_format: LogFormat, stream: object = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.addFilter(ContextAndRedaction())
    handler.setFormatter(JsonFormatter() if log_format is LogFormat.JSON else TextFormatter())
    return handler


def route_uvicorn_through_root() -> None:
    """uvicorn's loggers hand their lines to the root handler. uvicorn's own default
    config, if any server in the process ran with it (graphsim's does), gave them handlers
    of their own and stopped them propagating."""
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True


def configure_logging(settings: Settings) -> None:
    """Route every logger through one handler in the configured format and level:
    uvicorn's access and error lines, Python warnings and uncaught exceptions too."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(build_handler(settings.log_format))
    root.setLevel(settings.log_level.upper())
    for noisy in ("httpx", "httpcore", "huey", "msal"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    route_uvicorn_through_root()
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    logging.getLogger("roomsync").critical(
        "The process stopped on an uncaught error", exc_info=(kind, error, trace)
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "unknown"
    logging.getLogger("roomsync").error(
        "Thread %s stopped on an uncaught error",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )
