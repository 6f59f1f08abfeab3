"""Assertions on Kalshi's error shapes and small lifecycle helpers for the API tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from tests.support.server import Control, Trader

RFQS = "/communications/rfqs"
QUOTES = "/communications/quotes"


def nested_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert Kalshi's nested business error ``{"error": {"code", "message", ...}}``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def flat_error(response: httpx.Response) -> dict[str, Any]:
    """Assert Kalshi's flat JSON-decoding error ``{"code": "bad_request", ...}`` (400)."""
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "bad_request", body
    assert body["message"] == "bad request"
    assert "error" not in body
    return body


def bare_error(response: httpx.Response) -> str:
    """Assert Kalshi's query-validation error (400): its ``msg``, with the ``code`` every
    Kalshi error carries beside it (``code``, ``message``, ``details``); return the text."""
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details", "msg"}, body
    assert (body["code"], body["message"]) == ("bad_request", "bad request"), body
    message: str = body["msg"]
    assert body["details"] == message, body
    assert message.startswith("Parameter validation failed"), message
    return message


def scoped(rfq_id: str, quote_id: str, action: str = "") -> str:
    """Return the RFQ-scoped path of a quote (or of one of its actions)."""
    path = f"{RFQS}/{rfq_id}/quotes/{quote_id}"
    return f"{path}/{action}" if action else path


def bare(quote_id: str, action: str = "") -> str:
    """Return the deprecated quote-id-only path of a quote (or of one of its actions)."""
    path = f"{QUOTES}/{quote_id}"
    return f"{path}/{action}" if action else path


def quote_as(trader: Trader, rfq_id: str, quote_id: str) -> dict[str, Any]:
    """Return a quote as ``trader`` sees it through the RFQ-scoped GET."""
    response = trader.get(scoped(rfq_id, quote_id))
    assert response.status_code == 200, response.text
    quote: dict[str, Any] = response.json()["quote"]
    return quote


def post_quote(trader: Trader, rfq_id: str, yes_bid: Any = "0.40", no_bid: Any = "0.55",
               **extra: Any) -> httpx.Response:
    """Send Create Quote without asserting its outcome."""
    body = {"rfq_id": rfq_id, "yes_bid": yes_bid, "no_bid": no_bid, "rest_remainder": False,
            **extra}
    return trader.post(QUOTES, json=body)


def post_rfq(trader: Trader, body: dict[str, Any]) -> httpx.Response:
    """Send Create RFQ without asserting its outcome."""
    return trader.post(RFQS, json=body)


def execute(control: Control, requester: Trader, maker: Trader, market: str,
            contracts: str = "10", yes_bid: str = "0.40", no_bid: str = "0.55",
            side: str = "yes") -> dict[str, Any]:
    """Run an RFQ through acceptance, confirmation and execution; return the requester's quote."""
    rfq_id = requester.create_rfq(market, contracts)
    quote_id = maker.create_quote(rfq_id, yes_bid=yes_bid, no_bid=no_bid)
    requester.accept(rfq_id, quote_id, side)
    maker.confirm(rfq_id, quote_id)
    control.advance(15)
    quote = quote_as(requester, rfq_id, quote_id)
    assert quote["status"] == "executed", quote
    return quote


def server_now_seconds(control: Control) -> int:
    """Return the sandbox clock in Unix seconds."""
    state = control.call("GET", "/clock")
    return int(state["now_ms"]) // 1000


def close_market(control: Control, ticker: str, status: str = "closed") -> None:
    """Move a market out of ``active`` through the control plane."""
    control.call("PATCH", f"/markets/{ticker}", {"status": status})


def instant(text: str) -> datetime:
    """Parse an RFC 3339 timestamp of a response."""
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text[:-1] + "+00:00")
