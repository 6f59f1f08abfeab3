"""State control on the control plane: snapshots, the journal, and replay.

* ``POST /sandbox/v1/snapshots`` ``{}`` answers the snapshot; ``{"path": "<file>"}`` writes it
  to that file on the server (relative to the server's working directory) and answers
  ``{"path"}``.
* ``POST /sandbox/v1/snapshots/restore`` with a snapshot, or ``{"path": "<file>"}``, puts the
  whole sandbox back in that state.
* ``GET /sandbox/v1/journal`` answers the journal as JSON Lines (``application/x-ndjson``);
  ``?after=<seq>`` leaves out the entries up to that ``seq``.
* ``POST /sandbox/v1/journal/replay`` with a journal (JSON Lines) rebuilds its state in this
  sandbox, which must be fresh (reset first).
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api.http import json_response, read_json
from kalshi_sandbox.domain.clock import format_instant
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.powers.state.journal import Journal, parse_lines
from kalshi_sandbox.powers.state.replay import Replayer
from kalshi_sandbox.powers.state.snapshots import Snapshots

PREFIX = "/sandbox/v1"
NDJSON = "application/x-ndjson"

Handler = Callable[[Request], Awaitable[Response]]

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder()


class StateApi:
    """Handlers of the snapshot and journal endpoints."""

    def __init__(self, snapshots: Snapshots, journal: Journal, replayer: Replayer,
                 guard: Callable[[Handler], Handler]) -> None:
        self.snapshots = snapshots
        self.journal = journal
        self.replayer = replayer
        self.guard = guard

    async def save_snapshot(self, request: Request) -> Response:
        body = await read_json(request, "SnapshotRequest", allow_empty=True)
        snapshot = await self.snapshots.take()
        path = body.get("path")
        if path is None:
            return json_response(snapshot)
        target = _path(path)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(_encoder.encode(snapshot))
            # Renamed into place, so a reader never sees half a snapshot.
            os.replace(partial, target)
        except OSError as exc:
            raise InvalidParameters(f"cannot write the snapshot to {path}: "
                                    f"{exc.strerror or exc}") from None
        return json_response({"path": str(target), "instant": snapshot["instant"]})

    async def restore_snapshot(self, request: Request) -> Response:
        body = await read_json(request, "RestoreRequest")
        if "path" in body and "tables" not in body:
            snapshot = _read_snapshot(body["path"])
            # The journal keeps what was restored, so a replay can restore it too.
            self.journal.note("snapshot", snapshot)
        else:
            snapshot = body
        instant = await self.snapshots.restore(snapshot)
        return json_response({"restored": True, "instant": format_instant(instant),
                              "now": format_instant(self.snapshots.clock.now())})

    async def export_journal(self, request: Request) -> Response:
        text = request.query_params.get("after") or "0"
        if not text.isascii() or not text.isdigit():
            raise InvalidParameters("after must be a journal seq (a whole number)")
        lines: Iterator[bytes] = self.journal.lines(int(text))
        return StreamingResponse(_chunks(lines), media_type=NDJSON)

    async def replay_journal(self, request: Request) -> Response:
        raw = await request.body()
        try:
            entries = parse_lines(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidParameters(f"not a journal: {exc}") from None
        result = await self.replayer.replay(entries)
        return json_response(result.as_json())

    def routes(self) -> list[BaseRoute]:
        """Return the state-control routes."""
        g = self.guard
        return [
            Route(PREFIX + "/snapshots", g(self.save_snapshot), methods=["POST"]),
            Route(PREFIX + "/snapshots/restore", g(self.restore_snapshot), methods=["POST"]),
            Route(PREFIX + "/journal", g(self.export_journal), methods=["GET"]),
            Route(PREFIX + "/journal/replay", g(self.replay_journal), methods=["POST"]),
        ]


def _chunks(lines: Iterator[bytes], size: int = 1 << 16) -> Iterator[bytes]:
    batch: list[bytes] = []
    length = 0
    for line in lines:
        batch.append(line)
        length += len(line)
        if length >= size:
            yield b"".join(batch)
            batch, length = [], 0
    if batch:
        yield b"".join(batch)


def _path(value: Any) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise InvalidParameters("path must be a file name")
    return Path(value).expanduser().absolute()


def _read_snapshot(value: Any) -> dict[str, Any]:
    path = _path(value)
    try:
        data = _decoder.decode(path.read_bytes())
    except OSError as exc:
        raise InvalidParameters(f"cannot read the snapshot {value}: "
                                f"{exc.strerror or exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidParameters(f"{value} is not a JSON snapshot: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidParameters(f"{value} is not a snapshot")
    return data


__all__ = ["StateApi"]
