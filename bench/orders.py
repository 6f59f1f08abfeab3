"""Benchmark signed order entry against a bare signed Starlette PUT, on one pinned server core.

``python -m bench.orders`` (part of ``make bench``) starts, each pinned with taskset to the
server core, the sandbox (``kalshi-sandbox serve --clock manual --rate-limit off``, SQLite in a
temporary directory) and the baseline app (bench/baseline.py); the load generator runs on the
other core. Two kinds of V2 order are measured, each against the baseline's signed PUT in
alternating windows (baseline, sandbox, baseline, ..., baseline) so both see the same stretch
of a noisy machine:

1. **Resting**: ``POST /trade-api/v2/portfolio/events/orders`` bids that cross nothing and rest
   (an order row, a book level, an ``orderbook_delta`` event, a ``user_order`` event).
2. **Crossing**: immediate-or-cancel bids for one contract that each take one contract of a
   large ask resting in their market (an order, a trade through settlement: two fills, two
   positions, two balances, the market's figures, and their events).

Requests are signed before each window (the order path is the same for every request, so
each account signs once per window), with timestamps 50 s ahead as bench/scenario.py does.
Goal: each sandbox rate at least half the baseline's (``>= 0.5``). It prints figures and
ratios, wall clock and per server CPU second; nothing is asserted. ``--orders 200 --rounds 1
--windows 2`` is a quick smoke run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec
import uvloop

from bench.__main__ import environment, pin_client
from bench.loadgen import Pool, build_request
from bench.scenario import API, BALANCE, PRESIGN_AHEAD_MS, Measure, Signer, auth_headers, measure
from bench.servers import Server, sandbox_server
from kalshi_sandbox.client.auth import now_ms

ORDERS = API + "/portfolio/events/orders"
CONFIRM = API + "/communications/quotes/{}/confirm"
RESULTS = Path(__file__).parent / "results"
GOAL = 0.5
ASK_PRICE = "0.60"
_encode = msgspec.json.encode


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.orders",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--orders", type=int, default=3000,
                        help="orders of each kind per round (default 3000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--windows", type=int, default=4,
                        help="alternating baseline/sandbox windows per kind and round "
                             "(default 4)")
    parser.add_argument("--markets", type=int, default=20, help="markets (default 20)")
    parser.add_argument("--traders", type=int, default=20,
                        help="accounts placing the orders (default 20)")
    parser.add_argument("--connections", type=int, default=64,
                        help="keep-alive connections of the load generator (default 64)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.rounds < 1 or args.windows < 1:
        parser.error("--orders, --rounds and --windows must be positive")
    return args


@dataclass
class World:
    """The benchmark's markets and accounts (key ids; every account has the same key)."""

    markets: list[str]
    traders: list[str]
    maker: str


def setup_world(base_url: str, signer: Signer, markets: int, traders: int) -> World:
    """Create the markets and accounts through the control plane (not timed)."""
    with httpx.Client(base_url=base_url + "/sandbox/v1", timeout=60) as http:
        tickers = []
        for m in range(markets):
            ticker = f"KXBOOKBENCH-26DEC31-M{m:03d}"
            http.post("/markets", json={"ticker": ticker}).raise_for_status()
            tickers.append(ticker)

        def account(name: str) -> str:
            response = http.post("/accounts", json={
                "name": name, "balance_dollars": BALANCE, "public_key_pem": signer.public_pem})
            response.raise_for_status()
            return str(response.json()["key_id"])

        return World(tickers, [account(f"trader-{i}") for i in range(traders)],
                     account("book-maker"))


def order_body(ticker: str, side: str, price: str, count: str, tif: str) -> bytes:
    return _encode({"ticker": ticker, "side": side, "price": price, "count": count,
                    "time_in_force": tif, "self_trade_prevention_type": "taker_at_cross"})


def signed_posts(port: int, signer: Signer, key_ids: Sequence[str],
                 bodies: Sequence[bytes]) -> list[bytes]:
    """Return POSTs to the order path, round-robin over ``key_ids``, one signature each."""
    ts = now_ms() + PRESIGN_AHEAD_MS
    signature = signer.sign(ts, "POST", ORDERS)
    return [build_request("POST", ORDERS, port,
                          auth_headers(key_ids[i % len(key_ids)], ts, signature), body)
            for i, body in enumerate(bodies)]


def signed_puts(port: int, signer: Signer, key_ids: Sequence[str], count: int) -> list[bytes]:
    """Return signed confirm PUTs for the baseline (one signature per request: the path
    carries an id)."""
    ts = now_ms() + PRESIGN_AHEAD_MS
    out = []
    for i in range(count):
        path = CONFIRM.format(uuid.uuid4())
        out.append(build_request("PUT", path, port, auth_headers(
            key_ids[i % len(key_ids)], ts, signer.sign(ts, "PUT", path))))
    return out


def _chunks(items: Sequence[bytes], count: int) -> list[Sequence[bytes]]:
    size = -(-len(items) // max(1, count))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _expect(measured: Measure, status: int, what: str) -> None:
    if set(measured.statuses) != {status}:
        raise RuntimeError(f"{what}: unexpected statuses {dict(measured.statuses)}")


@dataclass
class Comparison:
    """One kind of order against the baseline PUT, over alternating windows."""

    name: str
    sandbox: Measure
    baseline: Measure
    ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "sandbox": self.sandbox.as_dict(),
                "baseline": self.baseline.as_dict(), "ratios": self.ratios,
                "cpu_ratios": self.cpu_ratios}


async def compare(name: str, sandbox: Server, pool: Pool, baseline: Server, base_pool: Pool,
                  requests: Sequence[bytes], puts: Sequence[bytes], windows: int,
                  status: int) -> Comparison:
    """Send ``requests`` to the sandbox and ``puts`` to the baseline in alternating windows."""
    total, base = Measure(name), Measure("baseline PUT")
    put_chunks = _chunks(puts, windows + 1)

    async def on_baseline(chunk: Sequence[bytes]) -> None:
        measured, _ = await measure("baseline PUT", baseline, lambda: base_pool.run(chunk))
        _expect(measured, 204, "baseline PUT")
        base.add(measured)

    async def on_sandbox(chunk: Sequence[bytes]) -> None:
        measured, _ = await measure(name, sandbox, lambda: pool.run(chunk))
        _expect(measured, status, name)
        total.add(measured)

    for index, chunk in enumerate(_chunks(requests, windows)):
        await on_baseline(put_chunks[index])
        await on_sandbox(chunk)
    await on_baseline(put_chunks[-1])
    ratio = total.rate / base.rate if base.rate else 0.0
    cpu_ratio = base.server_us / total.server_us if total.server_us else 0.0
    return Comparison(name, total, base, [ratio], [cpu_ratio])


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def run(args: argparse.Namespace, signer: Signer, sandbox: Server, baseline: Server,
              world: World) -> dict[str, list[Comparison]]:
    """Run every round; return the comparisons by kind."""
    pool = await Pool(sandbox.port, args.connections).open()
    base_pool = await Pool(baseline.port, args.connections).open()
    port, n = sandbox.port, args.orders
    results: dict[str, list[Comparison]] = {"resting": [], "crossing": []}
    try:
        # One large ask per market for the crossing orders to take, and a warm-up.
        asks = signed_posts(port, signer, [world.maker], [
            order_body(t, "ask", ASK_PRICE, f"{n * args.rounds + 1000}.00",
                       "good_till_canceled") for t in world.markets])
        outcome = await pool.run(asks)
        if set(outcome.statuses) != {201}:
            raise RuntimeError(f"placing the asks: {dict(outcome.statuses)}")
        warm = signed_posts(port, signer, world.traders, [
            order_body(world.markets[i % len(world.markets)], "bid", "0.05", "1.00",
                       "good_till_canceled") for i in range(200)])
        await pool.run(warm)
        await base_pool.run(signed_puts(baseline.port, signer, world.traders, 200))
        for number in range(args.rounds):
            progress(f"round {number + 1}/{args.rounds}: {n} resting orders ...")
            bodies = [order_body(world.markets[i % len(world.markets)], "bid",
                                 f"0.{10 + i % 40:02d}", "1.00", "good_till_canceled")
                      for i in range(n)]
            requests = signed_posts(port, signer, world.traders, bodies)
            puts = signed_puts(baseline.port, signer, world.traders, n)
            results["resting"].append(await compare(
                "resting orders", sandbox, pool, baseline, base_pool, requests, puts,
                args.windows, 201))
            progress(f"round {number + 1}/{args.rounds}: {n} crossing orders ...")
            bodies = [order_body(world.markets[i % len(world.markets)], "bid", ASK_PRICE,
                                 "1.00", "immediate_or_cancel") for i in range(n)]
            requests = signed_posts(port, signer, world.traders, bodies)
            puts = signed_puts(baseline.port, signer, world.traders, n)
            results["crossing"].append(await compare(
                "crossing orders", sandbox, pool, baseline, base_pool, requests, puts,
                args.windows, 201))
        await verify(pool, port, signer, world, n * args.rounds)
    finally:
        pool.close()
        base_pool.close()
    return results


async def verify(pool: Pool, port: int, signer: Signer, world: World, crossed: int) -> None:
    """Check the crossing orders traded: the markets' volumes add up to their count."""
    volume = 0.0
    for ticker in world.markets:
        path = f"{API}/markets/{ticker}"
        ts = now_ms()
        status, body = await pool.connections[0].request(build_request(
            "GET", path, port, auth_headers(world.maker, ts, signer.sign(ts, "GET", path))))
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        volume += float(json.loads(body)["market"]["volume_fp"])
    if round(volume) != crossed:
        raise RuntimeError(f"the markets traded {volume} contracts, expected {crossed}")


HEAD = (f"  {'measurement':<26} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'srv us/req':>10} {'srv busy':>8} {'srv wait':>8}")


def _row(label: str, m: Measure) -> None:
    print(f"  {label:<26} {m.requests:>8,} {m.rate:>7,.0f} {m.percentile_ms(0.5):>7.1f} "
          f"{m.percentile_ms(0.99):>7.1f} {m.server_us:>10.0f} "
          f"{m.share(m.server_run):>8.0%} {m.share(m.server_wait):>8.0%}")


def report(args: argparse.Namespace, env: dict[str, Any], server_core: int | None,
           results: dict[str, list[Comparison]]) -> dict[str, Any]:
    """Print the tables; return the JSON document."""
    pinned = (f"server on core {server_core}, load generator on core {args.client_core}"
              if server_core is not None else "not pinned")
    print()
    print(f"Signed V2 order entry vs bare signed Starlette PUT: {pinned}, "
          f"{args.connections} connections, {args.windows} alternating windows per round")
    print(f"  {env['cpu']}; Python {env['python']}; load average at start "
          f"{env['load_average'][0]:.2f}; commit {env['commit']}")
    summary: dict[str, Any] = {}
    for kind, comparisons in results.items():
        print()
        print(HEAD)
        for number, c in enumerate(comparisons, 1):
            _row(f"round {number}: baseline PUT", c.baseline)
            _row(f"round {number}: {c.name}", c.sandbox)
        ratios = [r for c in comparisons for r in c.ratios]
        cpu = [r for c in comparisons for r in c.cpu_ratios]
        rate = statistics.median(c.sandbox.rate for c in comparisons)
        print(f"  {kind}: {rate:,.0f}/s; ratio {statistics.median(ratios):.2f} (median; rounds "
              f"{', '.join(f'{r:.2f}' for r in ratios)}), by server CPU "
              f"{statistics.median(cpu):.2f} (rounds {', '.join(f'{r:.2f}' for r in cpu)}); "
              f"goal >= {GOAL}")
        summary[kind] = {"per_second": rate, "ratio": statistics.median(ratios),
                         "cpu_ratio": statistics.median(cpu), "goal": GOAL,
                         "rounds": [c.as_dict() for c in comparisons]}
    print()
    return {"environment": env, "settings": vars(args), "server_core": server_core,
            "orders": summary}


def main(argv: list[str] | None = None) -> None:
    """Run the order-entry benchmark and print its tables."""
    args = parse_args(argv)
    server_core = args.server_core if pin_client(args.client_core) else None
    env = environment()
    workdir = Path(tempfile.mkdtemp(prefix="kalshi-bench-orders-"))
    signer = Signer.generate()
    servers: list[Server] = []
    try:
        progress("starting servers ...")
        sandbox = sandbox_server(workdir, server_core)
        servers.append(sandbox.start())
        world = setup_world(sandbox.base_url, signer, args.markets, args.traders)
        keys = workdir / "keys.json"
        keys.write_text(json.dumps({"public_key_pem": signer.public_pem,
                                    "key_ids": [*world.traders, world.maker]}))
        baseline = Server("baseline", ["-m", "bench.baseline", "--keys", str(keys)], "/",
                          server_core, workdir / "baseline.log")
        servers.append(baseline.start())
        results = uvloop.run(run(args, signer, sandbox, baseline, world))
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    document = report(args, env, server_core, results)
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / time.strftime("bench-orders-%Y%m%d-%H%M%S.json")
        path.write_text(json.dumps(document, indent=2))
        print(f"results: {path}")


if __name__ == "__main__":
    main()
