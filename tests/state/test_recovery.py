"""A crash between a commit and its journal line: what the disk holds then, and start-up.

Each test takes the files a process killed at a chosen moment would leave (the database, its
WAL, the journal's segments; nothing of memory), starts a sandbox on them, and looks at the
journal it recovers. tests/state/test_crash.py does the same with real SIGKILLs.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

from kalshi_sandbox.domain.clock import ManualClock, parse_instant
from kalshi_sandbox.powers.state.journal import Journal, Record, set_record
from kalshi_sandbox.storage.sqlite import SqliteStore
from tests.conftest import MARKET
from tests.state.inprocess import START, crash_image, running, tables

NDJSON = {"Content-Type": "application/x-ndjson"}


def _entries(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_change_answered_but_not_yet_journaled_is_recovered_and_replays(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running(tmp_path / "a") as (_, client):
            await client.call("POST", "/markets", {"ticker": MARKET}, expect=201)
            alice = await client.call("POST", "/accounts",
                                      {"name": "alice", "balance_dollars": "12"}, expect=201)
            # Answered and committed; its line waits in memory (FLUSH_DELAY). Killed now:
            crash_image(tmp_path / "a", tmp_path / "b")
        on_disk = b"".join(p.read_bytes() for p in (tmp_path / "b").glob("sandbox.journal.*"))
        assert alice["user_id"].encode() not in on_disk

        async with running(tmp_path / "b") as (_, client):
            journal = (await client.http.get("/journal")).text
            original = tables(await client.call("POST", "/snapshots", {}))
        entries = _entries(journal)
        recovered = [e for e in entries if e.get("recovered") is True]
        assert len(recovered) == 1
        line = recovered[0]
        assert (line["method"], line["path"], line["body"]) == (
            "POST", "/sandbox/v1/accounts", {"name": "alice", "balance_dollars": "12"})
        assert "status" not in line  # its answer was never written
        assert line["ids"][0] == alice["user_id"]
        assert line["keys"] == [{"private_key_pem": alice["private_key_pem"]}]
        start = [e for e in entries if e["type"] == "start"][-1]
        assert start["unclean"] is True
        assert start["recovered"] == [line["seq"]]
        assert start["lost"] == []
        assert sorted(e["seq"] for e in entries) == list(range(1, len(entries) + 1))
        assert any(a["name"] == "alice" for a in original["accounts"])

        async with running(tmp_path / "c") as (_, client):
            response = await client.http.post("/journal/replay", content=journal, headers=NDJSON)
            assert response.status_code == 200, response.text
            result = response.json()
            replayed = tables(await client.call("POST", "/snapshots", {}))
        assert result["recovered"] == [line["seq"]]
        assert (result["mismatches"], result["made_up"], result["missing"]) == ([], 0, [])
        assert replayed == original

    asyncio.run(scenario())


def test_lines_cut_off_are_recovered_if_they_changed_something_and_reported_lost_if_not(
        tmp_path: Path) -> None:
    async def scenario() -> dict[str, Any]:
        clock = ManualClock(parse_instant(START))
        store = SqliteStore(tmp_path / "a" / "sandbox.db")
        await store.open()
        journal = Journal(tmp_path / "a" / "sandbox.journal", clock, store)
        await journal.open()
        # A request changes something and is still running...
        running_request = Record("request", head={"method": "POST", "path": "/x"},
                                 instant=clock.now())
        undo = set_record(running_request)
        async with store.transaction() as tx:
            await tx.set_meta("made-by-x", "1")
        undo()
        # ...when a read is answered (its line waits for the running request's, below it)...
        read = journal.append("request", {"method": "GET", "path": "/y", "status": 200})
        # ...and a timer fires and commits.
        timer = Record("timer", head={"kind": "execute", "subject": "q1", "timer_id": 7},
                       instant=clock.now())
        undo = set_record(timer)
        async with store.transaction() as tx:
            await tx.set_meta("made-by-timer", "1")
        undo()
        journal.append("timer", timer.describe(), timer.instant, timer)
        journal.flush()
        crash_image(tmp_path / "a", tmp_path / "b")
        await journal.close()
        await store.close()

        store = SqliteStore(tmp_path / "b" / "sandbox.db")
        await store.open()
        recovered = Journal(tmp_path / "b" / "sandbox.journal", clock, store)
        await recovered.open()

        async def nothing() -> int:
            return 0

        await recovered.start("manual", nothing)
        entries = _entries(b"".join(recovered.lines()).decode())
        await recovered.close()
        await store.close()
        return {"entries": entries, "read": read, "x": running_request.seq,
                "timer": timer.seq}

    seen = asyncio.run(scenario())
    entries = seen["entries"]
    lines = {e["seq"]: e for e in entries}
    assert lines[seen["x"]] == {"seq": seen["x"], "type": "request", "instant": START,
                                "method": "POST", "path": "/x", "recovered": True}
    assert lines[seen["timer"]]["recovered"] is True
    assert lines[seen["timer"]]["subject"] == "q1"
    assert seen["read"] not in lines
    start = entries[-1]
    assert start["type"] == "start"
    assert start["unclean"] is True
    assert start["recovered"] == sorted([seen["x"], seen["timer"]])
    assert start["lost"] == [seen["read"]]
    # The sequence goes on after everything drawn before the crash.
    assert start["seq"] > max(seen["x"], seen["timer"], seen["read"])


def test_a_clean_stop_reports_nothing_lost(tmp_path: Path) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with running(tmp_path) as (_, client):
            await client.call("POST", "/markets", {"ticker": MARKET}, expect=201)
        async with running(tmp_path) as (_, client):
            return _entries((await client.http.get("/journal")).text)

    entries = asyncio.run(scenario())
    starts = [e for e in entries if e["type"] == "start"]
    assert len(starts) == 2
    assert all("unclean" not in e for e in starts)


def test_start_up_reads_the_journal_from_where_it_stopped_not_the_whole_file(
        tmp_path: Path) -> None:
    pad = "x" * 2000

    def journal_bytes(directory: Path) -> int:
        return sum(p.stat().st_size for p in directory.glob("sandbox.journal.*"))

    async def scenario() -> dict[str, int]:
        figures: dict[str, int] = {}
        async with running(tmp_path / "a", journal_segment_mb=64) as (_, client):
            for number in range(2500):  # reads: journaled, but they commit nothing
                response = await client.http.get("/clock", params={"pad": pad})
                assert response.status_code == 200
                if number % 50 == 0:
                    await asyncio.sleep(0.012)  # let the journal write its batch
            await asyncio.sleep(0.05)
            # Killed now, after 5 MB of lines and no commit since the first of them.
            crash_image(tmp_path / "a", tmp_path / "b")
        figures["journal"] = journal_bytes(tmp_path / "a")
        for name in ("a", "b"):  # stopped cleanly, and killed
            before = _read_so_far()
            async with running(tmp_path / name, journal_segment_mb=64) as (box, client):
                figures[f"{name}_rchar"] = _read_so_far() - before
                assert box.journal.segments is not None
                figures[f"{name}_read"] = box.journal.segments.bytes_read
                entries = _entries((await client.http.get("/journal")).text)
                figures[f"{name}_entries"] = len(entries)
                figures[f"{name}_last"] = entries[-1]["seq"]
        return figures

    figures = asyncio.run(scenario())
    assert figures["journal"] > 5_000_000
    # A clean stop stored where the journal ended: nothing of it is read again.
    assert figures["a_read"] == 0
    # After a crash, only what was written since the last stored position (stored at
    # least every POSITION_EVERY bytes), never the whole file.
    assert figures["b_read"] <= 1_200_000
    # The process as a whole (database, journal, everything) read far less than the file.
    assert figures["a_rchar"] < figures["journal"] / 4
    assert figures["b_rchar"] < figures["journal"] / 4
    # And the journal goes on where it was, every line kept, in sequence.
    assert figures["a_entries"] == figures["a_last"]
    assert figures["b_entries"] == figures["b_last"]


def test_full_segments_are_compressed_and_the_oldest_dropped_past_retention(
        tmp_path: Path) -> None:
    async def scenario() -> dict[str, Any]:
        async with running(tmp_path, journal_segment_mb=0.1, journal_retention_mb=0.15) as (
                box, client):
            for number in range(600):
                # Hex digits: lines that compress about twice, no more.
                await client.http.get("/clock", params={"pad": secrets.token_hex(500)})
                if number % 20 == 0:
                    await asyncio.sleep(0.012)  # let the journal write its batch
            await asyncio.sleep(0.05)
            assert box.journal.segments is not None
            await asyncio.to_thread(box.journal.segments.wait)
            text = (await client.http.get("/journal")).text
            names = _journal_files(tmp_path)
        async with running(tmp_path / "fresh") as (_, client):
            replayed = await client.http.post("/journal/replay", content=text, headers=NDJSON)
            assert replayed.status_code == 200, replayed.text
        return {"entries": _entries(text), "names": names, "replay": replayed.json()}

    seen = asyncio.run(scenario())
    names = seen["names"]
    assert [n for n in names if n.endswith(".jsonl")] == [names[-1]]  # only the active one
    packed = [n for n in names if n.endswith(".jsonl.gz")]
    assert packed
    assert sum((tmp_path / n).stat().st_size for n in packed) <= 0.15 * (1 << 20)
    assert not (tmp_path / "sandbox.journal.000001.jsonl.gz").exists()  # dropped
    seqs = [e["seq"] for e in seen["entries"]]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # what is kept is whole
    assert seqs[0] > 1
    # A replay says that the journal's beginning is missing.
    assert seen["replay"]["missing"] == [[1, seqs[0] - 1]]


def _journal_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("sandbox.journal.*"))


def _read_so_far() -> int:
    """Bytes this process has read through system calls (Linux /proc/self/io)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")



