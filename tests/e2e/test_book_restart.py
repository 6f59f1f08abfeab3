"""Resting and partially filled orders across a crash: a server killed with SIGKILL (no
shutdown hook runs) and started again on the same database shows every order, level, queue
position, fill, position and balance exactly as before, and its book trades on from there:
price-time priority, expiry timers and liquidity makers included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kalshi_sandbox.domain.clock import MICROS
from tests.conftest import MARKET
from tests.e2e.test_restart import MANUAL, clock, now
from tests.support.server import Control, ServerProcess, Trader

V2 = "/portfolio/events/orders"
OTHER = "KXTEST-26DEC31-T90"


def order(side: str, price: str, count: str, tif: str = "good_till_canceled",
          market: str = MARKET, **extra: Any) -> dict[str, Any]:
    return {"ticker": market, "side": side, "price": price, "count": count,
            "time_in_force": tif, "self_trade_prevention_type": "taker_at_cross", **extra}


def place(trader: Trader, body: dict[str, Any]) -> dict[str, Any]:
    response = trader.post(V2, json=body)
    assert response.status_code == 201, response.text
    placed: dict[str, Any] = response.json()
    return placed


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of the test's own (not the shared session server)."""
    process = ServerProcess(tmp_path / "sandbox", args=MANUAL).start()
    yield process
    process.stop()


def state(control: Control, traders: dict[str, Trader], order_ids: list[str]
          ) -> dict[str, Any]:
    """Everything a trader or the control plane can read about the book's state."""
    anyone = next(iter(traders.values()))
    views: dict[str, Any] = {
        "books": {t: anyone.get(f"/markets/{t}/orderbook").json() for t in (MARKET, OTHER)},
        "trades": anyone.get("/markets/trades").json(),
        "market": anyone.get(f"/markets/{MARKET}").json()["market"],
        "liquidity": [{k: v for k, v in m.items() if k not in ("activity", "stats")}
                      for m in control.call("GET", "/liquidity")["liquidity"]],
    }
    for name, trader in traders.items():
        orders = trader.get("/portfolio/orders").json()["orders"]
        resting = [o["order_id"] for o in orders if o["status"] == "resting"]
        views[name] = {
            "orders": orders,
            "fills": trader.get("/portfolio/fills").json()["fills"],
            "positions": trader.get("/portfolio/positions").json(),
            "balance": trader.balance()["balance_dollars"],
            "queue": {i: trader.get(f"/portfolio/orders/{i}/queue_position").json()
                      for i in resting},
            "resting_value": trader.get(
                "/portfolio/summary/total_resting_order_value").json(),
        }
    views["order_ids"] = order_ids
    return views


def test_resting_and_partially_filled_orders_survive_sigkill_exactly(
        server: ServerProcess) -> None:
    control = Control(server.base_url)
    control.market(MARKET)
    control.market(OTHER)
    accounts = {name: control.account(name) for name in ("alice", "bob", "dave")}
    traders = {name: Trader(server.base_url, account) for name, account in accounts.items()}
    alice, bob, dave = traders["alice"], traders["bob"], traders["dave"]
    # Alice's ask rests first at 0.56, Dave's after it at the same price; Bob takes 4 of
    # Alice's: partially filled, with Dave still behind her.
    ids = [place(alice, order("ask", "0.56", "10", client_order_id="alice-ask"))["order_id"],
           place(dave, order("ask", "0.56", "5"))["order_id"]]
    assert place(bob, order("bid", "0.60", "4", "immediate_or_cancel"))["fill_count"] == "4.00"
    expires = now(control) // MICROS + 30
    ids.append(place(bob, order("bid", "0.40", "7", expiration_time=expires))["order_id"])
    group = bob.post("/portfolio/order_groups/create", json={"contracts_limit": 50}).json()
    ids.append(place(bob, order("bid", "0.30", "3", market=OTHER,
                                order_group_id=group["order_group_id"]))["order_id"])
    control.call("POST", "/liquidity", {"name": "lp", "markets": [OTHER], "fair_value": "0.70",
                                        "volatility": "0", "depth": 2}, expect=201)
    before = state(control, traders, ids)
    assert before["alice"]["orders"][0]["remaining_count_fp"] == "6.00"
    assert before["dave"]["queue"] == {ids[1]: {"queue_position": 6,
                                                "queue_position_fp": "6.00"}}
    instant = clock(control)["now"]

    for trader in traders.values():
        trader.close()
    control.close()
    server.kill()
    server.start()

    control = Control(server.base_url)
    traders = {name: Trader(server.base_url, account) for name, account in accounts.items()}
    alice, bob, dave = traders["alice"], traders["bob"], traders["dave"]
    try:
        assert clock(control)["now"] == instant
        assert state(control, traders, ids) == before

        # The book trades on: Alice's remaining 6 come before Dave's 5 at the same price.
        taken = place(bob, order("bid", "0.56", "8", "immediate_or_cancel"))
        assert taken["fill_count"] == "8.00"
        alice_order = alice.get(f"/portfolio/orders/{ids[0]}").json()["order"]
        dave_order = dave.get(f"/portfolio/orders/{ids[1]}").json()["order"]
        assert (alice_order["status"], alice_order["fill_count_fp"]) == ("executed", "10.00")
        assert (dave_order["status"], dave_order["fill_count_fp"],
                dave_order["remaining_count_fp"]) == ("resting", "2.00", "3.00")
        # The expiry timer survived: Bob's bid at 0.40 is cancelled 30 s after placing.
        control.advance(31)
        expired = bob.get(f"/portfolio/orders/{ids[2]}").json()["order"]
        assert expired["status"] == "canceled"
        # The liquidity maker requotes the same ladder, adding nothing it already had.
        other = bob.get(f"/markets/{OTHER}/orderbook").json()["orderbook_fp"]
        assert other == before["books"][OTHER]["orderbook_fp"]
    finally:
        for trader in traders.values():
            trader.close()
        control.close()
