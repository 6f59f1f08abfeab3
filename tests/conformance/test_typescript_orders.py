"""Kalshi's official TypeScript SDK (kalshi-typescript 3.30.0), unmodified but for its host,
placing, reading and cancelling orders on the V2 paths and seeing a crossing trade.

``ts/order_flow.js`` runs the steps with the SDK's OrdersApi, MarketApi, PortfolioApi and
OrderGroupsApi against a real server process and prints what each returned; this test feeds
it two accounts and checks the output. ``make test`` installs the pinned packages.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.test_typescript_sdk import _credentials, run_script
from tests.conftest import MARKET
from tests.support.server import Account, Control


@pytest.fixture
def flow(control: Control) -> tuple[dict[str, Any], Account, Account]:
    buyer = control.account("ts-buyer", "1000")
    seller = control.account("ts-seller", "1000")
    payload = {"base_url": control.base_url, "market": MARKET,
               "buyer": _credentials(buyer), "seller": _credentials(seller)}
    return run_script("order_flow.js", payload), buyer, seller


def test_typescript_sdk_places_reads_and_cancels_a_resting_order_on_the_v2_paths(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, buyer, _ = flow
    assert out["create"]["status"] == 201
    created = out["create"]["data"]
    assert (created["fill_count"], created["remaining_count"], created["client_order_id"]) == (
        "0.00", "10.00", "ts-resting-1")
    order = out["resting_order"]
    assert (order["order_id"], order["user_id"], order["status"], order["book_side"],
            order["outcome_side"], order["yes_price_dollars"], order["remaining_count_fp"]) == (
        created["order_id"], buyer.user_id, "resting", "bid", "yes", "0.5600", "10.00")
    assert out["book_resting"]["orderbook_fp"] == {"yes_dollars": [["0.5600", "10.00"]],
                                                   "no_dollars": []}
    assert out["cancel"]["status"] == 200
    assert (out["cancel"]["data"]["order_id"], out["cancel"]["data"]["reduced_by"]) == (
        created["order_id"], "10.00")
    assert out["cancelled_order"]["status"] == "canceled"
    assert out["book_empty"]["orderbook_fp"] == {"yes_dollars": [], "no_dollars": []}
    assert out["cancel_again"]["status"] == 400
    assert out["cancel_again"]["data"]["error"]["code"] == "invalid_order"


def test_typescript_sdk_sees_a_crossing_trade_in_fills_positions_trades_and_the_book(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, _, _ = flow
    ask_id = out["ask"]["order_id"]
    assert out["book_ask"]["orderbooks"] == [{
        "ticker": MARKET, "orderbook_fp": {"yes_dollars": [], "no_dollars": [
            ["0.4400", "10.00"]]}, "orderbook": out["book_ask"]["orderbooks"][0]["orderbook"]}]
    take = out["take"]
    assert take["status"] == 201
    assert (take["data"]["fill_count"], take["data"]["remaining_count"],
            take["data"]["average_fill_price"]) == ("4.00", "0.00", "0.5600")
    assert [(f["order_id"], f["outcome_side"], f["count_fp"], f["yes_price_dollars"],
             f["is_taker"]) for f in out["buyer_fills"]["fills"]] == [
        (take["data"]["order_id"], "yes", "4.00", "0.5600", True)]
    assert [(f["order_id"], f["outcome_side"], f["count_fp"], f["no_price_dollars"],
             f["is_taker"]) for f in out["seller_fills"]["fills"]] == [
        (ask_id, "no", "4.00", "0.4400", False)]
    assert [(p["ticker"], p["position_fp"])
            for p in out["buyer_positions"]["market_positions"]] == [(MARKET, "4.00")]
    assert [(p["ticker"], p["position_fp"])
            for p in out["seller_positions"]["market_positions"]] == [(MARKET, "-4.00")]
    assert [(t["count_fp"], t["yes_price_dollars"], t["taker_outcome_side"],
             t["taker_book_side"], t["is_block_trade"]) for t in out["trades"]["trades"]] == [
        ("4.00", "0.5600", "yes", "bid", False)]
    assert [(o["order_id"], o["status"], o["fill_count_fp"], o["remaining_count_fp"])
            for o in out["seller_orders"]["orders"]] == [(ask_id, "resting", "4.00", "6.00")]
    assert out["book_after"]["orderbook_fp"] == {"yes_dollars": [],
                                                 "no_dollars": [["0.4400", "6.00"]]}
    assert out["fok"]["status"] == 409
    assert out["fok"]["data"]["error"]["code"] == "fill_or_kill_insufficient_resting_volume"


def test_typescript_sdk_amends_decreases_groups_and_cancels_all(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, _, _ = flow
    assert (out["amend"]["order_id"], out["amend"]["remaining_count"]) == (
        out["ask"]["order_id"], "5.00")
    assert out["decrease"]["remaining_count"] == "4.00"
    assert out["group"]["status"] == 201
    assert out["group"]["data"]["order_group_id"]
    assert out["cancel_all"]["status"] == 204
    assert out["book_final"]["orderbook_fp"] == {"yes_dollars": [], "no_dollars": []}
