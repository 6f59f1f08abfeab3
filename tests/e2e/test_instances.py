"""Two instances on one PostgreSQL database serve one exchange, even when one is killed.

Lifecycles are driven through both instances (the requester's calls through one, the
maker's through the other, alternating), with WebSocket subscribers on each. One instance
is SIGKILLed while executions it scheduled are still pending; the other fires them once
their instant has passed. Then: every confirmed quote executed exactly once (one fill per
order, two per quote), money is conserved, and every subscriber saw one gap-free history:
the survivor's all of it, the killed instance's a prefix, a restarted instance's a suffix.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support import postgres
from tests.support.server import Control, ServerProcess, Trader, free_port
from tests.ws.client import WsClient, open_ws

pytestmark = [pytest.mark.postgres, postgres.skip_if_down()]

MARKET = "KXTEST-26DEC31-T50"
MARKETS = [f"KXTEST-26DEC31-T{n}" for n in range(10, 24)]
"""One market per lifecycle: a requester has one open RFQ per market until it executes."""
EXECUTION_DELAY = 4.0
SHARED = ("--shared", "--no-seed", "--execution-delay", str(EXECUTION_DELAY),
          "--confirm-window", "60")


@dataclass
class Pair:
    """Two instances on one scratch schema."""

    schema: str
    a: ServerProcess
    b: ServerProcess


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    schema = postgres.new_schema()
    postgres.create(schema)
    url = postgres.url(schema)
    a = ServerProcess(tmp_path / "a", args=(*SHARED, "--db", url))
    b = ServerProcess(tmp_path / "b", args=(*SHARED, "--db", url))
    try:
        a.start()
        b.start()
        yield Pair(schema, a, b)
    finally:
        for server in (a, b):
            if server.process is not None and server.process.poll() is None:
                server.stop()
        postgres.drop_made()


def lifecycle(requester: Trader, maker: Trader, market: str = MARKET) -> tuple[str, str]:
    """Create, quote, accept and confirm; return (rfq id, quote id) once confirmed."""
    rfq_id = requester.create_rfq(market, "2")
    quote_id = maker.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    requester.accept(rfq_id, quote_id, "yes")
    maker.confirm(rfq_id, quote_id)
    return rfq_id, quote_id


def collect(ws: WsClient, until: set[str], seconds: float = 30) -> list[dict[str, Any]]:
    """Read data messages until every quote id in ``until`` has a ``quote_executed``."""
    frames: list[dict[str, Any]] = []
    waiting = set(until)
    deadline = time.monotonic() + seconds
    while waiting and time.monotonic() < deadline:
        try:
            frame = ws.recv(timeout=max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            break
        if "sid" in frame and "seq" in frame:
            frames.append(frame)
            if frame["type"] == "quote_executed":
                waiting.discard(frame["msg"]["quote_id"])
    assert not waiting, f"never heard of the execution of {sorted(waiting)}"
    return frames


def history(frames: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Return what each message is about, in order: (type, quote or RFQ id)."""
    return [(f["type"], f["msg"].get("quote_id") or f["msg"].get("id")) for f in frames]


@contextmanager
def closing(*clients: Control | Trader) -> Iterator[None]:
    """Close every client when the block ends."""
    try:
        yield
    finally:
        for client in clients:
            client.close()


def rows(schema: str, sql: str) -> list[Any]:
    async def run() -> list[Any]:
        connection = await asyncpg.connect(postgres.DSN, server_settings={
            "search_path": schema})
        try:
            return list(await connection.fetch(sql))
        finally:
            await connection.close()

    with_loop = asyncio.new_event_loop()
    try:
        return with_loop.run_until_complete(run())
    finally:
        with_loop.close()


def test_two_instances_execute_every_confirmed_quote_once_through_a_sigkill(
        pair: Pair) -> None:
    control_a, control_b = Control(pair.a.base_url), Control(pair.b.base_url)
    for ticker in MARKETS[::2]:
        control_a.market(ticker)
    for ticker in MARKETS[1::2]:
        control_b.market(ticker)
    markets = iter(MARKETS)
    requester_a = control_a.trader("requester", "1000")
    maker_a = control_a.trader("maker", "1000")
    requester_b = Trader(pair.b.base_url, requester_a.account)
    maker_b = Trader(pair.b.base_url, maker_a.account)
    with closing(control_a, control_b, requester_a, maker_a, requester_b, maker_b):
        run_through_a_kill(pair, requester_a, maker_a, requester_b, maker_b, markets)


def run_through_a_kill(pair: Pair, requester_a: Trader, maker_a: Trader, requester_b: Trader,
                       maker_b: Trader, markets: Iterator[str]) -> None:
    assert maker_b.balance()["balance_dollars"] == "1000.0000"  # B sees A's writes

    confirmed: list[str] = []
    with open_ws(pair.b.base_url, maker_a.account) as on_b:
        on_b.subscribe("communications")
        with open_ws(pair.a.base_url, maker_a.account) as on_a:
            on_a.subscribe("communications")
            # Through both: the requester on one instance, the maker on the other.
            for i in range(8):
                if i % 2:
                    confirmed.append(lifecycle(requester_a, maker_b, next(markets))[1])
                else:
                    confirmed.append(lifecycle(requester_b, maker_a, next(markets))[1])
            # Executions are pending in both instances' schedulers; A dies with its own.
            pair.a.kill(signal.SIGKILL)
            heard_on_a: list[dict[str, Any]] = []
            try:
                while True:
                    frame = on_a.recv(timeout=1)
                    if "seq" in frame:
                        heard_on_a.append(frame)
            except Exception:  # the connection died with its instance
                pass
        pending = rows(pair.schema, "SELECT subject FROM timers WHERE kind = 'execute'")
        assert pending, "the kill came too late to leave executions behind"
        for _ in range(4):  # B carries on alone
            confirmed.append(lifecycle(requester_b, maker_b, next(markets))[1])
        heard_on_b = collect(on_b, set(confirmed), seconds=EXECUTION_DELAY + 20)

        # A restarted instance joins; its subscribers hear what happens from then on.
        pair.a.start()
        with open_ws(pair.a.base_url, maker_a.account) as on_a_again:
            on_a_again.subscribe("communications")
            later = [lifecycle(requester_a, maker_b, next(markets))[1],
                     lifecycle(requester_b, maker_a, next(markets))[1]]
            confirmed += later
            heard_again = collect(on_a_again, set(later), seconds=EXECUTION_DELAY + 20)
            heard_on_b += collect(on_b, set(later), seconds=EXECUTION_DELAY + 20)

    # Every confirmed quote executed, exactly once: one fill per order, two per quote.
    quotes = {r["id"]: r for r in rows(pair.schema, "SELECT id, status, creator_order_id, "
                                                    "rfq_creator_order_id FROM quotes")}
    assert all(quotes[q]["status"] == "executed" for q in confirmed)
    fills = rows(pair.schema, "SELECT order_id, count(*) AS n FROM fills GROUP BY order_id")
    per_order = {r["order_id"]: r["n"] for r in fills}
    for quote_id in confirmed:
        quote = quotes[quote_id]
        assert per_order[quote["creator_order_id"]] == 1
        assert per_order[quote["rfq_creator_order_id"]] == 1
    assert sum(per_order.values()) == 2 * len(confirmed)
    assert rows(pair.schema, "SELECT * FROM timers WHERE kind = 'execute'") == []
    # Money is conserved: what the two paid is 2 contracts x $1 + fees, per quote.
    balances = sum(int(r["micros"]) for r in rows(pair.schema, "SELECT micros FROM balances"))
    fees = sum(int(r["fee"]) for r in rows(pair.schema, "SELECT fee FROM fills"))
    assert balances + fees + 2_000_000 * len(confirmed) == 2_000_000_000

    # Every subscriber saw one gap-free history: B all of it, A before its death a prefix,
    # A after its restart the part from its subscription on, each message once.
    for ws in (on_b, on_a_again):
        assert ws.gaps == []
    executed_on_b = [q for kind, q in history(heard_on_b) if kind == "quote_executed"]
    assert sorted(executed_on_b) == sorted(confirmed)
    assert history(heard_on_a) == history(heard_on_b)[:len(heard_on_a)]
    tail = history(heard_again)
    assert tail
    assert tail == history(heard_on_b)[-len(tail):]


def test_serve_workers_runs_several_processes_on_one_port(tmp_path: Path) -> None:
    schema = postgres.new_schema()
    postgres.create(schema)
    port = free_port()
    command = [sys.executable, "-m", "kalshi_sandbox", "serve", "--port", str(port),
               "--data-dir", str(tmp_path), "--db", postgres.url(schema), "--workers", "2",
               "--no-seed", "--log-level", "warning"]
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "KALSHI_SANDBOX_RATE_LIMIT": "basic"})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/sandbox/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        control = Control(base)
        control.market(MARKET)
        requester, maker = control.trader("requester"), control.trader("maker")
        with closing(control, requester, maker):
            lifecycle(requester, maker)
        # Two instances of one exchange: two processes with a connection each to its schema.
        backends = rows(schema, "SELECT count(DISTINCT client_port) AS n FROM "
                                "pg_stat_activity WHERE application_name = 'kalshi-sandbox' "
                                "AND query NOT LIKE '%pg_stat_activity%' AND datname = "
                                "current_database()")
        assert backends[0]["n"] >= 2
        # Powers that need the only instance say so.
        refused = httpx.post(base + "/sandbox/v1/clock/advance", json={"seconds": 1})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "single_instance_only"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        postgres.drop_made()


def test_rate_limit_buckets_are_shared_by_the_instances(tmp_path: Path) -> None:
    schema = postgres.new_schema()
    postgres.create(schema)
    limited = {"KALSHI_SANDBOX_RATE_LIMIT": "basic"}
    args = ("--shared", "--no-seed", "--db", postgres.url(schema))
    a = ServerProcess(tmp_path / "a", args=args, env=limited).start()
    b = ServerProcess(tmp_path / "b", args=args, env=limited).start()
    try:
        control = Control(a.base_url)
        trader = control.trader("reader")
        through = [trader, Trader(b.base_url, trader.account)]
        with closing(control, *through):
            # Basic: reads cost 10 tokens from a bucket of 400 refilled at 200 a second.
            start = time.monotonic()
            answered = [through[i % 2].get("/portfolio/balance").status_code
                        for i in range(160)]
            elapsed = time.monotonic() - start
        allowed = answered.count(200)
        assert answered.count(429) == len(answered) - allowed
        # One bucket: 40 reads, plus 20 a second of refill. Two would allow twice that.
        assert allowed <= 40 + 20 * elapsed + 2, (allowed, elapsed)
        assert allowed >= 40
    finally:
        a.stop()
        b.stop()
        postgres.drop_made()


def test_a_reset_through_one_instance_reloads_the_others(pair: Pair) -> None:
    control_a, control_b = Control(pair.a.base_url), Control(pair.b.base_url)
    control_a.market(MARKET)
    trader_b = Trader(pair.b.base_url, control_a.trader("bidder", "1000").account)
    with closing(control_a, control_b, trader_b):
        placed = trader_b.post("/portfolio/events/orders", json={
            "ticker": MARKET, "side": "bid", "price": "0.40", "count": "5",
            "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross"})
        assert placed.status_code == 201, placed.text
        assert book_levels(pair.b) != []  # B's market-data view holds the bid
        control_a.reset()
        control_a.market(MARKET)  # the same ticker again, with an empty book
        # B's next transaction hears of the reset and reloads its views.
        deadline = time.monotonic() + 10
        while book_levels(pair.b) and time.monotonic() < deadline:
            assert httpx.get(f"{pair.b.base_url}/trade-api/v2/markets/{MARKET}").is_success
            time.sleep(0.1)
        assert book_levels(pair.b) == []


def book_levels(server: ServerProcess) -> list[Any]:
    """Return the YES bid levels of the market's REST order book (no signature needed)."""
    response = httpx.get(f"{server.base_url}/trade-api/v2/markets/{MARKET}/orderbook")
    assert response.status_code == 200, response.text
    book = response.json()["orderbook_fp"]
    return list(book.get("yes_dollars") or [])
