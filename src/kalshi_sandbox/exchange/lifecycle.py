"""A market's life as use cases: open, pause, close, determine and settle, each one transaction.

The market's own times drive it on the sandbox clock through durable timers (open at
``open_time``, close at ``close_time``, settle when the settlement timer runs out); the
control plane drives it by hand. Closing cancels the market's resting orders and closes its
open RFQs (reason ``market_closed``) except those a confirmed quote holds open until it
executes or fails. Settling pays every position, records a settlement per position,
clears the positions and publishes ``settled`` (docs/behaviour.md, "Lifecycle").
"""

from __future__ import annotations

from dataclasses import replace

from kalshi_sandbox.domain.errors import NotFound
from kalshi_sandbox.domain.events import MarketLifecycle, MarketUpdated, PositionChanged
from kalshi_sandbox.domain.lifecycle import Trigger, next_status, settlement_of, settlement_value
from kalshi_sandbox.domain.market import Market, MarketStatus
from kalshi_sandbox.domain.portfolio import Position
from kalshi_sandbox.domain.rfq import RfqCloseReason
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.unit import UnitOfWork

CLOSED_REASON = "MARKET_CLOSED"
"""``last_update_reason`` of an order cancelled because its market closed."""

_PREFIX = {TimerKind.MARKET_OPEN: "open:", TimerKind.MARKET_CLOSE: "close:",
           TimerKind.MARKET_SETTLE: "settle:"}


def timer_subject(kind: TimerKind, ticker: str) -> str:
    """Return the subject of a market's lifecycle timer."""
    return _PREFIX[kind] + ticker


class Lifecycle:
    """Move markets through Kalshi's statuses; settle them."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        for kind in _PREFIX:
            exchange.timer_handlers[kind] = self.fire

    # Timers --------------------------------------------------------------------------------

    async def schedule(self, w: UnitOfWork, market: Market, *, close: bool = True) -> None:
        """Start the timers of ``market``'s own times that are still ahead (``close``: its
        close time too)."""
        if market.status is MarketStatus.INITIALIZED and market.open_time > w.now:
            await w.add_timer(TimerKind.MARKET_OPEN,
                              timer_subject(TimerKind.MARKET_OPEN, market.ticker),
                              market.open_time)
        if close and (market.status in (MarketStatus.INITIALIZED, MarketStatus.ACTIVE,
                                        MarketStatus.INACTIVE) and market.close_time > w.now):
            await w.add_timer(TimerKind.MARKET_CLOSE,
                              timer_subject(TimerKind.MARKET_CLOSE, market.ticker),
                              market.close_time)

    async def fire(self, w: UnitOfWork, timer: Timer) -> None:
        """Apply a lifecycle timer (the exchange consumed its row in ``w``)."""
        ticker = timer.subject.split(":", 1)[1]
        market = await w.tx.get_market(ticker)
        if market is None:
            return
        if timer.kind is TimerKind.MARKET_OPEN and market.status is MarketStatus.INITIALIZED:
            # Implicit: Kalshi sends no message for the open at open_time.
            await self._store(w, replace(market, status=MarketStatus.ACTIVE, updated_ts=w.now))
        elif timer.kind is TimerKind.MARKET_CLOSE and (
                (market.status, Trigger.CLOSE) in _CLOSABLE):
            await self._close(w, market, early=False)
        elif timer.kind is TimerKind.MARKET_SETTLE and market.status in (
                MarketStatus.DETERMINED, MarketStatus.AMENDED):
            await self._finalize(w, market)

    # Control plane -------------------------------------------------------------------------

    async def open(self, ticker: str, close_time: int | None = None) -> Market:
        """Open (or reopen, or unpause) a market; a new ``close_time`` may come with it."""
        async with self.exchange.work() as w:
            market = await self._market(w, ticker)
            status = next_status(market, Trigger.OPEN)
            was = market.status
            changed = replace(market, status=status, updated_ts=w.now,
                              close_time=close_time if close_time is not None
                              else market.close_time)
            if changed.close_time <= w.now:
                changed = replace(changed, close_time=w.now + _DAY)
            await self._store(w, changed)
            if changed.close_time != market.close_time:
                w.events.append(MarketLifecycle(changed, "close_date_updated", w.now))
            if was is not MarketStatus.INITIALIZED:
                # Kalshi cancels every resting order when an inactive market reopens.
                await self._cancel_resting(w, changed)
                w.events.append(MarketLifecycle(changed, "activated", w.now))
            await w.cancel_timers(timer_subject(TimerKind.MARKET_OPEN, ticker))
            await w.cancel_timers(timer_subject(TimerKind.MARKET_CLOSE, ticker))
            await self.schedule(w, changed)
        return changed

    async def pause(self, ticker: str) -> Market:
        """Deactivate an open market (``inactive``): no trading until it is opened again."""
        async with self.exchange.work() as w:
            market = await self._market(w, ticker)
            changed = replace(market, status=next_status(market, Trigger.PAUSE),
                              updated_ts=w.now)
            await self._store(w, changed)
            await self._close_rfqs(w, changed)
            w.events.append(MarketLifecycle(changed, "deactivated", w.now))
        return changed

    async def close(self, ticker: str) -> Market:
        """Close a market now, before its close time (``close_date_updated``)."""
        async with self.exchange.work() as w:
            market = await self._market(w, ticker)
            next_status(market, Trigger.CLOSE)
            return await self._close(w, market, early=True)

    async def determine(self, ticker: str, result: str, value: int | None = None) -> Market:
        """Record a market's result, closing it first if it is open; settlement follows
        when its settlement timer runs out (at once, in this transaction, without one)."""
        async with self.exchange.work() as w:
            market = await self._determine(w, await self._market(w, ticker), result, value)
            if market.settlement_timer <= 0:
                return await self._finalize(w, market)
            await w.add_timer(TimerKind.MARKET_SETTLE,
                              timer_subject(TimerKind.MARKET_SETTLE, ticker),
                              w.now + market.settlement_timer)
        return market

    async def settle(self, ticker: str, result: str | None = None,
                     value: int | None = None) -> Market:
        """Settle a market now: close and determine it first as needed (``result`` is needed
        unless it is determined already), then pay out every position."""
        async with self.exchange.work() as w:
            market = await self._market(w, ticker)
            if market.status is MarketStatus.FINALIZED:
                next_status(market, Trigger.SETTLE)
            if market.status not in (MarketStatus.DETERMINED, MarketStatus.AMENDED) or (
                    result is not None and result != market.result):
                market = await self._determine(w, market, result or "", value)
            return await self._finalize(w, market)

    # Steps ---------------------------------------------------------------------------------

    async def _market(self, w: UnitOfWork, ticker: str) -> Market:
        market = await w.tx.get_market(ticker)
        if market is None:
            raise NotFound(f"market {ticker} not found", message="market not found")
        return market

    async def _store(self, w: UnitOfWork, market: Market) -> None:
        await w.tx.update_market(market)
        w.events.append(MarketUpdated(market))

    async def _close(self, w: UnitOfWork, market: Market, *, early: bool) -> Market:
        closed = replace(market, status=MarketStatus.CLOSED, updated_ts=w.now,
                         close_time=w.now if early else market.close_time)
        await self._store(w, closed)
        await w.cancel_timers(timer_subject(TimerKind.MARKET_OPEN, market.ticker))
        await w.cancel_timers(timer_subject(TimerKind.MARKET_CLOSE, market.ticker))
        await self._cancel_resting(w, closed)
        await self._close_rfqs(w, closed)
        if early:
            w.events.append(MarketLifecycle(closed, "close_date_updated", w.now))
        return closed

    async def _cancel_resting(self, w: UnitOfWork, market: Market) -> None:
        resting = await w.tx.resting_orders(market.ticker)
        if not resting:
            return
        matcher = self.exchange.matcher
        book = await self.exchange.books.open(w, market.ticker)
        for order in resting:
            await matcher.cancel(w, book, order, CLOSED_REASON)
        matcher.publish_levels(w, book)

    async def _close_rfqs(self, w: UnitOfWork, market: Market) -> None:
        for rfq in await w.tx.open_rfqs_on(market.ticker):
            await self.exchange.close_rfq_if_free(w, rfq, RfqCloseReason.MARKET_CLOSED)

    async def _determine(self, w: UnitOfWork, market: Market, result: str,
                         value: int | None) -> Market:
        payout = settlement_value(result, value)
        if (market.status, Trigger.CLOSE) in _CLOSABLE:
            market = await self._close(w, market, early=market.close_time > w.now)
        status = next_status(market, Trigger.DETERMINE)
        determined = replace(market, status=status, result=result, settlement_value=payout,
                             determination_ts=w.now, updated_ts=w.now)
        await self._store(w, determined)
        await w.cancel_timers(timer_subject(TimerKind.MARKET_SETTLE, market.ticker))
        w.events.append(MarketLifecycle(determined, "determined", w.now))
        return determined

    async def _finalize(self, w: UnitOfWork, market: Market) -> Market:
        status = next_status(market, Trigger.SETTLE)
        assert market.settlement_value is not None
        tx = w.tx
        settlements = []
        new_id = self.exchange.ids.new
        for position in await tx.positions_on(market.ticker):
            if position.position == 0 and position.total_traded == 0:
                continue
            settlement = settlement_of(position, market.event_ticker, market.result,
                                       market.settlement_value, new_id(), w.now)
            settlements.append(settlement)
            user, subaccount = position.user_id, position.subaccount
            if settlement.revenue:
                balance = await tx.get_balance(user, subaccount)
                await tx.set_balance(user, subaccount, balance + settlement.revenue, w.now)
            w.events.append(PositionChanged(Position(
                user, subaccount, position.ticker, 0, 0, position.total_traded,
                position.realized_pnl + settlement.revenue - position.exposure,
                position.fees_paid, w.now)))
        await tx.delete_positions_on(market.ticker)
        await tx.insert_settlements(settlements)
        await w.cancel_timers(timer_subject(TimerKind.MARKET_SETTLE, market.ticker))
        finalized = replace(market, status=status, settlement_ts=w.now, open_interest=0,
                            updated_ts=w.now)
        await self._store(w, finalized)
        w.events.append(MarketLifecycle(finalized, "settled", w.now))
        return finalized


_DAY = 86_400 * 1_000_000
_CLOSABLE = frozenset(key for key in (
    (MarketStatus.INITIALIZED, Trigger.CLOSE), (MarketStatus.ACTIVE, Trigger.CLOSE),
    (MarketStatus.INACTIVE, Trigger.CLOSE)))


__all__ = ["CLOSED_REASON", "Lifecycle", "timer_subject"]
