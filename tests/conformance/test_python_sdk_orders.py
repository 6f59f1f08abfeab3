"""Kalshi's official Python SDK (kalshi-python-sync 3.2.0), unmodified but for its host, and
order entry.

3.2.0 knows only the legacy ``/portfolio/orders`` writes, which Kalshi switched off in June
2026: against a default sandbox it gets Kalshi's 410 ``deprecated_v1_order_endpoint``, as it
would from production. With ``serve --legacy-orders serve`` it places and cancels orders,
reads the order book and sees a crossing trade in its fills and positions, parsing every
answer with its strict models.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kalshi_python_sync.exceptions import ApiException

from tests.conformance.test_python_sdk import sdk_client
from tests.conftest import MARKET, fresh_control
from tests.support.server import Control, ServerProcess, running


def test_default_sandbox_answers_the_legacy_create_with_kalshis_410(control: Control) -> None:
    client = sdk_client(control.base_url, control.account("py-legacy", "1000"))
    try:
        with pytest.raises(ApiException) as gone:
            client.create_order(ticker=MARKET, side="yes", action="buy", count=1, yes_price=40)
        with pytest.raises(ApiException) as cancel_gone:
            client.cancel_order("00000000-0000-4000-8000-000000000000")
        # Reads stay as Kalshi serves them.
        assert client.get_orders(ticker=MARKET).orders == []
    finally:
        client.rest_client.pool_manager.clear()
    assert gone.value.status == 410
    assert '"code":"deprecated_v1_order_endpoint"' in str(gone.value.body).replace(" ", "")
    assert "Please switch to the V2 endpoints" in str(gone.value.body)
    assert cancel_gone.value.status == 410


@pytest.fixture(scope="module")
def legacy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox serving the legacy order writes."""
    yield from running(Path(tmp_path_factory.mktemp("legacy")), "--clock", "manual",
                       "--no-seed", "--legacy-orders", "serve")


@pytest.fixture
def legacy(legacy_server: ServerProcess) -> Iterator[Control]:
    yield from fresh_control(legacy_server)


@pytest.fixture
def parties(legacy: Control) -> Iterator[tuple[Any, Any]]:
    buyer = sdk_client(legacy.base_url, legacy.account("py-buyer", "1000"))
    seller = sdk_client(legacy.base_url, legacy.account("py-seller", "1000"))
    yield buyer, seller
    for client in (buyer, seller):
        client.rest_client.pool_manager.clear()


def test_python_sdk_places_reads_and_cancels_a_legacy_order_when_they_are_served(
        parties: tuple[Any, Any]) -> None:
    buyer, _ = parties
    created = buyer.create_order(ticker=MARKET, side="yes", action="buy", count=10,
                                 yes_price=56, client_order_id="py-1")
    order = created.order
    assert (order.status, order.side, order.action, order.yes_price, order.remaining_count,
            order.client_order_id) == ("resting", "yes", "buy", 56, 10, "py-1")
    assert buyer.get_order(order.order_id).order.status == "resting"
    book = buyer.get_market_orderbook(MARKET).orderbook
    assert book.yes_dollars == [["0.5600", "10.00"]]
    assert book.no_dollars == []
    cancelled = buyer.cancel_order(order.order_id)
    assert (cancelled.order.status, cancelled.reduced_by) == ("canceled", 10)
    assert buyer.get_market_orderbook(MARKET).orderbook.yes_dollars == []


def test_python_sdk_sees_a_crossing_trade_in_fills_and_positions(
        parties: tuple[Any, Any]) -> None:
    buyer, seller = parties
    # Buying NO at 44 cents rests as a YES ask at 56.
    ask = seller.create_order(ticker=MARKET, side="no", action="buy", count=10,
                              no_price=44).order
    assert (ask.side, ask.action, ask.no_price) == ("no", "buy", 44)
    assert seller.get_market_orderbook(MARKET).orderbook.no_dollars == [["0.4400", "10.00"]]
    taken = buyer.create_order(ticker=MARKET, side="yes", action="buy", count=4,
                               yes_price=60, time_in_force="immediate_or_cancel").order
    assert (taken.status, taken.fill_count, taken.remaining_count) == ("executed", 4, 0)

    fills = buyer.get_fills(ticker=MARKET).fills
    assert [(f.order_id, f.side, f.action, f.count, f.yes_price, f.is_taker)
            for f in fills] == [(taken.order_id, "yes", "buy", 4, 56, True)]
    seller_fills = seller.get_fills(order_id=ask.order_id).fills
    assert [(f.side, f.count, f.no_price, f.is_taker) for f in seller_fills] == [
        ("no", 4, 44, False)]
    assert [(p.ticker, p.position) for p in buyer.get_positions().market_positions] == [
        (MARKET, 4)]
    assert [(p.ticker, p.position) for p in seller.get_positions().market_positions] == [
        (MARKET, -4)]
    trades = buyer.get_trades(ticker=MARKET).trades
    assert [(t.count, t.yes_price, t.taker_side) for t in trades] == [(4, 56, "yes")]
    assert seller.get_order(ask.order_id).order.remaining_count == 6
    seller.cancel_order(ask.order_id)
    assert seller.get_market_orderbook(MARKET).orderbook.no_dollars == []


def test_python_sdk_amends_and_decreases_legacy_orders(parties: tuple[Any, Any]) -> None:
    buyer, _ = parties
    order = buyer.create_order(ticker=MARKET, side="yes", action="buy", count=10,
                               yes_price=40, client_order_id="py-amend").order
    amended = buyer.amend_order(order.order_id, ticker=MARKET, side="yes", action="buy",
                                count=8, yes_price=41, client_order_id="py-amend",
                                updated_client_order_id="py-amend-2")
    assert (amended.old_order.yes_price, amended.order.yes_price,
            amended.order.remaining_count, amended.order.client_order_id) == (
        40, 41, 8, "py-amend-2")
    decreased = buyer.decrease_order(order.order_id, reduce_by=3).order
    assert decreased.remaining_count == 5
