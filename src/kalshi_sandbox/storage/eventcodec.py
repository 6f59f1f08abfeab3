"""Event batches as bytes, for instances sharing one database (storage/postgres.py).

A batch is a MessagePack array of ``[type name, fields]`` pairs; decoding rebuilds each
event's dataclass, nested domain objects and enums included, with ``msgspec.convert``, so
nothing but the event types named here can come out of a row.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any

import msgspec

from kalshi_sandbox.domain.events import Event

EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in typing.get_args(Event)}
"""Every event type, by class name."""

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[tuple[str, dict[str, Any]]])


def encode_batch(events: Sequence[Event]) -> bytes:
    """Return one committed transaction's events as bytes."""
    return _encoder.encode([(type(event).__name__, event) for event in events])


def decode_batch(data: bytes) -> list[Event]:
    """Rebuild the events ``encode_batch`` encoded; raise ``ValueError`` if they do not fit."""
    try:
        return [msgspec.convert(fields, EVENT_TYPES[name])
                for name, fields in _decoder.decode(data)]
    except (KeyError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise ValueError(f"not an event batch of this sandbox: {exc}") from exc


__all__ = ["EVENT_TYPES", "decode_batch", "encode_batch"]
