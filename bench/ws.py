"""Benchmark the WebSocket fan-out: RFQ broadcast to 1,000 subscribers, quote_accepted under load.

``python -m bench.ws`` starts a sandbox (``kalshi-sandbox serve --clock manual --rate-limit
off``, SQLite in a temporary directory, pinned to one core when two are available) and, in this
process on the other core, opens ``--connections`` WebSocket connections subscribed to
``communications``.

Past 500 lines on purpose: the server, the load process and both measurements share one
set of connections and one report.

1. Broadcast: ``--rfqs`` times, it sends a signed Create RFQ and measures the time from sending
   the request to the moment the last of the connections has received that RFQ's
   ``rfq_created`` (then deletes the RFQ and waits for every ``rfq_deleted``, untimed).
2. ``quote_accepted`` under REST load: a separate load process keeps ``--load-connections``
   keep-alive connections busy with signed ``GET /portfolio/balance`` requests while, ``--accepts``
   times, a requester creates an RFQ, a maker quotes it, and the requester accepts; measured is
   the time from sending the accept to the maker's connection receiving ``quote_accepted``. The
   same is measured once without load, for comparison.

The client side is deliberately lean (raw sockets, no JSON parsing of data frames) so that the
figures are the server's, not the client library's. Nothing is asserted: the machine may be
shared and noisy. Results are printed and, unless ``--no-json``, written to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bench.servers import Server, sandbox_server
from kalshi_sandbox.client.auth import PrivateKey, load_private_key, sign_request

WS_PATH = "/trade-api/ws/v2"
API = "/trade-api/v2"
RESULTS = Path(__file__).parent / "results"
BROADCAST_GOAL_MS = 50.0
BROADCAST_MARKET = "KXWSBENCH-26DEC31-T50"
ACCEPT_MARKET = "KXWSBENCHACC-26DEC31-T50"
CREATED = b'{"type":"rfq_created",'
DELETED = b'{"type":"rfq_deleted",'
ACCEPTED = b'{"type":"quote_accepted",'
SUBSCRIBED = b'"type":"subscribed"'
RFQ_ID = b'"msg":{"id":"'
QUOTE_ID = b'"msg":{"quote_id":"'
UUID_LENGTH = 36


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.ws",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=1000,
                        help="subscribed WebSocket connections (default 1000)")
    parser.add_argument("--rfqs", type=int, default=200,
                        help="RFQs broadcast, one at a time (default 200; at least 100)")
    parser.add_argument("--accepts", type=int, default=200,
                        help="accepts measured under load, and again idle (default 200)")
    parser.add_argument("--load-connections", type=int, default=32,
                        help="keep-alive connections of the REST load process (default 32)")
    parser.add_argument("--listener-accounts", type=int, default=10,
                        help="accounts the connections are spread over (default 10)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/")
    parser.add_argument("--load-worker", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# Signing and accounts -----------------------------------------------------------------------


@dataclass
class Identity:
    """An account of the benchmark with its parsed key."""

    user_id: str
    key_id: str
    pem: str
    key: PrivateKey = field(repr=False)

    def headers(self, method: str, path: str) -> list[tuple[str, str]]:
        """Return Kalshi's three signature headers for a request now."""
        stamp = str(time.time_ns() // 1_000_000)
        return [("KALSHI-ACCESS-KEY", self.key_id), ("KALSHI-ACCESS-TIMESTAMP", stamp),
                ("KALSHI-ACCESS-SIGNATURE", sign_request(self.key, stamp, method, path))]


def make_account(control: httpx.Client, name: str, balance: str = "1000000") -> Identity:
    """Create an account through the control plane."""
    response = control.post("/accounts", json={"name": name, "balance_dollars": balance})
    response.raise_for_status()
    body = response.json()
    return Identity(body["user_id"], body["key_id"], body["private_key_pem"],
                    load_private_key(body["private_key_pem"]))


def http_request(method: str, path: str, port: int, headers: list[tuple[str, str]],
                 body: bytes = b"") -> bytes:
    """Return the bytes of one HTTP/1.1 keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    if body or method in ("POST", "PUT"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Http:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> Http:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    def send(self, request: bytes) -> None:
        assert self.writer is not None
        self.writer.write(request)

    async def response(self) -> tuple[int, bytes]:
        """Read one response; return (status, body)."""
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length) if length else b""

    async def call(self, request: bytes) -> tuple[int, bytes]:
        self.send(request)
        return await self.response()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


# A lean WebSocket client ------------------------------------------------------------------


def client_frame(opcode: int, payload: bytes) -> bytes:
    """Return a masked client frame (an all-zero mask leaves the payload as it is)."""
    length = len(payload)
    if length < 126:
        head = bytes([0x80 | opcode, 0x80 | length])
    elif length < 65536:
        head = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        head = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    return head + b"\x00\x00\x00\x00" + payload


def handshake(port: int, identity: Identity) -> bytes:
    """Return a signed upgrade request."""
    key = base64.b64encode(os.urandom(16)).decode()
    headers = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13"),
               *identity.headers("GET", WS_PATH)]
    return http_request("GET", WS_PATH, port, headers)


class Tally:
    """Counts, per RFQ id, how many connections have received its messages and when."""

    def __init__(self, audience: int) -> None:
        self.audience = audience
        self.created: dict[bytes, int] = {}
        self.deleted: dict[bytes, int] = {}
        self.created_done: dict[bytes, float] = {}
        self.deleted_done: dict[bytes, float] = {}
        self.accepted: dict[bytes, float] = {}
        self.subscribed = 0
        self.waiter: asyncio.Future[None] | None = None
        self.closed = 0

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def text(self, payload: bytes) -> None:
        """Account for one text frame."""
        if payload.startswith(CREATED):
            self._count(payload, RFQ_ID, self.created, self.created_done)
        elif payload.startswith(DELETED):
            self._count(payload, RFQ_ID, self.deleted, self.deleted_done)
        elif payload.startswith(ACCEPTED):
            start = payload.find(QUOTE_ID) + len(QUOTE_ID)
            self.accepted[payload[start:start + UUID_LENGTH]] = time.perf_counter()
            self._wake()
        elif SUBSCRIBED in payload:
            self.subscribed += 1
            self._wake()

    def _count(self, payload: bytes, marker: bytes, counts: dict[bytes, int],
               done: dict[bytes, float]) -> None:
        start = payload.find(marker) + len(marker)
        key = payload[start:start + UUID_LENGTH]
        seen = counts.get(key, 0) + 1
        counts[key] = seen
        if seen == self.audience:
            done[key] = time.perf_counter()
            self._wake()

    async def until(self, condition: Callable[[], bool], within: float = 30.0) -> None:
        """Wait until ``condition()`` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not condition():
            self.waiter = loop.create_future()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the expected WebSocket messages did not all arrive")
            try:
                await asyncio.wait_for(self.waiter, remaining)
            except TimeoutError:
                continue

    async def reached(self, table: dict[bytes, float], key: bytes) -> float:
        """Wait until ``key`` is in ``table`` (all connections heard of it); return when."""
        await self.until(lambda: key in table)
        return table[key]


class Listener(asyncio.Protocol):
    """One WebSocket connection that answers pings and hands text frames to a tally."""

    def __init__(self, request: bytes, tally: Tally) -> None:
        self.request = request
        self.tally = tally
        self.buffer = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        assert self.transport is not None
        self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.tally.closed += 1
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))

    def send_text(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(client_frame(0x1, text.encode()))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self.opened.set_exception(ConnectionError(bytes(buffer[:200]).decode()))
                return
            del buffer[:end + 4]
            self.upgraded = True
            self.opened.set_result(None)
        position, size = 0, len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if size - position < 4:
                    break
                length, header = int.from_bytes(buffer[position + 2:position + 4]), 4
            elif length == 127:
                if size - position < 10:
                    break
                length, header = int.from_bytes(buffer[position + 2:position + 10]), 10
            if size - position < header + length:
                break
            payload = bytes(buffer[position + header:position + header + length])
            position += header + length
            opcode = first & 0x0F
            if opcode == 0x1:
                self.tally.text(payload)
            elif opcode == 0x9 and self.transport is not None:
                self.transport.write(client_frame(0xA, payload))
        del buffer[:position]

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_listeners(port: int, identities: list[Identity], count: int,
                         tally: Tally, params: dict[str, Any] | None = None
                         ) -> list[Listener]:
    """Open ``count`` connections (spread over ``identities``) and subscribe each (to
    ``communications``, or as ``params`` say)."""
    loop = asyncio.get_running_loop()
    listeners: list[Listener] = []
    batch = 100
    for start in range(0, count, batch):
        opened = []
        for index in range(start, min(count, start + batch)):
            request = handshake(port, identities[index % len(identities)])
            _, protocol = await loop.create_connection(partial(Listener, request, tally),
                                                       "127.0.0.1", port)
            opened.append(protocol)
        await asyncio.gather(*(p.opened for p in opened))
        listeners.extend(opened)
    subscribe = json.dumps({"id": 1, "cmd": "subscribe",
                            "params": params or {"channels": ["communications"]}})
    before = tally.subscribed
    for listener in listeners:
        listener.send_text(subscribe)
    await tally.until(lambda: tally.subscribed - before >= count)
    return listeners


# Measurements ---------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Return the ``fraction`` quantile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values_s: list[float]) -> dict[str, float]:
    """Return count, p50, p99, max and mean of latencies, in milliseconds."""
    ms = [v * 1000 for v in values_s]
    return {"count": len(ms), "p50_ms": percentile(ms, 0.50), "p99_ms": percentile(ms, 0.99),
            "max_ms": max(ms), "mean_ms": statistics.fmean(ms)}


async def broadcast(port: int, requester: Identity, tally: Tally, rfqs: int) -> list[float]:
    """Create and delete ``rfqs`` RFQs; return creation-request-to-last-delivery times."""
    http = await Http(port).open()
    latencies: list[float] = []
    body = json.dumps({"market_ticker": BROADCAST_MARKET, "contracts_fp": "10",
                       "rest_remainder": False}).encode()
    try:
        for _ in range(rfqs):
            request = http_request("POST", API + "/communications/rfqs", port,
                                   requester.headers("POST", API + "/communications/rfqs"),
                                   body)
            started = time.perf_counter()
            http.send(request)
            status, answer = await http.response()
            assert status == 201, answer
            rfq_id = json.loads(answer)["id"].encode()
            latencies.append(await tally.reached(tally.created_done, rfq_id) - started)
            path = f"{API}/communications/rfqs/{rfq_id.decode()}"
            status, answer = await http.call(http_request(
                "DELETE", path, port, requester.headers("DELETE", path)))
            assert status == 204, answer
            await tally.reached(tally.deleted_done, rfq_id)
    finally:
        http.close()
    return latencies


async def accepts(port: int, requester: Identity, maker: Identity, tally: Tally,
                  count: int) -> tuple[list[float], list[float]]:
    """Run ``count`` create/quote/accept rounds; return (delivery latencies, accept latencies).

    Delivery: from sending the accept to the maker's connection receiving ``quote_accepted``.
    Accept: from sending the accept to its HTTP response.
    """
    r_http = await Http(port).open()
    m_http = await Http(port).open()
    delivered: list[float] = []
    answered: list[float] = []
    rfqs = API + "/communications/rfqs"
    quotes = API + "/communications/quotes"
    rfq_body = json.dumps({"market_ticker": ACCEPT_MARKET, "contracts_fp": "10",
                           "rest_remainder": False}).encode()
    try:
        for _ in range(count):
            status, answer = await r_http.call(http_request(
                "POST", rfqs, port, requester.headers("POST", rfqs), rfq_body))
            assert status == 201, answer
            rfq_id = json.loads(answer)["id"]
            quote_body = json.dumps({"rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55",
                                     "rest_remainder": False}).encode()
            status, answer = await m_http.call(http_request(
                "POST", quotes, port, maker.headers("POST", quotes), quote_body))
            assert status == 201, answer
            quote_id = json.loads(answer)["id"]
            path = f"{rfqs}/{rfq_id}/quotes/{quote_id}/accept"
            request = http_request("PUT", path, port, requester.headers("PUT", path),
                                   b'{"accepted_side":"yes"}')
            started = time.perf_counter()
            r_http.send(request)
            status, answer = await r_http.response()
            answered.append(time.perf_counter() - started)
            assert status == 204, answer
            delivered.append(await tally.reached(tally.accepted, quote_id.encode()) - started)
            delete = f"{rfqs}/{rfq_id}"
            status, answer = await r_http.call(http_request(
                "DELETE", delete, port, requester.headers("DELETE", delete)))
            assert status == 204, answer
    finally:
        r_http.close()
        m_http.close()
    return delivered, answered


# The REST load process ----------------------------------------------------------------------


async def load_worker(port: int, key_id: str, pem: str, connections: int) -> None:
    """Keep ``connections`` busy with signed GETs until stdin closes; print the count."""
    key = load_private_key(pem)
    path = API + "/portfolio/balance"
    identity = Identity("", key_id, "", key)
    state = {"request": http_request("GET", path, port, identity.headers("GET", path))}
    counts = {"ok": 0, "other": 0}
    stop = asyncio.Event()

    async def refresh() -> None:
        # Signatures age out of the server's freshness window; re-sign every second.
        while not stop.is_set():
            await asyncio.sleep(1.0)
            state["request"] = http_request("GET", path, port, identity.headers("GET", path))

    async def worker() -> None:
        http = await Http(port).open()
        try:
            while not stop.is_set():
                status, _ = await http.call(state["request"])
                counts["ok" if status == 200 else "other"] += 1
        finally:
            http.close()

    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    tasks = [asyncio.create_task(worker()) for _ in range(connections)]
    tasks.append(asyncio.create_task(refresh()))
    await loop.run_in_executor(None, sys.stdin.read)
    stop.set()
    seconds = time.perf_counter() - started
    await asyncio.wait(tasks, timeout=5)
    print(json.dumps({"requests": counts["ok"], "errors": counts["other"],
                      "seconds": seconds}), flush=True)


class LoadProcess:
    """The REST load generator in its own process."""

    def __init__(self, port: int, identity: Identity, connections: int, core: int | None,
                 workdir: Path) -> None:
        pem = workdir / "load-key.pem"
        pem.write_text(identity.pem)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.ws", "--load-worker",
             f"{port}:{identity.key_id}:{pem}:{connections}"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=Path(__file__).parent.parent)
        if core is not None:
            os.sched_setaffinity(self.process.pid, {core})

    def finish(self) -> dict[str, Any]:
        """Stop the load; return its request count and rate."""
        out, _ = self.process.communicate("", timeout=30)
        result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        result["per_second"] = result["requests"] / result["seconds"]
        return result


# The server -------------------------------------------------------------------------------


# Running it -------------------------------------------------------------------------------


def pin(client_core: int, server_core: int) -> tuple[int | None, int | None]:
    """Pin this process to ``client_core``; return (server core, client core) or Nones."""
    cores = os.sched_getaffinity(0)
    if len(cores) < 2 or client_core not in cores or server_core not in cores:
        print(f"warning: cannot pin (allowed cores {sorted(cores)}); running unpinned",
              file=sys.stderr)
        return None, None
    os.sched_setaffinity(0, {client_core})
    return server_core, client_core


@dataclass
class World:
    """The benchmark's accounts."""

    listeners: list[Identity]
    requester: Identity
    maker: Identity
    loader: Identity


def setup(sandbox: Server, listener_accounts: int) -> World:
    """Create the markets and accounts through the control plane."""
    with httpx.Client(base_url=sandbox.base_url + "/sandbox/v1", timeout=30) as control:
        for ticker in (BROADCAST_MARKET, ACCEPT_MARKET):
            control.post("/markets", json={"ticker": ticker}).raise_for_status()
        return World([make_account(control, f"listener{n}") for n in range(listener_accounts)],
                     make_account(control, "requester"), make_account(control, "maker"),
                     make_account(control, "loader"))


async def measure(args: argparse.Namespace, sandbox: Server, world: World,
                  workdir: Path, client_core: int | None) -> dict[str, Any]:
    """Run both measurements against ``sandbox``."""
    requester, maker = world.requester, world.maker
    port = sandbox.port
    print(f"opening {args.connections} WebSocket connections ...", file=sys.stderr,
          flush=True)
    tally = Tally(args.connections)
    listeners = await open_listeners(port, world.listeners, args.connections, tally)
    maker_tally = Tally(1)
    (maker_socket,) = await open_listeners(port, [maker], 1, maker_tally)
    try:
        # Warm up: imports, key cache, SQLite pages, the first fan-outs.
        await broadcast(port, requester, tally, 10)
        print(f"broadcasting {args.rfqs} RFQs ...", file=sys.stderr, flush=True)
        run_before, wait_before = sandbox.times()
        client_before = time.process_time()
        wall = time.perf_counter()
        fanout = await broadcast(port, requester, tally, args.rfqs)
        wall = time.perf_counter() - wall
        run_after, wait_after = sandbox.times()
        client_cpu = time.process_time() - client_before
        print(f"accepting {args.accepts} quotes without load ...", file=sys.stderr,
              flush=True)
        idle_delivered, idle_answered = await accepts(port, requester, maker, maker_tally,
                                                      args.accepts)
        print(f"accepting {args.accepts} quotes under REST load ...", file=sys.stderr,
              flush=True)
        load = LoadProcess(port, world.loader, args.load_connections, client_core, workdir)
        try:
            await asyncio.sleep(1.0)
            delivered, answered = await accepts(port, requester, maker, maker_tally,
                                                args.accepts)
        finally:
            load_result = load.finish()
        dropped = tally.closed
    finally:
        for listener in (*listeners, maker_socket):
            listener.close()
    return {
        "connections": args.connections,
        "broadcast": {**summary(fanout), "goal_p99_ms": BROADCAST_GOAL_MS,
                      "frames_per_second": 2 * args.connections * args.rfqs / wall,
                      "server_cpu_share": (run_after - run_before) / wall,
                      "server_waiting_share": (wait_after - wait_before) / wall,
                      "server_cpu_ms_per_rfq": 1000 * (run_after - run_before) / args.rfqs,
                      "client_cpu_share": client_cpu / wall},
        "quote_accepted_idle": {"delivery": summary(idle_delivered),
                                "accept_response": summary(idle_answered)},
        "quote_accepted_under_load": {"delivery": summary(delivered),
                                      "accept_response": summary(answered),
                                      "rest_load": load_result,
                                      "load_connections": args.load_connections},
        "connections_dropped": dropped,
    }


def report(results: dict[str, Any]) -> None:
    """Print the figures."""
    b = results["broadcast"]
    print()
    print(f"WebSocket fan-out, {results['connections']} subscribed connections "
          "(communications channel)")
    print(f"  rfq_created, creation request -> last delivery, {b['count']} RFQs: "
          f"p50 {b['p50_ms']:.1f} ms, p99 {b['p99_ms']:.1f} ms, max {b['max_ms']:.1f} ms "
          f"(goal p99 <= {b['goal_p99_ms']:.0f} ms)")
    print(f"  {b['frames_per_second']:,.0f} frames/s delivered; server CPU "
          f"{b['server_cpu_ms_per_rfq']:.1f} ms per RFQ (create, broadcast, delete, "
          f"broadcast), busy {b['server_cpu_share']:.0%} and waiting for a CPU held by "
          f"other processes {b['server_waiting_share']:.0%} of the run; WebSocket client "
          f"busy {b['client_cpu_share']:.0%}")
    for label, key in (("idle", "quote_accepted_idle"),
                       ("under REST load", "quote_accepted_under_load")):
        part = results[key]
        d, a = part["delivery"], part["accept_response"]
        line = (f"  quote_accepted to its maker, {label}: accept sent -> delivered "
                f"p50 {d['p50_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms; accept response "
                f"p50 {a['p50_ms']:.1f} ms, p99 {a['p99_ms']:.1f} ms")
        print(line)
        if "rest_load" in part:
            load = part["rest_load"]
            print(f"    REST load: {load['per_second']:,.0f} signed GET /portfolio/balance/s "
                  f"over {part['load_connections']} connections ({load['errors']} errors)")
    if results["connections_dropped"]:
        print(f"  warning: {results['connections_dropped']} connections were dropped")
    print()


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start a sandbox, measure, stop it; return the results."""
    if args.rfqs < 100:
        raise SystemExit("--rfqs must be at least 100")
    server_core, client_core = pin(args.client_core, args.server_core)
    workdir = Path(tempfile.mkdtemp(prefix="kalshi-bench-ws-"))
    sandbox = sandbox_server(workdir, server_core)
    try:
        sandbox.start()
        import uvloop

        world = setup(sandbox, args.listener_accounts)
        return uvloop.run(measure(args, sandbox, world, workdir, client_core))
    finally:
        sandbox.stop()


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    """Run the WebSocket benchmark (or, internally, the REST load worker)."""
    args = parse_args(argv)
    if args.load_worker:
        port, key_id, pem, connections = args.load_worker.split(":", 3)
        import uvloop

        uvloop.run(load_worker(int(port), key_id, Path(pem).read_text(), int(connections)))
        return None
    results = run(args)
    report(results)
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / time.strftime("bench-ws-%Y%m%d-%H%M%S.json")
        path.write_text(json.dumps(results, indent=2))
        print(f"results written to {path}")
    return results


if __name__ == "__main__":
    main()
