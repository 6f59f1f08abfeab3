"""Liquidity makers through a real server: the book they keep, how it moves, and the control
plane that drives them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from kalshi_sandbox.client import KalshiClient, OrderBook
from tests.conftest import MARKET
from tests.support.server import Control, ServerProcess

D = Decimal


@pytest.fixture
def public(server: ServerProcess) -> Iterator[KalshiClient]:
    """An unsigned client: books are public."""
    with KalshiClient(base_url=server.base_url, credentials_from_env=False) as client:
        yield client


def add(control: Control, name: str = "lp", expect: int = 201, **fields: Any) -> Any:
    body = {"name": name, "markets": [MARKET], "volatility": "0", **fields}
    return control.call("POST", "/liquidity", body, expect=expect)


def levels(book: OrderBook) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(YES bids, YES asks) as (price, size) strings, best first."""
    bids = [(str(p), str(c)) for p, c in reversed(book.yes)]
    asks = [(str(p), str(c)) for p, c in book.yes_asks]
    return bids, asks


def test_a_maker_quotes_depth_levels_each_side_around_its_fair_value_at_once(
        control: Control, public: KalshiClient) -> None:
    maker = add(control, fair_value="0.55", spread="0.04", depth=3, size="10", step="0.01")
    bids, asks = levels(public.get_orderbook(MARKET))
    assert bids == [("0.5300", "10.00"), ("0.5200", "10.00"), ("0.5100", "10.00")]
    assert asks == [("0.5700", "10.00"), ("0.5800", "10.00"), ("0.5900", "10.00")]
    assert maker["state"][MARKET] == {"fair_value": "0.5500", "quoting": True,
                                      "yes_bid": "0.5300", "yes_ask": "0.5700"}
    # Its orders are an ordinary account's: the market shows them as its best bid and ask.
    market = public.get_market(MARKET)
    assert (market.yes_bid, market.yes_ask) == (D("0.53"), D("0.57"))


def test_a_trade_against_the_maker_is_replenished_at_the_next_requote(
        control: Control, public: KalshiClient) -> None:
    add(control, fair_value="0.50", depth=2, size="10")
    taker = control.trader("taker")
    response = taker.post("/portfolio/events/orders", json={
        "ticker": MARKET, "side": "bid", "count": "15", "price": "0.53",
        "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross"})
    assert response.status_code == 201, response.text
    assert response.json()["fill_count"] == "15.00"
    assert levels(public.get_orderbook(MARKET))[1] == [("0.5300", "5.00")]
    positions = taker.get("/portfolio/positions").json()["market_positions"]
    assert [(p["ticker"], p["position_fp"]) for p in positions] == [(MARKET, "15.00")]

    control.advance(1)
    assert levels(public.get_orderbook(MARKET))[1] == [("0.5200", "10.00"), ("0.5300", "10.00")]


def test_the_fair_value_walks_on_the_sandbox_clock_the_same_way_for_the_same_seed(
        control: Control, public: KalshiClient) -> None:
    control.market("KXTEST-26DEC31-T60")
    add(control, "walk-a", markets=[MARKET], volatility="0.02", seed=7, interval=2)
    add(control, "walk-b", markets=["KXTEST-26DEC31-T60"], volatility="0.02", seed=7,
        interval=2)
    seen = []
    for _ in range(4):
        control.advance(2)
        a = control.call("GET", "/liquidity/walk-a")["state"][MARKET]
        b = control.call("GET", "/liquidity/walk-b")["state"]["KXTEST-26DEC31-T60"]
        assert a["fair_value"] == b["fair_value"]
        seen.append(a["fair_value"])
        bids, asks = levels(public.get_orderbook(MARKET))
        # The book is quoted around the fair value of the moment.
        assert (bids[0][0], asks[0][0]) == (a["yes_bid"], a["yes_ask"])
        assert D(a["yes_bid"]) < D(a["fair_value"]) < D(a["yes_ask"])
    assert len(set(seen)) > 1  # it moved
    assert control.advance(1)["fired_timers"] == 0  # nothing due between requotes


def test_a_path_set_by_the_test_drives_the_fair_value_and_holds_its_last_point(
        control: Control, public: KalshiClient) -> None:
    add(control, fair_value="0.50", volatility="0.05")
    state = control.call("PUT", f"/liquidity/lp/markets/{MARKET}",
                         {"path": [[0, "0.30"], [2, "0.60"], [3, "0.45"]]})
    assert (state["fair_value"], state["yes_bid"]) == ("0.3000", "0.2800")
    assert levels(public.get_orderbook(MARKET))[0][0] == ("0.2800", "10.00")
    fairs = []
    for _ in range(5):
        control.advance(1)
        fairs.append(control.call("GET", "/liquidity/lp")["state"][MARKET]["fair_value"])
    assert fairs == ["0.3000", "0.6000", "0.4500", "0.4500", "0.4500"]
    assert levels(public.get_orderbook(MARKET))[1][0] == ("0.4700", "10.00")


def test_setting_a_fair_value_requotes_now_and_ends_a_path(
        control: Control, public: KalshiClient) -> None:
    add(control, fair_value="0.50")
    control.call("PUT", f"/liquidity/lp/markets/{MARKET}", {"path": [[0, "0.40"], [5, "0.9"]]})
    state = control.call("PUT", f"/liquidity/lp/markets/{MARKET}", {"fair_value": "0.70"})
    assert "path" not in state
    bids, asks = levels(public.get_orderbook(MARKET))
    assert (bids[0], asks[0]) == (("0.6800", "10.00"), ("0.7200", "10.00"))
    assert len(bids) == len(asks) == 3
    control.advance(6)
    assert control.call("GET", "/liquidity/lp")["state"][MARKET]["fair_value"] == "0.7000"


def test_depth_spread_and_size_per_market(control: Control, public: KalshiClient) -> None:
    other = "KXTEST-26DEC31-T70"
    control.market(other)
    add(control, markets=[MARKET, {"ticker": other, "spread": "0.10", "depth": 1,
                                   "size": "3", "fair_value": "0.40"}], fair_value="0.50")
    assert levels(public.get_orderbook(MARKET)) == (
        [("0.4800", "10.00"), ("0.4700", "10.00"), ("0.4600", "10.00")],
        [("0.5200", "10.00"), ("0.5300", "10.00"), ("0.5400", "10.00")])
    assert levels(public.get_orderbook(other)) == ([("0.3500", "3.00")], [("0.4500", "3.00")])
    state = control.call("PUT", f"/liquidity/lp/markets/{MARKET}", {"depth": 1, "step": "0.02"})
    assert state["quoting"] is True
    assert levels(public.get_orderbook(MARKET)) == ([("0.4800", "10.00")], [("0.5200", "10.00")])
    described = control.call("GET", "/liquidity/lp")
    assert described["markets"] == [
        {"ticker": MARKET, "depth": 1, "step": "0.0200"},
        {"ticker": other, "fair_value": "0.4000", "spread": "0.1000", "depth": 1,
         "size": "3.00"}]


def test_a_sub_penny_market_is_quoted_on_its_own_grid(control: Control,
                                                      public: KalshiClient) -> None:
    fine = "KXTESTFINE-26DEC31-T10"
    control.market(fine, price_level_structure="deci_cent")
    add(control, markets=[fine], fair_value="0.5005", spread="0.003", step="0.001", depth=2)
    assert levels(public.get_orderbook(fine)) == (
        [("0.4990", "10.00"), ("0.4980", "10.00")], [("0.5020", "10.00"), ("0.5030", "10.00")])


def test_a_market_that_is_not_open_is_not_quoted_until_it_opens_again(
        control: Control, public: KalshiClient) -> None:
    add(control, fair_value="0.50")
    control.call("PATCH", f"/markets/{MARKET}", {"status": "closed"})
    control.advance(1)
    assert public.get_orderbook(MARKET) == OrderBook(MARKET, (), ())
    state = control.call("GET", "/liquidity/lp")
    assert state["state"][MARKET]["quoting"] is False
    assert state["activity"][-1]["action"] == "withdraw"
    control.call("PATCH", f"/markets/{MARKET}", {"status": "active"})
    control.advance(1)
    bids, asks = levels(public.get_orderbook(MARKET))
    assert (len(bids), len(asks)) == (3, 3)


def test_a_maker_on_every_open_market_picks_up_new_markets_and_leaves_closed_ones(
        control: Control, public: KalshiClient) -> None:
    add(control, "everywhere", markets=None, fair_value="0.50", depth=1)
    assert levels(public.get_orderbook(MARKET)) == ([("0.4800", "10.00")], [("0.5200", "10.00")])
    control.market("KXTEST-26DEC31-T80")
    control.advance(1)
    assert levels(public.get_orderbook("KXTEST-26DEC31-T80")) == (
        [("0.4800", "10.00")], [("0.5200", "10.00")])


def test_pause_resume_and_remove_withdraw_and_restore_the_orders(
        control: Control, public: KalshiClient) -> None:
    add(control, fair_value="0.50")
    paused = control.call("PATCH", "/liquidity/lp", {"active": False})
    assert paused["active"] is False
    assert public.get_orderbook(MARKET) == OrderBook(MARKET, (), ())
    assert control.advance(5)["fired_timers"] == 0
    control.call("PATCH", "/liquidity/lp", {"active": True, "spread": "0.06"})
    assert levels(public.get_orderbook(MARKET))[0][0] == ("0.4700", "10.00")
    control.call("DELETE", "/liquidity/lp", expect=204)
    assert public.get_orderbook(MARKET) == OrderBook(MARKET, (), ())
    missing = control.call("GET", "/liquidity/lp", expect=404)
    assert missing["error"]["code"] == "not_found"
    assert control.call("GET", "/liquidity") == {"liquidity": []}


def test_a_post_only_maker_leaves_out_a_level_that_would_cross_a_resting_order(
        control: Control, public: KalshiClient) -> None:
    trader = control.trader("resting")
    response = trader.post("/portfolio/events/orders", json={
        "ticker": MARKET, "side": "ask", "count": "5", "price": "0.47",
        "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross"})
    assert response.status_code == 201, response.text
    maker = add(control, fair_value="0.50", depth=3)
    # Its bids at 0.48 and 0.47 would take the ask at 0.47: left out.
    bids, asks = levels(public.get_orderbook(MARKET))
    assert bids == [("0.4600", "10.00")]
    assert asks[0] == ("0.4700", "5.00")
    assert maker["activity"][-1]["crossed"] == 2


def test_a_taking_maker_trades_with_a_resting_order_its_ladder_crosses(
        control: Control, public: KalshiClient) -> None:
    trader = control.trader("resting")
    trader.post("/portfolio/events/orders", json={
        "ticker": MARKET, "side": "ask", "count": "5", "price": "0.47",
        "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross"})
    add(control, fair_value="0.50", depth=1, post_only=False)
    positions = trader.get("/portfolio/positions").json()["market_positions"]
    assert [(p["ticker"], p["position_fp"]) for p in positions] == [(MARKET, "-5.00")]
    assert levels(public.get_orderbook(MARKET)) == ([("0.4800", "5.00")], [("0.5200", "10.00")])


@pytest.mark.parametrize(("body", "fragment"), [
    ({"spread": "0"}, "spread"),
    ({"fair_value": "1"}, "fair_value"),
    ({"depth": 0}, "depth"),
    ({"size": "0"}, "size"),
    ({"interval": 0.01}, "interval"),
    ({"volatility": "0.9"}, "volatility"),
    ({"colour": "red"}, "unknown"),
    ({"markets": ["KXNOPE-1"]}, "not found"),
    ({"markets": []}, "markets"),
    ({"name": "has space"}, "name"),
])
def test_bad_configurations_are_refused_with_kalshis_error_body(
        control: Control, body: dict[str, Any], fragment: str) -> None:
    refused = add(control, expect=400, **body)
    assert refused["error"]["code"] == "invalid_parameters"
    assert fragment in refused["error"]["details"] or fragment in refused["error"]["message"]
    assert control.call("GET", "/liquidity") == {"liquidity": []}


def test_names_are_unique_and_unknown_makers_and_markets_are_404(control: Control) -> None:
    add(control)
    assert add(control, expect=409)["error"]["code"] == "conflict"
    assert control.call("PUT", "/liquidity/nope/markets/X", {"fair_value": "0.5"},
                        expect=404)["error"]["code"] == "not_found"
    refused = control.call("PUT", "/liquidity/lp/markets/KXOTHER-1", {"fair_value": "0.5"},
                           expect=400)
    assert "not one of" in refused["error"]["details"]
    assert control.call("PUT", f"/liquidity/lp/markets/{MARKET}", {"fair_value": "2"},
                        expect=400)["error"]["code"] == "invalid_parameters"


def test_a_reset_forgets_the_makers_and_their_orders(control: Control,
                                                     public: KalshiClient) -> None:
    add(control)
    control.reset()
    control.market(MARKET)
    assert control.call("GET", "/liquidity") == {"liquidity": []}
    assert control.advance(3)["fired_timers"] == 0
    assert public.get_orderbook(MARKET) == OrderBook(MARKET, (), ())
