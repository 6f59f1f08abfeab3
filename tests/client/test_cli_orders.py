"""The order commands, book views and the live ladder of ``kalshi-sandbox``, against a real
sandbox process; and the ``liquidity`` control-plane command."""

from __future__ import annotations

import json
from decimal import Decimal as D

from typer.testing import CliRunner

from kalshi_sandbox.cli import app
from kalshi_sandbox.cli.ladder import LadderView, ladder_lines
from kalshi_sandbox.client import (
    OrderBook,
    OrderbookDelta,
    OrderbookSnapshot,
    SequenceGap,
    Side,
    Subscribed,
)
from tests.client.test_cli import CLEAN_ENV, Lines, _run, _stop, _watch
from tests.conftest import MARKET
from tests.support.server import Account, Control

runner = CliRunner()


def test_order_commands_place_amend_decrease_get_list_and_cancel(
        control: Control, requester: Account) -> None:
    placed = _run(control, requester, "order", "place", MARKET, "--side", "bid", "--count",
                  "10", "--price", "0.45", "--client-order-id", "cli-1", "--post-only")
    order_id = placed["order_id"]
    assert (placed["fill_count"], placed["remaining_count"]) == ("0.00", "10.00")
    shown = _run(control, requester, "order", "get", order_id)
    assert (shown["order"]["status"], shown["queue_position_fp"]) == ("resting", "0.00")
    amended = _run(control, requester, "order", "amend", order_id, "--price", "0.44",
                   "--count", "8")
    assert amended["remaining_count"] == "8.00"
    assert _run(control, requester, "order", "decrease", order_id, "--to", "6")[
        "remaining_count"] == "6.00"
    table = _run(control, requester, "order", "get", order_id, as_json=False)
    assert "ahead in queue" in table
    assert "0.4400" in table
    listed = _run(control, requester, "order", "list", "--status", "resting")
    assert [o["order_id"] for o in listed["orders"]] == [order_id]
    assert _run(control, requester, "order", "cancel", order_id)["reduced_by"] == "6.00"
    second = _run(control, requester, "order", "place", MARKET, "--side", "ask", "--count",
                  "1", "--price", "0.70")["order_id"]
    assert _run(control, requester, "order", "cancel-all", as_json=False).strip() == (
        "cancelled every resting order")
    assert _run(control, requester, "order", "get", second)["order"]["status"] == "canceled"
    error = _run(control, requester, "order", "place", MARKET, "--side", "bid", "--count", "1",
                 "--price", "0.455", code=1)
    assert (error["error"]["status"], error["error"]["code"]) == (400, "invalid_price")


def test_market_book_draws_a_ladder_and_market_trades_lists_the_trade(
        control: Control, requester: Account, maker: Account) -> None:
    _run(control, maker, "order", "place", MARKET, "--side", "ask", "--count", "10",
         "--price", "0.55")
    _run(control, maker, "order", "place", MARKET, "--side", "bid", "--count", "7",
         "--price", "0.41")
    took = _run(control, requester, "order", "place", MARKET, "--side", "bid", "--count",
                "4", "--price", "0.60", "--time-in-force", "immediate_or_cancel",
                as_json=False)
    assert "4.00 filled, 0.00 resting (average price 0.5500" in took
    assert _run(control, None, "market", "book", MARKET) == {
        "ticker": MARKET, "yes": [["0.4100", "7.00"]], "no": [["0.4500", "6.00"]]}
    ladder = _run(control, None, "market", "book", MARKET, as_json=False)
    rows = [line.split("│")[1:4] for line in ladder.splitlines() if line.count("│") == 4]
    assert [[cell.strip() for cell in row] for row in rows] == [
        ["", "0.5500", "6.00"], ["", "spread 0.1400", ""], ["7.00", "0.4100", ""]]
    trades = _run(control, None, "market", "trades", MARKET)["trades"]
    assert [(t["count_fp"], t["yes_price_dollars"], t["taker_outcome_side"]) for t in trades] == [
        ("4.00", "0.5500", "yes")]


def test_watch_orderbook_delta_piped_prints_the_snapshot_then_each_delta(
        control: Control, requester: Account, maker: Account) -> None:
    _run(control, maker, "order", "place", MARKET, "--side", "bid", "--count", "5",
         "--price", "0.40")
    process = _watch(control, requester, "--channel", "orderbook_delta", "--market", MARKET,
                     "--count", "2")
    try:
        lines = Lines(process)
        assert lines.next().strip() == "subscribed to orderbook_delta (sid 1)"
        assert lines.next().split() == ["seq=1", "type=orderbook_snapshot",
                                        f"market={MARKET}", "yes_levels=1", "no_levels=0"]
        _run(control, maker, "order", "place", MARKET, "--side", "ask", "--count", "3",
             "--price", "0.60")
        line = lines.next()
        assert process.wait(timeout=20) == 0
    finally:
        _stop(process)
    assert line.split() == ["seq=2", "type=orderbook_delta", f"market={MARKET}", "side=no",
                            "price=0.4000", "delta=+3.00"]


def test_watch_orderbook_delta_on_a_terminal_redraws_a_live_ladder(
        control: Control, requester: Account, maker: Account) -> None:
    process = _watch(control, requester, "--channel", "orderbook_delta", "--market", MARKET,
                     "--count", "3", TTY_COMPATIBLE="1", TTY_INTERACTIVE="1")
    try:
        Lines(process).until("subscribed to orderbook_delta")
        _run(control, maker, "order", "place", MARKET, "--side", "bid", "--count", "5",
             "--price", "0.41")
        _run(control, maker, "order", "place", MARKET, "--side", "ask", "--count", "2",
             "--price", "0.57")
        output, _ = process.communicate(timeout=20)
    finally:
        _stop(process)
    assert process.returncode == 0
    text = output.decode()
    assert "\x1b[" in text  # redrawn in place
    last = text[text.rindex(MARKET):]
    for cell in ("0.5700", "2.00", "0.4100", "5.00", "spread 0.1600", "no bid 0.4300 +2.00"):
        assert cell in last, cell


def test_watch_orderbook_delta_needs_a_market(control: Control, requester: Account) -> None:
    result = runner.invoke(app, ["watch", "--channel", "orderbook_delta", "--base-url",
                                 control.base_url, "--key-id", requester.key_id,
                                 "--private-key", requester.private_key_pem], env=CLEAN_ENV)
    assert result.exit_code == 2
    assert "--market" in result.output


def test_ladder_view_follows_snapshot_and_deltas_and_marks_a_gap() -> None:
    view = LadderView([MARKET], rows=2)
    view.add(Subscribed("orderbook_delta", 1))
    view.add(OrderbookSnapshot(type="orderbook_snapshot", seq=1, market_ticker=MARKET,
                               market_id=None, yes=((D("0.40"), D("5")), (D("0.41"), D("1"))),
                               no=((D("0.50"), D("2")),)))
    view.add(OrderbookDelta(type="orderbook_delta", seq=2, market_ticker=MARKET, market_id=None,
                            price=D("0.41"), delta=D("-1"), side=Side.YES))
    book = view.books[MARKET].book()
    assert book == OrderBook(MARKET, ((D("0.40"), D("5")),), ((D("0.50"), D("2")),))
    assert [line.split() for line in ladder_lines(book)] == [
        ["0.50", "2"], ["spread", "0.10"], ["5", "0.40"]]
    view.add(SequenceGap(1, 3, 5))
    assert not view.books[MARKET].ready
    assert "stale" in view.status


def test_liquidity_command_adds_sets_lists_pauses_and_removes(control: Control) -> None:
    url = ["--url", control.base_url, "--json"]

    def run(*args: str) -> object:
        result = runner.invoke(app, ["liquidity", *args, *url], env=CLEAN_ENV)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    added = run("add", "cli-lp", "--market", MARKET, "--fair-value", "0.60", "--depth", "1",
                "--volatility", "0", "--seed", "3")
    assert added["state"][MARKET]["yes_bid"] == "0.5800"  # type: ignore[index]
    assert _run(control, None, "market", "book", MARKET)["yes"] == [["0.5800", "10.00"]]
    moved = run("set", "cli-lp", MARKET, "--path", "0:0.30,5:0.35")
    assert moved["fair_value"] == "0.3000"  # type: ignore[index]
    assert [m["name"] for m in run("list")["liquidity"]] == ["cli-lp"]  # type: ignore[index]
    assert run("requote") == {"requoted": "all"}
    assert run("pause", "cli-lp")["active"] is False  # type: ignore[index]
    assert _run(control, None, "market", "book", MARKET)["yes"] == []
    assert run("resume", "cli-lp")["active"] is True  # type: ignore[index]
    assert run("remove", "cli-lp") == {"removed": "cli-lp"}
    assert run("list") == {"liquidity": []}
    bad = runner.invoke(app, ["liquidity", "set", "x", MARKET, "--path", "nonsense", *url],
                        env=CLEAN_ENV)
    assert bad.exit_code == 2

