"""Files named on the control plane: inside the data directory, regular, bounded; and what
the journal keeps of requests nobody authenticated. Each attack is refused, changing nothing."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.support import nested_error
from tests.conftest import MARKET
from tests.plugin.support import guarded_server
from tests.state.support import differences, reads
from tests.support.server import Control, ServerProcess

NO_FILE = "no readable regular file of that name in the data directory"
NDJSON = {"Content-Type": "application/x-ndjson"}


def _refused(response: httpx.Response) -> str:
    nested_error(response, 400, "invalid_parameters")
    details: str = response.json()["error"]["details"]
    return details


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` (links not followed) with a file's content, but for the
    files a running sandbox changes all the time (database, journal, log)."""
    found: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        busy = path.name.startswith("sandbox.") or path.suffix == ".log"
        if busy or path.is_symlink() or not path.is_file():
            found[str(path)] = None
        else:
            found[str(path)] = path.read_bytes()
    return found


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory beside the data directory with a read-only file in it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    victim = folder / "victim.json"
    victim.write_text("precious")
    victim.chmod(0o444)
    return folder


@pytest.fixture
def traps(server: ServerProcess, outside: Path) -> Iterator[dict[str, str]]:
    """Links, a FIFO and a directory inside the data directory, by the name to use."""
    root = server.data_dir
    made = {"link": root / "link.json", "linkdir": root / "linkdir",
            "zero": root / "zero.json", "fifo": root / "fifo.json",
            "folder": root / "folder.json"}
    made["link"].symlink_to(outside / "victim.json")
    made["linkdir"].symlink_to(outside, target_is_directory=True)
    made["zero"].symlink_to("/dev/zero")
    os.mkfifo(made["fifo"])
    made["folder"].mkdir()
    yield {"link": "link.json", "linkdir": "linkdir/new.json", "zero": "zero.json",
           "fifo": "fifo.json", "folder": "folder.json", "missing": "missing.json"}
    for path in made.values():
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def test_paths_out_of_the_data_directory_are_refused_and_nothing_is_written(
        control: Control, server: ServerProcess, outside: Path) -> None:
    before = {**_tree(server.data_dir), **_tree(outside)}
    victim = outside / "victim.json"
    escapes = [str(victim), os.path.relpath(victim, server.data_dir), "../new-dir/x.json",
               "snapshots/../../escape.json", f"{server.data_dir}/../outside/victim.json",
               "/etc/passwd", "/dev/zero"]
    messages = set()
    for path in escapes:
        messages.add(_refused(control.http.post("/snapshots", json={"path": path})))
        messages.add(_refused(control.http.post("/snapshots/restore", json={"path": path})))
        messages.add(_refused(control.http.post("/journal/export", json={"path": path})))
        messages.add(_refused(control.http.post("/journal/replay", json={"path": path})))
    # One answer for every path, whether what it names exists or not.
    assert len(messages) == 1
    for bad in ("", "   ", "a\x00b", "x" * 300, 42, ["a"]):
        _refused(control.http.post("/snapshots", json={"path": bad}))
    assert victim.read_text() == "precious"
    assert {**_tree(server.data_dir), **_tree(outside)} == before
    assert not (server.data_dir.parent / "new-dir").exists()
    assert not (server.data_dir.parent / "escape.json").exists()


def test_links_fifos_directories_and_missing_files_are_refused_alike(
        control: Control, server: ServerProcess, outside: Path,
        traps: dict[str, str]) -> None:
    messages = set()
    for name in traps.values():
        messages.add(_refused(control.http.post("/snapshots/restore", json={"path": name},
                                                timeout=10)))
        messages.add(_refused(control.http.post("/journal/replay", json={"path": name},
                                                timeout=10)))
    assert messages == {NO_FILE}  # nothing said of what is there
    for name in ("link", "linkdir", "fifo", "folder", "zero"):
        response = control.http.post("/snapshots", json={"path": traps[name]})
        assert _refused(response) == NO_FILE
    assert (outside / "victim.json").read_text() == "precious"
    assert not (outside / "new.json").exists()
    assert os.path.islink(server.data_dir / "link.json")
    # The FIFO held nothing up: the server answers at once.
    assert httpx.get(control.base_url + "/sandbox/v1/health", timeout=2).status_code == 200


def test_the_sandboxs_own_files_cannot_be_named(control: Control,
                                                server: ServerProcess) -> None:
    database = (server.data_dir / "sandbox.db").read_bytes()[:100]
    for name in ("sandbox.db", "sandbox.db-wal", "sandbox.journal.000001.jsonl",
                 "keys/requester.pem", "demo-accounts.json"):
        assert "own files" in _refused(control.http.post("/snapshots", json={"path": name}))
        _refused(control.http.post("/snapshots/restore", json={"path": name}))
    assert (server.data_dir / "sandbox.db").read_bytes()[:100] == database
    assert control.call("GET", "/clock")["mode"] == "manual"


def test_a_journal_exported_to_a_file_replays_from_a_file(
        control: Control, target: Control, server: ServerProcess,
        other_server: ServerProcess) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    rfq = requester.create_rfq(MARKET)
    quote = maker.create_quote(rfq)
    requester.accept(rfq, quote)
    accounts = [requester.account, maker.account]
    before = reads(control.base_url, accounts, [rfq], [quote])
    written = control.call("POST", "/journal/export", {"path": "exports/run.jsonl"})
    path = server.data_dir / "exports" / "run.jsonl"
    assert written == {"path": "exports/run.jsonl",
                       "entries": len(path.read_text().splitlines())}
    shutil.copyfile(path, other_server.data_dir / "run.jsonl")
    result = target.call("POST", "/journal/replay", {"path": "run.jsonl"})
    assert result["mismatches"] == []
    assert differences(before, reads(target.base_url, accounts, [rfq], [quote])) == []


def test_deep_or_malformed_json_is_a_400(control: Control) -> None:
    deep = b"[" * 100_000
    for path in ("/journal/replay", "/snapshots/restore", "/snapshots", "/journal/export"):
        response = control.http.post(path, content=deep,
                                     headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (path, response.text)
    nested = {"seq": 1, "type": "request", "body": json.loads("[" * 500 + "]" * 500)}
    response = control.http.post("/journal/replay", content=json.dumps(nested) + "\n" +
                                 "{" * 50_000 + "\n", headers=NDJSON)
    assert "line 2" in _refused(response)


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox that reads files and bodies of at most 16 KB on the state endpoints."""
    server = ServerProcess(tmp_path_factory.mktemp("small"),
                           env={"KALSHI_SANDBOX_FILE_LIMIT_MB": str(16 / 1024)})
    server.start()
    yield server
    server.stop()


def test_files_and_bodies_past_the_limit_are_refused(small_server: ServerProcess) -> None:
    control = Control(small_server.base_url)
    try:
        control.reset()
        big = {"format": "kalshi-sandbox-snapshot", "pad": "x" * 20_000}
        (small_server.data_dir / "big.json").write_text(json.dumps(big))
        assert "limit" in _refused(control.http.post("/snapshots/restore",
                                                     json={"path": "big.json"}))
        (small_server.data_dir / "big.jsonl").write_text(json.dumps(big) + "\n")
        assert "limit" in _refused(control.http.post("/journal/replay",
                                                     json={"path": "big.jsonl"}))
        response = control.http.post("/journal/replay", content=json.dumps(big) + "\n",
                                     headers=NDJSON)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload_too_large"
        assert control.call("GET", "/accounts") == {"accounts": []}
    finally:
        control.close()


def test_account_names_must_be_safe_as_file_names(control: Control) -> None:
    for name in ("../../../x", "a/b", "..", ".hidden", "x" * 65, "", " padded", "tab\tname",
                 "é"):
        response = control.http.post("/accounts", json={"name": name})
        assert _refused(response).startswith("name "), name
    assert control.call("GET", "/accounts") == {"accounts": []}
    created = control.call("POST", "/accounts", {"name": "ok-Name_1.2"}, expect=201)
    assert created["name"] == "ok-Name_1.2"


def test_a_replayed_seed_writes_demo_keys_only_inside_the_data_directory(
        tmp_path: Path) -> None:
    key = _private_key()
    evil = [{"name": "../../../x", "reused_key": True, "private_key_pem": key,
             "user_id": "u-1", "key_id": "k-1", "balance_dollars": "1"},
            {"name": "requester/../../y", "reused_key": True, "private_key_pem": key,
             "user_id": "u-2", "key_id": "k-2", "balance_dollars": "1"}]
    journal = "".join(json.dumps(entry) + "\n" for entry in [
        {"seq": 1, "type": "seed", "instant": "2026-03-01T12:00:00Z", "seed": evil},
        {"seq": 2, "type": "request", "instant": "2026-03-01T12:00:01Z", "method": "POST",
         "path": "/sandbox/v1/reset", "body": {}, "status": 200, "seed": evil},
    ])
    server = ServerProcess(tmp_path / "seeding" / "data", args=("--clock", "manual")).start()
    control = Control(server.base_url)
    try:
        control.call("POST", "/reset", {"seed": False})
        before = _tree(tmp_path)
        response = control.http.post("/journal/replay", content=journal, headers=NDJSON)
        assert response.status_code == 200, response.text
    finally:
        control.close()
        server.stop()
    assert response.json()["replayed"] >= 1
    after = _tree(tmp_path)
    new = sorted(set(after) - set(before))
    keys = server.data_dir / "keys"
    assert all(Path(p).parent == keys for p in new), new
    assert not list(tmp_path.rglob("x.pem"))
    assert not list(tmp_path.rglob("y.pem"))
    assert sorted(p.name for p in keys.iterdir()) == ["maker.pem", "requester.pem"]


def test_nothing_but_metadata_is_journaled_of_a_request_nobody_authenticated(
        control: Control, tmp_path: Path) -> None:
    big = json.dumps({"market_ticker": MARKET, "pad": "z" * 1_000_000})
    size = _journal_size(control)
    response = httpx.post(control.base_url + "/trade-api/v2/communications/rfqs", content=big,
                          headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 401
    unsigned = _last(control, "/trade-api/v2/communications/rfqs")
    assert unsigned["status"] == 401
    assert "body" not in unsigned
    assert "body_text" not in unsigned
    assert _journal_size(control) - size < 4096

    with guarded_server(tmp_path / "guarded", "s3cret") as url:
        guarded = Control(url)
        guarded.http.headers["Authorization"] = "Bearer s3cret"
        try:
            refused = httpx.post(url + "/sandbox/v1/accounts", timeout=30,
                                 json={"name": "intruder", "pad": "z" * 1_000_000},
                                 headers={"Authorization": "Bearer wrong"})
            assert refused.status_code == 401
            # The guard answers before the journal sees the request: no line holds its body.
            lines = _lines(guarded, "/sandbox/v1/accounts")
            assert all("body" not in e and "body_text" not in e for e in lines)
            guarded.call("POST", "/accounts", {"name": "insider"}, expect=201)
            allowed = _last(guarded, "/sandbox/v1/accounts")
            assert allowed["body"] == {"name": "insider"}
        finally:
            guarded.close()


def _journal_size(control: Control) -> int:
    return len(control.http.get("/journal").content)


def _lines(control: Control, path: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in control.http.get("/journal").text.splitlines()]
    return [e for e in lines if e.get("path") == path]


def _last(control: Control, path: str) -> dict[str, Any]:
    return _lines(control, path)[-1]


def _private_key() -> str:
    from kalshi_sandbox.exchange.keys import generate_rsa_key

    return generate_rsa_key()[0]
