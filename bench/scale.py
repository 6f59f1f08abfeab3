"""Scale figure: p99 of each list and get at a large database against a small one.

``python -m bench.scale`` (part of ``make bench``) builds two databases **in process, through
the service layer** (the exchange's use cases: create RFQ, create quote, accept, confirm,
execute by advancing the manual clock, delete RFQ), with no HTTP and no signatures, and the
journal off (it plays no part in reads). Then it sends each read through the sandbox's ASGI
app in process (routes, reads, rendering; no sockets, no signatures: the request acts as its
account, as a journal replay does), ``--samples`` times against each database, alternating
between the two so that both see the same stretch of a noisy machine, and prints the p99 of
each at the large database against the small one. Goal: every ratio <= 1.5.

Shape of the data: 100 markets; RFQs of 10 contracts, each quoted by 10 makers; one RFQ in
``--executed`` runs its whole lifecycle (accept, confirm, execute: orders, fills, positions),
the others are deleted by their requester (their quotes cancelled). The requester measured
("requester-0") creates a share of the RFQs that keeps its quote list larger than a page at
both sizes. Pages of the portfolio and trade lists are 20 rows, so the two databases return
pages of the same size.

Nothing is asserted; the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote as urlquote

import msgspec

from bench.journal import CONTROL, Driver, settings
from kalshi_sandbox.bootstrap import Sandbox, build
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.exchange.commands import Actor, CreateQuote, CreateRfq

API = "/trade-api/v2"
COMM = API + "/communications"
MARKETS = 100
MAKERS = 10
RFQS_PER_REQUESTER = 2_000
"""RFQs each requester creates (in waves of one per market): more requesters at more quotes."""
CONCURRENCY = 64


@dataclass
class State:
    """One built sandbox and who to read as."""

    box: Sandbox
    driver: Driver
    quotes: int
    seconds: float
    requester: Actor
    maker: Actor
    rfq_id: str = ""
    quote_id: str = ""
    order_id: str = ""
    ticker: str = ""
    cursors: dict[str, str] = field(default_factory=dict)


async def _gather(jobs: list[Any]) -> list[Any]:
    results: list[Any] = []
    for start in range(0, len(jobs), CONCURRENCY):
        results.extend(await asyncio.gather(*jobs[start:start + CONCURRENCY]))
    return results


async def build_state(workdir: Path, quotes: int, executed: int) -> State:
    """Build a sandbox holding about ``quotes`` quotes (see the module docstring)."""
    started = time.perf_counter()
    box = build(settings(workdir, journal=False))
    await box.start()
    driver = Driver(box)
    exchange = box.exchange
    tickers = [f"KXSCALE-26DEC31-M{m:03d}" for m in range(MARKETS)]
    for ticker in tickers:
        await driver.ok(201, "POST", CONTROL + "/markets", {"ticker": ticker})
    rfqs = max(1, quotes // MAKERS)
    requesters = [await driver.account(f"requester-{i}")
                  for i in range(max(1, -(-rfqs // RFQS_PER_REQUESTER)))]
    makers = [await driver.account(f"maker-{i}") for i in range(MAKERS)]
    made = 0
    wave = 0
    while made < rfqs:
        # One wave: each requester opens an RFQ on each market (at most 100 open each).
        count = min(rfqs - made, len(requesters) * MARKETS)
        slots = [(requesters[i // MARKETS], tickers[i % MARKETS]) for i in range(count)]
        opened = await _gather([exchange.create_rfq(r, CreateRfq(
            market_ticker=t, rest_remainder=False, contracts=1_000)) for r, t in slots])
        quoted = await _gather([exchange.create_quote(m, CreateQuote(
            rfq_id=rfq.id, yes_bid=4_000 + 100 * n, no_bid=5_000, rest_remainder=False))
            for rfq in opened for n, m in enumerate(makers)])
        chosen = [(slots[i][0], quoted[i * MAKERS], makers[0])
                  for i in range(count) if (made + i) % executed == 0]
        await _gather([exchange.accept_quote(r, q.id, Side.YES) for r, q, _ in chosen])
        await _gather([exchange.confirm_quote(m, q.id) for _, q, m in chosen])
        chosen_rfqs = {q.rfq_id for _, q, _ in chosen}
        await _gather([exchange.delete_rfq(slots[i][0], rfq.id)
                       for i, rfq in enumerate(opened) if rfq.id not in chosen_rfqs])
        await driver.ok(200, "POST", CONTROL + "/clock/advance", {"seconds": 16})
        made += count
        wave += 1
    state = State(box, driver, rfqs * MAKERS, time.perf_counter() - started,
                  requesters[0], makers[0])
    listed = await driver.ok(200, "GET", COMM + "/quotes", None, state.requester)
    quote = listed["quotes"][0]
    state.quote_id, state.rfq_id = quote["id"], quote["rfq_id"]
    orders = await driver.ok(200, "GET", API + "/portfolio/orders", None, state.requester)
    state.order_id = orders["orders"][0]["order_id"]
    state.ticker = orders["orders"][0]["ticker"]
    for name, (path, query, actor) in _paged().items():
        page = await _get(state, path, query, state.requester if actor == "r" else state.maker)
        state.cursors[name] = page["cursor"]
    return state


def _paged() -> dict[str, tuple[str, str, str]]:
    """Lists read at their second page: path, query, as whom (r requester, m maker)."""
    return {"quotes, requester, limit=100, page 2": (COMM + "/quotes", "limit=100", "r"),
            "fills, page 2": (API + "/portfolio/fills", "limit=20", "r")}


async def _get(state: State, path: str, query: str, actor: Actor) -> Any:
    status, body = await state.driver.send("GET", path, query, b"", actor)
    if status != 200:
        raise RuntimeError(f"GET {path}?{query}: {status} {body[:300]!r}")
    return msgspec.json.decode(body)


def reads(state: State) -> dict[str, tuple[str, str, Actor]]:
    """Every read measured: name -> (path, query, as whom)."""
    r, m = state.requester, state.maker
    paged = {name: (path, f"{query}&cursor={urlquote(state.cursors[name])}",
                    r if who == "r" else m)
             for name, (path, query, who) in _paged().items()}
    return {
        "quotes, requester, default limit": (COMM + "/quotes", "", r),
        "quotes, requester, limit=100": (COMM + "/quotes", "limit=100", r),
        "quotes, requester, limit=100, page 2": paged["quotes, requester, limit=100, page 2"],
        "quotes, maker, limit=100": (COMM + "/quotes", "limit=100", m),
        "quotes, requester, status=executed": (COMM + "/quotes",
                                               "limit=20&status=executed", r),
        "quotes, requester, rfq_id": (COMM + "/quotes", f"rfq_id={state.rfq_id}", r),
        "quote by id": (f"{COMM}/quotes/{state.quote_id}", "", r),
        "rfqs": (COMM + "/rfqs", "limit=20", r),
        "rfqs, mine": (COMM + "/rfqs", "limit=20&user_filter=self", r),
        "rfqs, market, open": (COMM + "/rfqs", f"limit=20&market_ticker={state.ticker}"
                               "&status=open", r),
        "rfq by id": (f"{COMM}/rfqs/{state.rfq_id}", "", r),
        "fills": (API + "/portfolio/fills", "limit=20", r),
        "fills, page 2": paged["fills, page 2"],
        "orders": (API + "/portfolio/orders", "limit=20", r),
        "order by id": (f"{API}/portfolio/orders/{state.order_id}", "", r),
        "positions": (API + "/portfolio/positions", "limit=20", r),
        "markets": (API + "/markets", "limit=20", r),
        "trades": (API + "/markets/trades", "limit=20", r),
        "trades, market": (API + "/markets/trades", f"limit=20&ticker={state.ticker}", r),
    }


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


async def measure(small: State, large: State, samples: int) -> dict[str, dict[str, float]]:
    """Time each read ``samples`` times at each size, alternating; return p50 and p99 (ms)."""
    small_reads, large_reads = reads(small), reads(large)
    times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in small_reads}
    for _ in range(samples):
        for name in small_reads:
            for state, table, index in ((small, small_reads, 0), (large, large_reads, 1)):
                path, query, actor = table[name]
                started = time.perf_counter()
                status, _ = await state.driver.send("GET", path, query, b"", actor)
                times[name][index].append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{name}: status {status}")
    result = {}
    for name, (little, big) in times.items():
        result[name] = {"small_p50_ms": sorted(little)[len(little) // 2] * 1e3,
                        "small_p99_ms": p99(little) * 1e3,
                        "large_p50_ms": sorted(big)[len(big) // 2] * 1e3,
                        "large_p99_ms": p99(big) * 1e3,
                        "ratio": p99(big) / p99(little)}
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        print("scale: databases built in process through the service layer (the exchange's "
              "use cases, journal off); reads sent through the ASGI app in process (no "
              "sockets, no signatures)", flush=True)
        large = await build_state(root / "large", args.quotes, args.executed)
        print(f"  large: {large.quotes:,} quotes built in {large.seconds:.0f} s", flush=True)
        small = await build_state(root / "small", args.small, args.executed)
        print(f"  small: {small.quotes:,} quotes built in {small.seconds:.1f} s", flush=True)
        try:
            figures = await measure(small, large, args.samples)
        finally:
            await large.box.stop()
            await small.box.stop()
        print(f"p99 of {args.samples} reads each, {large.quotes:,} quotes against "
              f"{small.quotes:,} (goal: ratio <= 1.5)")
        print(f"  {'read':38} {'small p99':>10} {'large p99':>10} {'ratio':>7}   "
              f"{'p50 small':>9} {'large':>8}")
        for name, row in figures.items():
            print(f"  {name:38} {row['small_p99_ms']:8.2f}ms {row['large_p99_ms']:8.2f}ms "
                  f"{row['ratio']:6.2f}x   {row['small_p50_ms']:7.2f}ms "
                  f"{row['large_p50_ms']:6.2f}ms")
        worst = max(figures.items(), key=lambda item: item[1]["ratio"])
        print(f"  worst ratio {worst[1]['ratio']:.2f} ({worst[0]})", flush=True)
        return {"large_quotes": large.quotes, "small_quotes": small.quotes, "reads": figures}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quotes", type=int, default=200_000,
                        help="quotes in the large database (default 200000)")
    parser.add_argument("--small", type=int, default=1_000,
                        help="quotes in the small database (default 1000)")
    parser.add_argument("--executed", type=int, default=2,
                        help="one RFQ in this many executes (default 2)")
    parser.add_argument("--samples", type=int, default=300,
                        help="times each read is sent to each database (default 300)")
    args = parser.parse_args(argv)
    if min(args.quotes, args.small, args.executed, args.samples) < 1:
        parser.error("every option must be positive")
    import uvloop

    uvloop.run(run(args))


if __name__ == "__main__":
    main()
