"""The journal through a real server: its JSON Lines, what it records, reset and restart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from kalshi_sandbox.domain.clock import MICROS, parse_instant
from tests.conftest import MARKET
from tests.support.server import Control, ServerProcess, running


def journal(control: Control, after: int = 0) -> list[dict[str, Any]]:
    """Export the journal; check it is JSON Lines, one object per line, in ``seq`` order."""
    response = control.http.get("/journal", params={"after": after} if after else None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.text == "" or response.text.endswith("\n")
    entries = [json.loads(line) for line in response.text.splitlines()]
    assert all(isinstance(e, dict) for e in entries)
    seqs = [e["seq"] for e in entries]
    assert seqs == list(range(after + 1, after + 1 + len(entries)))
    return entries


def requests(entries: list[dict[str, Any]], path_part: str = "") -> list[dict[str, Any]]:
    return [e for e in entries if e["type"] == "request" and path_part in e["path"]]


def test_journal_records_requests_timers_and_events_in_order(control: Control) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    rfq = requester.create_rfq(MARKET)
    quote = maker.create_quote(rfq)
    requester.accept(rfq, quote)
    maker.confirm(rfq, quote)
    control.advance(20)
    assert requester.get("/portfolio/fills", params={"limit": 5}).status_code == 200
    entries = journal(control)

    # A reset leaves the journal with only its own request; markets and accounts follow.
    assert entries[0]["path"] == "/sandbox/v1/reset"
    create = requests(entries, "/communications/rfqs")[0]
    assert create["method"] == "POST"
    assert create["body"] == {"market_ticker": MARKET, "contracts_fp": "10",
                              "rest_remainder": False}
    assert create["actor"] == requester.account.user_id
    assert "key_id" not in create  # the actor says who signed; an unsigned request keeps it
    assert create["status"] == 201
    assert create["ids"][0] == rfq
    account = requests(entries, "/sandbox/v1/accounts")[0]
    assert account["body"] == {"name": "requester", "balance_dollars": "1000"}
    assert account["ids"][0] == requester.account.user_id
    assert list(account["keys"][0]) == ["private_key_pem"]
    read = requests(entries, "/portfolio/fills")[0]
    assert (read["method"], read["query"], read.get("body")) == ("GET", "limit=5", None)

    advance = requests(entries, "/clock/advance")[0]
    timer = next(e for e in entries if e["type"] == "timer")
    assert (timer["kind"], timer["subject"], timer["fired_by"]) == ("execute", quote, "request")
    assert timer["seq"] < advance["seq"]
    # The timer fired at its due instant (so no "due" of its own), 15 s into the 20 s the
    # advance moved the clock.
    assert "due" not in timer
    start = parse_instant(advance["instant"])
    assert parse_instant(timer["instant"]) == start + 15 * MICROS
    assert parse_instant(advance["answered"]) == start + 20 * MICROS
    events = [e["event"] for e in entries if e["type"] == "event"]
    # The control fixture's two markets were created first.
    assert events == ["event_lifecycle", "market_lifecycle",
                      "event_lifecycle", "market_lifecycle",
                      "rfq_created", "quote_created", "quote_accepted", "quote_confirmed",
                      # Through the book: the maker's order rests, the requester's takes it.
                      "order_updated", "level_changed", "order_updated", "order_updated",
                      "fill_created", "position_changed", "fill_created", "position_changed",
                      "market_updated", "level_changed", "quote_executed", "rfq_deleted"]
    # Events name what they are about by id (journal_events "ids").
    executed = next(e for e in entries if e.get("event") == "quote_executed")
    assert executed["quote"] == quote
    assert set(executed) == {"seq", "type", "instant", "event", "quote", "maker_order",
                             "requester_order"}
    assert executed["instant"] == timer["instant"]
    fill = next(e for e in entries if e.get("event") == "fill_created")
    assert fill["fill"] == requester.get("/portfolio/fills").json()["fills"][0]["fill_id"]


def test_journal_records_refused_and_faulted_requests_with_their_status(
        control: Control) -> None:
    requester = control.trader("requester")
    bad = requester.post("/communications/rfqs", content=b"{not json")
    assert bad.status_code == 400
    faulted = requester.post("/communications/rfqs", headers={"X-Sandbox-Fault": "error=503"},
                             json={"market_ticker": MARKET, "contracts_fp": "1",
                                   "rest_remainder": False})
    assert faulted.status_code == 503
    unsigned = httpx.get(control.base_url + "/trade-api/v2/portfolio/balance")
    assert unsigned.status_code == 401
    entries = requests(journal(control), "/trade-api/v2/")
    assert [(e["status"], e.get("faulted", False)) for e in entries] == [
        (400, False), (503, True), (401, False)]
    assert "body" not in entries[0]
    assert entries[0]["body_text"] == "{not json"
    # A fault answered before the signature was checked: the key's owner is noted, not the
    # body (nothing of a request not authenticated is kept but its metadata).
    assert entries[1]["actor"] == requester.account.user_id
    assert entries[1]["key_id"] == requester.account.key_id
    assert "body" not in entries[1]
    assert "ids" not in entries[1]
    assert "actor" not in entries[2]


def test_journal_after_seq_leaves_out_earlier_entries(control: Control) -> None:
    entries = journal(control)
    control.trader("requester")
    later = journal(control, after=entries[-1]["seq"])
    assert later[0]["seq"] == entries[-1]["seq"] + 1
    assert requests(later, "/sandbox/v1/accounts")


def test_reset_empties_the_journal_but_for_the_reset(control: Control) -> None:
    control.trader("requester").create_rfq(MARKET)
    assert len(journal(control)) > 3
    control.reset()
    entries = journal(control)
    assert [(e["type"], e["path"]) for e in entries] == [("request", "/sandbox/v1/reset")]


def test_journal_survives_a_restart(tmp_path: Path) -> None:
    for server in running(tmp_path / "sandbox"):
        control = Control(server.base_url)
        try:
            control.market(MARKET)
            rfq = control.trader("requester").create_rfq(MARKET)
            before = journal(control)
            server.stop()
            server.start()
            after = journal(control)
            assert after[:len(before)] == before
            # The export that read ``before``, then the restart.
            assert [e["type"] for e in after[len(before):]] == ["request", "start", "ready"]
            assert after[len(before)]["path"] == "/sandbox/v1/journal"
            assert any(e.get("ids", [None])[0] == rfq for e in after)
        finally:
            control.close()


def test_a_stale_journal_is_dropped_with_its_database(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "sandbox").start()
    try:
        control = Control(server.base_url)
        control.market(MARKET)
        server.stop()
        (tmp_path / "sandbox" / "sandbox.db").unlink()
        server.start()
        assert [e["type"] for e in journal(control)] == ["start", "ready"]
        control.close()
    finally:
        server.stop()


def test_a_line_cut_short_by_a_crash_is_dropped_and_the_sequence_goes_on(
        tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "sandbox").start()
    try:
        control = Control(server.base_url)
        control.market(MARKET)
        before = journal(control)
        server.stop()
        with (tmp_path / "sandbox" / "sandbox.journal.000001.jsonl").open("ab") as file:
            file.write(b'{"seq":99,"type":"requ')
        server.start()
        after = journal(control)
        assert after[:len(before)] == before
        assert [e["type"] for e in after[len(before):]] == ["request", "start", "ready"]
        control.close()
    finally:
        server.stop()
