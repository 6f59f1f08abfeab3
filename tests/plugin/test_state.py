"""The fixture's state helpers: snapshot and restore, the journal, and replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kalshi_sandbox.client import KalshiClient
from kalshi_sandbox.testing import KalshiSandbox, SandboxAccount, SandboxServer


def trade(sb: KalshiSandbox, contracts: int = 10) -> tuple[str, str]:
    """Run one RFQ to execution between the ready accounts; return (rfq id, quote id)."""
    requester, maker = sb.client(sb.requester), sb.client(sb.maker)
    rfq_id = requester.create_rfq(sb.markets[0], contracts=contracts)
    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    requester.accept_quote(rfq_id, quote_id, "yes")
    maker.confirm_quote(rfq_id, quote_id)
    sb.clock.advance(15)
    return rfq_id, quote_id


def views(client: KalshiClient) -> dict[str, Any]:
    """Return what one account reads of its state, as raw JSON."""
    return {
        "rfqs": client.request("GET", "/communications/rfqs"),
        "quotes": client.request("GET", "/communications/quotes",
                                 params={"user_filter": "self"}),
        "balance": client.request("GET", "/portfolio/balance"),
        "positions": client.request("GET", "/portfolio/positions"),
        "fills": client.request("GET", "/portfolio/fills"),
        "orders": client.request("GET", "/portfolio/orders"),
    }


def both_views(sb: KalshiSandbox, accounts: tuple[SandboxAccount, ...]) -> list[Any]:
    return [views(sb.client(account)) for account in accounts]


def test_restore_after_mutation_answers_exactly_as_at_the_snapshot(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    trade(sb)
    pending_rfq = sb.client(sb.requester).create_rfq(sb.markets[1], contracts=3)
    accounts = (sb.requester, sb.maker)
    before = both_views(sb, accounts)
    snapshot = sb.snapshot()
    instant = sb.clock.now()

    trade(sb, contracts=5)
    sb.client(sb.requester).delete_rfq(pending_rfq)
    sb.account("newcomer")
    sb.clock.advance(3600)
    assert both_views(sb, accounts) != before

    answer = sb.restore(snapshot)
    assert answer["restored"] is True
    assert sb.clock.now() == instant
    assert both_views(sb, accounts) == before
    names = sorted(a["name"] for a in sb.control("GET", "/accounts")["accounts"])
    assert names == ["maker", "requester"]


def test_snapshot_to_a_server_file_and_back(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    rfq_id, _ = trade(sb)
    path = Path("state") / "snap.json"  # in the server's data directory
    assert sb.snapshot(path)["path"] == "state/snap.json"
    sb.reset()
    assert sb.control("GET", "/accounts") == {"accounts": []}
    sb.restore(path)
    assert sb.client(sb.requester).get_rfq(rfq_id).status == "closed"


def test_journal_lists_requests_and_events_in_order(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    rfq_id, _ = trade(sb)
    journal = sb.journal()
    seqs = [entry["seq"] for entry in journal]
    assert seqs == sorted(seqs)
    assert journal[0]["path"] == "/sandbox/v1/reset"  # each test's journal starts afresh
    created = [e for e in journal if e["type"] == "request"
               and e["path"] == "/trade-api/v2/communications/rfqs"]
    assert [(e["method"], e["status"], e["actor"]) for e in created] == [
        ("POST", 201, sb.requester.user_id)]
    events = [e["event"] for e in journal if e["type"] == "event"]
    # The fixture's markets were created first.
    assert events[events.index("rfq_created") - 1] == "market_lifecycle"
    assert set(events[:events.index("rfq_created")]) == {"event_lifecycle",
                                                         "market_lifecycle"}
    assert "quote_executed" in events
    assert sb.journal(after=seqs[-2])[0] == journal[-1]
    assert any(e.get("rfq") == rfq_id for e in journal if e["type"] == "event")


def test_journal_replay_into_a_fresh_sandbox_reproduces_rfqs_quotes_fills_and_balances(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    trade(sb)
    trade(sb, contracts=4)
    sb.client(sb.requester).create_rfq(sb.markets[1], contracts=2)
    accounts = (sb.requester, sb.maker)
    original = both_views(sb, accounts)
    journal = sb.journal()

    with SandboxServer() as server, KalshiSandbox.connect(server.base_url) as fresh:
        report = fresh.replay(journal)
        assert report["mismatches"] == []
        assert report["replayed"] > 0
        # The journal holds the accounts' public keys and key ids, so the same keys sign.
        assert both_views(fresh, accounts) == original
        assert fresh.clock.now() == sb.clock.now()
