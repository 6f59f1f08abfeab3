"""Snapshots through a real server: restore after changes, across servers, and refusals."""

from __future__ import annotations

import shutil
from typing import Any

from tests.api.support import nested_error
from tests.conftest import HVM_MARKET, MARKET
from tests.state.support import differences, reads
from tests.support.server import Control, ServerProcess, Trader


def _busy_state(control: Control) -> dict[str, Any]:
    """Trade once, leave a quote accepted (its window running) and another open."""
    requester = control.trader("requester", "1000")
    maker = control.trader("maker", "1000")
    traded = requester.create_rfq(MARKET)
    quote = maker.create_quote(traded)
    requester.accept(traded, quote)
    maker.confirm(traded, quote)
    control.advance(20)  # executes
    waiting = requester.create_rfq(MARKET, "5")
    accepted = maker.create_quote(waiting, "0.30", "0.60")
    requester.accept(waiting, accepted, "no")
    control.advance(5)  # 25 s of the 30 s window left
    open_rfq = requester.create_rfq(HVM_MARKET, "3")
    open_quote = maker.create_quote(open_rfq, "0.45", "0.50")
    return {"requester": requester, "maker": maker,
            "rfqs": [traded, waiting, open_rfq], "quotes": [quote, accepted, open_quote]}


def _reads(control: Control, state: dict[str, Any]) -> dict[str, Any]:
    return reads(control.base_url, [state["requester"].account, state["maker"].account],
                 state["rfqs"], state["quotes"])


def test_restore_after_changes_answers_every_read_as_at_the_snapshot(control: Control) -> None:
    state = _busy_state(control)
    before = _reads(control, state)
    snapshot = control.call("POST", "/snapshots", {})
    assert snapshot["format"] == "kalshi-sandbox-snapshot"
    assert snapshot["clock"] == "manual"

    requester, maker = state["requester"], state["maker"]
    waiting, open_rfq = state["rfqs"][1], state["rfqs"][2]
    accepted, open_quote = state["quotes"][1], state["quotes"][2]
    maker.confirm(waiting, accepted)
    control.advance(60)  # executes the second trade
    requester.accept(open_rfq, open_quote)
    assert maker.delete(f"/communications/quotes/{open_quote}").status_code == 204
    control.call("PUT", f"/accounts/{maker.account.user_id}/balance",
                 {"balance_dollars": "5"})
    newcomer = control.trader("newcomer")
    newcomer.create_rfq(MARKET)
    assert differences(before, _reads(control, state))

    restored = control.call("POST", "/snapshots/restore", snapshot)
    assert restored["restored"] is True
    assert restored["instant"] == snapshot["instant"]
    assert differences(before, _reads(control, state)) == []
    # The key of an account created after the snapshot is gone, cached or not.
    assert newcomer.get("/portfolio/balance").status_code == 401


def test_restored_timers_fire_as_they_would_have(control: Control) -> None:
    state = _busy_state(control)
    requester, maker = state["requester"], state["maker"]
    waiting, accepted = state["rfqs"][1], state["quotes"][1]
    snapshot = control.call("POST", "/snapshots", {})
    control.advance(120)  # the accepted quote's window lapses
    assert requester.quote(accepted)["status"] == "cancelled"

    control.call("POST", "/snapshots/restore", snapshot)
    clock = control.call("GET", "/clock")
    assert clock["now"] == snapshot["instant"]
    assert clock["pending_timers"] == 1
    assert requester.quote(accepted)["status"] == "accepted"
    # The window is still running: a confirm now is in time, and the trade executes.
    maker.confirm(waiting, accepted)
    control.advance(20)
    assert requester.quote(accepted)["status"] == "executed"


def test_snapshot_file_restores_in_another_server(control: Control, target: Control,
                                                   server: ServerProcess,
                                                   other_server: ServerProcess) -> None:
    state = _busy_state(control)
    before = _reads(control, state)
    # A name inside the data directory, relative to it.
    written = control.call("POST", "/snapshots", {"path": "snapshots/busy.json"})
    assert written["path"] == "snapshots/busy.json"
    path = server.data_dir / "snapshots" / "busy.json"
    assert path.stat().st_mode & 0o777 == 0o600
    # Copied into the other server's data directory, named there by its absolute path.
    shutil.copyfile(path, other_server.data_dir / "busy.json")

    target.call("POST", "/snapshots/restore",
                {"path": str((other_server.data_dir / "busy.json").absolute())})
    after = _reads(target, state)
    assert differences(before, after) == []
    # The other server trades on from there with the same keys and the same timers.
    maker = Trader(target.base_url, state["maker"].account)
    try:
        maker.confirm(state["rfqs"][1], state["quotes"][1])
    finally:
        maker.close()
    target.advance(20)
    requester = Trader(target.base_url, state["requester"].account)
    try:
        assert requester.quote(state["quotes"][1])["status"] == "executed"
    finally:
        requester.close()


def test_restore_of_something_else_is_refused_and_changes_nothing(control: Control) -> None:
    requester = control.trader("requester")
    rfq = requester.create_rfq(MARKET)
    snapshot = control.call("POST", "/snapshots", {})
    bad_tables = {**snapshot, "tables": {**snapshot["tables"], "rfqs": [{"id": 1}]}}
    bodies: list[dict[str, Any]] = [{"tables": {}}, {**snapshot, "version": 99}, bad_tables,
                                    {"path": "missing.json"}]
    for body in bodies:
        response = control.http.post("/snapshots/restore", json=body)
        nested_error(response, 400, "invalid_parameters")
    assert requester.rfq(rfq)["status"] == "open"
    assert control.call("POST", "/snapshots", {})["tables"] == snapshot["tables"]


def test_restore_puts_a_manual_clock_back_and_forward(control: Control) -> None:
    early = control.call("POST", "/snapshots", {})
    control.advance(3600)
    late = control.call("POST", "/snapshots", {})
    control.call("POST", "/snapshots/restore", early)
    assert control.call("GET", "/clock")["now"] == early["instant"]
    control.call("POST", "/snapshots/restore", late)
    assert control.call("GET", "/clock")["now"] == late["instant"]
