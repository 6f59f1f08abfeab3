"""Order entry in process: the book, settlement, order groups, expiry, restarts, RFQs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kalshi_sandbox.domain.book import SelfTradePrevention
from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.errors import (
    FillOrKillInsufficientVolume,
    InsufficientBalance,
    InvalidOrder,
    NotFound,
    OrderAlreadyExists,
)
from kalshi_sandbox.domain.events import LevelChanged
from kalshi_sandbox.domain.orders import OrderRequest
from kalshi_sandbox.domain.portfolio import OrderStatus, TimeInForce
from kalshi_sandbox.domain.queries import PortfolioQuery
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.exchange.commands import Actor, CreateQuote, CreateRfq
from kalshi_sandbox.exchange.ids import IdGenerator
from kalshi_sandbox.exchange.orders import Orders
from tests.service.harness import START, Harness, make_harness

pytestmark = pytest.mark.anyio

MARKET = "KXBOOK-26DEC31-T50"
GTC, IOC, FOK = (TimeInForce.GOOD_TILL_CANCELED, TimeInForce.IMMEDIATE_OR_CANCEL,
                 TimeInForce.FILL_OR_KILL)
BALANCE = 1_000_000_000


def bid(price: int, count: int, tif: TimeInForce = GTC, **extra: object) -> OrderRequest:
    return OrderRequest(MARKET, Side.YES, price, count, tif, **extra)  # type: ignore[arg-type]


def ask(price: int, count: int, tif: TimeInForce = GTC, **extra: object) -> OrderRequest:
    return OrderRequest(MARKET, Side.NO, price, count, tif, **extra)  # type: ignore[arg-type]


async def traders(harness: Harness) -> tuple[Orders, Actor, Actor]:
    await harness.market(MARKET)
    alice = await harness.account("alice", BALANCE)
    bob = await harness.account("bob", BALANCE)
    return Orders(harness.exchange), alice, bob


async def position(harness: Harness, actor: Actor) -> int:
    page = await harness.exchange.positions(actor, PortfolioQuery(user_id="", limit=10))
    return sum(p.position for p in page.items if p.ticker == MARKET)


async def test_crossing_orders_trade_at_the_resting_price(harness: Harness) -> None:
    orders, alice, bob = await traders(harness)
    resting = await orders.create_order(alice, bid(5_600, 1_000))
    assert (resting.order.status, resting.order.remaining_count) == (OrderStatus.RESTING, 1_000)
    taker = await orders.create_order(bob, ask(5_000, 400, IOC))
    assert (taker.order.fill_count, taker.order.status) == (400, OrderStatus.EXECUTED)
    assert taker.average_price() == 5_600  # the taker gets the resting order's price
    maker = await harness.exchange.order(alice, resting.order.order_id)
    assert (maker.fill_count, maker.remaining_count, maker.status) == (
        400, 600, OrderStatus.RESTING)
    assert (await position(harness, alice), await position(harness, bob)) == (400, -400)
    # Alice paid 0.56 x 4 + maker fee; Bob 0.44 x 4 + taker fee.
    alice_cash = (await harness.exchange.balance(alice, 0))[0]
    bob_cash = (await harness.exchange.balance(bob, 0))[0]
    assert BALANCE - alice_cash == 2_240_000 + 17_300
    assert BALANCE - bob_cash == 1_760_000 + 69_000
    market = await harness.exchange.get_market(MARKET)
    assert (market.last_price, market.volume, market.open_interest) == (5_600, 400, 400)


async def test_fok_post_only_duplicates_and_funds_are_refused(harness: Harness) -> None:
    orders, alice, bob = await traders(harness)
    await orders.create_order(alice, bid(5_000, 100, client_order_id="c1"))
    with pytest.raises(FillOrKillInsufficientVolume):
        await orders.create_order(bob, ask(5_000, 200, FOK))
    with pytest.raises(InvalidOrder):
        await orders.create_order(bob, ask(5_000, 50, post_only=True))
    with pytest.raises(OrderAlreadyExists):
        await orders.create_order(alice, bid(4_000, 100, client_order_id="c1"))
    poor = await harness.account("poor", 1_000_000)
    with pytest.raises(InsufficientBalance):
        await orders.create_order(poor, bid(5_000, 1_000))
    # Nothing of the refused orders is left.
    page = await harness.exchange.orders(bob, PortfolioQuery(user_id="", limit=10))
    assert page.items == []


async def test_cancel_decrease_and_amend_change_the_book(harness: Harness) -> None:
    orders, alice, bob = await traders(harness)
    first = (await orders.create_order(alice, bid(5_000, 300))).order
    second = (await orders.create_order(alice, bid(5_000, 200))).order
    assert await orders.queue_position(alice, second.order_id) == 300
    decreased = await orders.decrease_order(alice, first.order_id, reduce_by=200)
    assert decreased.remaining_count == 100
    assert await orders.queue_position(alice, second.order_id) == 100
    amended = await orders.amend_order(alice, first.order_id, ticker=MARKET, side=Side.YES,
                                       yes_price=5_000, total=500)
    assert amended.submitted.order.remaining_count == 500
    assert await orders.queue_position(alice, first.order_id) == 200  # lost its place
    cancelled = await orders.cancel_order(alice, second.order_id)
    assert (cancelled.order.status, cancelled.reduced_by) == (OrderStatus.CANCELED, 200)
    with pytest.raises(InvalidOrder):
        await orders.cancel_order(alice, second.order_id)
    with pytest.raises(NotFound):
        await orders.cancel_order(bob, first.order_id)
    # A re-priced order that now crosses trades at once.
    await orders.create_order(bob, ask(5_500, 100))
    moved = await orders.amend_order(alice, first.order_id, ticker=MARKET, side=Side.YES,
                                     yes_price=5_500, total=500)
    assert moved.submitted.order.fill_count == 100
    assert moved.submitted.order.remaining_count == 400


async def test_self_trade_prevention_modes(harness: Harness) -> None:
    orders, alice, _ = await traders(harness)
    mine = (await orders.create_order(alice, bid(5_000, 100))).order
    stopped = await orders.create_order(alice, ask(5_000, 100))
    assert (stopped.order.status, stopped.fill_count) == (OrderStatus.CANCELED, 0)
    await orders.create_order(
        alice, ask(5_000, 100, self_trade_prevention=SelfTradePrevention.MAKER))
    assert (await harness.exchange.order(alice, mine.order_id)).status is OrderStatus.CANCELED


async def test_order_group_triggers_and_cancels_its_orders(harness: Harness) -> None:
    orders, alice, bob = await traders(harness)
    group = await orders.create_group(alice, 500)
    resting = (await orders.create_order(alice, bid(5_000, 400, order_group_id=group.id))).order
    other = (await orders.create_order(alice, bid(4_000, 400, order_group_id=group.id))).order
    await orders.create_order(bob, ask(5_000, 400, IOC))
    assert (await orders.get_group(alice, group.id))[0].triggered is False
    await orders.create_order(bob, ask(4_000, 200, IOC))  # 600 > 500 matched in 15 s
    assert (await orders.get_group(alice, group.id))[0].triggered
    assert (await harness.exchange.order(alice, other.order_id)).status is OrderStatus.CANCELED
    assert (await harness.exchange.order(alice, resting.order_id)).status is \
        OrderStatus.EXECUTED
    with pytest.raises(InvalidOrder):
        await orders.create_order(alice, bid(3_000, 100, order_group_id=group.id))
    await orders.reset_group(alice, group.id)
    await orders.create_order(alice, bid(3_000, 100, order_group_id=group.id))


async def test_expiring_order_is_cancelled_by_its_timer(harness: Harness) -> None:
    orders, alice, _ = await traders(harness)
    placed = await orders.create_order(alice, bid(5_000, 100, expiration_ts=START + 60 * MICROS))
    await harness.advance(59 * MICROS)
    assert (await harness.exchange.order(alice, placed.order.order_id)).status is \
        OrderStatus.RESTING
    await harness.advance(2 * MICROS)
    assert (await harness.exchange.order(alice, placed.order.order_id)).status is \
        OrderStatus.CANCELED


async def test_a_failed_transaction_leaves_the_book_as_the_rows_say(harness: Harness) -> None:
    orders, alice, bob = await traders(harness)
    await orders.create_order(alice, bid(5_000, 100))

    class Boom(Exception):
        pass

    async def take_then_fail() -> None:
        async with harness.exchange.work() as w:
            book = await harness.exchange.books.open(w, MARKET)
            book.apply(book.plan(Side.NO, 5_000, 100, bob.user_id))
            raise Boom

    with pytest.raises(Boom):
        await take_then_fail()
    filled = await orders.create_order(bob, ask(5_000, 100, IOC))
    assert filled.fill_count == 100


async def test_resting_orders_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    harness = await make_harness(path=path)
    orders, alice, bob = await traders(harness)
    kept = (await orders.create_order(alice, bid(5_000, 300))).order
    await orders.create_order(bob, ask(5_000, 100, IOC))
    await harness.store.close()
    again = await make_harness(path=path)
    again.exchange.ids = again.exchange.matcher.ids = IdGenerator(seed=8)
    orders = Orders(again.exchange)
    assert await orders.queue_position(alice, kept.order_id) == 0
    taker = await orders.create_order(bob, ask(5_000, 500, IOC))
    assert taker.fill_count == 200
    await again.store.close()


async def test_cancel_market_orders_empties_the_book(harness: Harness) -> None:
    orders, alice, bob = await traders(harness)
    await orders.create_order(alice, bid(5_000, 300))
    await orders.create_order(bob, ask(6_000, 300))
    assert await orders.cancel_market_orders(MARKET) == 2
    deltas = [e for e in harness.publisher.batches[-1] if isinstance(e, LevelChanged)]
    assert sorted(d.delta for d in deltas) == [-300, -300]


async def test_rest_remainder_rfq_rests_what_the_book_took_first(harness: Harness) -> None:
    orders, requester, maker = await traders(harness)
    carol = await harness.account("carol", BALANCE)
    # Carol's YES bid at 0.60 is better than the maker's price: the maker's order sells to
    # her first, so the requester buys only the rest from the maker and rests its remainder.
    await orders.create_order(carol, bid(6_000, 400))
    rfq = await harness.exchange.create_rfq(requester, CreateRfq(
        market_ticker=MARKET, contracts=1_000, rest_remainder=True))
    quote = await harness.exchange.create_quote(maker, CreateQuote(
        rfq_id=rfq.id, yes_bid=4_000, no_bid=5_000, rest_remainder=False))
    await harness.exchange.accept_quote(requester, quote.id, Side.YES)
    await harness.exchange.confirm_quote(maker, quote.id)
    await harness.advance(20 * MICROS)
    executed = await harness.exchange.get_quote(requester, quote.id)
    assert executed.rfq_creator_order_id is not None
    mine = await harness.exchange.order(requester, executed.rfq_creator_order_id)
    assert (mine.fill_count, mine.remaining_count, mine.status) == (
        600, 400, OrderStatus.RESTING)
    fills = (await harness.exchange.fills(requester, PortfolioQuery(user_id="", limit=10))).items
    assert [(f.count, f.is_block_trade) for f in fills] == [(600, True)]
    later = await orders.create_order(carol, ask(5_000, 400, IOC))
    assert later.fill_count == 400
