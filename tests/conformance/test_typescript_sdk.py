"""Kalshi's official TypeScript SDK (kalshi-typescript 3.30.0), unmodified but for its host.

``ts/rfq_flow.js`` runs a whole lifecycle with the SDK's RFQ-scoped methods (createRFQ, createQuote,
getQuotes, acceptRFQQuote, confirmRFQQuote, getRFQQuote) against a real server process and
prints what every step returned; this test feeds it two accounts and checks the output.
``make test`` installs the pinned packages (``npm ci`` in ``ts/``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MARKET
from tests.support.server import Account, Control

TS_DIR = Path(__file__).parent / "ts"


def _credentials(account: Account) -> dict[str, str]:
    return {"key_id": account.key_id, "private_key_pem": account.private_key_pem}


def run_script(script: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Run one of the Node scripts in ``ts/`` on ``payload`` and return its JSON output."""
    node = shutil.which("node")
    if node is None or not (TS_DIR / "node_modules" / "kalshi-typescript").is_dir():
        pytest.fail("needs node and the pinned npm packages: run `make test` "
                    "(or `npm ci` in tests/conformance/ts)")
    done = subprocess.run([node, script], cwd=TS_DIR, input=json.dumps(payload),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"stdout: {done.stdout}\nstderr: {done.stderr}"
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run_flow(control: Control, requester: Account, maker: Account) -> dict[str, Any]:
    """Run the RFQ flow script against the sandbox and return its JSON output."""
    return run_script("rfq_flow.js", {
        "base_url": control.base_url, "market": MARKET,
        "requester": _credentials(requester), "maker": _credentials(maker)})


@pytest.fixture
def flow(control: Control) -> tuple[dict[str, Any], Account, Account]:
    requester = control.account("ts-requester", "1000")
    maker = control.account("ts-maker", "1000")
    return run_flow(control, requester, maker), requester, maker


def test_typescript_sdk_creates_quotes_accepts_and_confirms_with_rfq_scoped_calls(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, requester, _ = flow
    assert out["requester_communications_id"] == requester.communications_id
    assert out["create_rfq"]["status"] == 201
    assert out["rfq"]["id"] == out["create_rfq"]["id"]
    assert (out["rfq"]["contracts_fp"], out["rfq"]["status"]) == ("10.00", "open")
    assert out["create_quote"]["status"] == 201
    quote_id = out["create_quote"]["id"]
    assert [(q["id"], q["status"], q["yes_bid_dollars"], q["no_bid_dollars"],
             q["contracts_fp"]) for q in out["quotes"]["quotes"]] == [
        (quote_id, "open", "0.4000", "0.5500", "10.00")]
    assert out["accept"]["status"] == 204
    assert (out["accepted_quote"]["status"], out["accepted_quote"]["accepted_side"]) == (
        "accepted", "yes")
    assert out["confirm"]["status"] == 204
    assert out["confirmed_quote"]["status"] == "confirmed"


def test_typescript_sdk_sees_quote_executed_with_both_order_ids_and_their_fills(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, _, _ = flow
    requester_quote, maker_quote = out["requester_quote"], out["maker_quote"]
    assert requester_quote["status"] == maker_quote["status"] == "executed"
    assert requester_quote["accepted_side"] == "yes"
    assert "executed_ts" in requester_quote
    requester_order = requester_quote["rfq_creator_order_id"]
    maker_order = maker_quote["creator_order_id"]
    assert requester_order
    assert maker_order
    assert requester_order != maker_order
    # Each party sees only its own order id.
    assert "creator_order_id" not in requester_quote
    assert "rfq_creator_order_id" not in maker_quote
    assert out["rfq_after"]["status"] == "closed"

    assert [(f["order_id"], f["outcome_side"], f["count_fp"], f["yes_price_dollars"],
             f["is_taker"]) for f in out["requester_fills"]["fills"]] == [
        (requester_order, "yes", "10.00", "0.4500", True)]
    assert [(f["order_id"], f["outcome_side"], f["count_fp"], f["no_price_dollars"],
             f["is_taker"]) for f in out["maker_fills"]["fills"]] == [
        (maker_order, "no", "10.00", "0.5500", False)]
    assert out["requester_balance"]["balance_dollars"] == "995.3267"
    assert [(p["ticker"], p["position_fp"])
            for p in out["requester_positions"]["market_positions"]] == [(MARKET, "10.00")]
    assert [(p["ticker"], p["position_fp"])
            for p in out["maker_positions"]["market_positions"]] == [(MARKET, "-10.00")]


def test_typescript_sdk_receives_kalshi_error_bodies_for_refused_confirms(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, _, _ = flow
    assert out["confirm_again"]["status"] == 400
    assert out["confirm_again"]["data"]["error"]["code"] == "invalid_parameters"
    refused = out["confirm_by_requester"]
    assert refused["status"] == 404
    assert (refused["data"]["error"]["code"], refused["data"]["error"]["message"]) == (
        "not_found", "quote not found")


def test_typescript_sdk_lists_and_reads_markets(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, _, _ = flow
    assert MARKET in [m["ticker"] for m in out["markets"]["markets"]]
    assert isinstance(out["markets"]["cursor"], str)
    assert out["market"]["ticker"] == MARKET
    assert out["market"]["price_ranges"]


def test_typescript_sdk_reads_account_limits_and_endpoint_costs(
        flow: tuple[dict[str, Any], Account, Account]) -> None:
    out, _, _ = flow
    assert out["account_limits"] == {
        "usage_tier": "basic", "read": {"refill_rate": 200, "bucket_capacity": 400},
        "write": {"refill_rate": 100, "bucket_capacity": 100}, "grants": []}
    costs = out["endpoint_costs"]
    assert costs["default_cost"] == 10
    listed = {(c["method"], c["path"], c["cost"]) for c in costs["endpoint_costs"]}
    # Order entry's costs, then the RFQ endpoints'.
    assert ("DELETE", "/trade-api/v2/portfolio/events/orders/{order_id}", 2) in listed
    assert ("POST", "/trade-api/v2/portfolio/orders", 100) in listed
    assert {c for c in listed if "/communications/" in c[1]} == {
        ("POST", "/trade-api/v2/communications/quotes", 2),
        ("GET", "/trade-api/v2/communications/quotes/{quote_id}", 2),
        ("DELETE", "/trade-api/v2/communications/quotes/{quote_id}", 2),
        ("GET", "/trade-api/v2/communications/rfqs/{rfq_id}/quotes/{quote_id}", 2),
        ("DELETE", "/trade-api/v2/communications/rfqs/{rfq_id}/quotes/{quote_id}", 2)}
