"""Kalshi's official TypeScript SDK (kalshi-typescript 3.30.0), unmodified but for its host,
runs a block-trade proposal to execution.

``ts/block_trade_flow.js`` has a broker propose a trade between a buyer and a seller; each
accepts; the trade then shows in the proposals, in the public trades as ``is_block_trade``,
and in both parties' fills and positions. This test feeds it three accounts and checks the
output. ``make test`` installs the pinned packages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api.support import server_now_seconds
from tests.conformance.test_typescript_sdk import _credentials, run_script
from tests.conftest import MARKET
from tests.support.server import Account, Control


def _party(account: Account) -> dict[str, str]:
    return {"user_id": account.user_id, **_credentials(account)}


@pytest.fixture
def flow(control: Control) -> tuple[dict[str, Any], Account, Account]:
    buyer = control.account("ts-block-buyer", "1000")
    seller = control.account("ts-block-seller", "1000")
    broker = control.account("ts-broker", "0")
    expires = datetime.fromtimestamp(server_now_seconds(control) + 3600, UTC)
    payload = {"base_url": control.base_url, "market": MARKET,
               "expiration_ts": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
               "buyer": _party(buyer), "seller": _party(seller), "broker": _party(broker)}
    return run_script("block_trade_flow.js", payload), buyer, seller


def test_typescript_sdk_runs_a_block_trade_proposal_to_execution(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, buyer, seller = flow
    assert out["propose"]["status"] == 201
    proposal_id = out["propose"]["data"]["block_trade_proposal_id"]
    [listed] = out["listed_open"]["block_trade_proposals"]
    assert (listed["id"], listed["status"], listed["buyer_user_id"], listed["seller_user_id"],
            listed["price_centi_cents"], listed["centicount"], listed["maker_side"],
            listed["buyer_accepted"], listed["seller_accepted"]) == (
        proposal_id, "open", buyer.user_id, seller.user_id, 4200, 2500, "yes", False, False)
    assert out["accept_buyer"]["status"] == 204
    assert out["accept_again"]["status"] == 204
    assert out["accept_seller"]["status"] == 204
    [executed] = out["listed_executed"]["block_trade_proposals"]
    assert (executed["status"], executed["buyer_accepted"], executed["seller_accepted"]) == (
        "executed", True, True)
    assert {"executed_ts", "buyer_order_id", "seller_order_id", "buyer_accepted_ts",
            "seller_accepted_ts"} <= set(executed)

    [trade] = out["block_trades"]["trades"]
    assert (trade["is_block_trade"], trade["count_fp"], trade["yes_price_dollars"],
            trade["taker_outcome_side"]) == (True, "25.00", "0.4200", "no")
    [buyer_fill] = out["buyer_fills"]["fills"]
    [seller_fill] = out["seller_fills"]["fills"]
    assert (buyer_fill["order_id"], buyer_fill["outcome_side"], buyer_fill["is_taker"]) == (
        executed["buyer_order_id"], "yes", False)
    assert (seller_fill["order_id"], seller_fill["outcome_side"], seller_fill["is_taker"]) == (
        executed["seller_order_id"], "no", True)
    assert [(p["ticker"], p["position_fp"])
            for p in out["buyer_positions"]["market_positions"]] == [(MARKET, "25.00")]
    assert [(p["ticker"], p["position_fp"])
            for p in out["seller_positions"]["market_positions"]] == [(MARKET, "-25.00")]
    assert out["unknown"]["status"] == 404
    assert out["unknown"]["data"]["error"]["code"] == "not_found"
