"""Identifiers shaped like Microsoft's, drawn from a seeded generator.

- Directory object ids, tenant ids, subscription ids: GUIDs.
- Outlook item ids: ``AAMkA…`` URL-safe base64. An occurrence's id encodes its series
  master and original start, so any occurrence id a client saw can be resolved without
  remembering it (Graph's occurrence ids are likewise derived from the master).
- ``iCalUId``: the Exchange GlobalObjectId in hex; an occurrence's carries its original
  date in bytes 16 to 19, so every occurrence has its own iCalUId and the organizer's and the
  room's copies of one occurrence share it (event resource: unique across calendars).
- ``changeKey``: base64, new on every change.
"""

from __future__ import annotations

import base64
import random
import struct
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

_ITEM_PREFIX = "AAMkA"
_ICAL_PREFIX = "040000008200E00074C5B7101A82E008"
# RFC 4122 variant (10xx in byte 8) and version 4 (0100 in byte 6), as uuid.UUID sets them.
_GUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_GUID_SET = (0x8000 << 48) | (4 << 76)
_SERIES_KIND = 0
_OCCURRENCE_KIND = 1


@dataclass(frozen=True)
class OccurrenceRef:
    """What an occurrence id points at: its series master and original start."""

    master_id: str
    original_start: datetime


class IdFactory:
    """Deterministic ids under a seed; thread-safe."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - reproducible ids
        self._lock = threading.Lock()

    def _bytes(self, size: int) -> bytes:
        with self._lock:
            return self._rng.getrandbits(size * 8).to_bytes(size, "big")

    def guid(self) -> str:
        """``str(uuid.UUID(bytes=…, version=4))`` of the next 16 bytes, formatted directly
        (every request gets one as its ``request-id``)."""
        value = int.from_bytes(self._bytes(16), "big") & _GUID_CLEAR | _GUID_SET
        text = f"{value:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def item_id(self) -> str:
        return _encode_item(bytes([_SERIES_KIND]) + self._bytes(16))

    def change_key(self) -> str:
        return base64.b64encode(b"\x10\x00\x00\x00" + self._bytes(12)).decode()

    def ical_uid(self) -> str:
        return f"{_ICAL_PREFIX}00000000{'0' * 16}10000000{self._bytes(16).hex().upper()}"

    def secret(self) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~._-"
        with self._lock:
            return "".join(self._rng.choice(alphabet) for _ in range(40))

    def choice_index(self, size: int) -> int:
        with self._lock:
            return self._rng.randrange(size)


def _encode_item(payload: bytes) -> str:
    return _ITEM_PREFIX + base64.urlsafe_b64encode(payload).decode()


def occurrence_id(master_id: str, original_start: datetime) -> str:
    """The id of the occurrence of ``master_id`` that originally starts at ``original_start``."""
    raw = _decode_item(master_id)
    if raw is None:
        raise ValueError(f"{master_id!r} is not a graphsim series id.")
    seconds = int(original_start.timestamp())
    return _encode_item(bytes([_OCCURRENCE_KIND]) + raw[1:17] + struct.pack(">q", seconds))


def parse_occurrence_id(item_id: str) -> OccurrenceRef | None:
    """The series and original start an occurrence id encodes, or None for other ids."""
    raw = _decode_item(item_id)
    if raw is None or raw[0] != _OCCURRENCE_KIND or len(raw) != 25:
        return None
    master = _encode_item(bytes([_SERIES_KIND]) + raw[1:17])
    (seconds,) = struct.unpack(">q", raw[17:25])
    return OccurrenceRef(master, datetime.fromtimestamp(seconds, UTC))


def _decode_item(item_id: str) -> bytes | None:
    if not item_id.startswith(_ITEM_PREFIX):
        return None
    try:
        return base64.urlsafe_b64decode(item_id[len(_ITEM_PREFIX) :])
    except (ValueError, TypeError):
        return None


def occurrence_ical_uid(series_ical_uid: str, original_start: datetime) -> str:
    """The series iCalUId with the occurrence's date written into bytes 16 to 19."""
    day = original_start.astimezone(UTC)
    stamp = f"{day.year:04X}{day.month:02X}{day.day:02X}"
    prefix = len(_ICAL_PREFIX)
    return series_ical_uid[:prefix] + stamp + series_ical_uid[prefix + 8 :]
