"""The private channels an RFQ execution touches: ``fill`` and ``user_orders``."""

from __future__ import annotations

from typing import Any

from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, Trader
from tests.ws.client import OpenSocket, data


def _execute(control: Control, requester: Trader, maker: Trader, market: str,
             side: str = "yes") -> str:
    rfq_id = requester.create_rfq(market, "10")
    quote_id = maker.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    requester.accept(rfq_id, quote_id, side)
    maker.confirm(rfq_id, quote_id)
    control.advance(15)
    return quote_id


def _rest_fill(trader: Trader, order_id: str) -> dict[str, Any]:
    fills = trader.get("/portfolio/fills", params={"order_id": order_id}).json()["fills"]
    assert len(fills) == 1
    fill: dict[str, Any] = fills[0]
    return fill


def test_fill_and_user_order_agree_with_the_rest_portfolio(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    ws_r, ws_m = sockets(requester), sockets(maker)
    r = ws_r.subscribe("fill", "user_orders")
    m = ws_m.subscribe("fill", "user_orders")
    quote_id = _execute(control, requester, maker, MARKET)
    got_r, got_m = ws_r.drain(), ws_m.drain()
    assert data(got_r) == [("user_order", r["user_orders"], 1), ("fill", r["fill"], 1)]
    # The maker's order rests first (one user_order), then fills (another).
    assert data(got_m) == [("user_order", m["user_orders"], 1),
                           ("user_order", m["user_orders"], 2), ("fill", m["fill"], 1)]
    assert got_m[0]["msg"]["status"] == "resting"
    got_m = got_m[1:]

    for trader, (order, fill), taker, position in (
            (requester, (got_r[0]["msg"], got_r[1]["msg"]), True, "10.00"),
            (maker, (got_m[0]["msg"], got_m[1]["msg"]), False, "-10.00")):
        rest_order = trader.get(f"/portfolio/orders/{order['order_id']}").json()["order"]
        for name in ("order_id", "user_id", "client_order_id", "ticker", "status",
                     "outcome_side", "book_side", "yes_price_dollars", "fill_count_fp",
                     "remaining_count_fp", "initial_count_fp", "taker_fill_cost_dollars",
                     "maker_fill_cost_dollars", "taker_fees_dollars", "maker_fees_dollars",
                     "created_time", "last_update_time"):
            assert order[name] == rest_order[name], name
        assert order["client_order_id"].endswith(f":{quote_id}")
        rest_fill = _rest_fill(trader, order["order_id"])
        assert fill["trade_id"] == rest_fill["fill_id"]
        for name in ("order_id", "market_ticker", "is_taker", "outcome_side", "book_side",
                     "yes_price_dollars", "no_price_dollars", "count_fp", "fee_cost", "ts"):
            assert fill[name] == rest_fill[name], name
        assert fill["is_taker"] is taker
        assert fill["client_order_id"] == order["client_order_id"]
        assert fill["post_position_fp"] == position
        assert fill["purchased_side"] == fill["outcome_side"]
        assert fill["action"] == "buy"
        assert isinstance(fill["ts_ms"], int)
        assert "subaccount" not in fill


def test_fill_subscription_limited_to_a_market_hears_only_that_market(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    ws = sockets(requester)
    sids = ws.subscribe("fill", "user_orders", market_tickers=[HVM_MARKET])
    _execute(control, requester, maker, MARKET)
    assert ws.drain() == []
    _execute(control, requester, maker, HVM_MARKET)
    frames = ws.drain()
    assert data(frames) == [("user_order", sids["user_orders"], 1), ("fill", sids["fill"], 1)]
    assert frames[1]["msg"]["market_ticker"] == HVM_MARKET


def test_private_channels_of_a_bystander_stay_silent(control: Control,
                                                     sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    bystander = sockets(control.trader("bystander"))
    bystander.subscribe("fill", "user_orders")
    _execute(control, requester, maker, MARKET)
    assert bystander.drain() == []


def test_subaccount_trades_carry_the_recipients_own_subaccount(
        control: Control, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    control.call("PUT", f"/accounts/{requester.account.user_id}/balance",
                 {"balance_dollars": "100", "subaccount": 3})
    ws_r, ws_m = sockets(requester), sockets(maker)
    ws_r.subscribe("communications", "fill", "user_orders")
    ws_m.subscribe("communications", "fill", "user_orders")
    rfq_id = requester.create_rfq(MARKET, "10", subaccount=3)
    quote_id = maker.create_quote(rfq_id, subaccount=0)
    requester.accept(rfq_id, quote_id, "yes")
    maker.confirm(rfq_id, quote_id)
    control.advance(15)
    got_r, got_m = ws_r.drain(), ws_m.drain()
    by_type_r = {f["type"]: f["msg"] for f in got_r}
    by_type_m = {f["type"]: f["msg"] for f in got_m}
    assert by_type_r["quote_created"]["subaccount"] == 3
    assert by_type_r["quote_executed"]["subaccount"] == 3
    assert by_type_r["fill"]["subaccount"] == 3
    assert by_type_r["user_order"]["subaccount_number"] == 3
    for msg in by_type_m.values():
        assert "subaccount" not in msg
        assert "subaccount_number" not in msg
