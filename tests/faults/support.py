"""What the fault tests compare: everything a trader can read about its own state."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.server import Trader

RFQS = "/communications/rfqs"
QUOTES = "/communications/quotes"
STATE_READS = (RFQS, QUOTES, "/portfolio/balance", "/portfolio/positions", "/portfolio/fills",
               "/portfolio/orders")


def state(trader: Trader) -> dict[str, Any]:
    """Return every list and balance the trader can read, keyed by path."""
    seen: dict[str, Any] = {}
    for path in STATE_READS:
        response = trader.get(path)
        assert response.status_code == 200, (path, response.text)
        seen[path] = response.json()
    return seen


def rfq_body(market: str, contracts: str = "10") -> dict[str, Any]:
    return {"market_ticker": market, "contracts_fp": contracts, "rest_remainder": False}


def quote_body(rfq_id: str) -> dict[str, Any]:
    return {"rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55", "rest_remainder": False}


def scoped(rfq_id: str, quote_id: str, action: str = "") -> str:
    path = f"{RFQS}/{rfq_id}/quotes/{quote_id}"
    return f"{path}/{action}" if action else path


def bare(quote_id: str, action: str = "") -> str:
    path = f"{QUOTES}/{quote_id}"
    return f"{path}/{action}" if action else path


def timed(call: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    """Return a call's response and the seconds it took (a lower bound of any latency)."""
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def nested(status: int, code: str, message: str, details: str | None = None
           ) -> dict[str, Any]:
    """Return Kalshi's nested error body."""
    inner: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        inner["details"] = details
    return {"error": inner}


RATE_LIMITED = {"error": "too many requests"}
