"""Order entry over signed HTTP: V2 create/cancel/amend/decrease/batches, the legacy 410,
the order book, trades, queue positions, order groups (Kalshi's acceptance checks)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import NewTrader
from tests.api.support import nested_error
from tests.conftest import MARKET
from tests.support.server import Control

V2 = "/portfolio/events/orders"


def v2(side: str, price: str, count: str, tif: str = "good_till_canceled",
       **extra: Any) -> dict[str, Any]:
    return {"ticker": MARKET, "side": side, "price": price, "count": count,
            "time_in_force": tif, "self_trade_prevention_type": "taker_at_cross", **extra}


def book(control: Control) -> dict[str, Any]:
    response = httpx.get(f"{control.base_url}/trade-api/v2/markets/{MARKET}/orderbook")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["orderbook_fp"]
    return data


def test_kalshis_acceptance_checks(control: Control, new_trader: NewTrader) -> None:
    alice, bob = new_trader("alice"), new_trader("bob")
    # 1. A bid on an empty book rests and shows in the book.
    created = alice.post(V2, json=v2("bid", "0.56", "10"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["fill_count"], body["remaining_count"]) == ("0.00", "10.00")
    assert isinstance(body["ts_ms"], int)
    assert book(control) == {"yes_dollars": [["0.5600", "10.00"]], "no_dollars": []}
    # 2. An IOC ask takes 4 at the resting price.
    taken = bob.post(V2, json=v2("ask", "0.56", "4", "immediate_or_cancel"))
    assert taken.status_code == 201, taken.text
    assert (taken.json()["fill_count"], taken.json()["remaining_count"],
            taken.json()["average_fill_price"]) == ("4.00", "0.00", "0.5600")
    maker = alice.get(f"/portfolio/orders/{body['order_id']}").json()["order"]
    assert (maker["fill_count_fp"], maker["remaining_count_fp"], maker["status"]) == (
        "4.00", "6.00", "resting")
    trades = httpx.get(f"{control.base_url}/trade-api/v2/markets/trades",
                       params={"ticker": MARKET}).json()["trades"]
    assert [(t["count_fp"], t["taker_outcome_side"], t["taker_book_side"],
             t["is_block_trade"]) for t in trades] == [("4.00", "no", "ask", False)]
    # 3. A NO bid at 0.40 (an ask at 0.60) shows at its NO price.
    assert bob.post(V2, json=v2("ask", "0.60", "3")).status_code == 201
    assert book(control)["no_dollars"] == [["0.4000", "3.00"]]
    market = httpx.get(f"{control.base_url}/trade-api/v2/markets/{MARKET}").json()["market"]
    assert (market["yes_bid_dollars"], market["yes_ask_dollars"], market["volume_fp"]) == (
        "0.5600", "0.6000", "4.00")
    # 4. Post-only crossing the best ask is refused.
    refused = alice.post(V2, json=v2("bid", "0.60", "1", post_only=True))
    error = nested_error(refused, 400, "invalid_order")
    assert error["details"] == "post only cross"
    # 5. FOK beyond the depth: 409.
    nested_error(alice.post(V2, json=v2("bid", "0.60", "5", "fill_or_kill")), 409,
                 "fill_or_kill_insufficient_resting_volume")
    # 6. Legacy writes are gone.
    gone = alice.post("/portfolio/orders", json={"ticker": MARKET})
    error = nested_error(gone, 410, "deprecated_v1_order_endpoint")
    assert error["message"] == "Please switch to the V2 endpoints"


def test_cancel_amend_decrease_queue_and_batches(control: Control,
                                                 new_trader: NewTrader) -> None:
    alice = new_trader("alice")
    first = alice.post(V2, json=v2("bid", "0.50", "10", client_order_id="a-1")).json()
    second = alice.post(V2, json=v2("bid", "0.50", "5")).json()
    queue = alice.get(f"/portfolio/orders/{second['order_id']}/queue_position").json()
    assert queue["queue_position_fp"] == "10.00"
    decreased = alice.post(f"{V2}/{first['order_id']}/decrease", json={"reduce_by": "4"})
    assert decreased.json()["remaining_count"] == "6.00", decreased.text
    amended = alice.post(f"{V2}/{first['order_id']}/amend",
                         json={"ticker": MARKET, "side": "bid", "price": "0.51", "count": "8"})
    assert amended.status_code == 200, amended.text
    assert amended.json()["remaining_count"] == "8.00"
    assert book(control)["yes_dollars"] == [["0.5000", "5.00"], ["0.5100", "8.00"]]
    cancelled = alice.delete(f"{V2}/{second['order_id']}")
    assert cancelled.json()["reduced_by"] == "5.00", cancelled.text
    nested_error(alice.delete(f"{V2}/{second['order_id']}"), 400, "invalid_order")
    nested_error(alice.delete(f"{V2}/not-an-order"), 404, "not_found")
    batch = alice.post(f"{V2}/batched", json={"orders": [
        v2("bid", "0.40", "1"), v2("bid", "1.40", "1")]})
    assert batch.status_code == 201, batch.text
    items = batch.json()["orders"]
    assert "error" not in items[0]
    assert items[1]["error"]["code"] == "invalid_price"
    assert alice.request("DELETE", V2).status_code == 204
    assert book(control) == {"yes_dollars": [], "no_dollars": []}


def test_order_groups_over_http(control: Control, new_trader: NewTrader) -> None:
    alice, bob = new_trader("alice"), new_trader("bob")
    created = alice.post("/portfolio/order_groups/create", json={"contracts_limit": 5})
    assert created.status_code == 201, created.text
    group_id = created.json()["order_group_id"]
    alice.post(V2, json=v2("bid", "0.50", "4", order_group_id=group_id))
    alice.post(V2, json=v2("bid", "0.45", "4", order_group_id=group_id))
    bob.post(V2, json=v2("ask", "0.45", "6", "immediate_or_cancel"))
    group = alice.get(f"/portfolio/order_groups/{group_id}").json()
    assert (group["is_auto_cancel_enabled"], group["orders"]) == (False, [])
    nested_error(alice.post(V2, json=v2("bid", "0.40", "1", order_group_id=group_id)), 400,
                 "invalid_order")
    assert alice.put(f"/portfolio/order_groups/{group_id}/reset").status_code == 200
    assert alice.post(V2, json=v2("bid", "0.40", "1", order_group_id=group_id)) \
        .status_code == 201
    listed = alice.get("/portfolio/order_groups").json()["order_groups"]
    assert [g["id"] for g in listed] == [group_id]
    assert alice.delete(f"/portfolio/order_groups/{group_id}").status_code == 200
