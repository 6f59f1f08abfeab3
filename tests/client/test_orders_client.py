"""The client's order entry, order groups and market data against a real sandbox process,
sync and async, and a book kept live from ``orderbook_delta``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kalshi_sandbox.client import (
    AsyncKalshiClient,
    BadRequestError,
    ConflictError,
    LiveBook,
    MarketPositionMessage,
    NotFoundError,
    OrderBook,
    OrderbookDelta,
    OrderbookSnapshot,
    OrderSpec,
    Side,
    Subscribed,
    TickerMessage,
    TradeMessage,
)
from tests.client.conftest import ClientFactory
from tests.client.streams import Collector
from tests.conftest import MARKET
from tests.support.server import Account, Control

D = Decimal


def test_place_read_amend_decrease_and_cancel_an_order(
        control: Control, requester: Account, make_client: ClientFactory) -> None:
    client = make_client(requester)
    placed = client.create_order(MARKET, "bid", count=10, price="0.45",
                                 client_order_id="mine-1", post_only=True)
    assert (placed.fill_count, placed.remaining_count, placed.client_order_id) == (
        D("0.00"), D("10.00"), "mine-1")
    assert placed.average_fill_price is None
    assert placed.ts is not None

    order = client.get_order(placed.order_id)
    assert (order.status, order.book_side, order.side, order.yes_price, order.post_only,
            order.time_in_force) == ("resting", "bid", Side.YES, D("0.45"), True,
                                     "good_till_canceled")
    assert client.get_queue_position(placed.order_id) == D("0.00")
    assert client.get_resting_order_value() == D("4.50")

    amended = client.amend_order(placed.order_id, ticker=MARKET, side="bid", price="0.46",
                                 count=8)
    assert (amended.order_id, amended.remaining_count) == (placed.order_id, D("8.00"))
    decreased = client.decrease_order(placed.order_id, reduce_by=3)
    assert decreased.remaining_count == D("5.00")
    book = client.get_orderbook(MARKET)
    assert book == OrderBook(MARKET, ((D("0.4600"), D("5.00")),), ())
    assert book.best_yes_bid == (D("0.4600"), D("5.00"))

    cancelled = client.cancel_order(placed.order_id)
    assert (cancelled.reduced_by, cancelled.client_order_id) == (D("5.00"), "mine-1")
    assert client.get_order(placed.order_id).status == "canceled"
    with pytest.raises(BadRequestError) as refused:
        client.cancel_order(placed.order_id)
    assert refused.value.code == "invalid_order"
    with pytest.raises(ConflictError):
        client.create_order(MARKET, "bid", count=1, price="0.40", client_order_id="mine-1")


def test_crossing_orders_trade_and_show_in_trades_fills_and_positions(
        control: Control, requester: Account, maker: Account,
        make_client: ClientFactory) -> None:
    buyer, seller = make_client(requester), make_client(maker)
    resting = seller.create_order(MARKET, "ask", count=10, price="0.55")
    assert seller.get_orderbook(MARKET).best_yes_ask == (D("0.5500"), D("10.00"))
    taken = buyer.create_order(MARKET, "bid", count=4, price="0.60",
                               time_in_force="immediate_or_cancel")
    assert (taken.fill_count, taken.remaining_count, taken.average_fill_price) == (
        D("4.00"), D("0.00"), D("0.5500"))
    trades = buyer.list_trades(ticker=MARKET)
    assert [(t.count, t.yes_price, t.taker_side, t.taker_book_side, t.is_block_trade)
            for t in trades.items] == [(D("4.00"), D("0.5500"), Side.YES, "bid", False)]
    assert list(buyer.iter_trades(ticker=MARKET, limit=1)) == trades.items
    fills = buyer.list_fills(order_id=taken.order_id).items
    assert [(f.count, f.yes_price, f.is_taker) for f in fills] == [(D("4.00"), D("0.55"), True)]
    assert [(p.ticker, p.position) for p in seller.get_positions().market_positions] == [
        (MARKET, D("-4.00"))]
    assert seller.get_order(resting.order_id).remaining_count == D("6.00")
    books = buyer.get_orderbooks([MARKET])
    assert [(b.ticker, b.yes_asks) for b in books] == [(MARKET, ((D("0.5500"), D("6.00")),))]
    now = datetime.now(UTC)
    candles = buyer.get_candlesticks("KXTEST", MARKET, start_ts=now - timedelta(days=400),
                                     end_ts=now + timedelta(days=400), period_interval=1440)
    assert [(c.open, c.close, c.volume) for c in candles] == [(D("0.55"), D("0.55"), D("4.00"))]


def test_batches_cancel_all_and_queue_positions(
        control: Control, requester: Account, make_client: ClientFactory) -> None:
    client = make_client(requester)
    results = client.batch_create_orders([
        OrderSpec(MARKET, "bid", 2, "0.30"), OrderSpec(MARKET, "bid", 3, "0.30"),
        OrderSpec(MARKET, "bid", 1, "0.305"), OrderSpec("KXNOPE-1", "bid", 1, "0.30")])
    assert [r.ok for r in results] == [True, True, False, False]
    assert results[2].error is not None
    assert results[2].error["code"] == "invalid_price"
    first, second = results[0].order_id, results[1].order_id
    positions = client.get_queue_positions(market_tickers=[MARKET])
    assert sorted((q.order_id, q.ahead) for q in positions) == sorted(
        [(first, D("0.00")), (second, D("2.00"))])
    cancelled = client.batch_cancel_orders([first, "00000000-0000-4000-8000-000000000000"])
    assert [(c.order_id, c.reduced_by, c.ok) for c in cancelled] == [
        (first, D("2.00"), True), ("00000000-0000-4000-8000-000000000000", D("0.00"), False)]
    client.cancel_all_orders()
    assert client.get_orderbook(MARKET) == OrderBook(MARKET, (), ())
    with pytest.raises(NotFoundError):
        client.get_queue_position(second)


def test_order_groups_through_the_client(control: Control, requester: Account,
                                         make_client: ClientFactory) -> None:
    client = make_client(requester)
    group_id = client.create_order_group(5)
    placed = client.create_order(MARKET, "bid", count=2, price="0.30", order_group_id=group_id)
    group = client.get_order_group(group_id)
    assert (group.id, group.contracts_limit, group.is_auto_cancel_enabled, group.orders) == (
        group_id, D("5.00"), True, (placed.order_id,))
    assert [g.id for g in client.list_order_groups()] == [group_id]
    client.set_order_group_limit(group_id, 10)
    client.trigger_order_group(group_id)
    assert client.get_order(placed.order_id).status == "canceled"
    assert client.get_order_group(group_id).is_auto_cancel_enabled is False
    client.reset_order_group(group_id)
    assert client.get_order_group(group_id).is_auto_cancel_enabled is True
    client.delete_order_group(group_id)
    assert client.list_order_groups() == []


def test_client_side_validation_sends_nothing() -> None:
    with pytest.raises(ValueError, match="side"):
        OrderSpec(MARKET, "buy", 1, "0.5").body()  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="float"):
        OrderSpec(MARKET, "bid", 1, 0.5).body()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="decimal places"):
        OrderSpec(MARKET, "bid", "1.001", "0.5").body()
    assert OrderSpec(MARKET, "ask", 1, "0.5", post_only=True,
                     expiration_time=1_900_000_000).body() == {
        "ticker": MARKET, "side": "ask", "count": "1.00", "price": "0.50",
        "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross",
        "post_only": True, "expiration_time": 1_900_000_000}


def _async(base_url: str, account: Account) -> AsyncKalshiClient:
    return AsyncKalshiClient(base_url=base_url, key_id=account.key_id,
                             private_key=account.private_key_pem, credentials_from_env=False)


def test_async_orders_and_a_live_book_that_matches_the_rest_book(
        control: Control, requester: Account, maker: Account) -> None:
    async def scenario() -> None:
        async with _async(control.base_url, requester) as buyer, \
                _async(control.base_url, maker) as seller:
            await seller.create_order(MARKET, "bid", count=5, price="0.40")
            feed = Collector(seller.subscribe("orderbook_delta", "ticker", "trade",
                                              "market_positions", market_tickers=[MARKET]))
            live = LiveBook(MARKET)
            try:
                for channel in ("orderbook_delta", "ticker", "trade", "market_positions"):
                    await feed.expect(Subscribed, channel=channel)
                live.apply(await feed.expect(OrderbookSnapshot, market_ticker=MARKET))
                assert live.book().yes == ((D("0.4000"), D("5.00")),)

                ask = await seller.create_order(MARKET, "ask", count=10, price="0.55")
                live.apply(await feed.expect(OrderbookDelta, side=Side.NO))
                taken = await buyer.create_order(MARKET, "bid", count=4, price="0.55")
                assert taken.fill_count == D("4.00")
                delta = await feed.expect(OrderbookDelta, delta=D("-4.00"))
                assert (delta.side, delta.price, delta.client_order_id) == (
                    Side.NO, D("0.4500"), None)
                live.apply(delta)
                trade = await feed.expect(TradeMessage)
                assert (trade.count, trade.yes_price, trade.taker_side) == (
                    D("4.00"), D("0.5500"), Side.YES)
                position = await feed.expect(MarketPositionMessage)
                assert position.position == D("-4.00")
                ticker = await feed.expect(TickerMessage, price=D("0.5500"))
                assert (ticker.yes_bid, ticker.yes_ask) == (D("0.4000"), D("0.5500"))

                assert live.book() == await buyer.get_orderbook(MARKET)
                assert live.book().best_yes_ask == (D("0.5500"), D("6.00"))
                await seller.cancel_order(ask.order_id)
                live.apply(await feed.expect(OrderbookDelta, delta=D("-6.00")))
                assert live.book() == await buyer.get_orderbook(MARKET)
                assert [t.trade_id async for t in buyer.iter_trades(ticker=MARKET)] == [
                    trade.trade_id]
            finally:
                await feed.close()

    asyncio.run(scenario())


def test_a_live_book_reads_no_levels_at_yes_prices_and_waits_for_a_snapshot() -> None:
    live = LiveBook(MARKET, use_yes_price=True)
    delta = OrderbookDelta(type="orderbook_delta", market_ticker=MARKET, market_id=None,
                           price=D("0.55"), delta=D("3"), side=Side.NO)
    assert live.apply(delta) is False
    live.apply(OrderbookSnapshot(type="orderbook_snapshot", market_ticker=MARKET,
                                 market_id=None, yes=((D("0.40"), D("1")),), no=()))
    assert live.apply(delta) is True
    assert live.book().no == ((D("0.45"), D("3")),)
    assert live.book().best_yes_ask == (D("0.55"), D("3"))
    assert live.apply(OrderbookDelta(type="orderbook_delta", market_ticker="OTHER",
                                     market_id=None, price=D("0.5"), delta=D("1"),
                                     side=Side.YES)) is False
    live.invalidate()
    assert (live.ready, live.book()) == (False, OrderBook(MARKET, (), ()))
