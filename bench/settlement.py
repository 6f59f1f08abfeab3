"""In-process cost of a market's life: settling a market with many positions, and reading
pages of events with their markets nested.

``python -m bench.settlement --positions 10000`` fills an SQLite store (a file, as ``serve``
uses) with one market and that many positions held by as many accounts, then times the one
transaction that settles it: a settlement row, a balance update and a deleted position per
holder. The baseline is the same transaction on a market nobody holds, measured in the same
run; the figure of interest is the time per position. It then times reading 200 events
with 5 markets each through ``GET /events?with_nested_markets=true``'s use case, page by
page (the baseline: the same pages without nested markets). Figures are wall-clock on one
process; run it pinned (``taskset -c 1``) on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from kalshi_sandbox.domain.account import Account
from kalshi_sandbox.domain.clock import MICROS, ManualClock
from kalshi_sandbox.domain.portfolio import Position
from kalshi_sandbox.domain.queries import EventQuery
from kalshi_sandbox.domain.rules import Rules
from kalshi_sandbox.exchange.bus import Hub
from kalshi_sandbox.exchange.catalog import Catalog
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.ids import IdGenerator
from kalshi_sandbox.exchange.lifecycle import Lifecycle
from kalshi_sandbox.exchange.markets import Markets, MarketSpec
from kalshi_sandbox.storage.sqlite import SqliteStore

START = 1_790_000_000 * MICROS


async def _settle(directory: Path, holders: int) -> float:
    store = SqliteStore(directory / f"settle-{holders}.db")
    await store.open()
    clock = ManualClock(START)
    exchange = Exchange(store, clock, Hub(), Rules(), IdGenerator(seed=1))
    lifecycle = Lifecycle(exchange)
    markets = Markets(exchange, lifecycle)
    ticker = "KXBENCH-26DEC31-T1"
    await markets.create_market(MarketSpec(ticker=ticker))
    async with store.transaction() as tx:
        for number in range(holders):
            user = f"user-{number}"
            await tx.insert_account(Account(user, user, f"c{number}", START))
            await tx.set_balance(user, 0, 1_000_000_000, START)
            side = 1 if number % 2 else -1
            await tx.upsert_position(Position(user, 0, ticker, side * 1_000, 4_000_000,
                                              4_000_000, 0, 70_000, START))
    started = time.perf_counter()
    await lifecycle.settle(ticker, "yes")
    elapsed = time.perf_counter() - started
    await store.close()
    return elapsed


async def _events(directory: Path, events: int, per_event: int) -> tuple[float, float]:
    store = SqliteStore(directory / "events.db")
    await store.open()
    clock = ManualClock(START)
    exchange = Exchange(store, clock, Hub(), Rules(), IdGenerator(seed=1))
    markets = Markets(exchange)
    for event in range(events):
        for market in range(per_event):
            await markets.create_market(MarketSpec(ticker=f"KXEV{event:04d}-26DEC31-T{market}"))
    catalog = Catalog(store, clock)
    timings = []
    for nested in (False, True):
        started = time.perf_counter()
        after = None
        while True:
            page = await catalog.list_events(EventQuery(limit=100, after=after), nested=nested)
            if page.next is None:
                break
            after = page.next[1]
        timings.append(time.perf_counter() - started)
    await store.close()
    return timings[0], timings[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--positions", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        base = asyncio.run(_settle(directory, 0))
        full = asyncio.run(_settle(directory, args.positions))
        per = (full - base) / max(args.positions, 1)
        print(f"settle, no positions (baseline): {base * 1e3:.2f} ms")
        print(f"settle, {args.positions} positions: {full * 1e3:.1f} ms "
              f"({per * 1e6:.1f} us per position, {full / base:.0f}x the baseline)")
        flat, nested = asyncio.run(_events(directory, 200, 5))
        print(f"GET /events, 200 events in pages of 100: {flat * 1e3:.2f} ms (baseline); "
              f"with 5 nested markets each: {nested * 1e3:.2f} ms ({nested / flat:.1f}x)")


if __name__ == "__main__":
    main()
