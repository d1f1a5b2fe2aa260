"""Logging: one line per event, as text or JSON (``ROOMSYNC_LOG_FORMAT``), carrying the
integration, room and Graph request-id it concerns — and never a secret.

Workflows bind context with :func:`log_context`; every record logged inside the block
(on that thread) carries those fields. Secrets are kept out twice: messages are written
without them in the first place, and a filter on the handler masks any value registered
with :func:`register_secret` plus anything shaped like a bearer token, a JWT or a
``client_secret=`` pair, in case one slips through a library's own message.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from roomsync.settings import LogFormat, Settings

CONTEXT_FIELDS = ("integration", "room", "booking", "graph_request_id")
MASK = "***"
_context: ContextVar[dict[str, str]] = ContextVar("roomsync_log_context", default={})  # noqa: B039 - never mutated
_PATTERNS = (
    re.compile(r"(?i)\bBearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    re.compile(
        r"(?i)((?:client_secret|client_assertion|access_token|refresh_token|password|"
        r"clientstate)[\"']?\s*[=:]\s*[\"']?)[^\s\"'&,}]+"
    ),
)


class _Secrets:
    """Exact values to mask wherever they appear (decrypted client secrets, clientStates)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: set[str] = set()

    def add(self, value: str) -> None:
        if len(value) >= 8:  # shorter strings would mask ordinary words
            with self.lock:
                self.values.add(value)

    def mask(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text


_secrets = _Secrets()


def register_secret(value: str) -> None:
    """Never let ``value`` reach a log line."""
    _secrets.add(value)


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
    """Adds the bound context to each record and masks secrets in its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


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
        return json.dumps(line, ensure_ascii=False)


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


def configure_logging(settings: Settings) -> None:
    """Route every logger through one handler in the configured format and level."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(build_handler(settings.log_format))
    root.setLevel(settings.log_level.upper())
    for noisy in ("httpx", "httpcore", "huey", "msal"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
