"""Timer lateness under load: how late executions fire at 50%, 90% and 100% of capacity.

``python -m bench.timers`` (part of ``make bench``) starts the sandbox on the server core with
the **system clock** and ``--execution-delay 1`` (``--confirm-window 600``, so that quotes
accepted ahead of a run are still confirmable when it comes), SQLite on disk in a temporary
directory. The load generator on the other core prepares quotes through the real API (create
RFQ, create quote, accept, all signed), then sends their signed confirms:

1. **capacity**: closed loop, as fast as the server answers; capacity is the confirms over
   the time from the first confirm sent to the last quote executed, less the execution delay,
   so the executions the confirms cause count in it;
2. **paced runs** at 50%, 90% and 100% of that capacity, open loop (each confirm sent at its
   instant whatever the answers before it).

Lateness is ``executed_ts - (confirmed_ts + delay)``, read from the sandbox's database after
each run. For each run it prints p50, p99 and max, and for the 100% run whether lateness
grows over the run (median of its last quarter against its first). Goal: p99 <= 5 ms at 90%,
bounded at 100%. Nothing is asserted; the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import msgspec

from bench.loadgen import Pool, build_request
from bench.scenario import (
    QUOTES,
    RFQS,
    Signer,
    World,
    auth_headers,
    setup_world,
)
from bench.servers import Server
from kalshi_sandbox.client.auth import now_ms

DELAY_S = 1
PRESIGN_AHEAD_MS = 50_000
MARKETS = 100
_encode = msgspec.json.encode
_decode = msgspec.json.decode


def sandbox(workdir: Path, core: int | None) -> Server:
    return Server(
        "sandbox",
        ["-m", "kalshi_sandbox", "serve", "--data-dir", str(workdir / "sandbox"),
         "--clock", "system", "--no-seed", "--rate-limit", "off", "--log-level", "warning",
         "--execution-delay", str(DELAY_S), "--confirm-window", "600"],
        "/sandbox/v1/health", core, workdir / "sandbox.log")


class Quotes:
    """Prepares accepted quotes through the API and signs their confirms."""

    def __init__(self, server: Server, pool: Pool, world: World, signer: Signer) -> None:
        self.server, self.pool, self.world, self.signer = server, pool, world, signer
        self.next_requester = 0

    async def _ids(self, requests: Sequence[bytes], what: str) -> list[str]:
        outcome = await self.pool.run(requests, keep_bodies=True)
        if set(outcome.statuses) != {201}:
            raise RuntimeError(f"{what}: {dict(outcome.statuses)} {outcome.bodies[:1]!r}")
        return [str(_decode(body)["id"]) for body in outcome.bodies]

    async def prepare(self, n: int) -> tuple[list[str], list[bytes]]:
        """Create and accept ``n`` quotes; return their ids and signed confirm requests."""
        port, world, signer = self.server.port, self.world, self.signer
        pairs = []
        for i in range(n):  # each requester holds one open RFQ per market at most
            requester = world.requesters[(self.next_requester + i // MARKETS)
                                         % len(world.requesters)]
            pairs.append((requester, world.markets[i % MARKETS],
                          world.makers[i % len(world.makers)]))
        self.next_requester += -(-n // MARKETS)
        ts = now_ms() + PRESIGN_AHEAD_MS
        sig = signer.sign(ts, "POST", RFQS)
        rfq_ids = await self._ids([build_request(
            "POST", RFQS, port, auth_headers(r.key_id, ts, sig),
            _encode({"market_ticker": market, "contracts_fp": "10.00",
                     "rest_remainder": False})) for r, market, _ in pairs], "create RFQ")
        sig = signer.sign(ts, "POST", QUOTES)
        quote_ids = await self._ids([build_request(
            "POST", QUOTES, port, auth_headers(m.key_id, ts, sig),
            _encode({"rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55",
                     "rest_remainder": False}))
            for (_, _, m), rfq_id in zip(pairs, rfq_ids, strict=True)], "create quote")
        ts = now_ms() + PRESIGN_AHEAD_MS
        accepts = []
        for (r, _, _), quote_id in zip(pairs, quote_ids, strict=True):
            path = f"{QUOTES}/{quote_id}/accept"
            accepts.append(build_request("PUT", path, port, auth_headers(
                r.key_id, ts, signer.sign(ts, "PUT", path)), _encode({"accepted_side": "yes"})))
        outcome = await self.pool.run(accepts)
        if set(outcome.statuses) != {204}:
            raise RuntimeError(f"accept: {dict(outcome.statuses)}")
        ts = now_ms() + PRESIGN_AHEAD_MS
        confirms = []
        for (_, _, m), quote_id in zip(pairs, quote_ids, strict=True):
            path = f"{QUOTES}/{quote_id}/confirm"
            confirms.append(build_request("PUT", path, port, auth_headers(
                m.key_id, ts, signer.sign(ts, "PUT", path))))
        return quote_ids, confirms


async def paced(pool: Pool, requests: Sequence[bytes], rate: float) -> float:
    """Send each request at its instant (``rate`` per second, open loop); return seconds."""
    loop = asyncio.get_running_loop()
    idle = list(pool.connections)
    free = asyncio.Event()
    pending: set[asyncio.Task[Any]] = set()
    failures: list[int] = []

    async def send(connection: Any, raw: bytes) -> None:
        status, _ = await connection.request(raw)
        if status != 204:
            failures.append(status)
        idle.append(connection)
        free.set()

    start = loop.time()
    for i, raw in enumerate(requests):
        due = start + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        while not idle:
            free.clear()
            await free.wait()
        task = loop.create_task(send(idle.pop(), raw))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.gather(*pending)
    # Connections left idle through a slow run may be closed by the server (keep-alive
    # timeout) just as the next run starts: the pool opens fresh ones before it.
    pool.last_used = 0.0
    if failures:
        raise RuntimeError(f"confirm: statuses {sorted(set(failures))}")
    return loop.time() - start


async def lateness(db: Path, quote_ids: Sequence[str], patience: float = 120.0
                   ) -> list[tuple[int, float]]:
    """Wait until every quote has executed; return (confirmed_ts, lateness ms) of each."""
    deadline = time.monotonic() + patience
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        while True:
            rows = []
            for start in range(0, len(quote_ids), 500):
                chunk = quote_ids[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                rows += connection.execute(
                    f"SELECT confirmed_ts, executed_ts FROM quotes WHERE id IN ({marks})",
                    chunk).fetchall()
            if len(rows) == len(quote_ids) and all(r[1] is not None for r in rows):
                return sorted((int(c), (int(e) - (int(c) + DELAY_S * 1_000_000)) / 1e3)
                              for c, e in rows)
            if time.monotonic() > deadline:
                done = sum(1 for r in rows if r[1] is not None)
                raise RuntimeError(f"only {done} of {len(quote_ids)} quotes executed")
            await asyncio.sleep(0.2)
    finally:
        connection.close()


def summary(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    n = len(ordered)
    return {"p50_ms": ordered[n // 2], "p99_ms": ordered[min(n - 1, int(0.99 * n))],
            "max_ms": ordered[-1], "count": n}


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    signer = Signer.generate()
    server = sandbox(workdir, args.server_core).start()
    try:
        db = workdir / "sandbox" / "sandbox.db"
        needed = args.capacity_quotes + int(args.seconds * args.guess * 2.6)
        world = setup_world(server.base_url, signer, needed * 2, MARKETS, 10)
        pool = await Pool(server.port, args.connections).open()
        quotes = Quotes(server, pool, world, signer)
        # Warm up (JIT-free Python, but caches, the WAL file and the books).
        ids, confirms = await quotes.prepare(min(500, args.capacity_quotes))
        await pool.run(confirms)
        await lateness(db, ids)

        ids, confirms = await quotes.prepare(args.capacity_quotes)
        await pool.run(confirms)
        busy = await lateness(db, ids)
        # The work of the confirms and their executions: from the first confirm to the last
        # execution, less the time the server had nothing due (the confirms done, the first
        # execution not yet due).
        first = min(c for c, _ in busy) / 1e6
        confirmed = max(c for c, _ in busy) / 1e6 - first
        executed = max(c / 1e6 + DELAY_S + late / 1e3 for c, late in busy) - first
        capacity = len(ids) / max(executed - max(0.0, DELAY_S - confirmed), 1e-3)
        closed = summary([late for _, late in busy])
        print(f"timers: system clock, execution delay {DELAY_S} s, SQLite on disk; capacity "
              f"{capacity:,.0f} confirms/s (closed loop, {len(ids):,} confirms, executions "
              f"included); closed-loop lateness p50 {closed['p50_ms']:.1f} ms, "
              f"p99 {closed['p99_ms']:.1f} ms, max {closed['max_ms']:.1f} ms", flush=True)
        results: dict[str, Any] = {"capacity_per_second": capacity, "closed_loop": closed}
        for share in args.shares:
            rate = capacity * share
            n = max(50, int(rate * args.seconds))
            ids, confirms = await quotes.prepare(n)
            seconds = await paced(pool, confirms, rate)
            rows = await lateness(db, ids)
            figures = summary([late for _, late in rows])
            quarter = max(1, len(rows) // 4)
            first = statistics.median(late for _, late in rows[:quarter])
            last = statistics.median(late for _, late in rows[-quarter:])
            figures.update(rate=rate, sent_rate=n / seconds, first_quarter_p50_ms=first,
                           last_quarter_p50_ms=last)
            results[f"{round(share * 100)}%"] = figures
            grows = ""
            if share >= 1.0:
                # A growing backlog shows as lateness climbing from the run's start to its end.
                verdict = "growing" if last > max(1.5 * first, first + 10.0) else "bounded"
                grows = (f"; median lateness of the first quarter {first:.1f} ms, of the last "
                         f"{last:.1f} ms ({verdict})")
            print(f"  {share:4.0%} of capacity ({n / seconds:,.0f}/s sent, {n:,} confirms): "
                  f"lateness p50 {figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, "
                  f"max {figures['max_ms']:.2f} ms{grows}", flush=True)
        pool.close()
        return results
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.timers",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="length of each paced run (default 4)")
    parser.add_argument("--capacity-quotes", type=int, default=4_000,
                        help="confirms of the closed-loop capacity run (default 4000)")
    parser.add_argument("--guess", type=float, default=2_500.0,
                        help="capacity guessed for sizing the accounts (default 2500/s)")
    parser.add_argument("--shares", type=float, nargs="+", default=[0.5, 0.9, 1.0],
                        help="fractions of capacity to pace at (default 0.5 0.9 1.0)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    args = parser.parse_args(argv)
    from bench.__main__ import pin_client

    pin_client(args.client_core)
    with tempfile.TemporaryDirectory(prefix="bench-timers-") as workdir:
        import uvloop

        try:
            uvloop.run(run(args, Path(workdir)))
        except RuntimeError as exc:
            print(f"bench.timers failed: {exc}", file=sys.stderr)
            raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
