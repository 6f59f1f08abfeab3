"""SIGKILL a server again and again while it trades, then replay its journal elsewhere.

Workers drive RFQ lifecycles concurrently against a real server process (manual clock, so a
replay can put every change at the same instant), the clock is advanced between rounds so
confirmed quotes execute, and a killer thread SIGKILLs the server while requests are in
flight (after a random number of answers since it last started) and starts it again on the
same files. Afterwards the journal, replayed into a fresh sandbox,
must rebuild the database exactly: every table, row for row. The replay reports what the
crashes did to the journal (lines recovered from the database, lines of work that changed
nothing lost), and those reports must agree with the start entries.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from tests.state.inprocess import tables
from tests.support.server import Account, Control, ServerProcess, Trader

KILLS = 4
WORKERS = 8
LIFECYCLES = 4
"""Lifecycles per worker per round, each on a market of its own (one open RFQ per market)."""
MARKETS = [f"KXCRASH-26DEC31-T{n}" for n in range(LIFECYCLES)]

NDJSON = {"Content-Type": "application/x-ndjson"}


def test_replay_after_repeated_sigkills_rebuilds_the_database_exactly(tmp_path: Path) -> None:
    rng = random.Random(20260301)
    server = ServerProcess(tmp_path / "crashing").start()
    up = threading.Event()
    up.set()
    answered = Answered()
    try:
        control = Control(server.base_url)
        for market in MARKETS:
            control.market(market)
        requesters = [control.account(f"requester-{i}", "1000000") for i in range(WORKERS)]
        makers = [control.account(f"maker-{i}", "1000000") for i in range(2)]
        control.close()

        kills: list[float] = []

        def killer() -> None:
            for _ in range(KILLS):
                answered.wait_for(answered.count + rng.randint(20, 120))
                up.clear()
                server.kill()
                kills.append(time.monotonic())
                server.start()
                up.set()

        with ThreadPoolExecutor(WORKERS + 1) as pool:
            killing = pool.submit(killer)
            rounds = 0
            while not killing.done() or rounds < 1:
                if killing.done():
                    rounds += 1
                jobs = [pool.submit(_lifecycles, server.base_url, requesters[i],
                                    makers[i % len(makers)], up, answered)
                        for i in range(WORKERS)]
                for job in jobs:
                    job.result()
                _until_done(lambda: _advance(server.base_url), up)
            killing.result()
        assert len(kills) == KILLS

        control = Control(server.base_url)
        original = tables(control.call("POST", "/snapshots", {}))
        journal = control.http.get("/journal").text
        control.close()
    finally:
        server.stop()

    assert len(original["fills"]) > 0
    assert "executed" in {q["status"] for q in original["quotes"]}
    other = ServerProcess(tmp_path / "replayed").start()
    try:
        target = Control(other.base_url)
        response = target.http.post("/journal/replay", content=journal, headers=NDJSON, timeout=120)
        assert response.status_code == 200, response.text
        result = response.json()
        replayed = tables(target.call("POST", "/snapshots", {}))
        target.close()
    finally:
        other.stop()

    starts = [e for e in _entries(journal) if e["type"] == "start"]
    unclean = [e for e in starts if e.get("unclean")]
    assert len(unclean) == KILLS
    assert sorted(result["recovered"]) == sorted(s for e in unclean for s in e["recovered"])
    assert sorted(result["lost"]) == sorted(s for e in unclean for s in e["lost"])
    assert result["missing"] == []
    assert result["mismatches"] == []
    assert result["made_up"] == 0
    different = [name for name in original if original[name] != replayed.get(name)]
    assert different == [], _first_difference(original, replayed, different)


class Answered:
    """How many requests the server has answered so far, and a way to wait for more."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def add(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.count >= count, timeout=60)


def _lifecycles(base_url: str, requester: Account, maker: Account, up: threading.Event,
                answered: Answered) -> None:
    """Run ``LIFECYCLES`` lifecycles; one cut short by a crash is dropped, not retried."""
    buyer = Trader(base_url, requester)
    seller = Trader(base_url, maker)
    buyer.http.timeout = seller.http.timeout = httpx.Timeout(10)

    def sent(response: httpx.Response, expect: int) -> bool:
        answered.add()
        return response.status_code == expect

    try:
        for market in MARKETS:
            up.wait(30)
            try:
                rfq = buyer.post("/communications/rfqs", json={
                    "market_ticker": market, "contracts_fp": "10", "rest_remainder": False,
                    "replace_existing": True})
                if not sent(rfq, 201):
                    continue
                rfq_id = rfq.json()["id"]
                quote = seller.post("/communications/quotes", json={
                    "rfq_id": rfq_id, "yes_bid": "0.40", "no_bid": "0.55",
                    "rest_remainder": False})
                if not sent(quote, 201):
                    continue
                quote_id = quote.json()["id"]
                base = f"/communications/rfqs/{rfq_id}/quotes/{quote_id}"
                if not sent(buyer.put(base + "/accept", json={"accepted_side": "yes"}), 204):
                    continue
                sent(seller.put(base + "/confirm"), 204)
            except httpx.HTTPError:
                continue  # killed under it
    finally:
        buyer.close()
        seller.close()


def _advance(base_url: str) -> None:
    with httpx.Client(base_url=base_url + "/sandbox/v1", timeout=10) as http:
        response = http.post("/clock/advance", json={"seconds": 16})
        assert response.status_code == 200, response.text


def _until_done(call: Callable[[], None], up: threading.Event) -> None:
    for _ in range(50):
        up.wait(30)
        try:
            call()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("the server never came back")


def _entries(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def _first_difference(original: dict[str, Any], replayed: dict[str, Any],
                      names: list[str]) -> str:
    lines = []
    for name in names:
        mine, theirs = original[name], replayed.get(name, [])
        lines.append(f"{name}: {len(mine)} rows, replayed {len(theirs)}")
        for a, b in zip(mine, theirs, strict=False):
            if a != b:
                lines.append(f"  first differing row:\n  {a}\n  {b}")
                break
    return "\n".join(lines)
