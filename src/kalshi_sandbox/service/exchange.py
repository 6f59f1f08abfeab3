"""The RFQ use cases. Each public method is one transaction: load, decide, store, publish.

Events and timers created inside a transaction are handed on only after it commits, so a
subscriber never hears of a change that was rolled back, and a timer never fires for one.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import TracebackType
from typing import Protocol

from kalshi_sandbox.domain.account import (
    MAX_SUBACCOUNT,
    NO_POSITION,
    Fill,
    Order,
    OrderStatus,
    Position,
    empty_position,
)
from kalshi_sandbox.domain.clock import MICROS, Clock, Instant
from kalshi_sandbox.domain.errors import (
    InsufficientBalance,
    InvalidParameters,
    NotFound,
    OpenRfqLimitExceeded,
    QuoteExpired,
    RfqAlreadyExists,
    RfqClosed,
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
from kalshi_sandbox.domain.market import Market, on_grid
from kalshi_sandbox.domain.money import ONE_DOLLAR, cost, trading_fee
from kalshi_sandbox.domain.queries import (
    Cursor,
    MarketQuery,
    PortfolioQuery,
    QuoteQuery,
    RfqQuery,
)
from kalshi_sandbox.domain.quote import (
    Quote,
    QuoteCancelReason,
    QuoteStatus,
    Side,
    Terms,
    size_for_target,
    trade_terms,
)
from kalshi_sandbox.domain.rfq import Rfq, RfqCloseReason, RfqStatus
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.service.bus import Publisher
from kalshi_sandbox.service.ids import IdGenerator
from kalshi_sandbox.service.ports import Store, Transaction
from kalshi_sandbox.settings import Settings

LIVE_QUOTES = (QuoteStatus.OPEN, QuoteStatus.ACCEPTED, QuoteStatus.CONFIRMED)


def _bps(multiplier: str) -> int:
    return int(Decimal(multiplier) * 10_000)


def _seconds(value: float) -> int:
    return round(value * MICROS)


@dataclass(frozen=True, slots=True)
class Rules:
    """The exchange's tunable rules, in internal units, derived from ``Settings``."""

    confirm_window: int = 30 * MICROS
    execution_delay: int = 15 * MICROS
    hvm_confirm_window: int = 3 * MICROS
    hvm_execution_delay: int = 1 * MICROS
    taker_fee_bps: int = 700
    maker_fee_bps: int = 175
    max_open_rfqs: int = 100
    retention: int = 7 * 86_400 * MICROS
    accepted_side_flip: bool = False
    idempotent_confirm: bool = False
    whole_contracts: bool = False
    replace_existing_scope: str = "all"
    rfq_ttl: int = 0
    block_trade_fills: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        """Convert seconds and decimal strings of ``settings`` into rules."""
        return cls(
            confirm_window=_seconds(settings.confirm_window),
            execution_delay=_seconds(settings.execution_delay),
            hvm_confirm_window=_seconds(settings.hvm_confirm_window),
            hvm_execution_delay=_seconds(settings.hvm_execution_delay),
            taker_fee_bps=_bps(settings.taker_fee_multiplier),
            maker_fee_bps=_bps(settings.maker_fee_multiplier),
            max_open_rfqs=settings.max_open_rfqs,
            retention=_seconds(settings.retention_days * 86_400),
            accepted_side_flip=settings.accepted_side_flip,
            idempotent_confirm=settings.idempotent_confirm,
            whole_contracts=settings.whole_contracts,
            replace_existing_scope=settings.replace_existing_scope,
            rfq_ttl=_seconds(settings.rfq_ttl),
            block_trade_fills=settings.block_trade_fills,
        )

    def windows(self, market: Market) -> tuple[int, int]:
        """Return (confirmation window, execution delay) for ``market``."""
        if market.hvm:
            return self.hvm_confirm_window, self.hvm_execution_delay
        return self.confirm_window, self.execution_delay


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated caller of a use case."""

    user_id: str
    communications_id: str


@dataclass(frozen=True, slots=True)
class CreateRfq:
    """A validated Create RFQ request; sizes in internal units."""

    market_ticker: str
    rest_remainder: bool
    contracts: int | None = None
    target_cost: int | None = None
    target_cost_excludes_fees: bool = False
    replace_existing: bool = False
    subaccount: int = 0
    obscure_creator_id: bool = False


@dataclass(frozen=True, slots=True)
class CreateQuote:
    """A validated Create Quote request; prices in $0.0001 units."""

    rfq_id: str
    yes_bid: int
    no_bid: int
    rest_remainder: bool
    post_only: bool = False
    subaccount: int = 0
    price_error: str | None = None
    """Why the bids are unusable, if they are; reported only after the RFQ checks, as the
    validation order of reference §4.7 puts prices after the RFQ's existence and state."""


@dataclass(frozen=True, slots=True)
class RfqFilter:
    """Filters of Get RFQs."""

    limit: int = 100
    after: Cursor | None = None
    market_ticker: str | None = None
    event_ticker: str | None = None
    status: RfqStatus | None = None
    creator_user_id: str | None = None
    subaccount: int | None = None
    only_mine: bool = False


@dataclass(frozen=True, slots=True)
class QuoteFilter:
    """Filters of Get Quotes."""

    limit: int = 500
    after: Cursor | None = None
    status: QuoteStatus | None = None
    rfq_id: str | None = None
    only_mine: bool = False
    only_my_rfqs: bool = False
    legacy_creator_user_id: str | None = None
    legacy_rfq_creator_user_id: str | None = None
    min_updated: Instant | None = None
    max_updated: Instant | None = None


@dataclass(slots=True)
class Work:
    """The state of one transaction in progress."""

    tx: Transaction
    now: Instant
    events: list[Event] = field(default_factory=list)
    new_timers: list[Timer] = field(default_factory=list)
    dropped_timers: list[int] = field(default_factory=list)

    async def add_timer(self, kind: TimerKind, subject: str, due: Instant) -> None:
        self.new_timers.append(await self.tx.add_timer(kind.value, subject, due))

    async def cancel_timers(self, subject: str) -> None:
        self.dropped_timers.extend(await self.tx.cancel_timers(subject))


class TimerSink(Protocol):
    """Receives the timers of committed transactions (the scheduler)."""

    def add(self, timers: Iterable[Timer]) -> None: ...

    def drop(self, timer_ids: Iterable[int]) -> None: ...


class _NoTimers:
    """A sink for an exchange without a scheduler: timers stay in the database only."""

    def add(self, timers: Iterable[Timer]) -> None:
        pass

    def drop(self, timer_ids: Iterable[int]) -> None:
        pass


class _Scope:
    """The context of ``Exchange.work``: a transaction, handing its work on once committed.

    A class rather than a generator-based context manager: it runs on every request.
    """

    __slots__ = ("_exchange", "_transaction", "_work")

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange
        self._transaction: AbstractAsyncContextManager[Transaction] | None = None
        self._work: Work | None = None

    async def __aenter__(self) -> Work:
        exchange = self._exchange
        transaction = self._transaction = exchange.store.transaction()
        tx = await transaction.__aenter__()
        try:
            work = self._work = Work(tx, exchange.clock.now())
            tx.on_commit(self._committed)
        except BaseException as exc:
            await transaction.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return work

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> bool | None:
        transaction, self._transaction = self._transaction, None
        assert transaction is not None
        return await transaction.__aexit__(kind, error, traceback)

    def _committed(self) -> None:
        work, exchange = self._work, self._exchange
        self._work = None
        assert work is not None
        if work.dropped_timers:
            exchange.timers.drop(work.dropped_timers)
        if work.new_timers:
            exchange.timers.add(work.new_timers)
        if work.events:
            exchange.publisher.publish(work.events)


class Exchange:
    """Kalshi's RFQ engine: RFQs, quotes, the confirmation window and execution."""

    def __init__(self, store: Store, clock: Clock, publisher: Publisher, rules: Rules,
                 ids: IdGenerator | None = None) -> None:
        self.store = store
        self.clock = clock
        self.publisher = publisher
        self.rules = rules
        self.ids = ids or IdGenerator(clock=clock)
        self._terms_seen: dict[tuple[int, int, Side, bool], Terms] = {}
        self.timers: TimerSink = _NoTimers()

    def work(self) -> _Scope:
        """Run a block as one transaction; hand its events and timers on after commit."""
        return _Scope(self)

    # Reads -------------------------------------------------------------------------------

    async def get_rfq(self, actor: Actor, rfq_id: str) -> Rfq:
        """Return an RFQ (RFQs are public) unless unknown or past retention."""
        async with self.store.transaction() as tx:
            rfq = await tx.get_rfq(rfq_id)
        if rfq is None or self._expired_from_view(rfq.status is RfqStatus.CLOSED,
                                                  rfq.updated_ts):
            raise NotFound("rfq not found", message="rfq not found")
        return rfq

    async def list_rfqs(self, actor: Actor, flt: RfqFilter) -> list[Rfq]:
        """Return up to ``flt.limit + 1`` RFQs, newest first (the extra one signals more)."""
        creator = actor.user_id if flt.only_mine else flt.creator_user_id
        if flt.subaccount is not None:
            # A creator's subaccount is private: the filter names one of the caller's own.
            if creator not in (None, actor.user_id):
                return []
            creator = actor.user_id
        query = RfqQuery(
            limit=flt.limit + 1, after=flt.after, market_ticker=flt.market_ticker,
            event_ticker=flt.event_ticker, status=flt.status, creator_user_id=creator,
            subaccount=flt.subaccount, closed_since=self.clock.now() - self.rules.retention,
            # Filtering by another member's user id must not reveal the RFQs they obscured.
            hide_obscured=creator not in (None, actor.user_id),
        )
        async with self.store.transaction() as tx:
            return await tx.list_rfqs(query)

    async def get_quote(self, actor: Actor, quote_id: str, rfq_id: str | None = None) -> Quote:
        """Return a quote visible to ``actor``: its maker's or one on the actor's RFQ."""
        async with self.store.transaction() as tx:
            quote = await tx.get_quote(quote_id)
        if (quote is None or (rfq_id is not None and quote.rfq_id != rfq_id)
                or actor.user_id not in (quote.creator_user_id, quote.rfq_creator_user_id)
                or self._expired_from_view(quote.status is QuoteStatus.CANCELLED,
                                           quote.updated_ts)):
            raise NotFound("quote not found", message="quote not found")
        return quote

    async def list_quotes(self, actor: Actor, flt: QuoteFilter) -> list[Quote]:
        """Return up to ``flt.limit + 1`` quotes visible to ``actor``, newest first."""
        for legacy in (flt.legacy_creator_user_id, flt.legacy_rfq_creator_user_id):
            if legacy is not None and legacy != actor.user_id:
                return []
        creator = actor.user_id if flt.only_mine or flt.legacy_creator_user_id else None
        rfq_creator = (actor.user_id if flt.only_my_rfqs or flt.legacy_rfq_creator_user_id
                       else None)
        query = QuoteQuery(
            viewer_user_id=actor.user_id, limit=flt.limit + 1, after=flt.after,
            status=flt.status, rfq_id=flt.rfq_id, creator_user_id=creator,
            rfq_creator_user_id=rfq_creator, min_updated=flt.min_updated,
            max_updated=flt.max_updated,
            cancelled_since=self.clock.now() - self.rules.retention,
        )
        async with self.store.transaction() as tx:
            return await tx.list_quotes(query)

    def _expired_from_view(self, finished: bool, updated_ts: Instant) -> bool:
        return finished and updated_ts < self.clock.now() - self.rules.retention

    async def get_market(self, ticker: str) -> Market:
        """Return a market (markets are public)."""
        async with self.store.transaction() as tx:
            market = await tx.get_market(ticker)
        if market is None:
            raise NotFound(f"market {ticker} not found", message="market not found")
        return market

    async def list_markets(self, query: MarketQuery) -> list[Market]:
        """Return markets in ticker order."""
        async with self.store.transaction() as tx:
            return await tx.list_markets(query)

    async def balance(self, actor: Actor, subaccount: int) -> tuple[int, Instant]:
        """Return the caller's balance in micro-dollars and when it last changed."""
        _check_subaccount(subaccount)
        async with self.store.transaction() as tx:
            micros = await tx.get_balance(actor.user_id, subaccount)
            updated = await tx.balance_updated_ts(actor.user_id, subaccount)
        return micros, updated if updated is not None else self.clock.now()

    async def positions(self, actor: Actor, query: PortfolioQuery) -> list[Position]:
        """Return the caller's market positions."""
        async with self.store.transaction() as tx:
            return await tx.list_positions(replace(query, user_id=actor.user_id))

    async def fills(self, actor: Actor, query: PortfolioQuery) -> list[Fill]:
        """Return the caller's fills, newest first."""
        async with self.store.transaction() as tx:
            return await tx.list_fills(replace(query, user_id=actor.user_id))

    async def orders(self, actor: Actor, query: PortfolioQuery) -> list[Order]:
        """Return the caller's orders, newest first."""
        async with self.store.transaction() as tx:
            return await tx.list_orders(replace(query, user_id=actor.user_id))

    async def order(self, actor: Actor, order_id: str) -> Order:
        """Return one of the caller's orders."""
        async with self.store.transaction() as tx:
            order = await tx.get_order(order_id)
        if order is None or order.user_id != actor.user_id:
            raise NotFound("order not found", message="order not found")
        return order

    # RFQs --------------------------------------------------------------------------------

    async def create_rfq(self, actor: Actor, cmd: CreateRfq) -> Rfq:
        """Open an RFQ; with ``replace_existing`` first close the caller's open RFQs."""
        _check_subaccount(cmd.subaccount)
        async with self.work() as w:
            tx = w.tx
            market = await tx.get_market(cmd.market_ticker)
            if market is None:
                raise InvalidParameters(f"market {cmd.market_ticker} not found")
            if not market.tradable:
                raise InvalidParameters(
                    f"market {market.ticker} is {market.status}, not open for trading"
                )
            if cmd.target_cost is not None:
                balance = await tx.get_balance(actor.user_id, cmd.subaccount)
                if cmd.target_cost > balance:
                    raise InsufficientBalance("target cost exceeds the available balance")
            if cmd.replace_existing:
                await self._replace_existing(w, actor, cmd)
            if await tx.open_rfq_of_on(actor.user_id, market.ticker) is not None:
                raise RfqAlreadyExists(
                    f"you already have an open rfq on {market.ticker}; delete it or pass "
                    "replace_existing"
                )
            if await tx.count_open_rfqs(actor.user_id) >= self.rules.max_open_rfqs:
                raise OpenRfqLimitExceeded(
                    f"at most {self.rules.max_open_rfqs} open rfqs are allowed per user"
                )
            rfq = Rfq(
                id=self.ids.new(), creator_user_id=actor.user_id,
                creator_id=actor.communications_id, creator_subaccount=cmd.subaccount,
                market_ticker=market.ticker, event_ticker=market.event_ticker,
                contracts=cmd.contracts or 0, target_cost=cmd.target_cost,
                target_cost_excludes_fees=cmd.target_cost_excludes_fees,
                rest_remainder=cmd.rest_remainder, obscure_creator_id=cmd.obscure_creator_id,
                status=RfqStatus.OPEN, created_ts=w.now, updated_ts=w.now,
                mve_collection_ticker=market.mve_collection_ticker,
            )
            await tx.insert_rfq(rfq)
            if self.rules.rfq_ttl:
                await w.add_timer(TimerKind.RFQ_EXPIRY, rfq.id, w.now + self.rules.rfq_ttl)
            w.events.append(RfqCreated(rfq))
        return rfq

    async def _replace_existing(self, w: Work, actor: Actor, cmd: CreateRfq) -> None:
        scope = self.rules.replace_existing_scope
        mine = [r for r in await w.tx.open_rfqs_of(actor.user_id)
                if r.creator_subaccount == cmd.subaccount]
        if scope == "market":
            mine = [r for r in mine if r.market_ticker == cmd.market_ticker]
        elif scope == "keep_newest" and mine:
            newest = mine[-1]
            mine = [r for r in mine[:-1] if r.market_ticker != newest.market_ticker] + (
                [newest] if newest.market_ticker == cmd.market_ticker else [])
        for rfq in mine:
            confirmed = await w.tx.quotes_of_rfq(rfq.id, (QuoteStatus.CONFIRMED,))
            if not confirmed:
                await self.close_rfq(w, rfq, RfqCloseReason.REPLACED)

    async def delete_rfq(self, actor: Actor, rfq_id: str) -> None:
        """Close the caller's RFQ and cancel its open and accepted quotes."""
        async with self.work() as w:
            rfq = await w.tx.get_rfq(rfq_id)
            if rfq is None or rfq.creator_user_id != actor.user_id:
                raise NotFound("rfq not found", message="rfq not found")
            if rfq.status is RfqStatus.CLOSED:
                raise RfqClosed(f"rfq is already closed ({rfq.cancellation_reason})")
            if await w.tx.quotes_of_rfq(rfq.id, (QuoteStatus.CONFIRMED,)):
                raise InvalidParameters(
                    "quote already confirmed: the rfq closes when that quote executes"
                )
            await self.close_rfq(w, rfq, RfqCloseReason.DELETED_BY_USER)

    async def close_rfq(self, w: Work, rfq: Rfq, reason: RfqCloseReason,
                        executed_quote: str | None = None) -> Rfq:
        """Close ``rfq`` inside ``w``, cancelling its open and accepted quotes."""
        quote_reason = (QuoteCancelReason.RFQ_EXECUTED if reason is RfqCloseReason.EXECUTED
                        else QuoteCancelReason.RFQ_CLOSED)
        for quote in await w.tx.quotes_of_rfq(rfq.id, (QuoteStatus.OPEN,
                                                       QuoteStatus.ACCEPTED)):
            if quote.id == executed_quote:
                continue
            await self._cancel_quote(w, quote, quote_reason)
        closed = rfq.close(reason, w.now)
        await w.tx.update_rfq(closed)
        await w.cancel_timers(rfq.id)
        w.events.append(RfqDeleted(closed, w.now))
        return closed

    # Quotes ------------------------------------------------------------------------------

    async def create_quote(self, actor: Actor, cmd: CreateQuote) -> Quote:
        """Quote an RFQ, replacing the maker's previous open quote on it."""
        _check_subaccount(cmd.subaccount)
        async with self.work() as w:
            tx = w.tx
            rfq = await tx.get_rfq(cmd.rfq_id)
            if rfq is None:
                raise InvalidParameters(f"rfq {cmd.rfq_id} not found")
            if rfq.status is RfqStatus.CLOSED:
                raise RfqClosed(f"rfq is closed ({rfq.cancellation_reason})")
            if rfq.creator_user_id == actor.user_id:
                raise InvalidParameters("you cannot quote your own rfq")
            market = await tx.get_market(rfq.market_ticker)
            if market is None or not market.tradable:
                raise InvalidParameters(f"market {rfq.market_ticker} is not open for trading")
            if cmd.price_error is not None:
                raise InvalidParameters(cmd.price_error)
            self._check_prices(market, cmd.yes_bid, cmd.no_bid)
            yes_contracts, no_contracts = self._side_sizes(rfq, cmd.yes_bid, cmd.no_bid)
            if yes_contracts == 0 and no_contracts == 0:
                raise InvalidParameters("the target cost buys no contracts at these prices")
            await self._check_maker_funds(tx, actor.user_id, cmd, rfq, yes_contracts,
                                          no_contracts)
            for previous in await tx.quotes_of_rfq(rfq.id, LIVE_QUOTES):
                if previous.creator_user_id != actor.user_id:
                    continue
                if previous.status is not QuoteStatus.OPEN:
                    raise InvalidParameters(
                        f"your quote {previous.id} on this rfq is already {previous.status}"
                    )
                await self._cancel_quote(w, previous, QuoteCancelReason.REPLACED)
            quote = Quote(
                id=self.ids.new(), rfq_id=rfq.id, creator_user_id=actor.user_id,
                creator_id=actor.communications_id, creator_subaccount=cmd.subaccount,
                rfq_creator_user_id=rfq.creator_user_id, rfq_creator_id=rfq.creator_id,
                rfq_creator_subaccount=rfq.creator_subaccount,
                rfq_obscure_creator_id=rfq.obscure_creator_id,
                market_ticker=rfq.market_ticker, event_ticker=rfq.event_ticker,
                contracts=rfq.contracts or max(yes_contracts, no_contracts),
                yes_bid=cmd.yes_bid, no_bid=cmd.no_bid,
                yes_contracts=yes_contracts, no_contracts=no_contracts,
                rfq_target_cost=rfq.target_cost,
                target_cost_excludes_fees=rfq.target_cost_excludes_fees,
                rest_remainder=cmd.rest_remainder, post_only=cmd.post_only,
                status=QuoteStatus.OPEN, created_ts=w.now, updated_ts=w.now,
            )
            await tx.insert_quote(quote)
            w.events.append(QuoteCreated(quote))
        return quote

    def _check_prices(self, market: Market, yes_bid: int, no_bid: int) -> None:
        if yes_bid == 0 and no_bid == 0:
            raise InvalidParameters("yes_bid and no_bid cannot both be zero")
        for name, price in (("yes_bid", yes_bid), ("no_bid", no_bid)):
            if price and not on_grid(price, market.price_ranges):
                raise InvalidParameters(
                    f"{name} {price / 10_000:.4f} is not on the price grid of {market.ticker} "
                    f"({market.price_level_structure})"
                )
        if yes_bid + no_bid > ONE_DOLLAR:
            raise InvalidParameters("yes_bid + no_bid must not exceed 1.00")

    def _terms(self, yes_bid: int, no_bid: int, side: Side) -> Terms:
        flip = self.rules.accepted_side_flip
        key = (yes_bid, no_bid, side, flip)
        terms = self._terms_seen.get(key)
        if terms is None:
            # A lifecycle asks for the same few terms about seven times; Terms is frozen.
            if len(self._terms_seen) >= 4096:
                self._terms_seen.clear()
            terms = self._terms_seen[key] = trade_terms(yes_bid, no_bid, side, flip=flip)
        return terms

    def _side_sizes(self, rfq: Rfq, yes_bid: int, no_bid: int) -> tuple[int, int]:
        sizes = []
        for side in (Side.YES, Side.NO):
            terms = self._terms(yes_bid, no_bid, side)
            if terms.maker_price == 0:
                sizes.append(0)
            elif rfq.target_cost is None:
                sizes.append(rfq.contracts)
            else:
                sizes.append(size_for_target(
                    rfq.target_cost, terms.requester_price,
                    taker_fee_bps=self.rules.taker_fee_bps,
                    excludes_fees=rfq.target_cost_excludes_fees,
                    whole_contracts=self.rules.whole_contracts,
                ))
        return sizes[0], sizes[1]

    async def _check_maker_funds(self, tx: Transaction, user_id: str, cmd: CreateQuote,
                                 rfq: Rfq, yes_contracts: int, no_contracts: int) -> None:
        position = (await tx.get_position(user_id, cmd.subaccount, rfq.market_ticker)
                    or NO_POSITION)
        worst = 0
        for side, count in ((Side.YES, yes_contracts), (Side.NO, no_contracts)):
            terms = self._terms(cmd.yes_bid, cmd.no_bid, side)
            if count and terms.maker_price:
                fee = trading_fee(count, terms.yes_price, self.rules.maker_fee_bps)
                worst = max(worst, position.cash_needed(terms.maker_side, terms.yes_price,
                                                        count, fee))
        if worst > await tx.get_balance(user_id, cmd.subaccount):
            raise InsufficientBalance("balance does not cover this quote")

    async def delete_quote(self, actor: Actor, quote_id: str, rfq_id: str | None = None) -> None:
        """Cancel the caller's open or accepted (not yet confirmed) quote."""
        async with self.work() as w:
            quote = await self._own_quote(w.tx, quote_id, rfq_id, actor.user_id, maker=True)
            if quote.status in (QuoteStatus.CONFIRMED, QuoteStatus.EXECUTED):
                raise InvalidParameters("quote already confirmed: it can no longer be withdrawn")
            if quote.status is QuoteStatus.CANCELLED:
                raise InvalidParameters(f"quote already cancelled ({quote.cancellation_reason})")
            await self._cancel_quote(w, quote, QuoteCancelReason.DELETED_BY_USER)

    async def _own_quote(self, tx: Transaction, quote_id: str, rfq_id: str | None,
                         user_id: str, *, maker: bool) -> Quote:
        quote = await tx.get_quote(quote_id)
        owner = None if quote is None else (
            quote.creator_user_id if maker else quote.rfq_creator_user_id)
        if quote is None or owner != user_id or (rfq_id is not None and quote.rfq_id != rfq_id):
            raise NotFound("quote not found", message="quote not found")
        return quote

    async def _cancel_quote(self, w: Work, quote: Quote, reason: QuoteCancelReason) -> Quote:
        cancelled = quote.cancel(reason, w.now)
        await w.tx.update_quote(cancelled)
        await w.cancel_timers(quote.id)
        w.events.append(QuoteCancelled(cancelled))
        return cancelled

    async def accept_quote(self, actor: Actor, quote_id: str, side: Side,
                           rfq_id: str | None = None) -> Quote:
        """Accept one side of a quote on the caller's RFQ; start the confirmation window."""
        async with self.work() as w:
            tx = w.tx
            quote = await self._own_quote(tx, quote_id, rfq_id, actor.user_id, maker=False)
            rfq = await tx.get_rfq(quote.rfq_id)
            if rfq is None or rfq.status is RfqStatus.CLOSED:
                raise RfqClosed("rfq is closed")
            if quote.status is not QuoteStatus.OPEN:
                raise InvalidParameters(f"cannot accept quote in state {quote.status}")
            for other in await tx.quotes_of_rfq(rfq.id, (QuoteStatus.ACCEPTED,
                                                         QuoteStatus.CONFIRMED)):
                raise InvalidParameters(
                    f"quote {other.id} on this rfq is already {other.status}"
                )
            terms = self._terms(quote.yes_bid, quote.no_bid, side)
            count = quote.side_contracts(side)
            if terms.maker_price == 0 or count == 0:
                raise InvalidParameters(f"the quote does not offer the {side} side")
            market = await tx.get_market(quote.market_ticker)
            if market is None or not market.tradable:
                raise InvalidParameters(f"market {quote.market_ticker} is not open for trading")
            await self._check_funds(tx, actor.user_id, rfq.creator_subaccount, quote, terms,
                                    terms.requester_side, self.rules.taker_fee_bps, count)
            window, _ = self.rules.windows(market)
            accepted = quote.accept(side, w.now, w.now + window)
            await tx.update_quote(accepted)
            await w.add_timer(TimerKind.CONFIRM_DEADLINE, quote.id, w.now + window)
            w.events.append(QuoteAccepted(accepted))
        return accepted

    async def _check_funds(self, tx: Transaction, user_id: str, subaccount: int, quote: Quote,
                           terms: Terms, side: Side, fee_bps: int, count: int) -> None:
        position = (await tx.get_position(user_id, subaccount, quote.market_ticker)
                    or NO_POSITION)
        fee = trading_fee(count, terms.yes_price, fee_bps)
        needed = position.cash_needed(side, terms.yes_price, count, fee)
        if needed > await tx.get_balance(user_id, subaccount):
            raise InsufficientBalance(
                f"this trade needs ${needed / 1e6:.4f} and the balance is lower"
            )

    async def confirm_quote(self, actor: Actor, quote_id: str, rfq_id: str | None = None) -> None:
        """Confirm the caller's accepted quote inside its window; start the execution timer."""
        lapsed = False
        async with self.work() as w:
            tx = w.tx
            quote = await self._own_quote(tx, quote_id, rfq_id, actor.user_id, maker=True)
            if quote.status in (QuoteStatus.CONFIRMED, QuoteStatus.EXECUTED):
                if self.rules.idempotent_confirm:
                    return
                raise InvalidParameters(f"quote already confirmed (status {quote.status})")
            if (quote.status is QuoteStatus.ACCEPTED and quote.confirm_deadline is not None
                    and w.now >= quote.confirm_deadline):
                # The window has lapsed even if its timer has not fired yet: void it now.
                await self._cancel_quote(w, quote, QuoteCancelReason.CONFIRMATION_TIMEOUT)
                lapsed = True
            else:
                rfq = await tx.get_rfq(quote.rfq_id)
                if rfq is None or rfq.status is RfqStatus.CLOSED:
                    raise RfqClosed("rfq is closed")
                if quote.status is QuoteStatus.CANCELLED:
                    raise QuoteExpired(f"quote was cancelled ({quote.cancellation_reason})")
                if quote.status is QuoteStatus.OPEN:
                    raise InvalidParameters("quote is not accepted")
                assert quote.accepted_side is not None
                terms = self._terms(quote.yes_bid, quote.no_bid, quote.accepted_side)
                await self._check_funds(tx, actor.user_id, quote.creator_subaccount, quote,
                                        terms, terms.maker_side, self.rules.maker_fee_bps,
                                        quote.side_contracts(quote.accepted_side))
                market = await tx.get_market(quote.market_ticker)
                assert market is not None
                _, delay = self.rules.windows(market)
                confirmed = quote.confirm(w.now, w.now + delay)
                await tx.update_quote(confirmed)
                await w.cancel_timers(quote.id)
                await w.add_timer(TimerKind.EXECUTE, quote.id, w.now + delay)
                w.events.append(QuoteConfirmed(confirmed))
        if lapsed:
            raise QuoteExpired("the confirmation window has elapsed")

    # Timers ------------------------------------------------------------------------------

    async def fire(self, timer: Timer) -> None:
        """Apply a due timer's effect; the timer row is consumed in the same transaction."""
        async with self.work() as w:
            if not await w.tx.take_timer(timer.id):
                return
            if timer.kind == TimerKind.CONFIRM_DEADLINE:
                quote = await w.tx.get_quote(timer.subject)
                if quote is not None and quote.status is QuoteStatus.ACCEPTED:
                    await self._cancel_quote(w, quote, QuoteCancelReason.CONFIRMATION_TIMEOUT)
            elif timer.kind == TimerKind.EXECUTE:
                await self._execute(w, timer.subject)
            elif timer.kind == TimerKind.RFQ_EXPIRY:
                rfq = await w.tx.get_rfq(timer.subject)
                if (rfq is not None and rfq.status is RfqStatus.OPEN
                        and not await w.tx.quotes_of_rfq(rfq.id, (QuoteStatus.CONFIRMED,))):
                    await self.close_rfq(w, rfq, RfqCloseReason.EXPIRED)

    async def _execute(self, w: Work, quote_id: str) -> None:
        tx = w.tx
        quote = await tx.get_quote(quote_id)
        if quote is None or quote.status is not QuoteStatus.CONFIRMED:
            return
        assert quote.accepted_side is not None
        rfq = await tx.get_rfq(quote.rfq_id)
        market = await tx.get_market(quote.market_ticker)
        assert rfq is not None
        assert market is not None
        if not market.tradable:
            await self._fail_execution(w, quote, rfq, close_rfq=True)
            return
        terms = self._terms(quote.yes_bid, quote.no_bid, quote.accepted_side)
        count = quote.side_contracts(quote.accepted_side)
        parties = (
            (rfq.creator_user_id, rfq.creator_subaccount, terms.requester_side,
             self.rules.taker_fee_bps, True),
            (quote.creator_user_id, quote.creator_subaccount, terms.maker_side,
             self.rules.maker_fee_bps, False),
        )
        planned: list[tuple[str, int, Side, int, bool, Position, Position, int, int]] = []
        for user_id, subaccount, side, fee_bps, taker in parties:
            position = (await tx.get_position(user_id, subaccount, market.ticker)
                        or empty_position(user_id, subaccount, market.ticker, w.now))
            fee = trading_fee(count, terms.yes_price, fee_bps)
            updated, cash = position.apply_fill(side, terms.yes_price, count, fee, w.now)
            balance = await tx.get_balance(user_id, subaccount)
            if balance + cash < 0:
                await self._fail_execution(w, quote, rfq, close_rfq=False)
                return
            planned.append((user_id, subaccount, side, fee, taker, position, updated, cash,
                            balance))
        trade_id = self.ids.new()
        orders: dict[bool, Order] = {}
        open_interest = 0
        for user_id, subaccount, side, fee, taker, position, updated, cash, balance in planned:
            price = terms.requester_price if taker else terms.maker_price
            prefix = "rfq" if taker else "quote"
            order = Order(
                order_id=self.ids.new(), user_id=user_id, subaccount=subaccount,
                client_order_id=f"{prefix}:{self.ids.token()}:{quote.id}",
                ticker=market.ticker, side=side, yes_price=terms.yes_price,
                initial_count=count, fill_count=count, status=OrderStatus.EXECUTED,
                taker_fill_cost=cost(price, count) if taker else 0,
                maker_fill_cost=0 if taker else cost(price, count),
                taker_fees=fee if taker else 0, maker_fees=0 if taker else fee,
                created_ts=w.now, updated_ts=w.now,
                post_only=False if taker else quote.post_only,
            )
            fill = Fill(
                fill_id=self.ids.new(), trade_id=trade_id, order_id=order.order_id,
                user_id=user_id, subaccount=subaccount, ticker=market.ticker, side=side,
                yes_price=terms.yes_price, count=count, is_taker=taker, fee=fee,
                created_ts=w.now, is_block_trade=self.rules.block_trade_fills,
            )
            open_interest += abs(updated.position) - abs(position.position)
            await tx.insert_order(order)
            await tx.insert_fill(fill)
            await tx.upsert_position(updated)
            await tx.set_balance(user_id, subaccount, balance + cash, w.now)
            orders[taker] = order
            w.events.append(OrderUpdated(order, created=True))
            w.events.append(FillCreated(fill, updated.position))
        executed = quote.execute(w.now, orders[False].order_id, orders[True].order_id)
        await tx.update_quote(executed)
        await tx.update_market(_traded(market, terms.yes_price, count, open_interest // 2,
                                       w.now))
        w.events.append(QuoteExecuted(executed, orders[False], orders[True]))
        await self.close_rfq(w, rfq, RfqCloseReason.EXECUTED, executed_quote=quote.id)

    async def _fail_execution(self, w: Work, quote: Quote, rfq: Rfq, *, close_rfq: bool) -> None:
        await self._cancel_quote(w, quote, QuoteCancelReason.EXECUTION_FAILED)
        if close_rfq and rfq.status is RfqStatus.OPEN:
            await self.close_rfq(w, rfq, RfqCloseReason.MARKET_CLOSED)


def _traded(market: Market, yes_price: int, count: int, open_interest_change: int,
            now: Instant) -> Market:
    return replace(market, last_price=yes_price, volume=market.volume + count,
                   open_interest=market.open_interest + open_interest_change, updated_ts=now)


def _check_subaccount(subaccount: int) -> None:
    if not 0 <= subaccount <= MAX_SUBACCOUNT:
        raise InvalidParameters(f"subaccount must be between 0 and {MAX_SUBACCOUNT}")
