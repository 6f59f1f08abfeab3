"""End to end: one market's whole life against a real server process.

The market is created before its open time (``initialized``), opens when the sandbox clock
reaches it, trades through an RFQ execution and on the book, closes at its close time (its
resting order cancelled, its open RFQ closed) and settles from the control plane. Every view
of the outcome must agree: settlements, balances, positions, the lifecycle and position
messages, and the money, which neither appears nor vanishes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tests.api.support import execute, server_now_seconds
from tests.support.server import Control, ServerProcess, Trader
from tests.ws.client import OpenSocket, open_sockets

D = Decimal
TICKER = "KXLIFE-26DEC31-T1"
V2 = "/portfolio/events/orders"
START = D(1000)


@pytest.fixture
def sockets(server: ServerProcess) -> Iterator[OpenSocket]:
    yield from open_sockets(server.base_url)


def rfc3339(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def order(side: str, price: str, count: str, tif: str = "good_till_canceled") -> dict[str, Any]:
    return {"ticker": TICKER, "side": side, "price": price, "count": count,
            "time_in_force": tif, "self_trade_prevention_type": "taker_at_cross"}


def balance(trader: Trader) -> D:
    return D(trader.balance()["balance_dollars"])


def fees(trader: Trader) -> D:
    fills = ok(trader.get("/portfolio/fills", params={"ticker": TICKER}))["fills"]
    return sum((D(f["fee_cost"]) for f in fills), D(0))


def positions(trader: Trader) -> dict[str, D]:
    body = ok(trader.get("/portfolio/positions", params={"ticker": TICKER}))
    return {p["ticker"]: D(p["position_fp"]) for p in body["market_positions"]}


def test_one_market_from_creation_to_settlement_keeps_every_view_and_the_money_in_agreement(
        control: Control, sockets: OpenSocket) -> None:
    alice, bob, carol = (control.trader(n) for n in ("alice", "bob", "carol"))
    traders = {"alice": alice, "bob": bob, "carol": carol}
    watch = sockets(carol)
    watch.subscribe("market_lifecycle_v2")
    position_feeds = {}
    for name, trader in traders.items():
        ws = sockets(trader)
        ws.subscribe("market_positions")
        position_feeds[name] = ws

    now = server_now_seconds(control)
    created = control.market(TICKER, open_time=rfc3339(now + 60),
                             close_time=rfc3339(now + 3600),
                             event_title="Life of a market", series_title="Life")
    assert created["status"] == "initialized"
    assert created["event_ticker"] == "KXLIFE-26DEC31"
    refused = alice.post("/communications/rfqs", json={"market_ticker": TICKER,
                                                       "contracts_fp": "1.00",
                                                       "rest_remainder": False})
    assert refused.status_code in (400, 409), refused.text

    # The event and series exist with the market, and list it.
    event = ok(alice.get(f"/events/{created['event_ticker']}",
                         params={"with_nested_markets": "true"}))["event"]
    assert (event["series_ticker"], event["title"]) == ("KXLIFE", "Life of a market")
    assert [m["ticker"] for m in event["markets"]] == [TICKER]
    assert ok(alice.get("/series/KXLIFE"))["series"]["title"] == "Life"

    # Open at open_time, with no message (Kalshi sends none for the implicit open).
    control.advance(60)
    assert ok(alice.get(f"/markets/{TICKER}"))["market"]["status"] == "active"

    # Trading: an RFQ execution (alice buys 10 YES from bob) and book trades.
    execute(control, alice, bob, TICKER, contracts="10", yes_bid="0.40", no_bid="0.55")
    ok(carol.post(V2, json=order("bid", "0.56", "5")), 201)
    ok(bob.post(V2, json=order("ask", "0.56", "5", "immediate_or_cancel")), 201)
    resting = ok(carol.post(V2, json=order("bid", "0.30", "3")), 201)["order_id"]
    open_rfq = carol.create_rfq(TICKER, "2")

    held = {name: positions(t).get(TICKER, D(0)) for name, t in traders.items()}
    assert held == {"alice": D(10), "bob": D(-15), "carol": D(5)}
    open_interest = D(ok(alice.get(f"/markets/{TICKER}"))["market"]["open_interest_fp"])
    assert open_interest == 15
    total_fees = sum((fees(t) for t in traders.values()), D(0))
    # Before settlement, the open contracts hold $1 each of the traders' money.
    assert sum(balance(t) for t in traders.values()) + total_fees + open_interest == 3 * START

    # Close at close_time: the resting order is cancelled and the open RFQ closed.
    control.advance(3600)
    market = ok(alice.get(f"/markets/{TICKER}"))["market"]
    assert market["status"] == "closed"
    cancelled = ok(carol.get(f"/portfolio/orders/{resting}"))["order"]
    assert cancelled["status"] == "canceled"
    rfq = carol.rfq(open_rfq)
    assert (rfq["status"], rfq["cancellation_reason"]) == ("closed", "market_closed")
    refused = carol.post(V2, json=order("bid", "0.50", "1"))
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "market_closed"

    before = {name: balance(t) for name, t in traders.items()}
    settled = control.call("POST", f"/markets/{TICKER}/settle", {"result": "yes"})
    assert (settled["status"], settled["result"]) == ("finalized", "yes")
    assert settled["settlement_value_dollars"] == "1.0000"

    # Settlements: one per position, paying $1 per YES contract, nothing per NO contract.
    for name, trader in traders.items():
        rows = ok(trader.get("/portfolio/settlements"))["settlements"]
        assert len(rows) == 1, rows
        row = rows[0]
        assert (row["ticker"], row["event_ticker"], row["market_result"]) == (
            TICKER, "KXLIFE-26DEC31", "yes")
        yes, no = max(held[name], D(0)), max(-held[name], D(0))
        assert (D(row["yes_count_fp"]), D(row["no_count_fp"])) == (yes, no)
        assert row["revenue"] == int(yes * 100)
        assert row["value"] == 100
        assert D(row["fee_cost"]) == fees(trader)
        assert balance(trader) == before[name] + yes
        cost = D(row["yes_total_cost_dollars"]) + D(row["no_total_cost_dollars"])
        assert cost > 0
        # Positions are cleared: the settled market is gone from the positions list.
        assert positions(trader) == {}
    assert ok(alice.get(f"/markets/{TICKER}"))["market"]["open_interest_fp"] == "0.00"

    # Money is conserved: what the traders hold plus the fees they paid is what they had.
    total = sum(balance(t) for t in traders.values()) + total_fees
    assert total == 3 * START

    # Lifecycle messages: the event's creation, the market's, then determined and settled
    # (no message for the implicit open or close).
    drained = watch.drain()
    [event_created] = [f["msg"] for f in drained if f["type"] == "event_lifecycle"]
    assert (event_created["event_ticker"], event_created["series_ticker"],
            event_created["title"]) == ("KXLIFE-26DEC31", "KXLIFE", "Life of a market")
    frames = [f for f in drained if f["type"] == "market_lifecycle_v2"]
    assert [(f["msg"]["event_type"], f["msg"]["market_ticker"]) for f in frames] == [
        ("created", TICKER), ("determined", TICKER), ("settled", TICKER)]
    assert frames[0]["msg"]["open_ts"] == now + 60
    assert frames[0]["msg"]["close_ts"] == now + 3600
    assert (frames[1]["msg"]["result"], frames[1]["msg"]["settlement_value"]) == (
        "yes", "1.0000")
    assert frames[2]["msg"]["settled_ts"] >= now + 3600

    # Each holder heard its position drop to zero.
    for name, ws in position_feeds.items():
        updates = [f["msg"] for f in ws.drain() if f["type"] == "market_position"]
        assert updates[-1]["position_fp"] == "0.00", (name, updates)
        assert D(updates[0]["position_fp"]) != 0
