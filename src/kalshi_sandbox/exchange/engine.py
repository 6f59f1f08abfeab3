"""Kalshi's RFQ flow as use cases. Each public method is one transaction: load, decide, store,
publish.

The decisions are the domain's (domain/rfq.py, domain/quote.py, domain/rules.py,
domain/settlement.py); a use case loads what they need, asks them in the order Kalshi
reports errors, and stores and publishes what they return. Events and timers created inside
a transaction are handed on only after it commits (exchange/unit.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kalshi_sandbox.domain.account import check_subaccount
from kalshi_sandbox.domain.clock import Clock
from kalshi_sandbox.domain.errors import (
    InsufficientBalance,
    InvalidOrder,
    InvalidParameters,
    NotFound,
    OpenRfqLimitExceeded,
    QuoteExpired,
    RfqAlreadyExists,
)
from kalshi_sandbox.domain.events import (
    QuoteAccepted,
    QuoteCancelled,
    QuoteConfirmed,
    QuoteCreated,
    QuoteExecuted,
    RfqCreated,
    RfqDeleted,
)
from kalshi_sandbox.domain.money import trading_fee
from kalshi_sandbox.domain.orders import OrderRequest
from kalshi_sandbox.domain.portfolio import (
    NO_POSITION,
    Order,
    OrderStatus,
    TimeInForce,
    empty_position,
)
from kalshi_sandbox.domain.quote import (
    LIVE_QUOTES,
    ConfirmOutcome,
    Quote,
    QuoteCancelReason,
    QuoteStatus,
    Side,
    Terms,
    check_accept,
    check_no_live_quote,
    check_withdraw,
    confirm_outcome,
)
from kalshi_sandbox.domain.rfq import (
    Rfq,
    RfqCloseReason,
    RfqStatus,
    check_delete,
    check_quotable,
    may_close_automatically,
)
from kalshi_sandbox.domain.rules import Rules, check_market_open, check_quote_prices
from kalshi_sandbox.domain.settlement import (
    check_funds,
    quote_legs,
    settle,
)
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.books import Books
from kalshi_sandbox.exchange.bus import Publisher
from kalshi_sandbox.exchange.commands import (
    Actor,
    CreateQuote,
    CreateRfq,
)
from kalshi_sandbox.exchange.ids import IdGenerator
from kalshi_sandbox.exchange.marketdata import MarketData
from kalshi_sandbox.exchange.matching import Matcher
from kalshi_sandbox.exchange.ports import Store, Transaction
from kalshi_sandbox.exchange.reads import ALL, ExchangeReads
from kalshi_sandbox.exchange.unit import (
    NoTimers,
    Outbox,
    TimerSink,
    UnitOfWork,
    UnitOfWorkScope,
)

TimerHandler = Callable[[UnitOfWork, Timer], Awaitable[None]]
"""Applies a due timer's effect inside the unit of work that consumed it."""


class Exchange(ExchangeReads):
    """Kalshi's RFQ engine: RFQs, quotes, the confirmation window and execution."""

    def __init__(self, store: Store, clock: Clock, publisher: Publisher, rules: Rules,
                 ids: IdGenerator | None = None) -> None:
        self.store = store
        self.clock = clock
        self.publisher = publisher
        self.rules = rules
        self.ids = ids or IdGenerator(clock=clock)
        self.timers: TimerSink = NoTimers()
        self.outbox: Outbox | None = None
        """Set when instances share the database: events travel through it (unit.py)."""
        self.books = Books()
        self.matcher = Matcher(self.books, self.ids, rules)
        self.marketdata = MarketData(store)
        self.timer_handlers: dict[TimerKind, TimerHandler] = {}
        """Timers of the other use cases (exchange/lifecycle.py, exchange/blocktrades.py)."""

    def work(self) -> UnitOfWorkScope:
        """Run a block as one transaction; hand its events and timers on after commit."""
        return UnitOfWorkScope(self)

    # RFQs --------------------------------------------------------------------------------

    async def create_rfq(self, actor: Actor, cmd: CreateRfq) -> Rfq:
        """Open an RFQ; with ``replace_existing`` first close the caller's open RFQs."""
        check_subaccount(cmd.subaccount)
        async with self.work() as w:
            tx = w.tx
            market = check_market_open(await tx.get_market(cmd.market_ticker),
                                       cmd.market_ticker)
            if cmd.target_cost is not None:
                balance = await tx.get_balance(actor.user_id, cmd.subaccount)
                if cmd.target_cost > balance:
                    raise InsufficientBalance("target cost exceeds the available balance")
            if cmd.replace_existing:
                await self._replace_existing(w, actor, cmd)
            if await tx.open_rfq_on_market(actor.user_id, market.ticker) is not None:
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
                mve_selected_legs=market.mve_selected_legs,
            )
            await tx.insert_rfq(rfq)
            if self.rules.rfq_ttl:
                await w.add_timer(TimerKind.RFQ_EXPIRY, rfq.id, w.now + self.rules.rfq_ttl)
            w.events.append(RfqCreated(rfq))
        return rfq

    async def _replace_existing(self, w: UnitOfWork, actor: Actor, cmd: CreateRfq) -> None:
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
            await self.close_rfq_if_free(w, rfq, RfqCloseReason.REPLACED)

    async def delete_rfq(self, actor: Actor, rfq_id: str) -> None:
        """Close the caller's RFQ and cancel its open and accepted quotes."""
        async with self.work() as w:
            rfq = await w.tx.get_rfq(rfq_id)
            if rfq is None or rfq.creator_user_id != actor.user_id:
                raise NotFound("rfq not found", message="rfq not found")
            check_delete(rfq, rfq.is_open and await self._has_confirmed_quote(w.tx, rfq))
            await self.close_rfq(w, rfq, RfqCloseReason.DELETED_BY_USER)

    @staticmethod
    async def _has_confirmed_quote(tx: Transaction, rfq: Rfq) -> bool:
        return bool(await tx.quotes_of_rfq(rfq.id, (QuoteStatus.CONFIRMED,)))

    async def close_rfq_if_free(self, w: UnitOfWork, rfq: Rfq, reason: RfqCloseReason) -> bool:
        """Close ``rfq`` inside ``w`` unless a confirmed quote holds it open; say if it closed."""
        if not may_close_automatically(await self._has_confirmed_quote(w.tx, rfq)):
            return False
        await self.close_rfq(w, rfq, reason)
        return True

    async def close_rfq(self, w: UnitOfWork, rfq: Rfq, reason: RfqCloseReason,
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
        check_subaccount(cmd.subaccount)
        async with self.work() as w:
            tx = w.tx
            rfq = check_quotable(await tx.get_rfq(cmd.rfq_id), cmd.rfq_id, actor.user_id)
            market = await tx.get_market(rfq.market_ticker)
            if market is None or not market.tradable:
                raise InvalidParameters(f"market {rfq.market_ticker} is not open for trading")
            if cmd.price_error is not None:
                raise InvalidParameters(cmd.price_error)
            check_quote_prices(market, cmd.yes_bid, cmd.no_bid)
            yes_contracts, no_contracts = self.rules.side_sizes(rfq, cmd.yes_bid, cmd.no_bid)
            if yes_contracts == 0 and no_contracts == 0:
                raise InvalidParameters("the target cost buys no contracts at these prices")
            await self._check_maker_funds(tx, actor.user_id, cmd, rfq, yes_contracts,
                                          no_contracts)
            for previous in await tx.quotes_of_rfq(rfq.id, LIVE_QUOTES):
                if previous.creator_user_id != actor.user_id:
                    continue
                check_no_live_quote(previous)
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

    async def _check_maker_funds(self, tx: Transaction, user_id: str, cmd: CreateQuote,
                                 rfq: Rfq, yes_contracts: int, no_contracts: int) -> None:
        # The worse of the two sides must be affordable: the requester picks either.
        position = (await tx.get_position(user_id, cmd.subaccount, rfq.market_ticker)
                    or NO_POSITION)
        worst = 0
        for side, count in ((Side.YES, yes_contracts), (Side.NO, no_contracts)):
            terms = self.rules.terms(cmd.yes_bid, cmd.no_bid, side)
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
            check_withdraw(quote)
            await self._cancel_quote(w, quote, QuoteCancelReason.DELETED_BY_USER)

    async def _own_quote(self, tx: Transaction, quote_id: str, rfq_id: str | None,
                         user_id: str, *, maker: bool) -> Quote:
        quote = await tx.get_quote(quote_id)
        owner = None if quote is None else (
            quote.creator_user_id if maker else quote.rfq_creator_user_id)
        if quote is None or owner != user_id or (rfq_id is not None and quote.rfq_id != rfq_id):
            raise NotFound("quote not found", message="quote not found")
        return quote

    async def _cancel_quote(self, w: UnitOfWork, quote: Quote,
                            reason: QuoteCancelReason) -> Quote:
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
            other = None
            if rfq is not None and rfq.is_open and quote.status is QuoteStatus.OPEN:
                live = await tx.quotes_of_rfq(rfq.id, (QuoteStatus.ACCEPTED,
                                                       QuoteStatus.CONFIRMED))
                other = live[0] if live else None
            market = await tx.get_market(quote.market_ticker)
            terms = self.rules.terms(quote.yes_bid, quote.no_bid, side)
            check_accept(quote, rfq, other, side, terms,
                         market is not None and market.tradable)
            assert rfq is not None
            assert market is not None
            count = quote.side_contracts(side)
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
        needed = check_funds(position, await tx.get_balance(user_id, subaccount), side,
                             terms.yes_price, count, fee)
        if needed is not None:
            raise InsufficientBalance(
                f"this trade needs ${needed / 1e6:.4f} and the balance is lower"
            )

    async def confirm_quote(self, actor: Actor, quote_id: str, rfq_id: str | None = None) -> None:
        """Confirm the caller's accepted quote inside its window; start the execution timer."""
        async with self.work() as w:
            tx = w.tx
            quote = await self._own_quote(tx, quote_id, rfq_id, actor.user_id, maker=True)
            rfq = await tx.get_rfq(quote.rfq_id)
            outcome = confirm_outcome(quote, rfq, w.now,
                                      idempotent=self.rules.idempotent_confirm)
            if outcome is ConfirmOutcome.REPEATED:
                return
            if outcome is ConfirmOutcome.LAPSE:
                # Voided now, in this transaction, even if its timer has not fired yet.
                await self._cancel_quote(w, quote, QuoteCancelReason.CONFIRMATION_TIMEOUT)
            else:
                assert quote.accepted_side is not None
                terms = self.rules.terms(quote.yes_bid, quote.no_bid, quote.accepted_side)
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
        if outcome is ConfirmOutcome.LAPSE:
            raise QuoteExpired("the confirmation window has elapsed")

    # Timers ------------------------------------------------------------------------------

    async def fire(self, timer: Timer) -> None:
        """Apply a due timer's effect; the timer row is consumed in the same transaction."""
        async with self.work() as w:
            if not await w.tx.take_timer(timer.id):
                return
            if timer.kind is TimerKind.CONFIRM_DEADLINE:
                quote = await w.tx.get_quote(timer.subject)
                if quote is not None and quote.status is QuoteStatus.ACCEPTED:
                    await self._cancel_quote(w, quote, QuoteCancelReason.CONFIRMATION_TIMEOUT)
            elif timer.kind is TimerKind.EXECUTE:
                await self._execute(w, timer.subject)
            elif timer.kind is TimerKind.ORDER_EXPIRY:
                await self.matcher.expire(w, timer.subject)
            elif timer.kind is TimerKind.RFQ_EXPIRY:
                rfq = await w.tx.get_rfq(timer.subject)
                if rfq is not None and rfq.is_open:
                    await self.close_rfq_if_free(w, rfq, RfqCloseReason.EXPIRED)
            elif (handler := self.timer_handlers.get(timer.kind)) is not None:
                await handler(w, timer)

    async def _execute(self, w: UnitOfWork, quote_id: str) -> None:
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
        terms = self.rules.terms(quote.yes_bid, quote.no_bid, quote.accepted_side)
        count = quote.side_contracts(quote.accepted_side)
        legs = quote_legs(quote, rfq, terms, self.rules)
        positions = [await tx.get_position(leg.user_id, leg.subaccount, market.ticker)
                     or empty_position(leg.user_id, leg.subaccount, market.ticker, w.now)
                     for leg in legs]
        balances = [await tx.get_balance(leg.user_id, leg.subaccount) for leg in legs]
        if settle(terms.yes_price, count, legs, positions, balances, w.now) is None:
            await self._fail_execution(w, quote, rfq, close_rfq=False)
            return
        orders = await self._execute_on_book(w, quote, rfq, terms, count)
        if orders is None:
            await self._fail_execution(w, quote, rfq, close_rfq=False)
            return
        maker_order, requester_order = orders
        executed = quote.execute(w.now, maker_order.order_id, requester_order.order_id)
        await tx.update_quote(executed)
        w.events.append(QuoteExecuted(executed, maker_order, requester_order))
        await self.close_rfq(w, rfq, RfqCloseReason.EXECUTED, executed_quote=quote.id)

    async def _execute_on_book(self, w: UnitOfWork, quote: Quote, rfq: Rfq, terms: Terms,
                               count: int) -> tuple[Order, Order] | None:
        """Enter both parties' orders into the book, the maker's first; return them.

        The maker's order rests (unless it crosses better-priced resting orders first),
        then the requester's order takes it, behind any older order at the same price. A
        party's remainder rests when its ``rest_remainder`` asks for it and is cancelled
        otherwise. A post-only maker order that would cross fails the execution
        (docs/behaviour.md, "RFQ meets the book").
        """
        gtc, ioc = TimeInForce.GOOD_TILL_CANCELED, TimeInForce.IMMEDIATE_OR_CANCEL
        maker_request = OrderRequest(
            quote.market_ticker, terms.maker_side, terms.yes_price, count, gtc,
            client_order_id=f"quote:{self.ids.token()}:{quote.id}",
            subaccount=quote.creator_subaccount, post_only=quote.post_only)
        try:
            maker = await self.matcher.submit(w, quote.creator_user_id, maker_request,
                                              check_funds=False)
        except InvalidOrder:
            return None
        requester_request = OrderRequest(
            quote.market_ticker, terms.requester_side, terms.yes_price, count,
            gtc if rfq.rest_remainder else ioc,
            client_order_id=f"rfq:{self.ids.token()}:{quote.id}",
            subaccount=rfq.creator_subaccount)
        requester = await self.matcher.submit(w, rfq.creator_user_id, requester_request,
                                              check_funds=False,
                                              block_with=maker.order.order_id)
        maker_order = await w.tx.get_order(maker.order.order_id)
        assert maker_order is not None
        if maker_order.status is OrderStatus.RESTING and not quote.rest_remainder:
            book = await self.books.open(w, quote.market_ticker)
            maker_order = await self.matcher.cancel(w, book, maker_order,
                                                    "IMMEDIATE_OR_CANCELLED")
            self.matcher.publish_levels(w, book)
        return maker_order, requester.order

    async def _fail_execution(self, w: UnitOfWork, quote: Quote, rfq: Rfq, *,
                              close_rfq: bool) -> None:
        await self._cancel_quote(w, quote, QuoteCancelReason.EXECUTION_FAILED)
        if close_rfq and rfq.is_open:
            await self.close_rfq(w, rfq, RfqCloseReason.MARKET_CLOSED)


__all__ = ["ALL", "Exchange"]
