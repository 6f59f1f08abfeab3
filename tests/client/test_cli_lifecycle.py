"""The lifecycle commands of ``kalshi-sandbox`` against a real sandbox process:
``market close|open|settle`` and ``exchange maintenance``."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from kalshi_sandbox.cli import app
from tests.api.support import execute
from tests.conftest import MARKET
from tests.support.server import Control

runner = CliRunner()


def _admin(control: Control, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, [*args, "--url", control.base_url, "--json"],
                           env={"COLUMNS": "200", "KALSHI_SANDBOX_URL": None})
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout) if code == 0 else result.stdout


def test_market_settle_with_a_result_pays_positions_and_finalizes_the_market(
        control: Control) -> None:
    requester, maker = control.trader("cli-requester"), control.trader("cli-maker")
    execute(control, requester, maker, MARKET, contracts="10", yes_bid="0.40", no_bid="0.55")
    before = float(requester.balance()["balance_dollars"])
    assert _admin(control, "market", "close", MARKET)["status"] == "closed"
    assert _admin(control, "market", "open", MARKET)["status"] == "active"
    settled = _admin(control, "market", "settle", MARKET, "--result", "yes")
    assert (settled["status"], settled["result"]) == ("finalized", "yes")
    assert float(requester.balance()["balance_dollars"]) == before + 10
    rows = requester.get("/portfolio/settlements").json()["settlements"]
    assert [(r["ticker"], r["revenue"]) for r in rows] == [(MARKET, 1000)]
    _admin(control, "market", "settle", MARKET, "--result", "no", code=1)


def test_exchange_maintenance_refuses_orders_and_lets_cancels_through_in_a_trading_pause(
        control: Control) -> None:
    trader = control.trader("cli-trader")
    order = {"ticker": MARKET, "side": "bid", "price": "0.40", "count": "1",
             "time_in_force": "good_till_canceled",
             "self_trade_prevention_type": "taker_at_cross"}
    resting = trader.post("/portfolio/events/orders", json=order)
    assert resting.status_code == 201, resting.text
    windows = _admin(control, "exchange", "maintenance", "--minutes", "30")
    assert (windows["in_maintenance"], windows["trading_active"]) == (True, False)
    status = trader.get("/exchange/status").json()
    assert (status["exchange_active"], status["trading_active"]) == (True, False)
    assert "exchange_estimated_resume_time" in status
    schedule = trader.get("/exchange/schedule").json()["schedule"]
    assert len(schedule["maintenance_windows"]) == 1
    refused = trader.post("/portfolio/events/orders", json=order)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"]["code"] == "trading_paused"
    refused = trader.post("/communications/rfqs", json={"market_ticker": MARKET,
                                                       "contracts_fp": "1.00",
                                                       "rest_remainder": False})
    assert refused.json()["error"]["code"] == "trading_paused"
    order_id = resting.json()["order_id"]
    cancelled = trader.delete(f"/portfolio/events/orders/{order_id}")
    assert cancelled.status_code == 200, cancelled.text
    assert trader.get("/portfolio/balance").status_code == 200

    _admin(control, "exchange", "maintenance", "--clear")
    _admin(control, "exchange", "maintenance", "--minutes", "10", "--kind", "exchange")
    status = trader.get("/exchange/status").json()
    assert (status["exchange_active"], status["trading_active"]) == (False, False)
    refused = trader.delete(f"/portfolio/events/orders/{order_id}")
    assert refused.json()["error"]["code"] == "exchange_paused"
    control.advance(600)
    assert trader.get("/exchange/status").json()["trading_active"] is True
    assert trader.post("/portfolio/events/orders", json=order).status_code == 201
    assert _admin(control, "exchange", "maintenance")["maintenance_windows"] == []
