"""The market-data channels: orderbook_delta (snapshot then gap-free deltas), ticker, trade,
market_positions, as a crossing order on the book produces them."""

from __future__ import annotations

from typing import Any

from tests.conftest import MARKET
from tests.support.server import Control
from tests.ws.client import OpenSocket

V2 = "/portfolio/events/orders"


def order(side: str, price: str, count: str, tif: str = "good_till_canceled") -> dict[str, Any]:
    return {"ticker": MARKET, "side": side, "price": price, "count": count,
            "time_in_force": tif, "self_trade_prevention_type": "taker_at_cross"}


def test_crossing_orders_reach_every_market_channel(control: Control,
                                                    sockets: OpenSocket) -> None:
    alice, bob = control.trader("alice"), control.trader("bob")
    assert alice.post(V2, json=order("bid", "0.56", "10")).status_code == 201
    ws = sockets(alice)
    ws.subscribe("ticker", "trade", "market_positions", market_tickers=[MARKET])
    sids = ws.subscribe("orderbook_delta", market_tickers=[MARKET])
    snapshot = ws.drain()
    assert [(f["type"], f["seq"]) for f in snapshot] == [("orderbook_snapshot", 1)]
    assert snapshot[0]["msg"]["yes_dollars_fp"] == [["0.5600", "10.00"]]
    assert "no_dollars_fp" not in snapshot[0]["msg"]
    assert bob.post(V2, json=order("ask", "0.56", "4", "immediate_or_cancel")) \
        .status_code == 201
    assert bob.post(V2, json=order("ask", "0.60", "3")).status_code == 201
    frames = ws.drain()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for frame in frames:
        by_type.setdefault(frame["type"], []).append(frame)
    deltas = by_type["orderbook_delta"]
    assert [d["seq"] for d in deltas] == [2, 3]
    assert [(d["msg"]["side"], d["msg"]["price_dollars"], d["msg"]["delta_fp"])
            for d in deltas] == [("yes", "0.5600", "-4.00"), ("no", "0.4000", "3.00")]
    assert all(d["sid"] == sids["orderbook_delta"] for d in deltas)
    (trade,) = by_type["trade"]
    assert (trade["msg"]["count_fp"], trade["msg"]["taker_book_side"],
            trade["msg"]["yes_price_dollars"]) == ("4.00", "ask", "0.5600")
    (position,) = by_type["market_position"]
    assert position["msg"]["position_fp"] == "4.00"
    tickers = by_type["ticker"]
    assert (tickers[-1]["msg"]["yes_bid_dollars"], tickers[-1]["msg"]["yes_ask_dollars"],
            tickers[-1]["msg"]["volume_fp"]) == ("0.5600", "0.6000", "4.00")
