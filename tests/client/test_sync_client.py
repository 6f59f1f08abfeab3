"""The blocking client against a real sandbox process: lifecycle, both path forms, pages."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kalshi_sandbox.client import (
    ConflictError,
    InvalidParametersError,
    NotFoundError,
    QuoteExpiredError,
    QuoteStatus,
    RfqStatus,
    Side,
)
from tests.client.conftest import ClientFactory
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Account, Control


def test_lifecycle_with_scoped_paths_executes_and_reports_exact_decimals(
        control: Control, make_client: ClientFactory, requester: Account,
        maker: Account) -> None:
    buyer, seller = make_client(requester), make_client(maker)
    assert buyer.get_communications_id() == requester.communications_id

    rfq_id = buyer.create_rfq(MARKET, contracts=10)
    rfq = seller.get_rfq(rfq_id)
    assert (rfq.status, rfq.contracts, rfq.market_ticker) == (RfqStatus.OPEN, Decimal("10.00"),
                                                              MARKET)
    assert rfq.creator_id == requester.communications_id
    assert rfq.creator_user_id is None  # private to the creator
    assert buyer.get_rfq(rfq_id).creator_user_id == requester.user_id

    quote_id = seller.create_quote(rfq_id, Decimal("0.40"), "0.55")
    quote = buyer.get_quote(rfq_id, quote_id)
    assert (quote.status, quote.yes_bid, quote.no_bid) == (QuoteStatus.OPEN, Decimal("0.4000"),
                                                           Decimal("0.5500"))
    assert quote.price_for("yes") == Decimal("0.4500")

    buyer.accept_quote(rfq_id, quote_id, Side.YES)
    accepted = seller.get_quote(rfq_id, quote_id)
    assert accepted.status == QuoteStatus.ACCEPTED
    assert accepted.accepted_side is Side.YES
    assert accepted.accepted_ts is not None

    seller.confirm_quote(rfq_id, quote_id)
    assert seller.get_quote(rfq_id, quote_id).status == QuoteStatus.CONFIRMED
    control.advance(15)

    executed = buyer.get_quote(rfq_id, quote_id)
    assert executed.status == QuoteStatus.EXECUTED
    assert executed.rfq_creator_order_id is not None
    assert executed.creator_order_id is None
    maker_order_id = seller.get_quote(rfq_id, quote_id).creator_order_id
    assert maker_order_id is not None
    assert buyer.get_rfq(rfq_id).status == RfqStatus.CLOSED

    fills = buyer.list_fills(order_id=executed.rfq_creator_order_id).items
    assert [(f.side, f.count, f.yes_price, f.is_taker) for f in fills] == [
        (Side.YES, Decimal("10.00"), Decimal("0.4500"), True)]
    assert fills[0].fee_cost == Decimal("0.173300")
    order = buyer.get_order(executed.rfq_creator_order_id)
    assert (order.side, order.fill_count, order.yes_price) == (Side.YES, Decimal("10.00"),
                                                               Decimal("0.4500"))
    assert [o.order_id for o in seller.iter_orders()] == [maker_order_id]

    assert buyer.get_balance().balance == Decimal("995.3267")
    assert seller.get_balance().balance == Decimal("994.4566")
    positions = buyer.get_positions()
    assert [(p.ticker, p.position) for p in positions.market_positions] == [
        (MARKET, Decimal("10.00"))]
    assert [(p.ticker, p.position) for p in seller.iter_positions()] == [
        (MARKET, Decimal("-10.00"))]


def test_deprecated_quote_id_paths_run_the_same_lifecycle(
        control: Control, make_client: ClientFactory, requester: Account,
        maker: Account) -> None:
    buyer, seller = make_client(requester), make_client(maker)
    rfq_id = buyer.create_rfq(HVM_MARKET, target_cost="35")
    assert buyer.get_rfq(rfq_id).target_cost == Decimal("35.0000")
    quote_id = seller.create_quote(rfq_id, "0.40", "0")
    quote = buyer.get_quote(None, quote_id)
    assert quote.rfq_target_cost == Decimal("35.0000")
    assert quote.no_bid == Decimal("0")
    buyer.accept_quote(None, quote_id, "no")
    seller.confirm_quote(None, quote_id)
    control.advance(1)
    executed = seller.get_quote(None, quote_id)
    assert executed.status == QuoteStatus.EXECUTED
    assert executed.accepted_side is Side.NO


def test_delete_quote_and_rfq_cancel_them_and_later_actions_fail(
        make_client: ClientFactory, requester: Account, maker: Account) -> None:
    buyer, seller = make_client(requester), make_client(maker)
    rfq_id = buyer.create_rfq(MARKET, contracts="2.5")
    quote_id = seller.create_quote(rfq_id, "0.30", "0.60")
    seller.delete_quote(rfq_id, quote_id)
    assert seller.get_quote(rfq_id, quote_id).status == QuoteStatus.CANCELLED
    with pytest.raises(InvalidParametersError):
        buyer.accept_quote(rfq_id, quote_id, "yes")

    buyer.delete_rfq(rfq_id)
    assert buyer.get_rfq(rfq_id).status == RfqStatus.CLOSED
    with pytest.raises(NotFoundError):
        seller.delete_quote(rfq_id, "00000000-0000-4000-8000-000000000000")


def test_confirm_after_the_window_raises_quote_expired(
        control: Control, make_client: ClientFactory, requester: Account,
        maker: Account) -> None:
    buyer, seller = make_client(requester), make_client(maker)
    rfq_id = buyer.create_rfq(MARKET, contracts=1)
    quote_id = seller.create_quote(rfq_id, "0.40", "0.55")
    buyer.accept_quote(rfq_id, quote_id, "yes")
    control.advance(30)
    with pytest.raises(QuoteExpiredError) as raised:
        seller.confirm_quote(rfq_id, quote_id)
    assert raised.value.status_code == 400
    assert raised.value.code == "quote_expired"


def test_second_rfq_on_a_market_raises_conflict_unless_replacing(
        make_client: ClientFactory, requester: Account) -> None:
    buyer = make_client(requester)
    first = buyer.create_rfq(MARKET, contracts=1)
    with pytest.raises(ConflictError) as raised:
        buyer.create_rfq(MARKET, contracts=1)
    assert raised.value.status_code == 409
    second = buyer.create_rfq(MARKET, contracts=1, replace_existing=True)
    assert buyer.get_rfq(first).status == RfqStatus.CLOSED
    assert buyer.get_rfq(second).status == RfqStatus.OPEN


def test_iterators_follow_cursors_across_several_pages(
        control: Control, make_client: ClientFactory, requester: Account,
        maker: Account) -> None:
    tickers = [f"KXPAGE-26DEC31-T{n}" for n in range(5)]
    for ticker in tickers:
        control.market(ticker)
    buyer, seller = make_client(requester), make_client(maker)
    rfq_ids = [buyer.create_rfq(ticker, contracts=1) for ticker in tickers]
    quote_ids = [seller.create_quote(rfq_id, "0.40", "0.55") for rfq_id in rfq_ids]

    first = buyer.list_rfqs(limit=2)
    assert len(first.items) == 2
    assert first.has_more
    listed = list(buyer.iter_rfqs(limit=2, user_filter="self"))
    assert sorted(r.id for r in listed) == sorted(rfq_ids)  # every one, none twice
    made = [q.id for q in seller.iter_quotes(limit=2, user_filter="self")]
    assert sorted(made) == sorted(quote_ids)
    received = [q.id for q in buyer.iter_quotes(limit=3, rfq_user_filter="self")]
    assert sorted(received) == sorted(quote_ids)
    markets = [m.ticker for m in buyer.iter_markets(limit=2)]
    assert set(tickers) <= set(markets)
    assert len(markets) == len(set(markets)) == len(tickers) + 2


def test_market_reads_need_no_credentials_and_show_the_price_grid(server_url: str) -> None:
    from kalshi_sandbox.client import KalshiClient

    with KalshiClient(base_url=server_url, credentials_from_env=False) as public:
        market = public.get_market(MARKET)
        assert market.ticker == MARKET
        assert market.price_ranges[0].step == Decimal("0.0100")
        assert market.on_grid(Decimal("0.55"))
        assert not market.on_grid(Decimal("0.555"))
        assert public.get_exchange_status().trading_active


@pytest.fixture
def server_url(control: Control) -> str:
    return control.base_url


def test_iteration_stops_when_a_server_repeats_a_cursor() -> None:
    import httpx

    from kalshi_sandbox.client import KalshiClient

    calls: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params.get("cursor"))
        return httpx.Response(200, json={"markets": [], "cursor": "same"})

    with KalshiClient("demo", credentials_from_env=False,
                      transport=httpx.MockTransport(answer)) as client:
        assert list(client.iter_markets()) == []
    assert calls == [None, "same"]
