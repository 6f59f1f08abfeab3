"""The private ``order_group_updates`` channel: every transition of the caller's order groups,
with gap-free ``seq``, and nobody else's."""

from __future__ import annotations

from typing import Any

from tests.conftest import MARKET
from tests.support.server import Control
from tests.ws.client import OpenSocket

GROUPS = "/portfolio/order_groups"


def order(side: str, price: str, count: str, **extra: Any) -> dict[str, Any]:
    return {"ticker": MARKET, "side": side, "price": price, "count": count,
            "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross",
            **extra}


def test_order_group_transitions_reach_their_owner_in_order(control: Control,
                                                             sockets: OpenSocket) -> None:
    alice, bob = control.trader("alice"), control.trader("bob")
    mine, theirs = sockets(alice), sockets(bob)
    sid = mine.subscribe("order_group_updates",
                         market_tickers=["ANY"])["order_group_updates"]
    theirs.subscribe("order_group_updates")

    created = alice.post(GROUPS + "/create", json={"contracts_limit": 5})
    assert created.status_code == 201, created.text
    group_id = created.json()["order_group_id"]
    assert alice.put(f"{GROUPS}/{group_id}/limit", json={"contracts_limit_fp": "8"}) \
        .status_code == 200
    # Alice's resting bid in the group is hit for 9 > 8 contracts: the group triggers.
    placed = alice.post("/portfolio/events/orders",
                        json=order("bid", "0.50", "10", order_group_id=group_id))
    assert placed.status_code == 201, placed.text
    assert bob.post("/portfolio/events/orders", json=order("ask", "0.50", "9")) \
        .status_code == 201
    assert alice.put(f"{GROUPS}/{group_id}/reset").status_code == 200
    assert alice.put(f"{GROUPS}/{group_id}/trigger").status_code == 200
    assert alice.delete(f"{GROUPS}/{group_id}").status_code == 200

    frames = mine.drain()
    assert mine.gaps == []
    assert [(f["type"], f["sid"], f["seq"]) for f in frames] == [
        ("order_group_updates", sid, n) for n in range(1, 7)]
    messages = [f["msg"] for f in frames]
    assert [(m["event_type"], m["order_group_id"], m.get("contracts_limit_fp"))
            for m in messages] == [
        ("created", group_id, "5.00"), ("limit_updated", group_id, "8.00"),
        ("triggered", group_id, None), ("reset", group_id, None),
        ("triggered", group_id, None), ("deleted", group_id, None)]
    assert all(isinstance(m["ts_ms"], int) for m in messages)
    assert theirs.drain() == []
    order_view = alice.get(f"/portfolio/orders/{placed.json()['order_id']}").json()["order"]
    assert (order_view["status"], order_view["fill_count_fp"]) == ("canceled", "9.00")
