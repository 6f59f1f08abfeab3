"""State control on the control plane: snapshots, the journal, and replay.

* ``POST /sandbox/v1/snapshots`` ``{}`` answers the snapshot; ``{"path": "<name>"}`` writes it
  to that file in the data directory and answers ``{"path", "instant"}``.
* ``POST /sandbox/v1/snapshots/restore`` with a snapshot, or ``{"path": "<name>"}`` naming one
  in the data directory, puts the whole sandbox back in that state.
* ``GET /sandbox/v1/journal`` answers the journal as JSON Lines (``application/x-ndjson``);
  ``?after=<seq>`` leaves out the entries up to that ``seq``.
* ``POST /sandbox/v1/journal/export`` ``{"path": "<name>", "after"?}`` writes it to that file
  in the data directory and answers ``{"path", "entries"}``.
* ``POST /sandbox/v1/journal/replay`` with a journal (JSON Lines), or ``{"path": "<name>"}``
  naming one in the data directory, rebuilds its state in this sandbox, which must be fresh
  (reset first).

File names follow powers/state/files.py: inside the data directory only, no links, regular
files only, reads capped at ``file_limit_mb`` (and so are the bodies these endpoints read),
every file operation and every large decode on a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api.http import decode_json, json_response
from kalshi_sandbox.domain.clock import format_instant
from kalshi_sandbox.domain.errors import InvalidParameters, SandboxError
from kalshi_sandbox.powers.state.files import DataDir
from kalshi_sandbox.powers.state.journal import Journal, parse_lines
from kalshi_sandbox.powers.state.replay import Replayer
from kalshi_sandbox.powers.state.snapshots import Snapshots

PREFIX = "/sandbox/v1"
NDJSON = "application/x-ndjson"
THREAD_DECODE = 1 << 20
"""Bodies past this many bytes are decoded on a worker thread."""
MAX_SEQ = 1 << 62

Handler = Callable[[Request], Awaitable[Response]]

_encoder = msgspec.json.Encoder()


class BodyTooLarge(SandboxError):
    """A body past the state endpoints' limit (413, in Kalshi's shape)."""

    status = 413
    code = "payload_too_large"
    default_message = "payload too large"


class StateApi:
    """Handlers of the snapshot and journal endpoints."""

    def __init__(self, snapshots: Snapshots, journal: Journal, replayer: Replayer,
                 guard: Callable[[Handler], Handler], files: DataDir) -> None:
        self.snapshots = snapshots
        self.journal = journal
        self.replayer = replayer
        self.guard = guard
        self.files = files

    async def save_snapshot(self, request: Request) -> Response:
        body = await self._json(request, "SnapshotRequest", allow_empty=True)
        path = body.get("path")
        if path is not None:
            self.files.parts(path)  # refuse a bad name before any work
        snapshot = await self.snapshots.take()
        if path is None:
            return json_response(snapshot)
        name = await self.files.write(path, lambda: [_encoder.encode(snapshot)])
        return json_response({"path": name, "instant": snapshot["instant"]})

    async def restore_snapshot(self, request: Request) -> Response:
        body = await self._json(request, "RestoreRequest")
        if "path" in body and "tables" not in body:
            snapshot = await _decode_object(await self.files.read(body["path"]), "snapshot")
            # The journal keeps what was restored, so a replay can restore it too.
            self.journal.note("snapshot", snapshot)
        else:
            snapshot = body
        instant = await self.snapshots.restore(snapshot)
        return json_response({"restored": True, "instant": format_instant(instant),
                              "now": format_instant(self.snapshots.clock.now())})

    async def export_journal(self, request: Request) -> Response:
        after = _seq(request.query_params.get("after") or "0")
        lines: Iterator[bytes] = self.journal.lines(after)
        return StreamingResponse(_chunks(lines), media_type=NDJSON)

    async def export_journal_to_file(self, request: Request) -> Response:
        body = await self._json(request, "JournalExportRequest")
        self.files.parts(body.get("path"))
        after = _seq(body.get("after", 0))
        lines = self.journal.lines(after)
        count = 0

        def counted() -> Iterator[bytes]:
            nonlocal count
            for chunk in _chunks(lines):
                count += chunk.count(b"\n")
                yield chunk

        name = await self.files.write(body.get("path"), counted)
        return json_response({"path": name, "entries": count})

    async def replay_journal(self, request: Request) -> Response:
        raw = await self._body(request)
        if raw.lstrip()[:1] == b"{" and b'"type"' not in raw[:4096]:
            try:
                named = await _decode_object(raw, "JournalReplayRequest")
            except SandboxError:
                named = {}  # not one object: parse_lines says what is wrong
            if set(named) == {"path"}:
                raw = await self.files.read(named["path"])
        try:
            entries = await asyncio.to_thread(parse_lines, raw) if len(raw) > THREAD_DECODE \
                else parse_lines(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidParameters(f"not a journal: {exc}") from None
        result = await self.replayer.replay(entries)
        return json_response(result.as_json())

    async def _body(self, request: Request) -> bytes:
        """Read a body of at most the file limit (a snapshot, a journal)."""
        limit = self.files.limit
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"the body is larger than the limit of {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"the body is larger than the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _json(self, request: Request, struct: str, *, allow_empty: bool = False
                    ) -> dict[str, Any]:
        raw = await self._body(request)
        if len(raw) > THREAD_DECODE:
            return await asyncio.to_thread(decode_json, raw, struct, allow_empty=allow_empty)
        return decode_json(raw, struct, allow_empty=allow_empty)

    def routes(self) -> list[BaseRoute]:
        """Return the state-control routes."""
        g = self.guard
        return [
            Route(PREFIX + "/snapshots", g(self.save_snapshot), methods=["POST"]),
            Route(PREFIX + "/snapshots/restore", g(self.restore_snapshot), methods=["POST"]),
            Route(PREFIX + "/journal", g(self.export_journal), methods=["GET"]),
            Route(PREFIX + "/journal/export", g(self.export_journal_to_file),
                  methods=["POST"]),
            Route(PREFIX + "/journal/replay", g(self.replay_journal), methods=["POST"]),
        ]


def _seq(value: object) -> int:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise InvalidParameters("after must be a journal seq (a whole number)")
    return min(int(text), MAX_SEQ)


async def _decode_object(raw: bytes, what: str) -> dict[str, Any]:
    if len(raw) > THREAD_DECODE:
        return await asyncio.to_thread(decode_json, raw, what)
    return decode_json(raw, what)


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


__all__ = ["BodyTooLarge", "StateApi"]
