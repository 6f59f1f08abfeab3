"""The fixture's liquidity helpers: a live book to price from, and something to hit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_sandbox.testing import ControlPlaneError, KalshiSandbox

D = Decimal


def test_a_maker_bot_prices_from_the_book_the_liquidity_keeps(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    market = sb.markets[0]
    lp = sb.liquidity.add("lp", markets=[market], fair_value="0.62", spread="0.02", depth=2,
                          size=5, volatility=0)
    assert (lp.name, lp.active, lp.fair_values, lp.quotes) == (
        "lp", True, {market: D("0.62")}, {market: (D("0.61"), D("0.63"))})
    me = sb.client(sb.maker)
    book = me.get_orderbook(market)
    assert (book.best_yes_bid, book.best_yes_ask) == ((D("0.61"), D("5.00")),
                                                      (D("0.63"), D("5.00")))
    # A hedge has something to hit.
    hedge = me.create_order(market, "bid", count=5, price="0.63",
                            time_in_force="immediate_or_cancel")
    assert hedge.fill_count == D("5.00")
    assert me.get_orderbook(market).best_yes_ask == (D("0.64"), D("5.00"))
    sb.clock.advance(1)
    assert me.get_orderbook(market).best_yes_ask == (D("0.63"), D("5.00"))


def test_fair_value_and_path_helpers_move_the_book(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    market = sb.markets[0]
    sb.liquidity.add("lp", markets=[market], volatility=0, depth=1)
    moved = sb.liquidity.set_fair_value("lp", market, "0.30")
    assert moved.quotes[market] == (D("0.28"), D("0.32"))
    sb.liquidity.set_path("lp", market, [(0, "0.40"), (2, "0.70")])
    sb.clock.advance(2)
    assert sb.liquidity.get("lp").fair_values[market] == D("0.70")
    wide = sb.liquidity.configure_market("lp", market, spread="0.10", depth=2)
    assert wide.quotes[market] == (D("0.65"), D("0.75"))
    assert len(sb.client(sb.requester).get_orderbook(market).yes) == 2
    sb.liquidity.pause("lp")
    assert sb.client(sb.requester).get_orderbook(market).yes == ()
    sb.liquidity.resume("lp")
    assert [m.name for m in sb.liquidity.list()] == ["lp"]
    sb.liquidity.clear()
    assert sb.liquidity.list() == []
    with pytest.raises(ControlPlaneError) as missing:
        sb.liquidity.get("lp")
    assert missing.value.status == 404


@pytest.mark.kalshi_sandbox(liquidity=True)
def test_the_liquidity_setting_quotes_every_fresh_market_of_each_test(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    (maker,) = sb.liquidity.list()
    assert maker.name == "auto-liquidity"
    for market in sb.markets:
        book = sb.client(sb.requester).get_orderbook(market)
        assert (len(book.yes), len(book.no)) == (3, 3)
        assert book.spread == D("0.04")
