"""The exchange in process: what each use case publishes, when, and what a failure leaves."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.errors import (
    InsufficientBalance,
    OpenRfqLimitExceeded,
    QuoteExpired,
)
from kalshi_sandbox.domain.events import (
    Event,
    FillCreated,
    OrderUpdated,
    QuoteAccepted,
    QuoteCancelled,
    QuoteConfirmed,
    QuoteCreated,
    QuoteExecuted,
    RfqCreated,
    RfqDeleted,
)
from kalshi_sandbox.domain.portfolio import OrderStatus
from kalshi_sandbox.domain.queries import PortfolioQuery
from kalshi_sandbox.domain.quote import Quote, QuoteStatus, Side
from kalshi_sandbox.domain.rfq import Rfq, RfqStatus
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.commands import Actor, CreateQuote, CreateRfq
from kalshi_sandbox.exchange.ports import Dump, StorageError, Store, Transaction
from kalshi_sandbox.exchange.unit import TimerSink
from kalshi_sandbox.storage.sqlite import SqliteStore
from tests.service.harness import START, Harness, make_harness, with_rules

pytestmark = pytest.mark.anyio

MARKET = "KXTEST-26DEC31-T50"
OTHER_MARKET = "KXOTHER-26DEC31-T50"
HUNDRED_DOLLARS = 100_000_000
TEN_CONTRACTS = 1_000


class Boom(Exception):
    """A failure inside a unit of work."""


async def setup(harness: Harness) -> tuple[Actor, Actor]:
    await harness.market(MARKET)
    requester = await harness.account("requester", HUNDRED_DOLLARS)
    maker = await harness.account("maker", HUNDRED_DOLLARS)
    return requester, maker


async def open_rfq(harness: Harness, requester: Actor, ticker: str = MARKET) -> Rfq:
    return await harness.exchange.create_rfq(
        requester, CreateRfq(market_ticker=ticker, rest_remainder=False,
                             contracts=TEN_CONTRACTS))


async def quote_on(harness: Harness, maker: Actor, rfq: Rfq) -> Quote:
    # yes_bid 0.45, no_bid 0.50: accepting yes buys YES at 0.50 from a maker buying NO at 0.50.
    return await harness.exchange.create_quote(
        maker, CreateQuote(rfq_id=rfq.id, yes_bid=4_500, no_bid=5_000, rest_remainder=False))


async def accepted_quote(harness: Harness) -> tuple[Actor, Actor, Rfq, Quote]:
    requester, maker = await setup(harness)
    rfq = await open_rfq(harness, requester)
    quote = await quote_on(harness, maker, rfq)
    accepted = await harness.exchange.accept_quote(requester, quote.id, Side.YES)
    return requester, maker, rfq, accepted


async def test_lifecycle_publishes_one_batch_per_commit_in_order(harness: Harness) -> None:
    requester, maker = await setup(harness)
    rfq = await open_rfq(harness, requester)
    quote = await quote_on(harness, maker, rfq)
    await harness.exchange.accept_quote(requester, quote.id, Side.YES)
    await harness.advance(5 * MICROS)
    await harness.exchange.confirm_quote(maker, quote.id)
    assert await harness.advance(15 * MICROS) == 1

    assert harness.publisher.kinds() == [
        ["EventLifecycle", "MarketLifecycle"],
        ["RfqCreated"],
        ["QuoteCreated"],
        ["QuoteAccepted"],
        ["QuoteConfirmed"],
        # Through the book: the maker's order rests, the requester's takes it.
        ["OrderUpdated", "LevelChanged", "OrderUpdated", "OrderUpdated", "FillCreated",
         "PositionChanged", "FillCreated", "PositionChanged", "MarketUpdated",
         "LevelChanged", "QuoteExecuted", "RfqDeleted"],
    ]
    _, created, quoted, accepted, confirmed, executed = harness.publisher.batches
    assert created == [RfqCreated(rfq)]
    assert quoted == [QuoteCreated(quote)]
    assert isinstance(accepted[0], QuoteAccepted)
    assert accepted[0].quote.accepted_side is Side.YES
    assert accepted[0].quote.confirm_deadline == START + 30 * MICROS
    assert isinstance(confirmed[0], QuoteConfirmed)
    assert confirmed[0].quote.execute_at == START + 20 * MICROS
    assert [e.quote.id for e in executed if isinstance(e, QuoteExecuted)] == [quote.id]


async def test_execution_publishes_both_orders_and_fills(harness: Harness) -> None:
    requester, maker, rfq, quote = await accepted_quote(harness)
    await harness.exchange.confirm_quote(maker, quote.id)
    await harness.advance(15 * MICROS)

    batch = harness.publisher.batches[-1]
    orders = [e for e in batch if isinstance(e, OrderUpdated)]
    fills = [e.fill for e in batch if isinstance(e, FillCreated)]
    (executed,) = [e for e in batch if isinstance(e, QuoteExecuted)]
    (deleted,) = [e for e in batch if isinstance(e, RfqDeleted)]

    assert executed.requester_order.user_id == requester.user_id
    assert executed.maker_order.user_id == maker.user_id
    # The maker's order is placed (resting), the requester's placed, the maker's filled.
    assert [(o.order.order_id, o.created) for o in orders] == [
        (executed.maker_order.order_id, True), (executed.requester_order.order_id, True),
        (executed.maker_order.order_id, False)]
    assert [o.order for o in orders][1:] == [executed.requester_order, executed.maker_order]
    assert executed.quote.status is QuoteStatus.EXECUTED
    assert executed.quote.creator_order_id == executed.maker_order.order_id
    assert executed.quote.rfq_creator_order_id == executed.requester_order.order_id
    assert executed.quote.executed_ts == START + 15 * MICROS
    for order in (executed.requester_order, executed.maker_order):
        assert order.status is OrderStatus.EXECUTED
        assert order.fill_count == order.initial_count == TEN_CONTRACTS
    assert [f.order_id for f in fills] == [executed.requester_order.order_id,
                                           executed.maker_order.order_id]
    assert [(f.side, f.is_taker) for f in fills] == [(Side.YES, True), (Side.NO, False)]
    assert {f.trade_id for f in fills} == {fills[0].trade_id}
    assert all(f.yes_price == 5_000 and f.count == TEN_CONTRACTS for f in fills)
    assert deleted.rfq.id == rfq.id
    assert deleted.rfq.status is RfqStatus.CLOSED
    assert deleted.rfq.cancellation_reason == "executed"
    assert deleted.deleted_ts == START + 15 * MICROS


async def test_execution_moves_money_and_positions(harness: Harness) -> None:
    requester, maker, _, quote = await accepted_quote(harness)
    await harness.exchange.confirm_quote(maker, quote.id)
    await harness.advance(15 * MICROS)
    # $5.00 principal each; taker fee 0.07 x 10 x 0.25 = $0.175; maker fee
    # 0.0175 x 10 x 0.25 = $0.04375, rounded up to $0.0438.
    assert await harness.balance(requester) == HUNDRED_DOLLARS - 5_000_000 - 175_000
    assert await harness.balance(maker) == HUNDRED_DOLLARS - 5_000_000 - 43_800
    query = PortfolioQuery(user_id="", limit=10)
    (mine,) = (await harness.exchange.positions(requester, query)).items
    (theirs,) = (await harness.exchange.positions(maker, query)).items
    assert (mine.position, theirs.position) == (TEN_CONTRACTS, -TEN_CONTRACTS)
    assert (mine.fees_paid, theirs.fees_paid) == (175_000, 43_800)
    market = await harness.exchange.get_market(MARKET)
    assert (market.last_price, market.volume, market.open_interest) == (
        5_000, TEN_CONTRACTS, TEN_CONTRACTS)


class CommittedStateChecker:
    """Checks, from a second connection, that what it is told about is already committed."""

    def __init__(self, path: Path, scheduler_sink: TimerSink) -> None:
        self.db = sqlite3.connect(path)
        self.sink = scheduler_sink
        self.checked: list[str] = []

    def close(self) -> None:
        self.db.close()

    def row(self, sql: str, *params: object) -> tuple[object, ...] | None:
        found: tuple[object, ...] | None = self.db.execute(sql, params).fetchone()
        return found

    def publish(self, events: Sequence[Event]) -> None:
        # An order may change several times in one transaction; the row holds the last.
        last = {e.order.order_id: e.order for e in events if isinstance(e, OrderUpdated)}
        for event in events:
            if isinstance(event, RfqCreated | RfqDeleted):
                expected = "open" if isinstance(event, RfqCreated) else "closed"
                assert self.row("SELECT status FROM rfqs WHERE id = ?",
                                event.rfq.id) == (expected,)
            elif isinstance(event, QuoteCreated | QuoteAccepted | QuoteConfirmed
                            | QuoteExecuted | QuoteCancelled):
                assert self.row("SELECT status FROM quotes WHERE id = ?",
                                event.quote.id) == (event.quote.status.value,)
            elif isinstance(event, OrderUpdated):
                assert self.row("SELECT status FROM orders WHERE order_id = ?",
                                event.order.order_id) == (
                    last[event.order.order_id].status.value,)
            elif isinstance(event, FillCreated):
                assert self.row("SELECT 1 FROM fills WHERE fill_id = ?",
                                event.fill.fill_id) == (1,)
            self.checked.append(type(event).__name__)

    def add(self, timers: Iterable[Timer]) -> None:
        timers = list(timers)
        for timer in timers:
            assert self.row("SELECT kind, subject, due FROM timers WHERE id = ?",
                            timer.id) == (timer.kind, timer.subject, timer.due)
            self.checked.append(f"add {timer.kind}")
        self.sink.add(timers)

    def drop(self, timer_ids: Iterable[int]) -> None:
        timer_ids = list(timer_ids)
        for timer_id in timer_ids:
            assert self.row("SELECT 1 FROM timers WHERE id = ?", timer_id) is None
            self.checked.append("drop")
        self.sink.drop(timer_ids)


async def test_events_and_timers_are_handed_on_only_after_commit(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    harness = await make_harness(path=path)
    checker = CommittedStateChecker(path, harness.scheduler)
    harness.exchange.publisher = checker
    harness.exchange.timers = checker
    try:
        requester, maker, _, quote = await accepted_quote(harness)
        await harness.exchange.confirm_quote(maker, quote.id)
        await harness.advance(15 * MICROS)
        second = await open_rfq(harness, requester)
        await quote_on(harness, maker, second)
        await harness.exchange.delete_rfq(requester, second.id)
    finally:
        checker.close()
        await harness.store.close()
    assert checker.checked == [
        "EventLifecycle", "MarketLifecycle", "RfqCreated", "QuoteCreated",
        "add confirm_deadline", "QuoteAccepted",
        "drop", "add execute", "QuoteConfirmed",
        "OrderUpdated", "LevelChanged", "OrderUpdated", "OrderUpdated", "FillCreated",
        "PositionChanged", "FillCreated", "PositionChanged", "MarketUpdated", "LevelChanged",
        "QuoteExecuted", "RfqDeleted",
        "RfqCreated", "QuoteCreated", "QuoteCancelled", "RfqDeleted",
    ]


async def test_accept_hands_the_confirm_deadline_to_the_scheduler(harness: Harness) -> None:
    _, maker, _, quote = await accepted_quote(harness)
    assert len(harness.scheduler) == 1
    assert harness.scheduler.next_due() == START + 30 * MICROS
    await harness.advance(2 * MICROS)
    await harness.exchange.confirm_quote(maker, quote.id)
    assert len(harness.scheduler) == 1
    assert harness.scheduler.next_due() == START + 17 * MICROS


async def test_unit_of_work_that_raises_publishes_nothing_and_keeps_nothing(
        harness: Harness) -> None:
    requester, _ = await setup(harness)
    before = await harness.snapshot()
    published = len(harness.publisher.batches)

    async def write_then_fail() -> None:
        async with harness.exchange.work() as w:
            rfq = Rfq(id="rfq-x", creator_user_id=requester.user_id, creator_id="c",
                      creator_subaccount=0, market_ticker=MARKET, event_ticker="E",
                      contracts=100, target_cost=None, target_cost_excludes_fees=False,
                      rest_remainder=False, obscure_creator_id=False, status=RfqStatus.OPEN,
                      created_ts=w.now, updated_ts=w.now)
            await w.tx.insert_rfq(rfq)
            await w.add_timer(TimerKind.RFQ_EXPIRY, rfq.id, w.now + MICROS)
            w.events.append(RfqCreated(rfq))
            raise Boom

    with pytest.raises(Boom):
        await write_then_fail()
    assert len(harness.publisher.batches) == published
    assert len(harness.scheduler) == 0
    assert await harness.snapshot() == before


async def test_failing_use_case_after_partial_writes_publishes_and_changes_nothing(
        harness: Harness) -> None:
    requester, maker, rfq, quote = await accepted_quote(harness)
    await harness.market(OTHER_MARKET)
    await open_rfq(harness, requester, OTHER_MARKET)
    # The operator lowers the limit; replacing the RFQ on MARKET first closes it (cancelling
    # the accepted quote and its timer), then finds the user still over the limit.
    with_rules(harness, max_open_rfqs=1, replace_existing_scope="market")
    before = await harness.snapshot()
    published = len(harness.publisher.batches)

    with pytest.raises(OpenRfqLimitExceeded):
        await harness.exchange.create_rfq(requester, CreateRfq(
            market_ticker=MARKET, rest_remainder=False, contracts=TEN_CONTRACTS,
            replace_existing=True))

    assert len(harness.publisher.batches) == published
    assert await harness.snapshot() == before
    # The scheduler still holds the accepted quote's deadline: it fires and voids the quote.
    assert await harness.advance(30 * MICROS) == 1
    assert harness.publisher.kinds()[-1] == ["QuoteCancelled"]
    lapsed = await harness.exchange.get_quote(maker, quote.id)
    assert lapsed.cancellation_reason == "confirmation_timeout"
    assert (await harness.exchange.get_rfq(requester, rfq.id)).status is RfqStatus.OPEN


async def test_insufficient_balance_on_accept_publishes_and_changes_nothing(
        harness: Harness) -> None:
    requester, maker = await setup(harness)
    rfq = await open_rfq(harness, requester)
    quote = await quote_on(harness, maker, rfq)
    await harness.accounts.set_balance(requester.user_id, 5_000_000)
    before = await harness.snapshot()
    published = len(harness.publisher.batches)
    with pytest.raises(InsufficientBalance):
        await harness.exchange.accept_quote(requester, quote.id, Side.YES)
    assert len(harness.publisher.batches) == published
    assert len(harness.scheduler) == 0
    assert await harness.snapshot() == before


class FailingCommitStore:
    """Wraps a store so that committing fails (a full disk, say): the work rolls back."""

    def __init__(self, inner: SqliteStore) -> None:
        self.inner = inner

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def wipe(self) -> None:
        await self.inner.wipe()

    async def dump(self) -> Dump:
        return await self.inner.dump()

    async def load(self, dump: Mapping[str, Any]) -> None:
        await self.inner.load(dump)

    def deferred(self) -> AbstractAsyncContextManager[None]:
        return self.inner.deferred()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self.inner.transaction() as tx:
            yield tx
            raise StorageError("database or disk is full")


async def test_commit_failure_publishes_nothing_and_hands_on_no_timers(
        harness: Harness) -> None:
    requester, maker = await setup(harness)
    rfq = await open_rfq(harness, requester)
    quote = await quote_on(harness, maker, rfq)
    before = await harness.snapshot()
    published = len(harness.publisher.batches)
    assert isinstance(harness.store, SqliteStore)
    failing: Store = FailingCommitStore(harness.store)
    harness.exchange.store = failing
    with pytest.raises(StorageError):
        await harness.exchange.accept_quote(requester, quote.id, Side.YES)
    harness.exchange.store = harness.store
    assert len(harness.publisher.batches) == published
    assert len(harness.scheduler) == 0
    assert await harness.snapshot() == before


async def test_confirm_after_the_window_voids_the_quote_and_reports_expiry(
        harness: Harness) -> None:
    _, maker, _, quote = await accepted_quote(harness)
    # The deadline passes without its timer firing (a busy or restarting server).
    harness.clock.set(START + 30 * MICROS)
    published = len(harness.publisher.batches)
    with pytest.raises(QuoteExpired):
        await harness.exchange.confirm_quote(maker, quote.id)
    assert harness.publisher.kinds()[published:] == [["QuoteCancelled"]]
    voided = await harness.exchange.get_quote(maker, quote.id)
    assert voided.status is QuoteStatus.CANCELLED
    assert voided.cancellation_reason == "confirmation_timeout"
    assert len(harness.scheduler) == 0
    assert await harness.advance(60 * MICROS) == 0


async def test_unconfirmed_quote_lapses_when_its_window_ends(harness: Harness) -> None:
    requester, maker, rfq, quote = await accepted_quote(harness)
    assert await harness.advance(30 * MICROS - 1) == 0
    assert await harness.advance(1) == 1
    (cancelled,) = harness.publisher.batches[-1]
    assert isinstance(cancelled, QuoteCancelled)
    assert cancelled.quote.cancellation_reason == "confirmation_timeout"
    assert cancelled.quote.cancelled_ts == START + 30 * MICROS
    assert (await harness.exchange.get_rfq(requester, rfq.id)).status is RfqStatus.OPEN
    with pytest.raises(QuoteExpired):
        await harness.exchange.confirm_quote(maker, quote.id)


async def test_hvm_market_uses_the_short_windows(harness: Harness) -> None:
    await harness.market("KXMVE-FAST", hvm=True)
    requester = await harness.account("requester", HUNDRED_DOLLARS)
    maker = await harness.account("maker", HUNDRED_DOLLARS)
    rfq = await open_rfq(harness, requester, "KXMVE-FAST")
    quote = await quote_on(harness, maker, rfq)
    accepted = await harness.exchange.accept_quote(requester, quote.id, Side.NO)
    assert accepted.confirm_deadline == START + 3 * MICROS
    await harness.exchange.confirm_quote(maker, quote.id)
    assert await harness.advance(MICROS) == 1
    assert harness.publisher.kinds()[-1][-2:] == ["QuoteExecuted", "RfqDeleted"]


async def test_execution_without_funds_cancels_the_quote_and_keeps_the_rfq_open(
        harness: Harness) -> None:
    requester, maker, rfq, quote = await accepted_quote(harness)
    await harness.exchange.confirm_quote(maker, quote.id)
    await harness.accounts.set_balance(maker.user_id, 0)
    await harness.advance(15 * MICROS)
    (cancelled,) = harness.publisher.batches[-1]
    assert isinstance(cancelled, QuoteCancelled)
    assert cancelled.quote.cancellation_reason == "execution_failed"
    assert (await harness.exchange.get_rfq(requester, rfq.id)).status is RfqStatus.OPEN
    assert await harness.balance(requester) == HUNDRED_DOLLARS
    assert (await harness.exchange.fills(requester,
                                         PortfolioQuery(user_id="", limit=10))).items == []


async def test_delete_rfq_cancels_its_quotes_before_announcing_the_close(
        harness: Harness) -> None:
    requester, maker = await setup(harness)
    rfq = await open_rfq(harness, requester)
    quote = await quote_on(harness, maker, rfq)
    await harness.exchange.delete_rfq(requester, rfq.id)
    cancelled, deleted = harness.publisher.batches[-1]
    assert isinstance(cancelled, QuoteCancelled)
    assert (cancelled.quote.id, cancelled.quote.cancellation_reason) == (quote.id,
                                                                         "rfq_closed")
    assert isinstance(deleted, RfqDeleted)
    assert deleted.rfq.cancellation_reason == "deleted_by_user"


async def test_requoting_replaces_the_makers_open_quote_in_one_batch(harness: Harness) -> None:
    requester, maker = await setup(harness)
    rfq = await open_rfq(harness, requester)
    first = await quote_on(harness, maker, rfq)
    second = await quote_on(harness, maker, rfq)
    replaced, created = harness.publisher.batches[-1]
    assert isinstance(replaced, QuoteCancelled)
    assert (replaced.quote.id, replaced.quote.cancellation_reason) == (first.id, "replaced")
    assert created == QuoteCreated(second)
