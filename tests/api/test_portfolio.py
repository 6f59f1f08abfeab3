"""Portfolio endpoints after RFQ executions: balance, positions, fills, orders."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.api.conftest import NewTrader
from tests.api.support import bare_error, execute, nested_error, server_now_seconds
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, Trader

# The first trade: the requester accepts "yes" on a 0.40 / 0.55 quote for 10 contracts, so it
# buys 10 YES at 1 - 0.55 = 0.45 ($4.50) and the maker buys 10 NO at 0.55 ($5.50).
#   requester taker fee ceil_0.0001(0.07   x 10 x 0.45 x 0.55) = ceil(0.17325)   = 0.1733
#   maker fee           ceil_0.0001(0.0175 x 10 x 0.45 x 0.55) = ceil(0.0433125) = 0.0434
# The second trade reverses it: the requester accepts "no" on a 0.50 / 0.45 quote, buying 10
# NO at 1 - 0.50 = 0.50 while holding 10 YES, and the maker buys 10 YES at 0.50.
#   requester taker fee ceil_0.0001(0.07   x 10 x 0.5 x 0.5) = 0.1750
#   maker fee           ceil_0.0001(0.0175 x 10 x 0.5 x 0.5) = ceil(0.04375) = 0.0438


def get(trader: Trader, path: str, **params: Any) -> dict[str, Any]:
    response = trader.get(path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def position_in(trader: Trader, ticker: str) -> dict[str, Any]:
    positions = get(trader, "/portfolio/positions", ticker=ticker)["market_positions"]
    assert len(positions) == 1, positions
    position: dict[str, Any] = positions[0]
    return position


@pytest.fixture
def pair(control: Control, new_trader: NewTrader) -> tuple[Trader, Trader]:
    return new_trader("requester"), new_trader("maker")


def test_balance_and_position_after_one_execution(control: Control,
                                                  pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    assert requester.balance()["balance_dollars"] == "1000.0000"
    execute(control, requester, maker, MARKET)
    executed_at = server_now_seconds(control)

    balance = requester.balance()
    assert balance == {"balance": 99532, "balance_dollars": "995.3267",
                       "portfolio_value": 450, "updated_ts": executed_at}
    assert maker.balance()["balance_dollars"] == "994.4566"
    assert maker.balance()["portfolio_value"] == 550

    position = position_in(requester, MARKET)
    assert position["position_fp"] == "10.00"
    assert position["position"] == 10
    assert position["market_exposure_dollars"] == "4.5000"
    assert position["market_exposure"] == 450
    assert position["total_traded_dollars"] == "4.5000"
    assert position["fees_paid_dollars"] == "0.1733"
    assert position["realized_pnl_dollars"] == "-0.1733"
    assert position["realized_pnl"] == -17
    maker_position = position_in(maker, MARKET)
    assert maker_position["position_fp"] == "-10.00"
    assert maker_position["market_exposure_dollars"] == "5.5000"
    assert maker_position["fees_paid_dollars"] == "0.0434"


def test_an_opposite_trade_closes_the_position_and_realizes_the_pnl(
        control: Control, pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    execute(control, requester, maker, MARKET, yes_bid="0.40", no_bid="0.55", side="yes")
    execute(control, requester, maker, MARKET, yes_bid="0.50", no_bid="0.45", side="no")

    position = position_in(requester, MARKET)
    assert position["position_fp"] == "0.00"
    assert position["market_exposure_dollars"] == "0.0000"
    assert position["total_traded_dollars"] == "9.5000"
    assert position["fees_paid_dollars"] == "0.3483"
    # Bought YES at 0.45 and sold it (by buying NO at 0.50) for 0.50: +$0.50, less fees.
    assert position["realized_pnl_dollars"] == "0.1517"
    # The NO purchase nets against the YES held: the pair redeems at $1, so the requester
    # is credited 10 x (1 - 0.50) - 0.1750.
    assert requester.balance()["balance_dollars"] == "1000.1517"
    assert requester.balance()["portfolio_value"] == 0

    maker_position = position_in(maker, MARKET)
    assert maker_position["position_fp"] == "0.00"
    # Bought NO at 0.55, closed at 0.50: -$0.50, less fees of 0.0434 + 0.0438.
    assert maker_position["realized_pnl_dollars"] == "-0.5872"
    assert maker.balance()["balance_dollars"] == "999.4128"

    # A closed position is still listed; count_filter=position hides it.
    assert get(requester, "/portfolio/positions", count_filter="position")[
        "market_positions"] == []
    assert len(get(requester, "/portfolio/positions", count_filter="total_traded")[
        "market_positions"]) == 1
    assert len(get(requester, "/portfolio/positions",
                   count_filter="position,total_traded")["market_positions"]) == 1


def test_fills_record_each_side_of_each_execution(control: Control,
                                                  pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    first = execute(control, requester, maker, MARKET, side="yes")
    first_at = server_now_seconds(control)
    control.advance(100)
    second = execute(control, requester, maker, MARKET, yes_bid="0.50", no_bid="0.45",
                     side="no")

    fills = get(requester, "/portfolio/fills")
    assert fills["cursor"] == ""
    assert [(f["order_id"], f["outcome_side"], f["count_fp"], f["yes_price_dollars"],
             f["no_price_dollars"], f["is_taker"], f["fee_cost"]) for f in fills["fills"]] == [
        (second["rfq_creator_order_id"], "no", "10.00", "0.5000", "0.5000", True, "0.175000"),
        (first["rfq_creator_order_id"], "yes", "10.00", "0.4500", "0.5500", True, "0.173300"),
    ]
    newest = fills["fills"][0]
    assert newest["ticker"] == newest["market_ticker"] == MARKET
    # Kalshi's fill schema: trade_id equals fill_id.
    assert newest["trade_id"] == newest["fill_id"]
    assert (newest["count"], newest["yes_price"], newest["no_price"]) == (10, 50, 50)

    maker_fills = get(maker, "/portfolio/fills")["fills"]
    assert [(f["outcome_side"], f["is_taker"], f["fee_cost"]) for f in maker_fills] == [
        ("yes", False, "0.043800"), ("no", False, "0.043400")]
    assert maker_fills[0]["trade_id"] == maker_fills[0]["fill_id"] != newest["fill_id"]

    by_order = get(requester, "/portfolio/fills", order_id=first["rfq_creator_order_id"])
    assert [f["outcome_side"] for f in by_order["fills"]] == ["yes"]
    assert get(requester, "/portfolio/fills", order_id=first["rfq_creator_order_id"],
               ticker=HVM_MARKET)["fills"] == []
    assert len(get(requester, "/portfolio/fills", ticker=MARKET)["fills"]) == 2
    assert [f["outcome_side"] for f in get(requester, "/portfolio/fills",
                                           max_ts=first_at + 1)["fills"]] == ["yes"]
    assert [f["outcome_side"] for f in get(requester, "/portfolio/fills",
                                           min_ts=first_at + 50)["fills"]] == ["no"]


@pytest.mark.parametrize("path", ["/portfolio/fills", "/portfolio/orders"])
def test_fills_and_orders_page_with_a_cursor(control: Control, pair: tuple[Trader, Trader],
                                             path: str) -> None:
    requester, maker = pair
    execute(control, requester, maker, MARKET)
    execute(control, requester, maker, HVM_MARKET)
    execute(control, requester, maker, MARKET, yes_bid="0.50", no_bid="0.45", side="no")
    key = "fills" if path.endswith("fills") else "orders"
    ident = "fill_id" if key == "fills" else "order_id"
    everything = get(requester, path)[key]
    assert len(everything) == 3
    seen: list[str] = []
    cursor = ""
    for expected in (2, 1):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = get(requester, path, **params)
        assert len(page[key]) == expected
        seen.extend(item[ident] for item in page[key])
        cursor = page["cursor"]
    assert cursor == ""
    assert seen == [item[ident] for item in everything]


@pytest.mark.parametrize("path", ["/portfolio/fills", "/portfolio/orders",
                                  "/portfolio/positions"])
@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"limit": "many"},
                                    {"cursor": "%%%"}, {"subaccount": 64}])
def test_portfolio_lists_with_bad_query_parameters_are_a_bare_400(
        control: Control, pair: tuple[Trader, Trader], path: str,
        params: dict[str, Any]) -> None:
    requester, _ = pair
    bare_error(requester.get(path, params=params))


def test_portfolio_lists_accept_limits_from_1_to_1000(control: Control,
                                                      pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    execute(control, requester, maker, MARKET)
    for path in ("/portfolio/fills", "/portfolio/orders", "/portfolio/positions"):
        for limit in (1, 1000):
            assert requester.get(path, params={"limit": limit}).status_code == 200


def test_orders_show_both_parties_orders_of_an_execution(
        control: Control, pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    quote = execute(control, requester, maker, MARKET)
    quote_id = quote["id"]
    orders = get(requester, "/portfolio/orders")
    assert orders["cursor"] == ""
    assert [o["order_id"] for o in orders["orders"]] == [quote["rfq_creator_order_id"]]

    order = get(requester, f"/portfolio/orders/{quote['rfq_creator_order_id']}")["order"]
    assert order == orders["orders"][0]
    assert order["user_id"] == requester.account.user_id
    assert re.fullmatch(rf"rfq:[0-9a-f]{{8}}:{quote_id}", order["client_order_id"])
    assert order["ticker"] == MARKET
    assert (order["outcome_side"], order["status"], order["type"]) == ("yes", "executed",
                                                                       "limit")
    assert (order["yes_price_dollars"], order["no_price_dollars"]) == ("0.4500", "0.5500")
    assert (order["initial_count_fp"], order["fill_count_fp"],
            order["remaining_count_fp"]) == ("10.00", "10.00", "0.00")
    assert order["taker_fill_cost_dollars"] == "4.5000"
    assert order["taker_fees_dollars"] == "0.173300"
    assert order["maker_fees_dollars"] == "0.000000"

    maker_orders = get(maker, "/portfolio/orders")["orders"]
    assert len(maker_orders) == 1
    maker_order = maker_orders[0]
    assert re.fullmatch(rf"quote:[0-9a-f]{{8}}:{quote_id}", maker_order["client_order_id"])
    assert (maker_order["outcome_side"], maker_order["no_price_dollars"]) == ("no", "0.5500")
    assert maker_order["maker_fill_cost_dollars"] == "5.5000"
    assert maker_order["maker_fees_dollars"] == "0.043400"
    assert maker_order["user_id"] == maker.account.user_id


def test_orders_filter_by_status_and_ticker(control: Control,
                                            pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    execute(control, requester, maker, MARKET)
    assert len(get(requester, "/portfolio/orders", status="executed")["orders"]) == 1
    assert get(requester, "/portfolio/orders", status="resting")["orders"] == []
    assert get(requester, "/portfolio/orders", status="canceled")["orders"] == []
    assert get(requester, "/portfolio/orders", ticker=HVM_MARKET)["orders"] == []
    assert len(get(requester, "/portfolio/orders", event_ticker="KXTEST-26DEC31")[
        "orders"]) == 1
    bare_error(requester.get("/portfolio/orders", params={"status": "open"}))


def test_an_order_of_someone_else_or_unknown_is_404(control: Control, new_trader: NewTrader,
                                                    pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    quote = execute(control, requester, maker, MARKET)
    order_id = quote["rfq_creator_order_id"]
    for caller in (maker, new_trader("stranger")):
        nested_error(caller.get(f"/portfolio/orders/{order_id}"), 404, "not_found")
    nested_error(requester.get("/portfolio/orders/no-such-order"), 404, "not_found")


def test_positions_page_with_a_cursor_and_aggregate_events(
        control: Control, pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    execute(control, requester, maker, MARKET)
    execute(control, requester, maker, HVM_MARKET, contracts="2.5")
    body = get(requester, "/portfolio/positions")
    assert body["cursor"] == ""
    assert [(p["ticker"], p["position_fp"]) for p in body["market_positions"]] == [
        (MARKET, "10.00"), (HVM_MARKET, "2.50")]
    events = {e["event_ticker"]: e for e in body["event_positions"]}
    assert set(events) == {"KXTEST-26DEC31", "KXTESTHVM-26DEC31"}
    assert events["KXTEST-26DEC31"]["total_cost_dollars"] == "4.5000"
    assert events["KXTESTHVM-26DEC31"]["total_cost_shares_fp"] == "2.50"

    first = get(requester, "/portfolio/positions", limit=1)
    assert [p["ticker"] for p in first["market_positions"]] == [MARKET]
    assert first["cursor"] != ""
    second = get(requester, "/portfolio/positions", limit=1, cursor=first["cursor"])
    assert [p["ticker"] for p in second["market_positions"]] == [HVM_MARKET]
    assert second["cursor"] == ""
    assert [p["ticker"] for p in get(requester, "/portfolio/positions",
                                     event_ticker="KXTESTHVM-26DEC31")[
        "market_positions"]] == [HVM_MARKET]
    bare_error(requester.get("/portfolio/positions", params={"count_filter": "volume"}))


def test_balance_of_another_subaccount_is_separate(control: Control,
                                                   pair: tuple[Trader, Trader]) -> None:
    requester, _ = pair
    control.call("PUT", f"/accounts/{requester.account.user_id}/balance",
                 {"balance_dollars": "12.3456", "subaccount": 5})
    assert get(requester, "/portfolio/balance", subaccount=5)["balance_dollars"] == "12.3456"
    assert get(requester, "/portfolio/balance", subaccount=6)["balance_dollars"] == "0.0000"
    assert requester.balance()["balance_dollars"] == "1000.0000"
    bare_error(requester.get("/portfolio/balance", params={"subaccount": 64}))


def test_portfolio_of_a_new_account_is_empty(control: Control,
                                             pair: tuple[Trader, Trader]) -> None:
    requester, _ = pair
    assert get(requester, "/portfolio/positions") == {"market_positions": [],
                                                      "event_positions": [], "cursor": ""}
    assert get(requester, "/portfolio/fills") == {"fills": [], "cursor": ""}
    assert get(requester, "/portfolio/orders") == {"orders": [], "cursor": ""}


def test_positions_in_one_market_on_two_subaccounts_page_without_a_gap(
        control: Control, pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    control.call("PUT", f"/accounts/{requester.account.user_id}/balance",
                 {"balance_dollars": "100", "subaccount": 1})
    execute(control, requester, maker, MARKET)
    response = requester.post("/communications/rfqs", json={
        "market_ticker": MARKET, "contracts_fp": "3", "rest_remainder": False,
        "subaccount": 1})
    rfq_id = response.json()["id"]
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id)
    maker.confirm(rfq_id, quote_id)
    control.advance(15)

    everything = get(requester, "/portfolio/positions")["market_positions"]
    assert sorted((p["subaccount_number"], p["position_fp"]) for p in everything) == [
        (0, "10.00"), (1, "3.00")]
    seen: list[Any] = []
    cursor = ""
    for _ in range(3):
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = get(requester, "/portfolio/positions", **params)
        seen.extend((p["ticker"], p["subaccount_number"]) for p in page["market_positions"])
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == [(p["ticker"], p["subaccount_number"]) for p in everything]
    assert get(requester, "/portfolio/positions", subaccount=1)["market_positions"][0][
        "position_fp"] == "3.00"


def test_positions_count_filter_pages_over_the_filtered_positions(
        control: Control, pair: tuple[Trader, Trader]) -> None:
    requester, maker = pair
    # Tickers sort A < B < C; the position in A is closed again, B and C stay open.
    tickers = [f"KXPOS-26DEC31-{letter}" for letter in "ABC"]
    for ticker in tickers:
        control.market(ticker)
        execute(control, requester, maker, ticker)
    execute(control, requester, maker, tickers[0], yes_bid="0.50", no_bid="0.45", side="no")

    seen: list[Any] = []
    cursor = ""
    for _ in range(5):
        params: dict[str, Any] = {"limit": 1, "count_filter": "position",
                                  **({"cursor": cursor} if cursor else {})}
        page = get(requester, "/portfolio/positions", **params)
        seen.extend(p["ticker"] for p in page["market_positions"])
        cursor = page["cursor"]
        if not cursor:
            break
    assert seen == tickers[1:]
