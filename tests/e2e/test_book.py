"""End to end on the order book: orders from several accounts over signed HTTP, and every
view of what they did (the book, trades, fills, positions, balances and every WebSocket
message) agreeing with every other.

The second test is an RFQ whose requester asked to rest its remainder: the book takes part of
the maker's order first, the requester's unfilled rest stays on the book, and a later order
fills it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from kalshi_sandbox.client import LiveBook, OrderBook, OrderbookDelta, OrderbookSnapshot
from kalshi_sandbox.client.messages import parse_message
from tests.conftest import MARKET
from tests.support.server import Control, ServerProcess, Trader
from tests.ws.client import OpenSocket, WsClient, open_sockets

D = Decimal
V2 = "/portfolio/events/orders"
CHANNELS = ("orderbook_delta", "ticker", "trade", "fill", "user_orders", "market_positions")
START = D(1000)


@pytest.fixture
def sockets(server: ServerProcess) -> Iterator[OpenSocket]:
    yield from open_sockets(server.base_url)


def order(side: str, price: str, count: str, tif: str = "good_till_canceled",
          **extra: Any) -> dict[str, Any]:
    return {"ticker": MARKET, "side": side, "price": price, "count": count,
            "time_in_force": tif, "self_trade_prevention_type": "taker_at_cross", **extra}


def place(trader: Trader, body: dict[str, Any]) -> dict[str, Any]:
    response = trader.post(V2, json=body)
    assert response.status_code == 201, response.text
    placed: dict[str, Any] = response.json()
    return placed


def rest_book(trader: Trader) -> OrderBook:
    response = trader.get(f"/markets/{MARKET}/orderbook")
    assert response.status_code == 200, response.text
    return OrderBook.from_wire(response.json(), MARKET)


class Feed:
    """Every frame one connection received, and the book it keeps from them."""

    def __init__(self, ws: WsClient) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.book = LiveBook(MARKET)

    def pull(self) -> list[dict[str, Any]]:
        frames = self.ws.drain()
        for frame in frames:
            message = parse_message(frame)
            if isinstance(message, OrderbookSnapshot | OrderbookDelta):
                assert self.book.apply(message)
        self.frames.extend(frames)
        return frames

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]


def subscribed(sockets: OpenSocket, trader: Trader, channels: tuple[str, ...]) -> Feed:
    ws = sockets(trader)
    # The snapshot follows orderbook_delta's own acknowledgement: subscribe it last.
    ws.subscribe(*sorted(channels, key=lambda c: c == "orderbook_delta"),
                 market_tickers=[MARKET])
    feed = Feed(ws)
    feed.pull()
    return feed


def test_crossing_orders_agree_across_book_trades_fills_positions_balances_and_messages(
        control: Control, sockets: OpenSocket) -> None:
    alice, bob, carol = control.trader("alice"), control.trader("bob"), control.trader("carol")
    feeds = {name: subscribed(sockets, trader, CHANNELS)
             for name, trader in (("alice", alice), ("bob", bob))}
    feeds["carol"] = subscribed(sockets, carol, ("orderbook_delta", "ticker", "trade"))
    steps = [
        (alice, order("ask", "0.56", "10", client_order_id="a-1")),
        (bob, order("bid", "0.60", "4", "immediate_or_cancel", client_order_id="b-1")),
        (bob, order("bid", "0.56", "10", client_order_id="b-2")),
        (alice, order("ask", "0.55", "2", client_order_id="a-2")),
        (carol, order("bid", "0.50", "3")),
    ]
    placed = []
    for trader, body in steps:
        placed.append(place(trader, body))
        book = rest_book(carol)
        for feed in feeds.values():
            feed.pull()
            # After every step each subscriber's book equals the REST book.
            assert feed.book.book() == book
    assert [(p["fill_count"], p["remaining_count"]) for p in placed] == [
        ("0.00", "10.00"), ("4.00", "0.00"), ("6.00", "4.00"), ("2.00", "0.00"),
        ("0.00", "3.00")]
    bob_bid = placed[2]["order_id"]
    cut = bob.post(f"{V2}/{bob_bid}/decrease", json={"reduce_by": "1"})
    assert cut.status_code == 200, cut.text
    for feed in feeds.values():
        feed.pull()
        assert feed.book.book() == rest_book(carol)
    assert rest_book(carol) == OrderBook(MARKET, ((D("0.5000"), D("3.00")),
                                                  (D("0.5600"), D("1.00"))), ())

    # orderbook_delta: gap-free seq on every connection; own ids only on the owner's copy.
    for name, feed in feeds.items():
        assert feed.ws.gaps == [], name
        seqs = [f["seq"] for f in feed.of("orderbook_snapshot") + feed.of("orderbook_delta")]
        assert seqs == list(range(1, len(seqs) + 1))
    # (a-2 and b-1 traded at once and never rested: no level of theirs changed.)
    for name, mine in (("alice", "a-1"), ("bob", "b-2"), ("carol", None)):
        seen = {f["msg"].get("client_order_id") for f in feeds[name].of("orderbook_delta")}
        assert seen == {mine, None}, name

    # Trades: the REST list (newest first) is the trade channel's, on every connection.
    trades = carol.get("/markets/trades", params={"ticker": MARKET}).json()["trades"]
    rest_trades = [(t["trade_id"], t["count_fp"], t["yes_price_dollars"],
                    t["taker_outcome_side"], t["taker_book_side"], t["is_block_trade"])
                   for t in reversed(trades)]
    assert [(c, p, s) for _, c, p, s, _, _ in rest_trades] == [
        ("4.00", "0.5600", "yes"), ("6.00", "0.5600", "yes"), ("2.00", "0.5600", "no")]
    for feed in feeds.values():
        assert [(m["trade_id"], m["count_fp"], m["yes_price_dollars"], m["taker_outcome_side"],
                 m["taker_book_side"], m["is_block_trade"])
                for m in (f["msg"] for f in feed.of("trade"))] == rest_trades

    # Fills, positions, balances, orders: each account's REST views and its messages agree.
    for name, trader in (("alice", alice), ("bob", bob)):
        feed = feeds[name]
        fills = trader.get("/portfolio/fills").json()["fills"]
        rest_fills = {f["fill_id"]: (f["order_id"], f["count_fp"], f["yes_price_dollars"],
                                     f["outcome_side"], f["is_taker"], f["fee_cost"])
                      for f in fills}
        ws_fills = {m["trade_id"]: (m["order_id"], m["count_fp"], m["yes_price_dollars"],
                                    m["purchased_side"], m["is_taker"], m["fee_cost"])
                    for m in (f["msg"] for f in feed.of("fill"))}
        assert ws_fills == rest_fills, name
        assert len(rest_fills) == 3
        signed = sum(D(f["count_fp"]) * (1 if f["outcome_side"] == "yes" else -1)
                     for f in fills)
        paid = sum(D(f["count_fp"]) * D(f["yes_price_dollars"] if f["outcome_side"] == "yes"
                                        else f["no_price_dollars"]) + D(f["fee_cost"])
                   for f in fills)
        (position,) = trader.get("/portfolio/positions").json()["market_positions"]
        assert D(position["position_fp"]) == signed == D(
            feed.of("market_position")[-1]["msg"]["position_fp"]) == D(
            feed.of("fill")[-1]["msg"]["post_position_fp"])
        assert D(position["fees_paid_dollars"]) == D(
            feed.of("market_position")[-1]["msg"]["fees_paid_dollars"])
        assert D(trader.balance()["balance_dollars"]) == START - paid
        last_update: dict[str, dict[str, Any]] = defaultdict(dict)
        for frame in feed.of("user_order"):
            last_update[frame["msg"]["order_id"]] = frame["msg"]
        for order_id, msg in last_update.items():
            rest = trader.get(f"/portfolio/orders/{order_id}").json()["order"]
            assert {k: rest[k] for k in ("status", "fill_count_fp", "remaining_count_fp",
                                         "initial_count_fp", "yes_price_dollars")} == {
                k: msg[k] for k in ("status", "fill_count_fp", "remaining_count_fp",
                                    "initial_count_fp", "yes_price_dollars")}, order_id
    assert D(feeds["alice"].of("market_position")[-1]["msg"]["position_fp"]) == D("-12")
    assert D(feeds["bob"].of("market_position")[-1]["msg"]["position_fp"]) == D("12")

    # ticker: the last message carries the market's REST figures.
    market = carol.get(f"/markets/{MARKET}").json()["market"]
    last = feeds["carol"].of("ticker")[-1]["msg"]
    assert (last["yes_bid_dollars"], last["yes_ask_dollars"], last["price_dollars"],
            last["volume_fp"], last["open_interest_fp"]) == (
        market["yes_bid_dollars"], market["yes_ask_dollars"], market["last_price_dollars"],
        market["volume_fp"], market["open_interest_fp"])
    assert market["volume_fp"] == "12.00"


def test_rest_remainder_rfq_rests_its_remainder_which_a_later_order_fills(
        control: Control, sockets: OpenSocket) -> None:
    requester, maker, carol = (control.trader("requester"), control.trader("maker"),
                               control.trader("carol"))
    feed = subscribed(sockets, requester, CHANNELS)
    # Carol's YES bid at 0.60 beats the maker's price: the maker's order sells her 4 first.
    place(carol, order("bid", "0.60", "4"))
    rfq_id = requester.create_rfq(MARKET, "10", rest_remainder=True)
    quote_id = maker.create_quote(rfq_id, yes_bid="0.40", no_bid="0.50")
    requester.accept(rfq_id, quote_id, "yes")
    maker.confirm(rfq_id, quote_id)
    control.advance(15)

    quote = requester.quote(quote_id)
    assert quote["status"] == "executed"
    mine = quote["rfq_creator_order_id"]
    order_view = requester.get(f"/portfolio/orders/{mine}").json()["order"]
    assert (order_view["status"], order_view["fill_count_fp"], order_view["remaining_count_fp"],
            order_view["yes_price_dollars"], order_view["book_side"]) == (
        "resting", "6.00", "4.00", "0.5000", "bid")
    assert rest_book(carol) == OrderBook(MARKET, ((D("0.5000"), D("4.00")),), ())
    feed.pull()
    assert feed.book.book() == rest_book(carol)
    fills = requester.get("/portfolio/fills").json()["fills"]
    assert [(f["count_fp"], f["yes_price_dollars"], f["is_taker"]) for f in fills] == [
        ("6.00", "0.5000", True)]
    trades = carol.get("/markets/trades", params={"ticker": MARKET}).json()["trades"]
    assert sorted((t["count_fp"], t["yes_price_dollars"], t["is_block_trade"])
                  for t in trades) == [("4.00", "0.6000", False), ("6.00", "0.5000", True)]

    # A later order takes the remainder: an ordinary trade, no longer a block trade.
    later = place(carol, order("ask", "0.50", "4", "immediate_or_cancel"))
    assert later["fill_count"] == "4.00"
    order_view = requester.get(f"/portfolio/orders/{mine}").json()["order"]
    assert (order_view["status"], order_view["fill_count_fp"],
            order_view["remaining_count_fp"]) == ("executed", "10.00", "0.00")
    fills = requester.get("/portfolio/fills").json()["fills"]
    assert [(f["count_fp"], f["yes_price_dollars"], f["is_taker"]) for f in fills] == [
        ("4.00", "0.5000", False), ("6.00", "0.5000", True)]
    trades = carol.get("/markets/trades", params={"ticker": MARKET}).json()["trades"]
    assert (trades[0]["count_fp"], trades[0]["is_block_trade"]) == ("4.00", False)
    (position,) = requester.get("/portfolio/positions").json()["market_positions"]
    assert position["position_fp"] == "10.00"
    feed.pull()
    assert feed.book.book() == rest_book(carol) == OrderBook(MARKET, (), ())
    statuses = [f["msg"]["status"] for f in feed.of("user_order")
                if f["msg"]["order_id"] == mine]
    assert statuses[-1] == "executed"
    assert "resting" in statuses
    assert [f["msg"]["count_fp"] for f in feed.of("fill")] == ["6.00", "4.00"]
    assert feed.of("market_position")[-1]["msg"]["position_fp"] == "10.00"
