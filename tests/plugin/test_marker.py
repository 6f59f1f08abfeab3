"""``@pytest.mark.kalshi_sandbox(...)``: server settings and fixture options per test."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kalshi_sandbox.client import QuoteStatus
from kalshi_sandbox.testing import KalshiSandbox
from kalshi_sandbox.testing.plugin import ServerPool, server_settings

START = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def accepted_quote(sb: KalshiSandbox) -> tuple[str, str]:
    requester, maker = sb.client(sb.requester), sb.client(sb.maker)
    rfq_id = requester.create_rfq(sb.markets[0], contracts=10)
    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    requester.accept_quote(rfq_id, quote_id, "yes")
    return rfq_id, quote_id


@pytest.mark.kalshi_sandbox(confirm_window=5)
def test_confirm_window_setting_shortens_the_window(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    assert sb.server is not None
    assert sb.server.settings.confirm_window == 5
    rfq_id, quote_id = accepted_quote(sb)
    sb.clock.advance(5)
    assert sb.client(sb.requester).get_quote(rfq_id, quote_id).status == QuoteStatus.CANCELLED


@pytest.mark.kalshi_sandbox(execution_delay=0)
def test_execution_delay_zero_executes_on_the_next_advance(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    rfq_id, quote_id = accepted_quote(sb)
    sb.client(sb.maker).confirm_quote(rfq_id, quote_id)
    sb.clock.advance(0)
    assert sb.client(sb.requester).get_quote(rfq_id, quote_id).status == QuoteStatus.EXECUTED


def test_default_server_differs_from_the_marked_ones(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    assert sb.server is not None
    assert (sb.server.settings.confirm_window, sb.server.settings.execution_delay) == (30, 15)
    rfq_id, quote_id = accepted_quote(sb)
    sb.clock.advance(5)
    assert sb.client(sb.requester).get_quote(rfq_id, quote_id).status == QuoteStatus.ACCEPTED


@pytest.mark.kalshi_sandbox(balance="25")
def test_balance_option_funds_the_ready_accounts(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    for account in (sb.requester, sb.maker):
        assert sb.client(account).get_balance().balance == Decimal("25")


@pytest.mark.kalshi_sandbox(confirm_window=5)
class TestClassMarker:
    @pytest.mark.kalshi_sandbox(balance="3")
    def test_function_marker_adds_to_the_class_marker(
            self, kalshi_sandbox: KalshiSandbox) -> None:
        sb = kalshi_sandbox
        assert sb.server is not None
        assert sb.server.settings.confirm_window == 5
        assert sb.client(sb.requester).get_balance().balance == Decimal("3")

    @pytest.mark.kalshi_sandbox(confirm_window=7)
    def test_closest_marker_wins(self, kalshi_sandbox: KalshiSandbox) -> None:
        assert kalshi_sandbox.server is not None
        assert kalshi_sandbox.server.settings.confirm_window == 7


@pytest.mark.parametrize("round_", [1, 2])
@pytest.mark.kalshi_sandbox(clock_start="2030-01-02T03:04:05Z")
def test_clock_start_gives_each_test_a_server_of_its_own(
        kalshi_sandbox: KalshiSandbox, round_: int) -> None:
    sb = kalshi_sandbox
    # Both rounds start at the same instant although each moves the clock a day on.
    assert sb.clock.now() == START
    sb.clock.advance(86_400)
    assert sb.clock.now().day == 3


@pytest.mark.parametrize("round_", [1, 2])
@pytest.mark.kalshi_sandbox(clock="system", clock_speed=5)
def test_system_clock_speed_is_restored_for_every_test(
        kalshi_sandbox: KalshiSandbox, round_: int) -> None:
    sb = kalshi_sandbox
    state = sb.clock.state()
    assert (state.mode, state.speed) == ("system", 5)
    assert sb.clock.set_speed(20).speed == 20  # a later test must not inherit this


@pytest.mark.kalshi_sandbox(makers=1)
def test_default_counterparties_setting_starts_an_auto_maker_in_every_test(
        kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    assert [(p.name, p.kind) for p in sb.counterparties.list()] == [("auto-maker-1", "maker")]
    requester = sb.client(sb.requester)
    rfq_id = requester.create_rfq(sb.markets[0], contracts=10)
    sb.clock.advance(1)
    quotes = list(requester.iter_quotes(rfq_id=rfq_id))
    assert [q.creator_id for q in quotes] == [
        sb.counterparties.get("auto-maker-1").communications_id]


def test_server_settings_keep_settings_and_refuse_the_rest() -> None:
    assert server_settings({"url": None, "balance": "1", "confirm_window": 5}) == {
        "confirm_window": 5}
    with pytest.raises(pytest.UsageError, match="unknown option"):
        server_settings({"confirm_windw": 5})
    with pytest.raises(pytest.UsageError, match="data_dir is chosen by the fixture"):
        server_settings({"data_dir": "/tmp"})


def test_server_pool_reuses_a_server_per_settings_and_keeps_only_a_few() -> None:
    pool = ServerPool(size=1)
    try:
        first, own = pool.get({"confirm_window": 4})
        assert not own
        again, _ = pool.get({"confirm_window": 4})
        assert again is first
        other, _ = pool.get({"confirm_window": 6})
        assert other is not first
        assert not first.running  # evicted to keep one server
        alone, own = pool.get({"clock_start": "2030-01-01T00:00:00Z"})
        assert own
        alone.stop()
    finally:
        pool.close()
    assert not other.running
