"""Where the journal stands, as the database stores it in every commit, and what start-up
makes of it after a crash (see powers/state/journal.py, "Crash safety").

The ``meta`` row ``journal_position`` holds one JSON object: ``segment`` and ``offset`` (where
the journal's files ended), ``seq`` (the last seq drawn), ``complete`` (every seq up to it is
written or described), ``closed`` (the sandbox stopped cleanly), and ``open``: the entries,
as far as they are known, of the work whose changes are committed but whose line is not
written yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from kalshi_sandbox.powers.state.entries import seq_of
from kalshi_sandbox.powers.state.segments import Position

POSITION = "journal_position"
"""Meta key of the journal's position, written in every commit that changes something."""
DESCRIPTION_LIMIT = 256 << 10
"""Bytes past which a description of work in flight keeps only its request line, not its
body and draws (a restored snapshot, say): a replay then reports the work incomplete."""
BRIEF = ("seq", "type", "instant", "method", "path", "query", "actor", "kind", "subject")

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


def encode_position(at: Position, seq: int, complete: int, closed: bool,
                    described: Iterable[Mapping[str, Any]]) -> str:
    """Return the position as the database stores it."""
    entries = []
    for description in described:
        encoded = _encoder.encode(description)
        if len(encoded) > DESCRIPTION_LIMIT:
            brief = {k: v for k, v in description.items() if k in BRIEF}
            encoded = _encoder.encode({**brief, "incomplete": True})
        entries.append(encoded)
    head = _encoder.encode({"segment": at.segment, "offset": at.offset, "seq": seq,
                            "complete": complete, "closed": closed})
    return (head[:-1] + b',"open":[' + b",".join(entries) + b"]}").decode()


def parse_position(text: str | None) -> dict[str, Any] | None:
    """Return the stored position (None if there is none, or it is unreadable)."""
    if not text:
        return None
    try:
        value = _decoder.decode(text)
    except (msgspec.DecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


@dataclass
class Recovery:
    """What start-up makes of the position and the lines written after it."""

    seq: int
    """The last seq drawn before the stop: the sequence goes on after it."""
    recovered: list[dict[str, Any]] = field(default_factory=list)
    """Lines to write: work whose changes are committed and whose line is missing."""
    crash: dict[str, Any] = field(default_factory=dict)
    """``unclean``, ``recovered``, ``lost``, ``truncated``: for the next ``start`` entry."""


def recover(position: Mapping[str, Any] | None, tail: bytes, *,
            truncated: bool = False) -> Recovery:
    """Compare the stored ``position`` with the lines written after it (``tail``).

    Without a position (a journal of an older version, or files that no longer match it),
    the sequence goes on after the tail's highest seq and nothing can be recovered;
    ``truncated`` says the files ended before the position (an operating-system crash).
    """
    seen = {seq for seq in map(seq_of, tail.splitlines()) if seq}
    last = max(seen, default=0)
    if position is None:
        return Recovery(last, crash={"unclean": True, "truncated": True} if truncated else {})
    stored = int(position.get("seq", 0))
    described = [d for d in position.get("open", ()) if isinstance(d, dict)
                 and isinstance(d.get("seq"), int)]
    missing = sorted((d for d in described if d["seq"] not in seen), key=lambda d: d["seq"])
    found = Recovery(max(last, stored, *(d["seq"] for d in described)),
                     [{**d, "recovered": True} for d in missing])
    if not position.get("closed"):
        complete = int(position.get("complete", stored))
        lost = set(range(complete + 1, max(last, stored) + 1)) - seen \
            - {d["seq"] for d in described}
        found.crash = {"unclean": True, "recovered": [d["seq"] for d in missing],
                       "lost": sorted(lost)}
    return found


__all__ = ["DESCRIPTION_LIMIT", "POSITION", "Recovery", "encode_position", "parse_position",
           "recover"]
