"""``kalshi-sandbox snapshot save|restore`` and ``journal export|replay`` against real servers."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from kalshi_sandbox.cli import app
from tests.conftest import MARKET
from tests.state.support import differences, reads
from tests.support.server import Control

runner = CliRunner()


def _run(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"], env={"KALSHI_SANDBOX_ADMIN_TOKEN": None})
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_snapshot_save_then_restore_round_trips_through_a_file(control: Control,
                                                              tmp_path: Path) -> None:
    requester = control.trader("requester")
    rfq = requester.create_rfq(MARKET)
    before = reads(control.base_url, [requester.account], [rfq])
    file = tmp_path / "state.json"
    saved = _run("snapshot", "save", str(file), "--url", control.base_url)
    assert saved["path"] == str(file)
    assert json.loads(file.read_text())["format"] == "kalshi-sandbox-snapshot"

    assert requester.delete(f"/communications/rfqs/{rfq}").status_code == 204
    restored = _run("snapshot", "restore", str(file), "--url", control.base_url)
    assert restored["restored"] is True
    assert differences(before, reads(control.base_url, [requester.account], [rfq])) == []


def test_journal_export_then_replay_rebuilds_the_state(control: Control, target: Control,
                                                       tmp_path: Path) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    rfq = requester.create_rfq(MARKET)
    quote = maker.create_quote(rfq)
    requester.accept(rfq, quote)
    maker.confirm(rfq, quote)
    control.advance(20)
    accounts = [requester.account, maker.account]
    before = reads(control.base_url, accounts, [rfq], [quote])
    file = tmp_path / "journal.jsonl"
    exported = _run("journal", "export", str(file), "--url", control.base_url)
    lines = file.read_text().splitlines()
    assert exported["entries"] == len(lines)
    assert all(json.loads(line)["seq"] for line in lines)

    replayed = _run("journal", "replay", str(file), "--url", target.base_url)
    assert replayed["mismatches"] == []
    assert differences(before, reads(target.base_url, accounts, [rfq], [quote])) == []


def test_journal_replay_into_a_used_sandbox_fails(control: Control, tmp_path: Path) -> None:
    file = tmp_path / "journal.jsonl"
    _run("journal", "export", str(file), "--url", control.base_url)
    result = runner.invoke(app, ["journal", "replay", str(file), "--url", control.base_url])
    assert result.exit_code == 1
    assert "409" in result.output
    assert "reset it first" in result.output
