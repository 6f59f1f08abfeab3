"""Journal entries as JSON Lines: rendering domain objects, compact events, and parsing.

A journal given to a replay is bounded input: every line is decoded with a depth-checked
decoder, and a line that is not a JSON object with a ``type`` is refused with its number.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any

import msgspec

from kalshi_sandbox.domain.clock import MICROS, Instant, format_instant
from kalshi_sandbox.domain.events import Event

EncodeLines = Callable[[Sequence[Any]], bytes]
"""Turn entries into JSON Lines: one line of JSON per entry, each ending in a newline."""

_decoder = msgspec.json.Decoder()


def render(value: Any) -> Any:
    """Render a domain object as JSON values: dataclasses as objects, enums by value."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: render(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [render(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): render(v) for k, v in value.items()}
    return value


def _plain(value: Any) -> Any:
    if (is_dataclass(value) and not isinstance(value, type)) or isinstance(value, Enum):
        return render(value)
    return str(value)


def encode_lines(entries: Sequence[Any]) -> bytes:
    """Encode entries as JSON Lines with the standard library (anything goes)."""
    return b"".join(json.dumps(entry, separators=(",", ":"), ensure_ascii=False,
                               default=_plain).encode() + b"\n" for entry in entries)


class InstantText:
    """``format_instant``, remembering its last answers (entries come in time order, and on
    a manual clock many share one instant)."""

    __slots__ = ("_base", "_instant", "_second", "_text")

    def __init__(self) -> None:
        self._second = -1
        self._base = ""
        self._instant = -1
        self._text = ""

    def __call__(self, instant: Instant) -> str:
        if instant == self._instant:
            return self._text
        second, micros = divmod(instant, MICROS)
        if second != self._second:
            self._second = second
            self._base = format_instant(second * MICROS)[:-1]
        text = self._base + "Z" if micros == 0 else f"{self._base}.{micros:06d}".rstrip("0") + "Z"
        self._instant, self._text = instant, text
        return text


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_NAMES: dict[type, str] = {}
_PLANS: dict[type, tuple[str, ...]] = {}
_KEYS: dict[type, str] = {}
"""The name of the id field (the first) of each object type events carry."""


def event_name(event: Event) -> str:
    """Return an event's name in snake case: ``QuoteAccepted`` -> ``quote_accepted``."""
    kind = type(event)
    name = _NAMES.get(kind)
    if name is None:
        name = _NAMES[kind] = _CAMEL.sub("_", kind.__name__).lower()
    return name


def event_fields(event: Event) -> dict[str, Any]:
    """Return an event as a compact entry: its name, and the id of each object it carries
    (an object's first field is its id) and its plain values, as they are."""
    kind = type(event)
    plan = _PLANS.get(kind)
    if plan is None:
        plan = _PLANS[kind] = tuple(f.name for f in fields(event))
    result: dict[str, Any] = {"event": event_name(event)}
    for name in plan:
        value = getattr(event, name)
        if value is None:
            continue
        if is_dataclass(value) and not isinstance(value, type):
            key = _KEYS.get(type(value))
            if key is None:
                key = _KEYS[type(value)] = fields(value)[0].name
            result[name] = getattr(value, key)
        elif isinstance(value, Enum):
            result[name] = value.value
        else:
            result[name] = value
    return result


def seq_of(line: bytes) -> int:
    """Return the ``seq`` of a journal line (0 if it has none)."""
    prefix = b'{"seq":'
    if line.startswith(prefix):
        end = line.find(b",", len(prefix))
        if end > 0:
            try:
                return int(line[len(prefix):end])
            except ValueError:
                pass
    try:
        value = _decoder.decode(line)
    except (msgspec.DecodeError, RecursionError):
        return 0
    seq = value.get("seq") if isinstance(value, dict) else None
    return seq if isinstance(seq, int) else 0


def split_lines(chunks: Iterable[bytes], after: int = 0) -> Iterator[bytes]:
    """Yield the whole lines of ``chunks`` (each ending in a newline) with a seq above
    ``after``."""
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        end = data.rfind(b"\n") + 1
        rest = data[end:]
        for line in data[:end].splitlines(keepends=True):
            if not after or seq_of(line) > after:
                yield line


def parse_lines(text: str | bytes) -> list[dict[str, Any]]:
    """Parse JSON Lines into journal entries; raise ``ValueError`` naming a bad line."""
    if isinstance(text, str):
        text = text.encode()
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = _decoder.decode(line)
        except msgspec.DecodeError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from None
        except RecursionError:
            raise ValueError(f"line {number} is nested too deeply") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise ValueError(f"line {number} is not a journal entry (an object with a type)")
        entries.append(entry)
    return entries


__all__ = ["EncodeLines", "InstantText", "encode_lines", "event_fields", "event_name",
           "parse_lines", "render", "seq_of", "split_lines"]
