"""Benchmark the ``orderbook_delta`` fan-out: one market's book changes reaching 1,000
subscribers.

``python -m bench.bookws`` (part of ``make bench``) starts a sandbox (``kalshi-sandbox serve
--clock manual --rate-limit off``, SQLite in a temporary directory, pinned to one core when
two are available) and, in this process on the other core, opens ``--connections`` WebSocket
connections subscribed to ``orderbook_delta`` on one market (each gets its snapshot). Then,
``--orders`` times, it sends a signed V2 order that rests on that market and measures the time
from sending the request to the moment the last connection has received the
``orderbook_delta`` it caused (each order has its own count, so its delta is recognisable).
Goal: last delivery p99 at most 50 ms. The client side is bench/ws.py's lean one (raw sockets,
no JSON parsing of data frames), so the figures are the server's. Nothing is asserted;
``--connections 100 --orders 20`` is a quick smoke run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.servers import sandbox_server
from bench.ws import (
    API,
    RESULTS,
    Http,
    Identity,
    Tally,
    http_request,
    make_account,
    open_listeners,
    pin,
    summary,
)

GOAL_MS = 50.0
MARKET = "KXBOOKWS-26DEC31-T50"
ORDERS = API + "/portfolio/events/orders"
DELTA = b'{"type":"orderbook_delta",'
DELTA_FP = b'"delta_fp":"'


class DeltaTally(Tally):
    """Counts, per ``delta_fp``, how many connections received that delta, and when the last
    one did."""

    def __init__(self, audience: int) -> None:
        super().__init__(audience)
        self.deltas: dict[bytes, int] = {}
        self.delivered: dict[bytes, float] = {}
        self.snapshots = 0

    def text(self, payload: bytes) -> None:
        if payload.startswith(DELTA):
            start = payload.find(DELTA_FP) + len(DELTA_FP)
            key = payload[start:payload.find(b'"', start)]
            seen = self.deltas.get(key, 0) + 1
            self.deltas[key] = seen
            if seen == self.audience:
                self.delivered[key] = time.perf_counter()
                self._wake()
        elif payload.startswith(b'{"type":"orderbook_snapshot"'):
            self.snapshots += 1
        else:
            super().text(payload)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.bookws",
                                     description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--connections", type=int, default=1000,
                        help="subscribed WebSocket connections (default 1000)")
    parser.add_argument("--orders", type=int, default=200,
                        help="resting orders placed, one at a time (default 200)")
    parser.add_argument("--listener-accounts", type=int, default=10,
                        help="accounts the connections are spread over (default 10)")
    parser.add_argument("--server-core", type=int, default=0)
    parser.add_argument("--client-core", type=int, default=1)
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/")
    return parser.parse_args(argv)


async def place(port: int, trader: Identity, tally: DeltaTally, orders: int,
                offset: int = 0) -> list[float]:
    """Place ``orders`` resting bids; return request-to-last-delivery times."""
    http = await Http(port).open()
    latencies: list[float] = []
    try:
        for i in range(orders):
            count = f"{offset + i + 1}.00"
            body = json.dumps({"ticker": MARKET, "side": "bid", "price": "0.30",
                               "count": count, "time_in_force": "good_till_canceled",
                               "self_trade_prevention_type": "taker_at_cross"}).encode()
            request = http_request("POST", ORDERS, port, trader.headers("POST", ORDERS), body)
            started = time.perf_counter()
            http.send(request)
            status, answer = await http.response()
            assert status == 201, answer
            latencies.append(await tally.reached(tally.delivered, count.encode()) - started)
    finally:
        http.close()
    return latencies


async def measure(args: argparse.Namespace, port: int, listeners: list[Identity],
                  trader: Identity, sandbox: Any) -> dict[str, Any]:
    """Open the connections, warm up, and measure."""
    print(f"opening {args.connections} WebSocket connections ...", file=sys.stderr,
          flush=True)
    tally = DeltaTally(args.connections)
    sockets = await open_listeners(port, listeners, args.connections, tally, {
        "channels": ["orderbook_delta"], "market_tickers": [MARKET]})
    try:
        await tally.until(lambda: tally.snapshots >= args.connections)
        warm = 10
        await place(port, trader, tally, warm)
        print(f"placing {args.orders} orders ...", file=sys.stderr, flush=True)
        run_before, wait_before = sandbox.times()
        wall = time.perf_counter()
        latencies = await place(port, trader, tally, args.orders, offset=warm)
        wall = time.perf_counter() - wall
        run_after, wait_after = sandbox.times()
        dropped = tally.closed
    finally:
        for socket in sockets:
            socket.close()
    return {"connections": args.connections,
            "delta": {**summary(latencies), "goal_p99_ms": GOAL_MS,
                      "frames_per_second": args.connections * args.orders / wall,
                      "server_cpu_ms_per_order": 1000 * (run_after - run_before) / args.orders,
                      "server_cpu_share": (run_after - run_before) / wall,
                      "server_waiting_share": (wait_after - wait_before) / wall},
            "connections_dropped": dropped}


def report(results: dict[str, Any]) -> None:
    """Print the figures."""
    d = results["delta"]
    print()
    print(f"orderbook_delta fan-out, {results['connections']} subscribed connections, one "
          "market")
    print(f"  resting order -> last delivery of its delta, {d['count']} orders: p50 "
          f"{d['p50_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms, max {d['max_ms']:.1f} ms "
          f"(goal p99 <= {d['goal_p99_ms']:.0f} ms)")
    print(f"  {d['frames_per_second']:,.0f} frames/s delivered; server CPU "
          f"{d['server_cpu_ms_per_order']:.1f} ms per order, busy {d['server_cpu_share']:.0%}"
          f" and waiting for a CPU held by other processes {d['server_waiting_share']:.0%}")
    if results["connections_dropped"]:
        print(f"  warning: {results['connections_dropped']} connections were dropped")
    print()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the orderbook_delta fan-out benchmark."""
    args = parse_args(argv)
    server_core, _ = pin(args.client_core, args.server_core)
    workdir = Path(tempfile.mkdtemp(prefix="kalshi-bench-bookws-"))
    sandbox = sandbox_server(workdir, server_core)
    try:
        sandbox.start()
        with httpx.Client(base_url=sandbox.base_url + "/sandbox/v1", timeout=30) as control:
            control.post("/markets", json={"ticker": MARKET}).raise_for_status()
            listeners = [make_account(control, f"listener{n}")
                         for n in range(args.listener_accounts)]
            trader = make_account(control, "trader", "100000000")
        import uvloop

        results = uvloop.run(measure(args, sandbox.port, listeners, trader, sandbox))
    finally:
        sandbox.stop()
    report(results)
    if not args.no_json:
        RESULTS.mkdir(exist_ok=True)
        path = RESULTS / time.strftime("bench-bookws-%Y%m%d-%H%M%S.json")
        path.write_text(json.dumps(results, indent=2))
        print(f"results written to {path}")
    return results


if __name__ == "__main__":
    main()
