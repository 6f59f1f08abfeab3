"""Kalshi's official Python SDK (kalshi-python-sync 3.2.0) reads series, events, the exchange
schedule, combo collections and settlements, unmodified but for its host.

Its strict pydantic models parse every response, so a passing run proves the sandbox sends
every field that generation requires. The market is traded through signed HTTP and settled
through the control plane.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kalshi_python_sync.exceptions import ApiException

from tests.api.support import execute
from tests.conformance.test_python_sdk import sdk_client
from tests.conftest import MARKET
from tests.support.server import Control, Trader

EVENT = MARKET.rsplit("-", 1)[0]
SERIES = EVENT.split("-", 1)[0]


@pytest.fixture
def traders(control: Control) -> Iterator[tuple[Trader, Trader, Any]]:
    requester, maker = control.trader("sdk-requester"), control.trader("sdk-maker")
    client = sdk_client(control.base_url, requester.account)
    yield requester, maker, client
    client.rest_client.pool_manager.clear()


def test_python_sdk_reads_series_events_schedule_and_settlements(
        control: Control, traders: tuple[Trader, Trader, Any]) -> None:
    requester, maker, client = traders
    series = client.get_series(series_ticker=SERIES).series
    assert (series.ticker, series.fee_type) == (SERIES, "quadratic_with_maker_fees")
    assert SERIES in [s.ticker for s in client.get_series_list().series]

    events = client.get_events(with_nested_markets=True, series_ticker=SERIES)
    assert [e.event_ticker for e in events.events] == [EVENT]
    assert [m.ticker for m in events.events[0].markets] == [MARKET]
    assert events.cursor == ""
    event = client.get_event(event_ticker=EVENT, with_nested_markets=True)
    assert (event.event.series_ticker, [m.ticker for m in event.markets]) == (SERIES, [MARKET])

    schedule = client.get_exchange_schedule().schedule
    assert len(schedule.standard_hours) == 1
    assert schedule.maintenance_windows == []

    execute(control, requester, maker, MARKET, contracts="10", yes_bid="0.40", no_bid="0.55")
    control.call("POST", f"/markets/{MARKET}/settle", {"result": "no"})

    settlements = client.get_settlements().settlements
    assert len(settlements) == 1
    settlement = settlements[0]
    assert (settlement.ticker, settlement.event_ticker, settlement.market_result) == (
        MARKET, EVENT, "no")
    assert (settlement.yes_count, settlement.no_count, settlement.revenue) == (10, 0, 0)
    assert settlement.yes_total_cost > 0
    assert settlement.value == 0
    # The settled market reads as 3.2.0 knows it, in the events it lists.
    settled = client.get_event(event_ticker=EVENT, with_nested_markets=True)
    assert [m.status for m in settled.markets] == ["settled"]
    assert settled.markets[0].result == "no"
    market = client.get_market(ticker=MARKET).market
    assert (market.status, market.result) == ("settled", "no")


def test_python_sdk_exchange_announcements_answer_404_as_production_does_now(
        traders: tuple[Trader, Trader, Any]) -> None:
    _, _, client = traders
    with pytest.raises(ApiException) as raised:
        client.get_exchange_announcements()
    assert raised.value.status == 404
