"""The benchmark's scenarios: ceilings, signed confirms against the baseline, and lifecycles.

Signing is kept out of the timed windows of the phased run: Kalshi signs timestamp + METHOD +
path, so every Create RFQ (or Create Quote) request of a phase shares one signature, and the
accept and confirm requests, whose paths carry quote ids, are signed between phases. The
timestamps are set 50 s ahead, inside the server's default +60 s / -10 s window, so that a
phase's requests stay valid however long signing takes. All accounts register the same
public key under their own key ids; the server still looks up and verifies every request's
key and signature as usual.

Every window records, besides wall time, the CPU time the server and the client used and the
time each spent runnable but waiting for its core (other load on a shared machine). CPU time
per request is far steadier than a wall-clock rate when the machine is busy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.loadgen import Outcome, Pool, build_request
from bench.servers import Server, process_times
from kalshi_sandbox.client.auth import now_ms

API = "/trade-api/v2"
RFQS = API + "/communications/rfqs"
QUOTES = API + "/communications/quotes"
CONTROL = "/sandbox/v1"
PRESIGN_AHEAD_MS = 50_000
EXECUTION_DELAY_S = 15
BALANCE = "100000000"

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
_encode = msgspec.json.encode
_decode = msgspec.json.decode


@dataclass
class Measure:
    """One or more timed windows of requests against one server; the totals add up."""

    name: str
    requests: int = 0
    seconds: float = 0.0
    server_run: float = 0.0
    server_wait: float = 0.0
    client_run: float = 0.0
    client_wait: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    windows: int = 0

    def add(self, other: Measure) -> Measure:
        """Fold another window into this one."""
        self.requests += other.requests
        self.seconds += other.seconds
        self.server_run += other.server_run
        self.server_wait += other.server_wait
        self.client_run += other.client_run
        self.client_wait += other.client_wait
        self.statuses.update(other.statuses)
        self.latencies.extend(other.latencies)
        self.windows += other.windows
        return self

    @property
    def rate(self) -> float:
        """Requests per wall-clock second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def server_us(self) -> float:
        """Server CPU microseconds per request."""
        return self.server_run / self.requests * 1e6 if self.requests else 0.0

    @property
    def cpu_rate(self) -> float:
        """Requests per server CPU second: the rate on a core of its own."""
        return self.requests / self.server_run if self.server_run else 0.0

    def share(self, value: float) -> float:
        return value / self.seconds if self.seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """Return the latency in ms below which ``fraction`` of requests completed."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1e3

    def as_dict(self) -> dict[str, Any]:
        """Return the measure as plain JSON data."""
        return {
            "name": self.name, "requests": self.requests, "seconds": self.seconds,
            "windows": self.windows, "per_second": self.rate,
            "p50_ms": self.percentile_ms(0.5), "p99_ms": self.percentile_ms(0.99),
            "server_cpu_seconds": self.server_run, "server_wait_seconds": self.server_wait,
            "client_cpu_seconds": self.client_run, "client_wait_seconds": self.client_wait,
            "server_us_per_request": self.server_us,
            "per_server_cpu_second": self.cpu_rate,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


async def measure(name: str, server: Server, run: Callable[[], Awaitable[Outcome]]
                  ) -> tuple[Measure, Outcome]:
    """Time ``run``; account for the CPU the server and the client used and waited for."""
    me = os.getpid()
    server0, client0 = server.times(), process_times(me)
    outcome = await run()
    server1, client1 = server.times(), process_times(me)
    return Measure(
        name=name, requests=outcome.sent, seconds=outcome.seconds,
        server_run=server1[0] - server0[0], server_wait=server1[1] - server0[1],
        client_run=client1[0] - client0[0], client_wait=client1[1] - client0[1],
        statuses=Counter(outcome.statuses), latencies=list(outcome.latencies), windows=1,
    ), outcome


@dataclass
class Signer:
    """The one RSA key every benchmark account registers, and signing with it."""

    key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls) -> Signer:
        """Make a fresh 2048-bit key."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def public_pem(self) -> str:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, timestamp: int, method: str, path: str) -> str:
        """Return the base64 signature of timestamp + METHOD + path."""
        message = f"{timestamp}{method}{path}".encode()
        return base64.b64encode(self.key.sign(message, _PSS, hashes.SHA256())).decode()

    def cost_us(self, count: int = 300) -> float:
        """Measure one signature's CPU cost in microseconds on this core."""
        start = time.process_time()
        for i in range(count):
            self.sign(i, "PUT", f"{QUOTES}/{i:036d}/confirm")
        return (time.process_time() - start) / count * 1e6


def auth_headers(key_id: str, timestamp: int, signature: str) -> list[tuple[str, str]]:
    """Return Kalshi's three signature headers."""
    return [("KALSHI-ACCESS-KEY", key_id), ("KALSHI-ACCESS-TIMESTAMP", str(timestamp)),
            ("KALSHI-ACCESS-SIGNATURE", signature)]


@dataclass
class Trader:
    """A benchmark account."""

    user_id: str
    key_id: str


@dataclass
class World:
    """The markets and accounts of the lifecycle benchmark, and who trades what."""

    markets: list[str]
    requesters: list[Trader]
    makers: list[Trader]

    def pair(self, i: int) -> tuple[Trader, str, Trader]:
        """Return (requester, market, maker) of lifecycle ``i``: unique (requester, market)."""
        m = len(self.markets)
        return self.requesters[i // m], self.markets[i % m], self.makers[i % len(self.makers)]


def setup_world(base_url: str, signer: Signer, lifecycles: int, markets: int,
                makers: int) -> World:
    """Create markets and accounts through the control plane (not timed).

    Each requester holds at most one open RFQ per market and ``markets`` (<= 100) in all, so
    the sandbox's default limits hold.
    """
    requester_count = -(-lifecycles // markets)
    with httpx.Client(base_url=base_url + CONTROL, timeout=60) as http:
        tickers = []
        for m in range(markets):
            ticker = f"KXBENCH-26DEC31-M{m:03d}"
            http.post("/markets", json={"ticker": ticker}).raise_for_status()
            tickers.append(ticker)

        def account(name: str) -> Trader:
            response = http.post("/accounts", json={
                "name": name, "balance_dollars": BALANCE, "public_key_pem": signer.public_pem})
            response.raise_for_status()
            data = response.json()
            return Trader(data["user_id"], data["key_id"])

        requesters = [account(f"requester-{i}") for i in range(requester_count)]
        maker_list = [account(f"maker-{i}") for i in range(makers)]
    return World(tickers, requesters, maker_list)


def _ids(outcome: Outcome, expected: int, what: str) -> list[str]:
    bad = {k: v for k, v in outcome.statuses.items() if k != expected}
    if bad:
        sample = next((b for b in outcome.bodies if b and b'"id"' not in b), b"")
        raise RuntimeError(f"{what}: unexpected statuses {bad}; e.g. {sample[:300]!r}")
    return [str(_decode(body)["id"]) for body in outcome.bodies]


def _expect(measured: Measure, status: int, what: str) -> None:
    if set(measured.statuses) != {status}:
        raise RuntimeError(f"{what}: unexpected statuses {dict(measured.statuses)}")


@dataclass
class Round:
    """One phased lifecycle round and the confirm comparison it carries."""

    lifecycles: int
    phases: list[Measure] = field(default_factory=list)
    baseline_confirm: Measure | None = None
    signing_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    @property
    def rate(self) -> float:
        """Lifecycles per second: N over the sum of the phases' wall times."""
        return self.lifecycles / self.seconds

    @property
    def cpu_rate(self) -> float:
        """Lifecycles per server CPU second: the rate on a core of its own."""
        return self.lifecycles / sum(p.server_run for p in self.phases)

    @property
    def confirm(self) -> Measure:
        return next(p for p in self.phases if p.name == "confirm")

    @property
    def confirm_ratio(self) -> float:
        """Sandbox confirms per second over baseline PUTs per second (wall clock)."""
        base = self.baseline_confirm
        return self.confirm.rate / base.rate if base is not None and base.rate else 0.0

    @property
    def confirm_cpu_ratio(self) -> float:
        """Baseline server CPU per request over the sandbox's: the ratio on a quiet core."""
        base = self.baseline_confirm
        return base.server_us / self.confirm.server_us if base is not None else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "lifecycles": self.lifecycles,
            "seconds": self.seconds,
            "lifecycles_per_second": self.rate,
            "lifecycles_per_server_cpu_second": self.cpu_rate,
            "signing_seconds_between_phases": self.signing_seconds,
            "phases": [p.as_dict() for p in self.phases],
            "baseline_confirm": (None if self.baseline_confirm is None
                                 else self.baseline_confirm.as_dict()),
            "confirm_ratio": self.confirm_ratio,
            "confirm_cpu_ratio": self.confirm_cpu_ratio,
        }


PhaseHook = Callable[[str], contextlib.AbstractContextManager[None]]


@contextlib.contextmanager
def no_hook(name: str) -> Iterator[None]:
    """Wrap a phase in nothing."""
    yield


def _chunks(items: Sequence[bytes], count: int) -> list[Sequence[bytes]]:
    size = -(-len(items) // max(1, count))
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass
class Bench:
    """The servers, pools and accounts a run shares (the baseline is optional)."""

    sandbox: Server
    sandbox_pool: Pool
    world: World
    signer: Signer
    baseline: Server | None = None
    baseline_pool: Pool | None = None
    confirm_windows: int = 4
    """Alternate baseline and sandbox confirms over this many windows (less drift)."""
    hook: PhaseHook = no_hook
    """Wraps each timed phase of the sandbox (the profiler attaches here)."""

    async def phase(self, name: str, requests: Sequence[bytes], *,
                    keep_bodies: bool = False) -> tuple[Measure, Outcome]:
        """Send a phase's requests to the sandbox, timed."""
        pool = self.sandbox_pool
        with self.hook(name):
            return await measure(name, self.sandbox,
                                 lambda: pool.run(requests, keep_bodies=keep_bodies))

    async def baseline_put(self, requests: Sequence[bytes]) -> Measure:
        """Send signed confirm requests to the baseline app, timed."""
        pool, baseline = self.baseline_pool, self.baseline
        assert pool is not None
        assert baseline is not None
        measured, _ = await measure("baseline PUT", baseline, lambda: pool.run(requests))
        _expect(measured, 204, "baseline PUT")
        return measured

    async def advance(self, seconds: float) -> tuple[Measure, int]:
        """Advance the manual clock in one timed request; return the measure and timers fired."""
        port = self.sandbox.port
        raw = build_request("POST", CONTROL + "/clock/advance", port,
                            body=_encode({"seconds": seconds}))
        pool = await Pool(port, 1).open()
        try:
            with self.hook("execute"):
                measured, outcome = await measure(
                    "execute", self.sandbox, lambda: pool.run([raw], keep_bodies=True))
        finally:
            pool.close()
        if outcome.statuses != {200: 1}:
            raise RuntimeError(f"clock advance failed: {outcome.statuses} {outcome.bodies}")
        fired = int(_decode(outcome.bodies[0])["fired_timers"])
        return measured, fired

    async def lifecycle_round(self, n: int) -> Round:
        """Run n lifecycles phase by phase, each phase timed with pre-signed requests."""
        port, world, signer = self.sandbox.port, self.world, self.signer
        result = Round(n)
        pairs = [world.pair(i) for i in range(n)]

        ts = now_ms() + PRESIGN_AHEAD_MS
        signature = signer.sign(ts, "POST", RFQS)
        requests = [build_request("POST", RFQS, port, auth_headers(r.key_id, ts, signature),
                                  _encode({"market_ticker": market, "contracts_fp": "10.00",
                                           "rest_remainder": False}))
                    for r, market, _ in pairs]
        measured, outcome = await self.phase("create RFQ", requests, keep_bodies=True)
        result.phases.append(measured)
        rfq_ids = _ids(outcome, 201, "create RFQ")

        ts = now_ms() + PRESIGN_AHEAD_MS
        signature = signer.sign(ts, "POST", QUOTES)
        requests = [build_request("POST", QUOTES, port, auth_headers(m.key_id, ts, signature),
                                  _encode({"rfq_id": rfq_id, "yes_bid": "0.40",
                                           "no_bid": "0.55", "rest_remainder": False}))
                    for (_, _, m), rfq_id in zip(pairs, rfq_ids, strict=True)]
        measured, outcome = await self.phase("create quote", requests, keep_bodies=True)
        result.phases.append(measured)
        quote_ids = _ids(outcome, 201, "create quote")

        started = time.perf_counter()
        ts = now_ms() + PRESIGN_AHEAD_MS
        accept_body = _encode({"accepted_side": "yes"})
        requests = []
        for (r, _, _), quote_id in zip(pairs, quote_ids, strict=True):
            path = f"{QUOTES}/{quote_id}/accept"
            requests.append(build_request("PUT", path, port, auth_headers(
                r.key_id, ts, signer.sign(ts, "PUT", path)), accept_body))
        result.signing_seconds += time.perf_counter() - started
        measured, _ = await self.phase("accept", requests)
        result.phases.append(measured)
        _expect(measured, 204, "accept")

        started = time.perf_counter()
        ts = now_ms() + PRESIGN_AHEAD_MS
        confirms = []
        for (_, _, m), quote_id in zip(pairs, quote_ids, strict=True):
            path = f"{QUOTES}/{quote_id}/confirm"
            confirms.append(build_request("PUT", path, port, auth_headers(
                m.key_id, ts, signer.sign(ts, "PUT", path))))
        result.signing_seconds += time.perf_counter() - started
        result.phases.append(await self.confirm_phase(confirms, result))

        measured, fired = await self.advance(EXECUTION_DELAY_S + 1)
        measured.requests = fired
        result.phases.append(measured)
        if fired != n:
            raise RuntimeError(f"execute: {fired} timers fired, expected {n}")
        return result

    async def confirm_phase(self, confirms: Sequence[bytes], result: Round) -> Measure:
        """Confirm every quote; with a baseline, alternate windows of the same request bytes.

        The order is baseline, sandbox, baseline, sandbox, ..., baseline, so that both sides
        sample the same stretch of a noisy machine.
        """
        if self.baseline is None:
            measured, _ = await self.phase("confirm", confirms)
            _expect(measured, 204, "confirm")
            return measured
        total = Measure("confirm")
        base = Measure("baseline PUT")
        for chunk in _chunks(confirms, self.confirm_windows):
            base.add(await self.baseline_put(chunk))
            measured, _ = await self.phase("confirm", chunk)
            total.add(measured)
        base.add(await self.baseline_put(_chunks(confirms, self.confirm_windows)[0]))
        _expect(total, 204, "confirm")
        result.baseline_confirm = base
        return total

    async def verify_executed(self, sample: int = 5) -> list[str]:
        """Read back a few requesters' fills and positions; return what looks wrong."""
        problems = []
        port = self.sandbox.port
        pool = await Pool(port, 1).open()
        try:
            conn = pool.connections[0]
            for requester in self.world.requesters[:sample]:
                for path, key in ((API + "/portfolio/fills", "fills"),
                                  (API + "/portfolio/positions", "market_positions")):
                    ts = now_ms()
                    status, body = await conn.request(build_request(
                        "GET", path, port,
                        auth_headers(requester.key_id, ts, self.signer.sign(ts, "GET", path))))
                    if status != 200 or not _decode(body)[key]:
                        problems.append(f"{path} of {requester.user_id}: {status} {body[:200]!r}")
        finally:
            pool.close()
        return problems

    async def interleaved(self, n: int, workers: int) -> tuple[Measure, Measure]:
        """Run n lifecycles end to end, signing each request as it goes; then execute them.

        Return the whole run (requests, then the one clock advance; ``requests`` counts
        lifecycles) and the advance alone.
        """
        port, signer = self.sandbox.port, self.signer
        pairs = [self.world.pair(i) for i in range(n)]
        next_index = 0
        statuses: Counter[int] = Counter()
        latencies: list[float] = []
        pool = await Pool(port, min(workers, n)).open()

        async def call(conn: Any, key_id: str, method: str, path: str,
                       body: bytes = b"") -> bytes:
            ts = now_ms()
            raw = build_request(method, path, port,
                                auth_headers(key_id, ts, signer.sign(ts, method, path)), body)
            started = time.perf_counter()
            status, answer = await conn.request(raw)
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
            if status >= 300:
                raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")
            return bytes(answer)

        async def worker(conn: Any) -> None:
            nonlocal next_index
            while next_index < n:
                i = next_index
                next_index += 1
                requester, market, maker = pairs[i]
                rfq_id = _decode(await call(conn, requester.key_id, "POST", RFQS, _encode(
                    {"market_ticker": market, "contracts_fp": "10.00",
                     "rest_remainder": False})))["id"]
                quote_id = _decode(await call(conn, maker.key_id, "POST", QUOTES, _encode(
                    {"rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55",
                     "rest_remainder": False})))["id"]
                await call(conn, requester.key_id, "PUT", f"{QUOTES}/{quote_id}/accept",
                           _encode({"accepted_side": "yes"}))
                await call(conn, maker.key_id, "PUT", f"{QUOTES}/{quote_id}/confirm")

        holder: list[Measure] = []

        async def everything() -> Outcome:
            start = time.perf_counter()
            await asyncio.gather(*(worker(c) for c in pool.connections))
            advance, fired = await self.advance(EXECUTION_DELAY_S + 1)
            if fired != n:
                raise RuntimeError(f"interleaved: {fired} executions, expected {n}")
            holder.append(advance)
            return Outcome(n, time.perf_counter() - start, 0.0, statuses, [], latencies)

        try:
            whole, _ = await measure("interleaved lifecycles", self.sandbox, everything)
        finally:
            pool.close()
        return whole, holder[0]
