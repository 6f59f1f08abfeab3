"""A small, fast HTTP/1.1 load generator: uvloop, raw keep-alive sockets, httptools parsing.

Requests are pre-built bytes. Each connection carries one request at a time (no pipelining,
as HTTP clients behave) and sends its next request from the completion callback itself, so
the client spends no coroutine switch per request; this keeps the client well above the
server's ceiling on one core.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import httptools


def build_request(method: str, path: str, port: int, headers: Sequence[tuple[str, str]] = (),
                  body: bytes = b"") -> bytes:
    """Return the bytes of one HTTP/1.1 keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Outcome:
    """What a batch of requests produced."""

    sent: int
    seconds: float
    client_cpu: float
    statuses: Counter[int]
    bodies: list[bytes]
    latencies: list[float]

    @property
    def rate(self) -> float:
        """Return completed requests per second."""
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        """Return the latency (seconds) below which ``fraction`` of requests completed."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass
class _Batch:
    requests: Sequence[bytes]
    keep_bodies: bool
    deadline: float | None
    done: asyncio.Future[None]
    next: int = 0
    completed: int = 0
    active: int = 0
    statuses: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)

    def take(self) -> int | None:
        """Return the index of the next request to send, or None when the batch is over."""
        index = self.next
        if self.deadline is None:
            if index >= len(self.requests):
                return None
        elif time.perf_counter() >= self.deadline:
            return None
        self.next = index + 1
        return index

    def finish_one(self) -> None:
        self.active -= 1
        if self.active == 0 and not self.done.done():
            self.done.set_result(None)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; in batch mode it chains requests from callbacks."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.chunks: list[bytes] = []
        self.batch: _Batch | None = None
        self.index = -1
        self.started = 0.0
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.lost = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed by the server"))
        batch = self.batch
        if batch is not None:
            self.batch = None
            if self.index >= 0:
                batch.statuses[self.index] = -1
                self.index = -1
            batch.finish_one()

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        body = b"".join(self.chunks) if self.chunks else b""
        self.chunks = []
        if self.waiter is not None:
            waiter, self.waiter = self.waiter, None
            waiter.set_result((status, body))
            return
        batch = self.batch
        if batch is None:
            return
        index = self.index
        if batch.deadline is None:
            batch.statuses[index] = status
            batch.latencies[index] = time.perf_counter() - self.started
            if batch.keep_bodies:
                batch.bodies[index] = body
        else:
            batch.statuses.append(status)
        batch.completed += 1
        self._send_next()

    def _send_next(self) -> None:
        batch = self.batch
        assert batch is not None
        assert self.transport is not None
        index = batch.take()
        if index is None:
            self.batch = None
            self.index = -1
            batch.finish_one()
            return
        self.index = index
        self.started = time.perf_counter()
        self.transport.write(batch.requests[index % len(batch.requests)])

    def start(self, batch: _Batch) -> None:
        self.batch = batch
        batch.active += 1
        self._send_next()

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request and wait for its (status, body)."""
        assert self.transport is not None
        if self.lost:
            raise ConnectionError("connection closed by the server")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


IDLE_LIMIT = 2.0
"""Reconnect before a batch after this many idle seconds: uvicorn closes idle connections
after 5 s, and a close that races a new request would lose it."""


class Pool:
    """Keep-alive connections to one server."""

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.size = size
        self.connections: list[_Connection] = []
        self.last_used = 0.0

    async def open(self) -> Pool:
        """Open the connections (outside any timed window)."""
        loop = asyncio.get_running_loop()
        while len(self.connections) < self.size:
            _, protocol = await loop.create_connection(_Connection, "127.0.0.1", self.port)
            self.connections.append(protocol)
        self.last_used = time.perf_counter()
        return self

    def close(self) -> None:
        """Close every connection."""
        for connection in self.connections:
            if connection.transport is not None:
                connection.transport.close()
        self.connections.clear()

    async def _ready(self) -> None:
        # Let the loop hear of connections the server closed while this client was busy.
        await asyncio.sleep(0)
        if time.perf_counter() - self.last_used > IDLE_LIMIT:
            self.close()
        self.connections = [c for c in self.connections if not c.lost]
        await self.open()

    async def run(self, requests: Sequence[bytes], *, keep_bodies: bool = False,
                  concurrency: int | None = None) -> Outcome:
        """Send every request once, ``concurrency`` at a time; return what came back."""
        await self._ready()
        loop = asyncio.get_running_loop()
        n = len(requests)
        batch = _Batch(requests, keep_bodies, None, loop.create_future(),
                       statuses=[0] * n, bodies=[b""] * n if keep_bodies else [],
                       latencies=[0.0] * n)
        width = min(concurrency or self.size, self.size, n)
        cpu, start = time.process_time(), time.perf_counter()
        if width == 0:
            batch.done.set_result(None)
        for connection in self.connections[:width]:
            connection.start(batch)
        await batch.done
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        self.last_used = time.perf_counter()
        return Outcome(batch.completed, seconds, cpu, Counter(batch.statuses), batch.bodies,
                       batch.latencies)

    async def run_for(self, requests: Sequence[bytes], seconds: float) -> Outcome:
        """Send the requests round-robin, over and over, for ``seconds``; count responses."""
        await self._ready()
        loop = asyncio.get_running_loop()
        cpu, start = time.process_time(), time.perf_counter()
        batch = _Batch(requests, False, start + seconds, loop.create_future())
        for connection in self.connections:
            connection.start(batch)
        await batch.done
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        self.last_used = time.perf_counter()
        return Outcome(batch.completed, elapsed, cpu, Counter(batch.statuses), [], [])


async def one(port: int, raw: bytes) -> tuple[int, bytes, float]:
    """Send one request on a fresh connection; return (status, body, seconds)."""
    pool = await Pool(port, 1).open()
    try:
        start = time.perf_counter()
        status, body = await pool.connections[0].request(raw)
        return status, body, time.perf_counter() - start
    finally:
        pool.close()
