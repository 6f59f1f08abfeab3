"""The trading commands of ``kalshi-sandbox`` against a real sandbox process."""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from kalshi_sandbox.cli import app
from tests.conftest import MARKET
from tests.support.server import Account, Control

ADMIN = {("serve",), ("reset",), ("account", "create"), ("account", "list"),
         ("account", "limits"),
         ("market", "create"), ("clock", "show"), ("clock", "advance")}
ADMIN |= {("faults", "add"), ("faults", "list"), ("faults", "remove"), ("faults", "clear")}
ADMIN |= {("bots", "add-maker"), ("bots", "add-requester"), ("bots", "list"), ("bots", "rfq"),
          ("bots", "pause"), ("bots", "resume"), ("bots", "remove")}
ADMIN |= {("liquidity", "add"), ("liquidity", "list"), ("liquidity", "set"),
          ("liquidity", "requote"), ("liquidity", "pause"), ("liquidity", "resume"),
          ("liquidity", "remove")}
ADMIN |= {("snapshot", "save"), ("snapshot", "restore"), ("journal", "export"),
          ("journal", "replay")}
ADMIN |= {("market", "open"), ("market", "pause"), ("market", "close"),
          ("market", "determine"), ("market", "settle"), ("exchange", "maintenance")}
CONSOLE_SCRIPT = Path(sys.executable).parent / "kalshi-sandbox"
runner = CliRunner()
# The caller's own Kalshi variables must not leak into the commands under test.
CLEAN_ENV: dict[str, str | None] = {
    "COLUMNS": "200", "KALSHI_API_KEY_ID": None, "KALSHI_PRIVATE_KEY_PATH": None,
    "KALSHI_PRIVATE_KEY": None, "KALSHI_BASE_URL": None, "KALSHI_ENV": None,
    "KALSHI_SANDBOX_URL": None, "KALSHI_SANDBOX_DATA_DIR": None}


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    """List (path, command) of every leaf command under ``group``."""
    found: list[tuple[tuple[str, ...], Any]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if hasattr(command, "commands"):
            found.extend(_commands(command, path))
        else:
            found.append((path, command))
    return found


COMMANDS = _commands(typer.main.get_command(app))
TRADING = [path for path, _ in COMMANDS if path not in ADMIN]


def test_every_trading_command_the_issue_names_exists() -> None:
    assert sorted(TRADING) == sorted([
        ("rfq", "create"), ("rfq", "list"), ("rfq", "get"), ("rfq", "delete"),
        ("quote", "create"), ("quote", "list"), ("quote", "get"), ("quote", "delete"),
        ("quote", "accept"), ("quote", "confirm"), ("market", "list"), ("market", "get"),
        ("portfolio", "balance"), ("portfolio", "positions"), ("portfolio", "fills"),
        ("portfolio", "orders"), ("watch",),
        ("order", "place"), ("order", "cancel"), ("order", "cancel-all"), ("order", "amend"),
        ("order", "decrease"), ("order", "list"), ("order", "get"), ("market", "book"),
        ("market", "trades")])


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_of_each_command_shows_its_summary_and_its_options(
        path: tuple[str, ...], command: Any) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert command.help
    assert command.help.split("\n")[0].strip() in " ".join(result.output.split())
    for param in command.params:
        if param.param_type_name == "option" and not getattr(param, "hidden", False):
            assert param.help, f"{' '.join(path)} {param.opts[0]} has no help"
            assert param.opts[0] in result.output
    if path in TRADING:
        for option in ("--json", "--env", "--url", "--key-id", "--private-key"):
            assert option in result.output, (path, option)


def test_console_script_help_lists_server_admin_and_trading_groups() -> None:
    result = subprocess.run([str(CONSOLE_SCRIPT), "--help"], capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "200"}, timeout=60, check=True)
    for name in ("serve", "account", "market", "reset", "rfq", "quote", "portfolio", "watch",
                 "order", "liquidity"):
        assert f" {name} " in result.stdout, name


# Trading through the CLI ----------------------------------------------------------------------


def _run(control: Control, account: Account | None, *args: str, code: int = 0,
         as_json: bool = True) -> Any:
    options = ["--url", control.base_url]
    if account is not None:
        options += ["--key-id", account.key_id, "--private-key", account.private_key_pem]
    if as_json:
        options.append("--json")
    result = runner.invoke(app, [*args, *options], env=CLEAN_ENV)
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout) if as_json else result.stdout


def test_cli_runs_the_whole_lifecycle_with_json_output(
        control: Control, requester: Account, maker: Account) -> None:
    created = _run(control, requester, "rfq", "create", MARKET, "--contracts", "10")
    rfq_id = created["id"]
    assert _run(control, maker, "rfq", "get", rfq_id)["rfq"]["contracts_fp"] == "10.00"
    quote_id = _run(control, maker, "quote", "create", rfq_id, "--yes-bid", "0.40",
                    "--no-bid", "0.55")["id"]
    listed = _run(control, requester, "quote", "list", "--on-my-rfqs")
    assert [q["id"] for q in listed["quotes"]] == [quote_id]
    assert listed["cursor"] == ""
    accepted = _run(control, requester, "quote", "accept", quote_id, "--rfq", rfq_id,
                    "--side", "yes")
    assert accepted == {"id": quote_id, "accepted_side": "yes"}
    assert _run(control, maker, "quote", "confirm", quote_id, "--rfq", rfq_id) == {
        "id": quote_id, "confirmed": True}
    control.advance(15)

    quote = _run(control, requester, "quote", "get", quote_id, "--rfq", rfq_id)["quote"]
    assert quote["status"] == "executed"
    fills = _run(control, requester, "portfolio", "fills", "--order-id",
                 quote["rfq_creator_order_id"])["fills"]
    assert [(f["count_fp"], f["yes_price_dollars"]) for f in fills] == [("10.00", "0.4500")]
    assert _run(control, requester, "portfolio", "balance")["balance_dollars"] == "995.3267"
    positions = _run(control, maker, "portfolio", "positions", "--all")["market_positions"]
    assert [(p["ticker"], p["position_fp"]) for p in positions] == [(MARKET, "-10.00")]
    orders = _run(control, maker, "portfolio", "orders")["orders"]
    assert orders[0]["client_order_id"].endswith(quote_id)
    assert _run(control, requester, "rfq", "list", "--status", "closed", "--all") == {
        "rfqs": [_run(control, requester, "rfq", "get", rfq_id)["rfq"]]}


def test_cli_follows_cursors_with_all_and_prints_the_next_cursor_without(
        control: Control, requester: Account) -> None:
    first = _run(control, None, "market", "list", "--limit", "1")
    assert len(first["markets"]) == 1
    assert first["cursor"]
    second = _run(control, None, "market", "list", "--limit", "1", "--cursor", first["cursor"])
    assert second["markets"][0]["ticker"] != first["markets"][0]["ticker"]
    every = _run(control, None, "market", "list", "--limit", "1", "--all")
    assert [m["ticker"] for m in every["markets"]] == sorted(
        [m["ticker"] for m in every["markets"]])
    assert len(every["markets"]) == 2
    assert "cursor" not in every
    assert _run(control, None, "market", "get", MARKET)["market"]["ticker"] == MARKET


def test_cli_tables_and_quote_delete_and_rfq_delete(
        control: Control, requester: Account, maker: Account) -> None:
    rfq_id = _run(control, requester, "rfq", "create", MARKET, "--target-cost", "25")["id"]
    quote_id = _run(control, maker, "quote", "create", rfq_id, "--yes-bid", "0.3",
                    "--no-bid", "0")["id"]
    table = _run(control, requester, "rfq", "list", "--mine", as_json=False)
    assert rfq_id in table
    assert "$25.0000" in table
    shown = _run(control, maker, "quote", "get", quote_id, as_json=False)
    assert "0.3000" in shown
    assert "open" in shown
    assert _run(control, maker, "quote", "delete", quote_id, "--rfq", rfq_id) == {
        "id": quote_id, "deleted": True}
    assert _run(control, requester, "rfq", "delete", rfq_id, as_json=False).strip() == (
        f"deleted RFQ {rfq_id}")
    assert "Will" not in _run(control, None, "market", "get", MARKET, as_json=False)


def test_cli_errors_exit_1_with_a_json_error_object_or_a_message(
        control: Control, requester: Account, maker: Account) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    error = _run(control, maker, "quote", "confirm", missing, "--rfq", missing, code=1)
    assert error["error"]["status"] == 404
    assert error["error"]["code"] == "not_found"
    result = runner.invoke(app, ["portfolio", "balance", "--base-url", control.base_url,
                                 "--key-id", requester.key_id,
                                 "--private-key", maker.private_key_pem], env=CLEAN_ENV)
    assert result.exit_code == 1
    assert "error:" in result.stderr
    assert "does not belong to key id" in result.stderr


def test_sandbox_without_keys_uses_the_seeded_demo_account_chosen_by_as(
        control: Control, requester: Account, maker: Account, tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    manifest = []
    for account in (requester, maker):
        path = tmp_path / "keys" / f"{account.name}.pem"
        path.write_text(account.private_key_pem)
        manifest.append({"name": account.name, "user_id": account.user_id,
                         "key_id": account.key_id, "key_path": str(path),
                         "balance_dollars": "1000"})
    (tmp_path / "demo-accounts.json").write_text(json.dumps(manifest))

    rfq_id = _run(control, None, "rfq", "create", MARKET, "--contracts", "1",
                  "--data-dir", str(tmp_path))["id"]
    rfq = _run(control, None, "rfq", "get", rfq_id, "--data-dir", str(tmp_path))["rfq"]
    assert rfq["creator_user_id"] == requester.user_id  # the requester is the default
    as_maker = _run(control, None, "rfq", "get", rfq_id, "--data-dir", str(tmp_path),
                    "--as", "maker")["rfq"]
    assert "creator_user_id" not in as_maker

    failure = _run(control, None, "portfolio", "balance", "--data-dir",
                   str(tmp_path / "absent"), code=2)
    assert "kalshi-sandbox serve" in failure["error"]["message"]


def test_other_environments_refuse_to_run_private_commands_without_keys(
        control: Control) -> None:
    result = runner.invoke(app, ["portfolio", "balance", "--env", "demo", "--json"],
                           env=CLEAN_ENV)
    assert result.exit_code == 2
    assert "demo environment needs credentials" in json.loads(result.stdout)["error"]["message"]


# watch ------------------------------------------------------------------------------------


class Lines:
    """Read a child process's stdout line by line, with a deadline.

    It reads the pipe itself (no buffered reader), so lines that arrive together are all
    seen: a buffered readline would keep the second in its buffer, out of the selector's view.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        self.stream = process.stdout
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.stream, selectors.EVENT_READ)
        self.pending = b""

    def _read(self, deadline: float, what: str) -> None:
        left = deadline - time.monotonic()
        if left <= 0 or not self.selector.select(left):
            raise AssertionError(f"no {what} from watch in time: {self.pending[-500:]!r}")
        chunk = os.read(self.stream.fileno(), 65536)
        if not chunk:
            raise AssertionError(f"watch ended before {what}: {self.pending[-500:]!r}")
        self.pending += chunk

    def next(self, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            self._read(deadline, "line")
        line, _, self.pending = self.pending.partition(b"\n")
        return line.decode() + "\n"

    def until(self, text: str, timeout: float = 20) -> None:
        """Read raw output until ``text`` appears (a redrawn table ends lines with ``\\r``)."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.pending:
            self._read(deadline, repr(text))


def _watch(control: Control, account: Account, *args: str,
           **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(CONSOLE_SCRIPT), "watch", "--url", control.base_url, "--key-id",
         account.key_id, "--private-key", account.private_key_pem, *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "220", **env})


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()
    assert process.stdout is not None
    process.stdout.close()


def test_watch_json_prints_one_parseable_object_per_message_and_stops_at_count(
        control: Control, requester: Account, maker: Account) -> None:
    process = _watch(control, requester, "--json", "--count", "3")
    try:
        lines = Lines(process)
        assert json.loads(lines.next()) == {"event": "subscribed", "channel": "communications",
                                            "sid": 1}
        rfq_id = _run(control, requester, "rfq", "create", MARKET, "--contracts", "5")["id"]
        quote_id = _run(control, maker, "quote", "create", rfq_id, "--yes-bid", "0.40",
                        "--no-bid", "0.55")["id"]
        _run(control, requester, "rfq", "delete", rfq_id)
        messages = [json.loads(lines.next()) for _ in range(3)]
        assert process.wait(timeout=20) == 0
    finally:
        _stop(process)
    assert [(m["type"], m["seq"]) for m in messages] == [
        ("rfq_created", 1), ("quote_created", 2), ("rfq_deleted", 3)]
    assert messages[0]["msg"]["id"] == rfq_id
    assert messages[1]["msg"]["quote_id"] == quote_id


def test_watch_on_a_terminal_renders_a_live_table(control: Control,
                                                 requester: Account) -> None:
    # TTY_COMPATIBLE/TTY_INTERACTIVE make rich treat the pipe as an interactive terminal.
    process = _watch(control, requester, "--count", "1", TTY_COMPATIBLE="1",
                     TTY_INTERACTIVE="1")
    try:
        # The caption shows the subscription once the server acknowledged it.
        Lines(process).until("subscribed to communications")
        rfq_id = _run(control, requester, "rfq", "create", MARKET, "--contracts", "5")["id"]
        output, _ = process.communicate(timeout=20)
    finally:
        _stop(process)
    assert process.returncode == 0
    text = output.decode()
    assert "rfq_created" in text
    assert rfq_id in text
    assert "\x1b[" in text  # redrawn in place


def test_watch_piped_prints_one_line_per_event(control: Control, requester: Account) -> None:
    process = _watch(control, requester, "--count", "1")
    try:
        lines = Lines(process)
        assert lines.next().strip() == "subscribed to communications (sid 1)"
        rfq_id = _run(control, requester, "rfq", "create", MARKET, "--contracts", "5")["id"]
        line = lines.next()
        assert process.wait(timeout=20) == 0
    finally:
        _stop(process)
    assert line.split() == ["seq=1", "type=rfq_created", f"market={MARKET}", f"rfq={rfq_id}",
                            "size=5.00"]


def test_watch_streams_the_private_channels_it_is_given(
        control: Control, requester: Account, maker: Account) -> None:
    # The requester's order trades at once: one user_order, one fill.
    process = _watch(control, requester, "--channel", "fill", "--channel", "user_orders",
                     "--count", "2")
    try:
        lines = Lines(process)
        assert {lines.next().strip(), lines.next().strip()} == {
            "subscribed to fill (sid 1)", "subscribed to user_orders (sid 2)"}
        rfq_id = _run(control, requester, "rfq", "create", MARKET, "--contracts", "5")["id"]
        quote_id = _run(control, maker, "quote", "create", rfq_id, "--yes-bid", "0.40",
                        "--no-bid", "0.55")["id"]
        _run(control, requester, "quote", "accept", quote_id, "--rfq", rfq_id,
             "--side", "yes")
        _run(control, maker, "quote", "confirm", quote_id, "--rfq", rfq_id)
        control.advance(15)
        order_line, fill_line = lines.next().strip(), lines.next().strip()
        assert process.wait(timeout=20) == 0
    finally:
        _stop(process)
    order_id = _run(control, requester, "quote", "get", quote_id, "--rfq",
                    rfq_id)["quote"]["rfq_creator_order_id"]
    assert order_line.startswith(
        f"seq=1  type=user_order  market={MARKET}  order={order_id}  size=5.00")
    assert fill_line.startswith(
        f"seq=1  type=fill  market={MARKET}  order={order_id}  size=5.00")


def test_watch_piped_puts_each_id_of_quote_executed_in_its_own_column(
        control: Control, requester: Account, maker: Account) -> None:
    process = _watch(control, maker, "--count", "4")
    try:
        lines = Lines(process)
        assert lines.next().strip() == "subscribed to communications (sid 1)"
        rfq_id = _run(control, requester, "rfq", "create", MARKET, "--contracts", "5")["id"]
        quote_id = _run(control, maker, "quote", "create", rfq_id, "--yes-bid", "0.40",
                        "--no-bid", "0.55")["id"]
        _run(control, requester, "quote", "accept", quote_id, "--rfq", rfq_id,
             "--side", "yes")
        _run(control, maker, "quote", "confirm", quote_id, "--rfq", rfq_id)
        control.advance(15)
        found = [lines.next().strip() for _ in range(4)]
        assert process.wait(timeout=20) == 0
    finally:
        _stop(process)
    executed = next(line for line in found if "type=quote_executed" in line)
    order_id = _run(control, maker, "quote", "get", quote_id, "--rfq",
                    rfq_id)["quote"]["creator_order_id"]
    fields = dict(part.split("=", 1) for part in executed.split("  "))
    assert fields["rfq"] == rfq_id
    assert fields["quote"] == quote_id
    assert fields["order"] == order_id
    assert "price" not in fields  # no order id among the prices


def test_base_url_still_works_as_a_hidden_alias_of_url(control: Control,
                                                      requester: Account) -> None:
    result = runner.invoke(app, ["portfolio", "balance", "--base-url", control.base_url,
                                 "--key-id", requester.key_id, "--private-key",
                                 requester.private_key_pem, "--json"], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    assert "balance" in json.loads(result.stdout)
    help_text = runner.invoke(app, ["portfolio", "balance", "--help"],
                              env={**CLEAN_ENV, "COLUMNS": "200"}).output
    assert "--url" in help_text
    assert "--base-url" not in help_text
