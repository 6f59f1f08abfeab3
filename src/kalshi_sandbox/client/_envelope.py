"""The envelope every WebSocket data message shares: ``type``, ``sid``, ``seq``, ``msg``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kalshi_sandbox.client.models import integer


def raw_field() -> Any:
    """The ``raw`` field of a message: the decoded ``msg``, left out of repr and equality."""
    return field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamMessage:
    """A data message: the envelope's fields and the decoded ``msg`` in ``raw``."""

    type: str
    sid: int | None = None
    seq: int | None = None
    sending_ts_ms: int | None = None
    raw: Mapping[str, Any] = raw_field()


def envelope_fields(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """Return the envelope's fields as keyword arguments of a :class:`StreamMessage`."""
    msg = envelope.get("msg")
    return {
        "type": str(envelope.get("type")),
        "sid": integer(envelope, "sid"),
        "seq": integer(envelope, "seq"),
        "sending_ts_ms": integer(envelope, "sending_ts_ms"),
        "raw": msg if isinstance(msg, Mapping) else {},
    }


def from_ms(stamp: int) -> datetime:
    """Return an epoch-milliseconds stamp as an aware UTC datetime."""
    return datetime.fromtimestamp(stamp // 1000, UTC) + timedelta(milliseconds=stamp % 1000)


__all__ = ["StreamMessage", "envelope_fields", "from_ms", "raw_field"]
