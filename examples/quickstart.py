"""Run one RFQ from request to fill against a sandbox started with `make run`.

The demo requester asks for 10 contracts, the demo maker quotes, the requester accepts YES,
the maker confirms, and after the execution timer (15 s on a normal market) both fills show.
Every request is signed exactly as Kalshi requires; only the base URL differs from Kalshi.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import httpx

from kalshi_sandbox.client.auth import KalshiAuth

BASE_URL = os.environ.get("KALSHI_SANDBOX_URL", "http://127.0.0.1:8000")
DATA_DIR = Path(os.environ.get("KALSHI_SANDBOX_DATA_DIR", ".kalshi-sandbox"))
MARKET = "KXSANDBOX-26DEC31-T50"


def client(name: str) -> httpx.Client:
    """Return a signed client for one of the demo accounts written by `serve`."""
    manifest = DATA_DIR / "demo-accounts.json"
    if not manifest.exists():
        sys.exit(f"{manifest} not found: start the sandbox with `make run` first")
    account = next(a for a in json.loads(manifest.read_text()) if a["name"] == name)
    auth = KalshiAuth(account["key_id"], Path(account["key_path"]))
    return httpx.Client(base_url=f"{BASE_URL}/trade-api/v2", auth=auth, timeout=10)


def check(response: httpx.Response) -> httpx.Response:
    """Stop with Kalshi's error body if the request failed."""
    if response.status_code >= 400:
        sys.exit(f"{response.request.method} {response.request.url.path} -> "
                 f"{response.status_code} {response.text}")
    return response


def main() -> None:
    try:
        run()
    except httpx.TransportError as exc:
        sys.exit(f"cannot reach the sandbox at {BASE_URL}: {type(exc).__name__}: {exc}\n"
                 "start it with `make run` (`PORT=9000 make run` for another port, then "
                 "KALSHI_SANDBOX_URL=http://127.0.0.1:9000)")
    except KeyboardInterrupt:
        sys.exit(130)


def run() -> None:
    requester, maker = client("requester"), client("maker")

    rfq_id = check(requester.post("/communications/rfqs", json={
        "market_ticker": MARKET, "contracts_fp": "10", "rest_remainder": False,
        "replace_existing": True,
    })).json()["id"]
    print(f"requester created RFQ {rfq_id} for 10 contracts of {MARKET}")

    quote_id = check(maker.post("/communications/quotes", json={
        "rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55", "rest_remainder": False,
    })).json()["id"]
    print(f"maker quoted {quote_id}: yes_bid 0.40, no_bid 0.55")

    scoped = f"/communications/rfqs/{rfq_id}/quotes/{quote_id}"
    check(requester.put(f"{scoped}/accept", json={"accepted_side": "yes"}))
    print("requester accepted YES (pays 1 - no_bid = 0.45 per contract)")

    check(maker.put(f"{scoped}/confirm"))
    print("maker confirmed; waiting for the execution timer", end="", flush=True)

    while True:
        quote = check(requester.get(scoped)).json()["quote"]
        if quote["status"] != "confirmed":
            break
        print(".", end="", flush=True)
        time.sleep(1)
    print(f"\nquote {quote['status']} at {quote.get('executed_ts')}")

    order_id = quote["rfq_creator_order_id"]
    fills = check(requester.get("/portfolio/fills", params={"order_id": order_id})).json()
    for fill in fills["fills"]:
        print(f"requester fill: {fill['count_fp']} {fill['outcome_side'].upper()} at "
              f"{fill['yes_price_dollars']} (fee {fill['fee_cost']})")
    balance = check(requester.get("/portfolio/balance")).json()
    print(f"requester balance: ${balance['balance_dollars']}")


if __name__ == "__main__":
    main()
