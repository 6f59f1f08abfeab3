"""What state-control tests compare: every read a bot or a tester can make."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from tests.support.server import Account, Trader

READS = ("/portfolio/balance", "/portfolio/positions", "/portfolio/fills", "/portfolio/orders",
         "/communications/rfqs", "/communications/quotes", "/communications/id",
         "/communications/quotes?rfq_user_filter=self", "/markets")
CONTROL_READS = ("/accounts", "/markets", "/clock")


def reads(base_url: str, accounts: Sequence[Account], rfq_ids: Sequence[str] = (),
          quote_ids: Sequence[str] = (),
          control_headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Return each signed GET a bot can make, and the control plane's reads, by request.

    Every account reads its portfolio, the RFQ and quote lists, each RFQ and quote named,
    and each of its orders; the control plane lists accounts and markets and shows the clock.
    """
    seen: dict[str, Any] = {}
    for account in accounts:
        trader = Trader(base_url, account)
        try:
            paths = [*READS, *(f"/communications/rfqs/{r}" for r in rfq_ids),
                     *(f"/communications/quotes/{q}" for q in quote_ids),
                     *(f"/communications/quotes?rfq_id={r}" for r in rfq_ids)]
            for path in paths:
                response = trader.get(path)
                seen[f"{account.name} GET {path}"] = (response.status_code, response.json())
            for order in trader.get("/portfolio/orders").json()["orders"]:
                path = f"/portfolio/orders/{order['order_id']}"
                response = trader.get(path)
                seen[f"{account.name} GET {path}"] = (response.status_code, response.json())
        finally:
            trader.close()
    with httpx.Client(base_url=base_url + "/sandbox/v1", headers=control_headers,
                      timeout=30) as control:
        for path in CONTROL_READS:
            response = control.get(path)
            seen[f"control GET {path}"] = (response.status_code, response.json())
    return seen


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Name the reads whose answers differ (for a readable assertion message)."""
    return [f"{key}:\n  {before.get(key)}\n  {after.get(key)}"
            for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)]
