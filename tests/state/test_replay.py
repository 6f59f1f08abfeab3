"""Journal replay into a fresh sandbox through real servers: the same state, read for read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kalshi_sandbox.exchange.keys import public_pem_of
from tests.api.support import nested_error
from tests.conftest import HVM_MARKET, MARKET
from tests.plugin.support import guarded_server
from tests.state.support import differences, reads
from tests.support.server import Account, Control, ServerProcess, Trader, running

NDJSON = {"Content-Type": "application/x-ndjson"}
CLOSING = "KXCLOSING-26DEC31-T10"


def export(control: Control) -> str:
    response = control.http.get("/journal")
    assert response.status_code == 200, response.text
    return response.text


def replay(control: Control, journal: str) -> dict[str, Any]:
    response = control.http.post("/journal/replay", content=journal, headers=NDJSON)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _history(control: Control) -> dict[str, Any]:
    """Drive a sandbox through every kind of change a journal has to carry."""
    requester = control.trader("requester", "1000")
    maker = control.trader("maker", "1000")
    rival = control.trader("rival", "1000")
    key = control.call("POST", f"/accounts/{maker.account.user_id}/keys", {}, expect=201)
    maker_again = Trader(control.base_url, Account(
        maker.account.user_id, "maker", maker.account.communications_id, key["key_id"],
        key["private_key_pem"]))
    rfqs: list[str] = []
    quotes: list[str] = []

    # A full lifecycle, with a second quote left behind.
    rfqs.append(requester.create_rfq(MARKET))
    quotes.append(maker_again.create_quote(rfqs[-1]))
    quotes.append(rival.create_quote(rfqs[-1], "0.35", "0.60"))
    requester.accept(rfqs[-1], quotes[0])
    maker.confirm(rfqs[-1], quotes[0])
    control.advance(20)

    # A window that lapses, then a confirm too late; a quote withdrawn; an RFQ deleted.
    rfqs.append(requester.create_rfq(MARKET, "4"))
    quotes.append(maker.create_quote(rfqs[-1], "0.30", "0.65"))
    quotes.append(rival.create_quote(rfqs[-1], "0.31", "0.64"))
    requester.accept(rfqs[-1], quotes[-2], "no")
    control.advance(31)
    late = maker.put(f"/communications/rfqs/{rfqs[-1]}/quotes/{quotes[-2]}/confirm")
    assert late.status_code == 400, late.text
    assert rival.delete(f"/communications/quotes/{quotes[-1]}").status_code == 204
    assert requester.delete(f"/communications/rfqs/{rfqs[-1]}").status_code == 204

    # Refusals: bad JSON, more than the balance, a second open RFQ, an unknown RFQ, a fault.
    assert requester.post("/communications/rfqs", content=b"{").status_code == 400
    assert requester.post("/communications/rfqs", json={
        "market_ticker": MARKET, "target_cost_dollars": "5000", "rest_remainder": False,
    }).status_code == 400
    rfqs.append(requester.create_rfq(MARKET, "2"))
    assert requester.post("/communications/rfqs", json={
        "market_ticker": MARKET, "contracts_fp": "1", "rest_remainder": False,
    }).status_code == 409
    assert maker.post("/communications/quotes", json={
        "rfq_id": "00000000-0000-4000-8000-000000000000", "yes_bid": "0.40",
        "no_bid": "0.55", "rest_remainder": False}).status_code == 400
    faulted = requester.post("/communications/rfqs", headers={"X-Sandbox-Fault": "error=503"},
                             json={"market_ticker": HVM_MARKET, "contracts_fp": "1",
                                   "rest_remainder": False})
    assert faulted.status_code == 503

    # replace_existing closes the open RFQ; an HVM trade with its short windows.
    rfqs.append(requester.create_rfq(MARKET, "3", replace_existing=True))
    rfqs.append(requester.create_rfq(HVM_MARKET, "1"))
    quotes.append(maker.create_quote(rfqs[-1], "0.50", "0.45"))
    requester.accept(rfqs[-1], quotes[-1], "no")
    maker.confirm(rfqs[-1], quotes[-1])
    control.advance(2)

    # The operator: a balance set, a market closed under an open RFQ.
    control.call("PUT", f"/accounts/{rival.account.user_id}/balance",
                 {"balance_dollars": "12.5"})
    control.market(CLOSING)
    rfqs.append(rival.create_rfq(CLOSING))
    control.call("PATCH", f"/markets/{CLOSING}", {"status": "closed"})
    control.advance(7)
    maker_again.close()
    return {"accounts": [requester.account, maker.account, rival.account], "rfqs": rfqs,
            "quotes": quotes}


def test_replay_into_a_fresh_sandbox_reproduces_every_read(control: Control,
                                                           target: Control) -> None:
    history = _history(control)
    before = reads(control.base_url, history["accounts"], history["rfqs"], history["quotes"])
    journal = export(control)

    result = replay(target, journal)
    assert result["mismatches"] == []
    assert result["made_up"] == 0
    assert result["replayed"] > 20
    after = reads(target.base_url, history["accounts"], history["rfqs"], history["quotes"])
    assert differences(before, after) == []

    # The replayed sandbox's own journal replays again to the same state.
    mirrored = export(target)
    control.reset()
    assert replay(control, mirrored)["mismatches"] == []
    again = reads(control.base_url, history["accounts"], history["rfqs"], history["quotes"])
    assert differences(before, again) == []


def _earlier_format(line: dict[str, Any]) -> dict[str, Any]:
    """Write an entry as journals did before compact entries: every request field present,
    public keys beside private ones, each timer's due and who fired it, whole events."""
    entry = dict(line)
    if entry["type"] == "request":
        entry = {"seq": entry["seq"], "type": "request", "instant": entry["instant"],
                 "api": "trade" if entry["path"].startswith("/trade-api/") else "control",
                 "query": "", "body": None, "actor": None, **entry}
        if "keys" in entry:
            entry["keys"] = [{**k, "public_key_pem": public_pem_of(k["private_key_pem"])}
                             for k in entry["keys"]]
    elif entry["type"] == "timer":
        entry.setdefault("due", entry["instant"])
        entry.setdefault("fired_by", "clock")
    elif entry["type"] == "event":
        entry = {k: entry[k] for k in ("seq", "type", "instant", "event")} | {"data": {}}
    return entry


def test_replay_reads_whole_events_and_the_earlier_format(control: Control,
                                                          target: Control) -> None:
    history = _history(control)
    before = reads(control.base_url, history["accounts"], history["rfqs"], history["quotes"])
    earlier = "".join(json.dumps(_earlier_format(json.loads(line))) + "\n"
                      for line in export(control).splitlines())
    assert '"api":"trade"' in earlier.replace(" ", "")
    result = replay(target, earlier)
    assert (result["mismatches"], result["made_up"]) == ([], 0)
    after = reads(target.base_url, history["accounts"], history["rfqs"], history["quotes"])
    assert differences(before, after) == []


def test_replay_repeats_restored_snapshots(control: Control, target: Control,
                                           server: ServerProcess) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    first = requester.create_rfq(MARKET)
    inline = control.call("POST", "/snapshots", {})
    quote = maker.create_quote(first)
    requester.accept(first, quote)
    control.call("POST", "/snapshots", {"path": "later.json"})
    control.advance(10)
    control.call("POST", "/snapshots/restore", inline)  # back before the quote
    second_quote = maker.create_quote(first, "0.20", "0.75")
    control.call("POST", "/snapshots/restore", {"path": "later.json"})  # the accepted quote
    maker.confirm(first, quote)
    control.advance(20)
    accounts = [requester.account, maker.account]
    before = reads(control.base_url, accounts, [first], [quote, second_quote])
    journal = export(control)
    # The replay has the snapshot from the journal, not from the file.
    (server.data_dir / "later.json").unlink()

    result = replay(target, journal)
    assert result["mismatches"] == []
    assert differences(before, reads(target.base_url, accounts, [first],
                                     [quote, second_quote])) == []


def test_replay_needs_a_fresh_sandbox(control: Control, target: Control) -> None:
    control.trader("requester").create_rfq(MARKET)
    journal = export(control)
    target.market(MARKET)
    response = target.http.post("/journal/replay", content=journal, headers=NDJSON)
    nested_error(response, 409, "conflict")
    assert target.call("GET", "/accounts")["accounts"] == []


def test_replay_of_something_else_is_refused(target: Control) -> None:
    for text in ("not json\n", '{"seq": 1}\n', "[1, 2]\n"):
        response = target.http.post("/journal/replay", content=text, headers=NDJSON)
        nested_error(response, 400, "invalid_parameters")


def _essentials(base_url: str, accounts: list[Account], rfq_ids: list[str]) -> dict[str, Any]:
    """What a replay on another clock must still reproduce: ids, statuses, money."""
    seen: dict[str, Any] = {}
    for account in accounts:
        trader = Trader(base_url, account)
        try:
            seen[account.name] = {
                "balance": trader.balance()["balance"],
                "fills": sorted((f["fill_id"], f["order_id"], f["count_fp"], f["side"])
                                for f in trader.get("/portfolio/fills").json()["fills"]),
                "rfqs": {r: trader.rfq(r)["status"] for r in rfq_ids},
                "quotes": sorted((q["id"], q["status"]) for q in trader.get(
                    "/communications/quotes").json()["quotes"]),
            }
        finally:
            trader.close()
    return seen


def test_replay_on_a_system_clock_fires_the_journals_timers(control: Control,
                                                            tmp_path: Path) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    traded = requester.create_rfq(MARKET)
    quote = maker.create_quote(traded)
    requester.accept(traded, quote)
    maker.confirm(traded, quote)
    control.advance(20)
    lapsed = requester.create_rfq(MARKET)
    requester.accept(lapsed, maker.create_quote(lapsed), "no")
    control.advance(40)
    accounts = [requester.account, maker.account]
    before = _essentials(control.base_url, accounts, [traded, lapsed])
    journal = export(control)

    for server in running(tmp_path / "system", "--clock", "system", "--no-seed"):
        system = Control(server.base_url)
        try:
            result = replay(system, journal)
            # The clock moves are passed over; the timers they fired fire as the replay
            # reaches them, so executions and lapses happen, only at other timestamps.
            assert result["mismatches"] == []
            assert result["made_up"] == 0
            assert _essentials(server.base_url, accounts, [traded, lapsed]) == before
        finally:
            system.close()


def _demo(data_dir: Path) -> list[Account]:
    manifest = json.loads((data_dir / "demo-accounts.json").read_text())
    return [Account(d["user_id"], d["name"], "", d["key_id"], Path(d["key_path"]).read_text())
            for d in manifest]


def test_replay_repeats_the_demo_seed_with_its_keys(tmp_path: Path) -> None:
    origin = ServerProcess(tmp_path / "origin", args=("--clock", "manual")).start()
    other = ServerProcess(tmp_path / "other", args=("--clock", "manual")).start()
    try:
        source, target = Control(origin.base_url), Control(other.base_url)
        for reseed in (False, True):
            if reseed:  # the second time, the seed reuses the keys on disk
                source.call("POST", "/reset", {"seed": True})
            demo = _demo(tmp_path / "origin")
            requester, maker = (Trader(origin.base_url, a) for a in demo)
            market = "KXSANDBOX-26DEC31-T50"
            rfq = requester.create_rfq(market)
            requester.accept(rfq, maker.create_quote(rfq))
            requester.close()
            maker.close()
            before = reads(origin.base_url, demo, [rfq])
            target.call("POST", "/reset", {"seed": False})
            result = replay(target, export(source))
            assert result["mismatches"] == []
            assert result["made_up"] == 0
            assert differences(before, reads(other.base_url, demo, [rfq])) == []
            assert [(a.name, a.user_id, a.key_id, a.private_key_pem)
                    for a in _demo(tmp_path / "other")] == [
                (a.name, a.user_id, a.key_id, a.private_key_pem) for a in demo]
        source.close()
        target.close()
    finally:
        origin.stop()
        other.stop()


def test_replay_repeats_what_counterparties_did_and_decided(control: Control,
                                                            target: Control) -> None:
    # Unseeded, with even odds: the replay must repeat each draw, not just each action. The
    # maker reacts at once (its timers fire as soon as they are due, between requests).
    markets = [f"KXRQ-26DEC31-T{i}" for i in range(6)]
    for ticker in markets:
        control.market(ticker)
    control.call("POST", "/counterparties/makers",
                 {"name": "mm", "quote_delay": 0, "fair_price": "0.50", "spread": "0.04",
                  "confirm": {"policy": "probability", "probability": 0.5, "delay": 0}},
                 expect=201)
    control.call("POST", "/counterparties/requesters",
                 {"name": "rq", "markets": markets, "contracts": "2",
                  "accept": {"delay": 1, "side": "best"}, "delete_probability": 0.5},
                 expect=201)
    alice = control.trader("alice")
    bob = control.trader("bob")
    rfqs: list[str] = []
    for _ in range(6):
        rfqs.append(alice.create_rfq(MARKET))
        control.advance(0)  # mm has quoted
        [quote] = alice.get("/communications/quotes", params={"rfq_id": rfqs[-1]}).json()[
            "quotes"]
        alice.accept(rfqs[-1], quote["id"])
        control.advance(40)  # mm confirms or lets the window lapse; an execution follows
        if alice.rfq(rfqs[-1])["status"] == "open":
            assert alice.delete(f"/communications/rfqs/{rfqs[-1]}").status_code == 204
        asked = control.call("POST", "/counterparties/requesters/rq/rfqs", {},
                             expect=201)["rfq_id"]
        rfqs.append(asked)
        bob.create_quote(asked, "0.45", "0.50")
        control.advance(20)  # rq accepts the best quote or deletes; mm confirms or not
        control.advance(40)
    accounts = [alice.account, bob.account]
    before = reads(control.base_url, accounts, rfqs)
    before["bots"] = control.call("GET", "/counterparties")
    statuses = {alice.rfq(r)["status"] for r in rfqs}
    assert len(statuses) > 1, statuses  # both outcomes happened: the draws mattered

    result = replay(target, export(control))
    assert result["mismatches"] == []
    assert result["made_up"] == 0
    after = reads(target.base_url, accounts, rfqs)
    after["bots"] = target.call("GET", "/counterparties")
    assert differences(before, after) == []


def test_replay_into_a_sandbox_with_an_admin_token_sends_its_control_requests(
        control: Control, tmp_path: Path) -> None:
    requester = control.trader("requester")
    rfq = requester.create_rfq(MARKET)
    control.call("PUT", f"/accounts/{requester.account.user_id}/balance",
                 {"balance_dollars": "7"})
    before = reads(control.base_url, [requester.account], [rfq])
    journal = export(control)
    with guarded_server(tmp_path / "guarded", "s3cret") as url:
        guarded = Control(url)
        guarded.http.headers["Authorization"] = "Bearer s3cret"
        try:
            result = replay(guarded, journal)
            assert result["mismatches"] == []
            after = reads(url, [requester.account], [rfq],
                          control_headers={"Authorization": "Bearer s3cret"})
            assert differences(before, after) == []
        finally:
            guarded.close()


def test_replay_repeats_the_book_and_what_liquidity_makers_did(control: Control,
                                                                target: Control) -> None:
    # An unseeded random walk: the replay must repeat each draw, and the orders and trades
    # it placed, by the same ids.
    control.call("POST", "/liquidity", {"name": "lp", "markets": [MARKET],
                                        "volatility": "0.02", "depth": 2}, expect=201)
    alice = control.trader("alice")
    for _ in range(3):
        control.advance(2)
        hit = alice.post("/portfolio/events/orders", json={
            "ticker": MARKET, "side": "bid", "price": "0.99", "count": "3",
            "time_in_force": "immediate_or_cancel",
            "self_trade_prevention_type": "taker_at_cross"})
        assert hit.status_code == 201, hit.text
        assert hit.json()["fill_count"] == "3.00"
    rests = alice.post("/portfolio/events/orders", json={
        "ticker": MARKET, "side": "bid", "price": "0.05", "count": "2",
        "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross"})
    assert rests.status_code == 201, rests.text
    control.advance(1)

    def book(plane: Control) -> dict[str, Any]:
        response = plane.http.get("/liquidity/lp")
        assert response.status_code == 200, response.text
        state = {k: v for k, v in response.json().items() if k != "activity"}
        reader = Trader(plane.base_url, alice.account)
        try:
            state["book"] = reader.get(f"/markets/{MARKET}/orderbook").json()
            state["trades"] = reader.get("/markets/trades").json()
        finally:
            reader.close()
        return state

    before = {**reads(control.base_url, [alice.account]), "lp": book(control)}
    result = replay(target, export(control))
    assert result["mismatches"] == []
    assert result["made_up"] == 0
    after = {**reads(target.base_url, [alice.account]), "lp": book(target)}
    assert differences(before, after) == []
