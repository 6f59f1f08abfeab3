"""What a newcomer meets first: money as numbers on the control plane, ids printed for
scripts, tables for people, and readable logs."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from kalshi_sandbox.cli import app, options
from tests.conftest import MARKET
from tests.support.server import Account, Control, ServerProcess, Trader, running

runner = CliRunner()


def test_control_plane_takes_balance_dollars_as_a_number_or_a_string(control: Control) -> None:
    created = control.call("POST", "/accounts", {"name": "numbers", "balance_dollars": 250},
                           expect=201)
    assert created["balance_dollars"] == "250.0000"
    user = created["user_id"]
    assert control.call("PUT", f"/accounts/{user}/balance",
                        {"balance_dollars": 12.5})["balance_dollars"] == "12.5000"
    assert control.call("PUT", f"/accounts/{user}/balance",
                        {"balance_dollars": "99.25"})["balance_dollars"] == "99.2500"
    refused = control.plane.send("PUT", f"/accounts/{user}/balance", {"balance_dollars": True})
    assert refused.status_code == 400
    assert "balance_dollars must be dollars" in refused.text
    refused = control.plane.send("PUT", f"/accounts/{user}/balance", {"balance_dollars": 0.123456})
    assert refused.status_code == 400


def test_rfq_and_quote_create_print_the_bare_id_to_a_pipe(control: Control) -> None:
    requester, maker = control.account("requester"), control.account("maker")

    def run(account: Account, *args: str) -> str:
        key_id, pem = account.key_id, account.private_key_pem
        result = runner.invoke(app, [*args, "--url", control.base_url, "--key-id", key_id,
                                     "--private-key", pem])
        assert result.exit_code == 0, result.output
        return result.stdout

    rfq_id = run(requester, "rfq", "create", MARKET, "--contracts", "5").strip()
    quote_out = run(maker, "quote", "create", rfq_id, "--yes-bid", "0.40", "--no-bid", "0.55")
    quote_id = quote_out.strip()
    assert quote_out == quote_id + "\n"
    trader = Trader(control.base_url, maker)
    assert trader.quote(quote_id)["rfq_id"] == rfq_id  # the printed ids are the real ones
    trader.close()


def test_control_plane_commands_print_tables_on_a_terminal(control: Control,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    control.account("alice", "10")
    piped = runner.invoke(app, ["account", "list", "--url", control.base_url])
    assert json.loads(piped.stdout)["accounts"][0]["name"] == "alice"
    screen = io.StringIO()
    monkeypatch.setattr(options, "console", Console(file=screen, force_terminal=True,
                                                    width=200, color_system=None))
    result = runner.invoke(app, ["account", "list", "--url", control.base_url])
    assert result.exit_code == 0, result.output
    text = screen.getvalue()
    assert "alice" in text
    assert "balance_dollars" in text
    assert "{" not in text  # a table, not JSON
    as_json = runner.invoke(app, ["clock", "show", "--url", control.base_url, "--json"])
    assert json.loads(as_json.stdout)["mode"] == "manual"


def _log_of(tmp_path: Path, *args: str) -> str:
    for server in running(tmp_path, "--clock", "manual", "--no-seed", "--log-level", "info",
                          *args):
        control = Control(server.base_url)
        control.market(MARKET)
        trader = control.trader("logger")
        trader.create_rfq(MARKET)
        control.close()
        log_server: ServerProcess = server
    return log_server.log_text()


def test_server_logs_one_readable_line_per_request_and_event(tmp_path: Path) -> None:
    text = _log_of(tmp_path)
    assert "POST /trade-api/v2/communications/rfqs -> 201 (" in text
    assert "POST /sandbox/v1/accounts -> 201 (" in text
    assert "rfq_created rfq=" in text


def test_server_logs_json_lines_with_log_format_json(tmp_path: Path) -> None:
    text = _log_of(tmp_path, "--log-format", "json")
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests = [r for r in records if r["logger"] == "kalshi_sandbox.requests"]
    assert any(r["method"] == "POST" and r["path"] == "/trade-api/v2/communications/rfqs"
               and r["status"] == 201 for r in requests)
    events = [r for r in records if r["logger"] == "kalshi_sandbox.events"]
    assert any(r["event"] == "rfq_created" for r in events)
    assert all({"time", "level", "message"} <= set(r) for r in records)
