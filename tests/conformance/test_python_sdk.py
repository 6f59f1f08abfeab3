"""Kalshi's official Python SDK (kalshi-python-sync 3.2.0), unmodified but for its host.

The SDK parses every response with strict pydantic models generated from OpenAPI 3.2.0, so a
passing run proves the sandbox emits the legacy fields that generation requires next to the
current ones. The flow is a whole RFQ lifecycle through the SDK's typed methods; the manual
clock is advanced through the control plane.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kalshi_python_sync as sdk
import pytest

from tests.conftest import MARKET
from tests.support.server import API, Account, Control


def sdk_client(base_url: str, account: Account) -> Any:
    """Return a ``KalshiClient`` configured the way the SDK's README says, host aside."""
    config = sdk.Configuration(host=base_url + API)
    config.api_key_id = account.key_id
    config.private_key_pem = account.private_key_pem
    return sdk.KalshiClient(config)


@pytest.fixture
def requester(control: Control) -> Iterator[Any]:
    client = sdk_client(control.base_url, control.account("py-requester", "1000"))
    yield client
    client.rest_client.pool_manager.clear()


@pytest.fixture
def maker(control: Control) -> Iterator[Any]:
    client = sdk_client(control.base_url, control.account("py-maker", "1000"))
    yield client
    client.rest_client.pool_manager.clear()


def test_python_sdk_runs_rfq_flow_to_execution_and_parses_every_response(
        control: Control, requester: Any, maker: Any) -> None:
    created = requester.create_rfq(market_ticker=MARKET, contracts=10, rest_remainder=False)
    rfq_id = created.id
    rfq = requester.get_rfq(rfq_id).rfq
    assert (rfq.market_ticker, rfq.contracts, rfq.status) == (MARKET, 10, "open")
    assert rfq_id in [r.id for r in maker.get_rfqs(market_ticker=MARKET).rfqs]

    quote_id = maker.create_quote(rfq_id=rfq_id, yes_bid="0.40", no_bid="0.55",
                                  rest_remainder=False).id
    listed = requester.get_quotes(rfq_id=rfq_id)
    assert [(q.id, q.status, q.contracts, q.yes_bid, q.no_bid, q.yes_bid_dollars,
             q.no_bid_dollars) for q in listed.quotes] == [
        (quote_id, "open", 10, 40, 55, "0.4000", "0.5500")]
    assert isinstance(listed.cursor, str)

    # 3.2.0 can only send "true"/"false" (its enum lost yes/no to YAML 1.1): "true" is yes.
    requester.accept_quote(quote_id, accepted_side="true")
    accepted = requester.get_quote(quote_id).quote
    assert (accepted.status, accepted.accepted_side) == ("accepted", "true")
    assert accepted.accepted_ts is not None

    # confirm_quote with no body sends Content-Length 0 with Content-Type application/json.
    maker.confirm_quote(quote_id)
    assert maker.get_quote(quote_id).quote.status == "confirmed"

    control.advance(15)

    executed = requester.get_quote(quote_id).quote
    assert executed.status == "executed"
    assert executed.executed_ts is not None
    requester_order = executed.rfq_creator_order_id
    assert requester_order
    maker_view = maker.get_quote(quote_id).quote
    maker_order = maker_view.creator_order_id
    assert maker_order
    assert maker_order != requester_order
    assert maker_view.accepted_side == "true"

    fills = requester.get_fills(order_id=requester_order)
    assert [(f.order_id, f.ticker, f.side, f.action, f.count, f.yes_price, f.is_taker)
            for f in fills.fills] == [(requester_order, MARKET, "yes", "buy", 10, 45, True)]
    assert isinstance(fills.cursor, str)
    maker_fills = maker.get_fills(order_id=maker_order)
    assert [(f.order_id, f.side, f.count, f.no_price, f.is_taker)
            for f in maker_fills.fills] == [(maker_order, "no", 10, 55, False)]

    assert requester.get_rfq(rfq_id).rfq.status == "closed"

    balance = requester.get_balance()
    assert balance.balance == 99532
    assert balance.portfolio_value >= 0
    positions = requester.get_positions()
    assert [(p.ticker, p.position) for p in positions.market_positions] == [(MARKET, 10)]
    maker_positions = maker.get_positions()
    assert [(p.ticker, p.position) for p in maker_positions.market_positions] == [
        (MARKET, -10)]


def test_python_sdk_parses_market_list_and_market(control: Control, requester: Any) -> None:
    markets = requester.get_markets(limit=10)
    assert MARKET in [m.ticker for m in markets.markets]
    assert isinstance(markets.cursor, str)
    market = requester.get_market(MARKET).market
    assert (market.ticker, market.status, market.tick_size) == (MARKET, "active", 1)
    assert market.response_price_units == "usd_cent"


def test_python_sdk_reads_communications_id_of_its_own_account(control: Control) -> None:
    account = control.account("py-identity")
    client = sdk_client(control.base_url, account)
    try:
        assert client.get_communications_id().communications_id == account.communications_id
    finally:
        client.rest_client.pool_manager.clear()


def test_python_sdk_parses_both_parties_orders_after_execution(
        control: Control, requester: Any, maker: Any) -> None:
    rfq_id = requester.create_rfq(market_ticker=MARKET, contracts=10, rest_remainder=False).id
    quote_id = maker.create_quote(rfq_id=rfq_id, yes_bid="0.40", no_bid="0.55",
                                  rest_remainder=False).id
    requester.accept_quote(quote_id, accepted_side="false")
    maker.confirm_quote(quote_id)
    control.advance(15)

    executed = requester.get_quote(quote_id).quote
    assert (executed.status, executed.accepted_side) == ("executed", "false")
    orders = requester.get_orders(ticker=MARKET)
    assert isinstance(orders.cursor, str)
    assert [(o.order_id, o.side, o.action, o.initial_count, o.fill_count)
            for o in orders.orders] == [(executed.rfq_creator_order_id, "no", "buy", 10, 10)]
    maker_order_id = maker.get_quote(quote_id).quote.creator_order_id
    maker_order = maker.get_order(maker_order_id).order
    # Accepting "no" (sent as "false") gives the maker YES at its yes_bid of 40 cents.
    assert (maker_order.side, maker_order.yes_price, maker_order.fill_count) == ("yes", 40, 10)
    assert maker_order.client_order_id.endswith(quote_id)


def test_python_sdk_parses_target_cost_rfq_and_cancelled_quote_and_closed_rfq(
        control: Control, requester: Any, maker: Any) -> None:
    rfq_id = requester.create_rfq(market_ticker=MARKET, target_cost_centi_cents=350000,
                                  rest_remainder=False).id
    rfq = requester.get_rfq(rfq_id).rfq
    assert (rfq.target_cost_centi_cents, rfq.contracts, rfq.status) == (350000, 0, "open")
    quote_id = maker.create_quote(rfq_id=rfq_id, yes_bid="0.40", no_bid="0.55",
                                  rest_remainder=False).id
    quote = requester.get_quote(quote_id).quote
    assert quote.rfq_target_cost_centi_cents == 350000

    maker.delete_quote(quote_id)
    cancelled = maker.get_quote(quote_id).quote
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_ts is not None

    requester.delete_rfq(rfq_id)
    closed = requester.get_rfqs(status="closed").rfqs
    assert [(r.id, r.status) for r in closed] == [(rfq_id, "closed")]
    assert closed[0].cancelled_ts is not None


def test_python_sdk_reads_exchange_status(control: Control, requester: Any) -> None:
    status = requester.get_exchange_status()
    assert (status.exchange_active, status.trading_active) == (True, True)
