"""Exactly-once execution across a crash: a server killed between confirm and execution.

Each test runs its own server process on its own data directory, kills it with SIGKILL (no
shutdown hook runs), starts it again on the same database and checks the confirmed quote
executes exactly once: one order and one fill per party, balances debited once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kalshi_sandbox.domain.clock import MICROS, Instant, format_instant, parse_instant
from tests.conftest import MARKET
from tests.support.server import Account, Control, ServerProcess, Trader

MANUAL = ("--clock", "manual", "--no-seed")
EXECUTION_DELAY = 15 * MICROS
CONFIRM_WINDOW = 30 * MICROS

# Requester buys 10 YES at $0.45 plus a $0.1733 taker fee; the maker buys 10 NO at $0.55
# plus a $0.0434 maker fee (the trade of test_lifecycle).
REQUESTER_AFTER = "995.3267"
MAKER_AFTER = "994.4566"


@dataclass
class Scene:
    """A server of one test's own, its parties and the quote, re-attachable after restarts."""

    server: ServerProcess
    requester: Account | None = None
    maker: Account | None = None
    rfq_id: str = ""
    quote_id: str = ""
    control: Control | None = None
    traders: tuple[Trader, Trader] | None = None

    def attach(self) -> tuple[Control, Trader, Trader]:
        """Return a control client and both traders on fresh connections."""
        self.detach()
        assert self.requester is not None
        assert self.maker is not None
        self.control = Control(self.server.base_url)
        self.traders = (Trader(self.server.base_url, self.requester),
                        Trader(self.server.base_url, self.maker))
        return self.control, *self.traders

    def detach(self) -> None:
        """Close the connections to the current server process."""
        if self.traders is not None:
            for trader in self.traders:
                trader.close()
            self.traders = None
        if self.control is not None:
            self.control.close()
            self.control = None

    def crash(self) -> None:
        """Kill the server with SIGKILL."""
        self.detach()
        self.server.kill()

    def restart(self, *extra: str) -> tuple[Control, Trader, Trader]:
        """Start the server again on the same data directory, with ``extra`` flags."""
        self.server.args = (*MANUAL, *extra)
        self.server.start()
        return self.attach()


def clock(control: Control) -> dict[str, Any]:
    state: dict[str, Any] = control.call("GET", "/clock")
    return state


def now(control: Control) -> Instant:
    return parse_instant(clock(control)["now"])


def advance_to(control: Control, instant: Instant) -> int:
    """Move the manual clock to ``instant``; return how many timers fired."""
    state = control.call("POST", "/clock/advance", {"to": format_instant(instant)})
    fired: int = state["fired_timers"]
    return fired


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    """A scene on a server of the test's own (not the shared session server)."""
    scene = Scene(ServerProcess(tmp_path / "sandbox", args=MANUAL))
    yield scene
    scene.detach()
    scene.server.stop()


def accept(scene: Scene) -> Instant:
    """Start the scene's server with a market, two parties and an accepted quote; return
    the instant of acceptance."""
    scene.server.start()
    control = Control(scene.server.base_url)
    control.market(MARKET)
    scene.requester, scene.maker = control.account("requester"), control.account("maker")
    control.close()
    control, requester, maker = scene.attach()
    scene.rfq_id = requester.create_rfq(MARKET, "10")
    scene.quote_id = maker.create_quote(scene.rfq_id, yes_bid="0.40", no_bid="0.55")
    accepted_at = now(control)
    requester.accept(scene.rfq_id, scene.quote_id, "yes")
    return accepted_at


def confirm(scene: Scene, advance_first: float = 0) -> Instant:
    """Like ``accept``, then confirm; return the instant of confirmation."""
    accept(scene)
    control, _, maker = scene.attach()
    if advance_first:
        control.advance(advance_first)
    confirmed_at = now(control)
    maker.confirm(scene.rfq_id, scene.quote_id)
    return confirmed_at


def assert_waiting(control: Control, requester: Trader, maker: Trader, quote_id: str) -> None:
    """Assert the quote is confirmed and nothing has traded yet."""
    assert maker.quote(quote_id)["status"] == "confirmed"
    for trader in (requester, maker):
        assert trader.get("/portfolio/orders").json()["orders"] == []
        assert trader.get("/portfolio/fills").json()["fills"] == []
        assert trader.balance()["balance_dollars"] == "1000.0000"


def assert_executed_once(scene: Scene, executed_at: Instant) -> None:
    """Assert the quote executed exactly once at ``executed_at``, with every effect once."""
    assert scene.control is not None
    assert scene.traders is not None
    requester, maker = scene.traders
    quote = maker.quote(scene.quote_id)
    assert quote["status"] == "executed"
    assert parse_instant(quote["executed_ts"]) == executed_at
    rfq = requester.rfq(scene.rfq_id)
    assert (rfq["status"], rfq["cancellation_reason"]) == ("closed", "executed")

    expected = ((requester, requester.quote(scene.quote_id)["rfq_creator_order_id"], "yes",
                 REQUESTER_AFTER),
                (maker, quote["creator_order_id"], "no", MAKER_AFTER))
    for trader, order_id, side, balance in expected:
        orders = trader.get("/portfolio/orders").json()["orders"]
        assert [(o["order_id"], o["outcome_side"], o["fill_count_fp"]) for o in orders] == [
            (order_id, side, "10.00")]
        fills = trader.get("/portfolio/fills").json()["fills"]
        assert [(f["order_id"], f["count_fp"]) for f in fills] == [(order_id, "10.00")]
        assert trader.balance()["balance_dollars"] == balance
        positions = trader.get("/portfolio/positions").json()["market_positions"]
        assert [p["position_fp"] for p in positions] == [
            "10.00" if side == "yes" else "-10.00"]
    state = clock(scene.control)
    assert state["pending_timers"] == 0
    assert state["next_timer"] is None


@pytest.mark.parametrize("advance_first", [0, 5], ids=["clock never moved", "clock moved 5s"])
def test_crash_before_execution_due_executes_once_when_clock_reaches_due(
        scene: Scene, advance_first: float) -> None:
    confirmed_at = confirm(scene, advance_first)
    due = confirmed_at + EXECUTION_DELAY

    scene.crash()
    control, requester, maker = scene.restart()

    # The manual clock resumes where it stood, with the execution timer still pending.
    assert now(control) == confirmed_at
    assert parse_instant(clock(control)["next_timer"]) == due
    assert_waiting(control, requester, maker, scene.quote_id)
    assert advance_to(control, due - 1) == 0
    assert_waiting(control, requester, maker, scene.quote_id)
    assert advance_to(control, due) == 1
    assert_executed_once(scene, due)

    # Another crash after execution replays nothing.
    scene.crash()
    control, _, _ = scene.restart()
    assert now(control) == due
    assert control.advance(60)["fired_timers"] == 0
    assert_executed_once(scene, due)


def test_crash_past_execution_due_executes_once_at_start_up(scene: Scene) -> None:
    confirmed_at = confirm(scene)
    start = confirmed_at + EXECUTION_DELAY + 45 * MICROS

    scene.crash()
    control, _, _ = scene.restart("--clock-start", format_instant(start))

    # The overdue timer fired during start-up, before the first request was served.
    assert now(control) == start
    assert_executed_once(scene, start)
    assert control.advance(60)["fired_timers"] == 0
    assert_executed_once(scene, start)

    scene.crash()
    control, _, _ = scene.restart()
    assert now(control) == start + 60 * MICROS
    assert_executed_once(scene, start)


def test_crash_past_confirmation_deadline_voids_quote_at_start_up(scene: Scene) -> None:
    accepted_at = accept(scene)
    deadline = accepted_at + CONFIRM_WINDOW
    assert scene.control is not None
    latecomer = scene.control.trader("latecomer")
    open_quote = latecomer.create_quote(scene.rfq_id, yes_bid="0.30", no_bid="0.60")
    latecomer_account = latecomer.account

    scene.crash()
    control, requester, maker = scene.restart("--clock-start",
                                              format_instant(deadline + MICROS))

    # A restart forgets open quotes, as a Kalshi server roll does: they are gone (404).
    latecomer = Trader(scene.server.base_url, latecomer_account)
    try:
        gone = latecomer.put(f"/communications/quotes/{open_quote}/confirm")
        assert gone.status_code == 404, gone.text
        assert gone.json()["error"]["code"] == "not_found"
        assert latecomer.get(f"/communications/quotes/{open_quote}").status_code == 404
    finally:
        latecomer.close()

    quote = maker.quote(scene.quote_id)
    assert (quote["status"], quote["cancellation_reason"]) == ("cancelled",
                                                               "confirmation_timeout")
    response = maker.put(f"/communications/rfqs/{scene.rfq_id}/quotes/{scene.quote_id}/confirm")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "quote_expired"
    assert control.advance(60)["fired_timers"] == 0
    for trader in (requester, maker):
        assert trader.get("/portfolio/fills").json()["fills"] == []
        assert trader.balance()["balance_dollars"] == "1000.0000"
    assert requester.rfq(scene.rfq_id)["status"] == "open"
