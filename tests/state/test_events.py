"""How the journal keeps events: by id (the default), whole, or not at all."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.powers.state.middleware import InProcess
from tests.conftest import MARKET
from tests.state.inprocess import running

QUOTES = "/trade-api/v2/communications/quotes"


async def _lifecycle(data_dir: Path, events: str) -> list[dict[str, Any]]:
    """One executed quote, sent through the app in process as its accounts; the journal."""
    async with running(data_dir, journal_events=events) as (box, client):
        send = InProcess(box.app).call
        await client.call("POST", "/markets", {"ticker": MARKET}, expect=201)
        actors = []
        for name in ("requester", "maker"):
            data = await client.call("POST", "/accounts",
                                     {"name": name, "balance_dollars": "100"}, expect=201)
            actors.append(Actor(data["user_id"], data["communications_id"]))
        requester, maker = actors

        async def ok(expect: int, method: str, path: str, body: Any, actor: Actor) -> Any:
            status, answer = await send(method, path, "", json.dumps(body).encode(), actor)
            assert status == expect, answer
            return json.loads(answer) if answer else None

        rfq = await ok(201, "POST", "/trade-api/v2/communications/rfqs", {
            "market_ticker": MARKET, "contracts_fp": "10", "rest_remainder": False}, requester)
        quote = await ok(201, "POST", QUOTES, {"rfq_id": rfq["id"], "yes_bid": "0.40",
                                               "no_bid": "0.55", "rest_remainder": False}, maker)
        await ok(204, "PUT", f"{QUOTES}/{quote['id']}/accept", {"accepted_side": "yes"},
                 requester)
        await ok(204, "PUT", f"{QUOTES}/{quote['id']}/confirm", None, maker)
        await client.call("POST", "/clock/advance", {"seconds": 16})
        text = (await client.http.get("/journal")).text
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("events", ["ids", "full", "off"])
def test_events_are_kept_as_the_setting_says(tmp_path: Path, events: str) -> None:
    entries = asyncio.run(_lifecycle(tmp_path, events))
    kept = [e for e in entries if e["type"] == "event"]
    quote = next(e for e in entries if e["type"] == "timer")["subject"]
    if events == "off":
        assert kept == []
        return
    names = [e["event"] for e in kept]
    # Through the book: the maker's order rests, the requester's takes it.
    assert names == ["event_lifecycle", "market_lifecycle",
                     "rfq_created", "quote_created", "quote_accepted", "quote_confirmed",
                     "order_updated", "level_changed", "order_updated", "order_updated",
                     "fill_created", "position_changed", "fill_created", "position_changed",
                     "market_updated", "level_changed", "quote_executed", "rfq_deleted"]
    executed = kept[names.index("quote_executed")]
    if events == "ids":
        assert executed["quote"] == quote
        assert "data" not in executed
    else:
        assert executed["data"]["quote"]["id"] == quote
        assert executed["data"]["quote"]["status"] == "executed"
        assert executed["data"]["maker_order"]["status"] == "executed"
