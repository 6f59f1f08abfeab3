"""A market's own times survive a crash: the open, close and settlement timers are rows in
the database, so a server killed with SIGKILL and started again opens, closes and settles
the market when the clock reaches those instants, exactly once."""

from __future__ import annotations

from pathlib import Path

from kalshi_sandbox.domain.clock import MICROS, format_instant, parse_instant
from tests.support.server import Control, ServerProcess, Trader

MANUAL = ("--clock", "manual", "--no-seed")
TICKER = "KXCRASH-26DEC31-T1"
V2 = "/portfolio/events/orders"


def order(side: str, count: str = "4") -> dict[str, str]:
    return {"ticker": TICKER, "side": side, "price": "0.60", "count": count,
            "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross"}


def status(trader: Trader) -> str:
    market: dict[str, str] = trader.get(f"/markets/{TICKER}").json()["market"]
    return market["status"]


def test_open_close_and_settlement_timers_fire_once_after_a_crash(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "sandbox", args=MANUAL).start()
    try:
        control = Control(server.base_url)
        start = parse_instant(control.call("GET", "/clock")["now"])
        control.market(TICKER, open_time=format_instant(start + 60 * MICROS),
                       close_time=format_instant(start + 600 * MICROS),
                       settlement_timer_seconds=300)
        alice, bob = control.account("alice"), control.account("bob")
        control.close()

        server.kill()
        server.start()
        control = Control(server.base_url)
        buyer, seller = Trader(server.base_url, alice), Trader(server.base_url, bob)
        assert status(buyer) == "initialized"
        control.advance(60)
        assert status(buyer) == "active"
        assert buyer.post(V2, json=order("bid", "10")).status_code == 201
        assert seller.post(V2, json=order("ask")).status_code == 201
        for trader in (buyer, seller, control):
            trader.close()

        server.kill()
        server.start()
        control = Control(server.base_url)
        buyer = Trader(server.base_url, alice)
        control.advance(540)
        assert status(buyer) == "closed"
        [resting] = buyer.get("/portfolio/orders", params={"status": "canceled"}).json()[
            "orders"]
        assert resting["remaining_count_fp"] == "0.00"
        control.call("POST", f"/markets/{TICKER}/determine", {"result": "yes"})
        buyer.close()
        control.close()

        server.kill()
        server.start()
        control = Control(server.base_url)
        buyer = Trader(server.base_url, alice)
        control.advance(299)
        assert status(buyer) == "determined"
        control.advance(1)
        assert status(buyer) == "finalized"
        [row] = buyer.get("/portfolio/settlements").json()["settlements"]
        assert (row["yes_count_fp"], row["revenue"]) == ("4.00", 400)
        # Once: nothing is left to fire, and advancing again settles nothing twice.
        assert control.call("GET", "/clock")["pending_timers"] == 0
        control.advance(600)
        assert len(buyer.get("/portfolio/settlements").json()["settlements"]) == 1
        buyer.close()
        control.close()
    finally:
        server.stop()
