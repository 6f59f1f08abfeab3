"""Counterparties across restarts, and the default ones ``serve --makers --requesters`` starts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MARKET
from tests.counterparties.conftest import Bots, quotes_on
from tests.support.server import Control, ServerProcess

DEMO_MARKET = "KXSANDBOX-26DEC31-T50"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "sandbox").start()
    yield server
    server.stop()


def _config(bot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bot.items() if k not in ("stats", "activity")}


def test_configuration_survives_a_restart_and_pending_reactions_do_not(
        own_server: ServerProcess) -> None:
    control = Control(own_server.base_url)
    bots = Bots(control)
    control.market(MARKET)
    bots.maker("mm", fair_price="0.60", spread="0.04", quote_delay=5,
               confirm={"policy": "late", "late_by": 2}, seed=4)
    bots.requester("rq", markets=[MARKET], interval=10, accept={"side": "no"})
    bots.requester("idle", contracts="2")
    bots.patch("idle", active=False)
    before = [_config(b) for b in bots.all()]
    requester = control.trader("alice")
    forgotten = requester.create_rfq(MARKET)
    control.advance(3)

    own_server.stop()
    own_server.start()

    assert [_config(b) for b in bots.all()] == before
    control.advance(9.9)
    assert quotes_on(requester, forgotten) == []
    assert bots.activity("rq", "rfq") == []
    control.advance(0.1)
    [made] = bots.activity("rq", "rfq")
    control.advance(5)
    [quote] = bots.activity("mm", "quote")
    assert (quote["rfq_id"], quote["yes_bid"], quote["no_bid"]) == (made["rfq_id"], "0.5800",
                                                                    "0.3800")
    assert bots.activity("idle", "rfq") == []
    control.close()


def test_serve_with_makers_and_requesters_starts_default_counterparties_that_trade(
        tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "sandbox", args=(
        "--clock", "manual", "--makers", "2", "--requesters", "1",
        "--requester-interval", "5")).start()
    control = Control(server.base_url)
    bots = Bots(control)
    try:
        started = bots.all()
        assert [(b["name"], b["kind"], b["active"]) for b in started] == [
            ("auto-maker-1", "maker", True), ("auto-maker-2", "maker", True),
            ("auto-requester-1", "requester", True)]
        assert started[2]["interval"] == 5
        assert started[2]["markets"] is None

        control.advance(5)  # an RFQ on the first demo market
        control.advance(1)  # both makers quote 0.48 / 0.48
        control.advance(1)  # the requester accepts one of the two equal quotes
        control.advance(1)  # that maker confirms
        control.advance(15)  # execution

        [first, *_] = bots.activity("auto-requester-1", "rfq")
        assert (first["outcome"], first["market"]) == ("ok", DEMO_MARKET)
        trades = bots.activity("auto-requester-1", "executed")
        assert first["rfq_id"] in [t["rfq_id"] for t in trades]
        for maker in ("auto-maker-1", "auto-maker-2"):
            assert first["rfq_id"] in [q["rfq_id"] for q in bots.activity(maker, "quote")]
        winners = [maker for maker in ("auto-maker-1", "auto-maker-2")
                   if first["rfq_id"] in [t["rfq_id"] for t in bots.activity(maker, "executed")]]
        assert len(winners) == 1

        server.stop()
        server.start()
        assert [b["name"] for b in bots.all()] == [b["name"] for b in started]
        assert [b["user_id"] for b in bots.all()] == [b["user_id"] for b in started]
    finally:
        control.close()
        server.stop()


def test_restoring_a_snapshot_brings_back_its_counterparties_and_they_act_again(
        control: Control) -> None:
    bots = Bots(control)
    maker = bots.maker("mm", fair_price="0.70", spread="0.02", quote_delay=1)
    bots.requester("rq", markets=[MARKET], interval=10)
    saved = [_config(b) for b in bots.all()]
    snapshot = control.call("POST", "/snapshots", {})

    control.http.delete("/counterparties/mm")
    bots.patch("rq", interval=60, active=False)
    control.call("POST", "/snapshots/restore", snapshot)

    assert [_config(b) for b in bots.all()] == saved
    requester = control.trader("alice")
    rfq_id = requester.create_rfq(MARKET)
    control.advance(1)
    [quote] = quotes_on(requester, rfq_id)
    assert quote["creator_id"] == maker["communications_id"]
    assert (quote["yes_bid_dollars"], quote["no_bid_dollars"]) == ("0.6900", "0.2900")
    control.advance(9)
    assert [a["outcome"] for a in bots.activity("rq", "rfq")] == ["ok"]
