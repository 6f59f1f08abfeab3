"""The ``kalshi_sandbox`` fixture in its default mode: an in-process sandbox, fresh per test."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

import kalshi_sandbox.testing
from kalshi_sandbox.client import AuthenticationError, QuoteStatus, RfqCreated, Subscribed
from kalshi_sandbox.testing import (
    ControlPlaneError,
    KalshiSandbox,
    SandboxServer,
)

SERVERS_SEEN: dict[int, int] = {}
"""Which in-process server each round of the isolation test ran on."""


def test_fixture_is_loaded_through_the_pytest11_entry_point(
        request: pytest.FixtureRequest) -> None:
    plugin = request.config.pluginmanager.get_plugin("kalshi_sandbox")
    assert plugin is not None
    assert plugin.__name__ == "kalshi_sandbox.testing.plugin"


def test_testing_public_surface_is_pinned() -> None:
    assert sorted(kalshi_sandbox.testing.__all__) == sorted([
        "DEFAULT_BALANCE", "DEFAULT_MARKETS", "ClockState", "ControlPlaneError",
        "Counterparties", "Counterparty", "FaultRule", "Faults", "KalshiSandbox",
        "SandboxAccount", "SandboxClock", "SandboxServer"])
    for name in kalshi_sandbox.testing.__all__:
        assert getattr(kalshi_sandbox.testing, name) is not None
    with pytest.raises(AttributeError):
        _ = kalshi_sandbox.testing.Nothing


def test_fixture_serves_in_process_on_loopback_with_rest_and_ws_urls(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    assert sb.server is not None
    assert not sb.external
    assert sb.base_url == f"http://127.0.0.1:{sb.server.port}"
    assert sb.rest_url == sb.base_url + "/trade-api/v2"
    assert sb.ws_url == f"ws://127.0.0.1:{sb.server.port}/trade-api/ws/v2"
    health = httpx.get(sb.base_url + "/sandbox/v1/health").json()
    assert (health["status"], health["clock"]) == ("ok", "manual")


def test_fixture_gives_ready_accounts_whose_keys_sign_for_them(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    for account, name in ((sb.requester, "requester"), (sb.maker, "maker")):
        assert account.name == name
        assert account.private_key_path.read_text() == account.private_key_pem
        client = sb.client(account)
        assert client.get_communications_id() == account.communications_id
        assert client.get_balance().balance == Decimal("10000")
    assert sb.requester.key_id != sb.maker.key_id
    assert sb.requester.private_key_pem != sb.maker.private_key_pem


def test_fixture_gives_a_normal_and_a_high_volatility_market(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    normal, hvm = sb.markets
    listed = {m["ticker"]: m["hvm"] for m in sb.control("GET", "/markets")["markets"]}
    assert listed == {normal: False, hvm: True}
    market = sb.client(sb.requester).get_market(normal)
    assert market.status == "active"


def test_account_and_market_create_more_of_each(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    alice = sb.account("alice", balance="12.50")
    ticker = sb.market("KXEXTRA-26DEC31-T1", price_level_structure="deci_cent")
    client = sb.client(alice)
    assert client.get_balance().balance == Decimal("12.50")
    assert alice.key_id not in (sb.requester.key_id, sb.maker.key_id)
    assert client.get_market(ticker).price_level_structure == "deci_cent"
    assert sb.markets[2] == ticker
    sb.set_balance(alice, "3")
    assert client.get_balance().balance == Decimal("3")
    assert alice.env() == {
        "KALSHI_API_KEY_ID": alice.key_id,
        "KALSHI_PRIVATE_KEY_PATH": str(alice.private_key_path)}


@pytest.mark.parametrize("round_", [1, 2])
def test_each_test_starts_from_a_wiped_sandbox_on_a_shared_server(
        kalshi_sandbox: KalshiSandbox, round_: int) -> None:
    sb = kalshi_sandbox
    assert sb.server is not None
    # Whichever round runs second sees what the first left behind, if anything leaked.
    accounts = sb.control("GET", "/accounts")["accounts"]
    assert sorted(a["name"] for a in accounts) == ["maker", "requester"]
    assert len(sb.control("GET", "/markets")["markets"]) == 2
    requester = sb.client(sb.requester)
    assert list(requester.iter_rfqs()) == []
    assert sb.clock.state().pending_timers == 0
    SERVERS_SEEN[round_] = id(sb.server)
    other = SERVERS_SEEN.get(3 - round_)
    assert other is None or other == id(sb.server)

    sb.account(f"leftover-{round_}")
    sb.market(f"KXLEFTOVER{round_}-26DEC31-T1")
    rfq_id = requester.create_rfq(sb.markets[0], contracts=10)
    maker = sb.client(sb.maker)
    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    requester.accept_quote(rfq_id, quote_id, "yes")
    assert sb.clock.state().pending_timers == 1  # the confirmation window


def test_clock_advance_fires_the_execution_timer_and_reads_back_the_instant(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    requester, maker = sb.client(sb.requester), sb.client(sb.maker)
    rfq_id = requester.create_rfq(sb.markets[0], contracts=10)
    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    requester.accept_quote(rfq_id, quote_id, "yes")
    maker.confirm_quote(rfq_id, quote_id)
    start = sb.clock.now()
    assert start.tzinfo is not None

    state = sb.clock.advance(14.9999)
    assert state.fired_timers == 0
    assert state.now - start == timedelta(seconds=14.9999)
    assert requester.get_quote(rfq_id, quote_id).status == QuoteStatus.CONFIRMED
    assert state.next_timer == start + timedelta(seconds=15)

    state = sb.clock.advance(timedelta(microseconds=100))
    assert state.fired_timers == 1
    assert requester.get_quote(rfq_id, quote_id).status == QuoteStatus.EXECUTED
    assert sb.clock.advance_to(start + timedelta(hours=1)).now == start + timedelta(hours=1)
    assert sb.clock.now() == start + timedelta(hours=1)


def test_clock_advance_to_accepts_naive_utc_and_refuses_the_past(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    later = sb.clock.now() + timedelta(days=1)
    naive = later.astimezone(UTC).replace(tzinfo=None)
    assert sb.clock.advance_to(naive).now == later
    with pytest.raises(ControlPlaneError) as refused:
        sb.clock.advance_to(datetime(2000, 1, 1, tzinfo=UTC))
    assert refused.value.status == 400
    assert refused.value.code == "invalid_parameters"
    assert "backwards" in str(refused.value)


def test_default_confirm_window_lapses_after_thirty_seconds(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    requester, maker = sb.client(sb.requester), sb.client(sb.maker)
    rfq_id = requester.create_rfq(sb.markets[0], contracts=10)
    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    requester.accept_quote(rfq_id, quote_id, "yes")
    sb.clock.advance(29)
    assert requester.get_quote(rfq_id, quote_id).status == QuoteStatus.ACCEPTED
    sb.clock.advance(1)
    assert requester.get_quote(rfq_id, quote_id).status == QuoteStatus.CANCELLED


def test_update_market_closes_its_open_rfqs(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    requester = sb.client(sb.requester)
    rfq_id = requester.create_rfq(sb.markets[0], contracts=10)
    market = sb.update_market(sb.markets[0], status="closed")
    assert market["status"] == "closed"
    assert requester.get_rfq(rfq_id).status == "closed"


def test_reset_empties_the_sandbox_and_setup_makes_fresh_accounts(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    first = sb.requester
    old_client = sb.client(first)
    sb.reset()
    assert sb.control("GET", "/accounts") == {"accounts": []}
    assert sb.control("GET", "/markets") == {"markets": []}
    with pytest.raises(AuthenticationError):
        old_client.get_balance()  # the key went with its account
    sb.setup(balance="5")
    assert sb.requester.user_id != first.user_id
    assert sb.client(sb.requester).get_balance().balance == Decimal("5")
    assert len(sb.markets) == 2


def test_async_client_streams_rfqs_from_the_ws_url(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox

    async def scenario() -> RfqCreated:
        async with sb.async_client(sb.maker) as maker, maker.subscribe() as stream:
            async for event in stream:
                if isinstance(event, Subscribed):
                    break
            requester = sb.client(sb.requester)
            rfq_id = await asyncio.to_thread(requester.create_rfq, sb.markets[0],
                                             contracts=5)
            async with asyncio.timeout(10):
                async for event in stream:
                    if isinstance(event, RfqCreated) and event.id == rfq_id:
                        return event
        raise AssertionError("the stream ended")

    created = asyncio.run(scenario())
    assert (created.market_ticker, created.contracts) == (sb.markets[0], Decimal("5"))
    assert created.creator_id == sb.requester.communications_id


def test_control_plane_refusal_raises_with_status_and_kalshi_code(
        kalshi_sandbox: KalshiSandbox) -> None:
    with pytest.raises(ControlPlaneError) as refused:
        kalshi_sandbox.market(kalshi_sandbox.markets[0])
    assert refused.value.status == 409
    assert refused.value.method == "POST"
    assert str(refused.value).startswith("POST /sandbox/v1/markets answered 409: ")


def test_clients_are_closed_at_teardown(kalshi_sandbox: KalshiSandbox) -> None:
    client = kalshi_sandbox.client(kalshi_sandbox.requester)
    client.get_balance()
    kalshi_sandbox.close_clients()
    assert client.http.is_closed


def test_sandbox_server_runs_outside_pytest_and_removes_its_data_dir() -> None:
    with SandboxServer(confirm_window=5) as server:
        data_dir = server.settings.data_dir
        assert httpx.get(server.base_url + "/sandbox/v1/health").status_code == 200
        assert server.settings.confirm_window == 5
        with KalshiSandbox.connect(server.base_url) as sb:
            with pytest.raises(RuntimeError, match="setup"):
                _ = sb.requester
            sb.setup()
            assert sb.external  # a handle made by connect() does not own the server
            assert sb.client(sb.requester).get_balance().balance == Decimal("10000")
    assert not server.running
    assert not Path(data_dir).exists()


def test_sandbox_server_refuses_invalid_settings() -> None:
    with pytest.raises(ValueError, match="clock"):
        SandboxServer(clock="sundial")


def test_sandbox_server_reports_a_failed_start_and_cleans_up(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    server = SandboxServer(db=str(blocker / "sandbox.db"))
    data_dir = Path(server.settings.data_dir)
    assert data_dir.is_dir()
    with pytest.raises(RuntimeError, match="failed to start"):
        server.start()
    assert not data_dir.exists()
