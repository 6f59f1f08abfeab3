"""The published view of every book: resting counts per price level, as of the last commit.

The matching books (exchange/books.py) change inside transactions, before they commit; this
view changes only as committed ``LevelChanged`` events arrive, in commit order. So a reader
that takes a snapshot from it and then follows the events (the ``orderbook_delta`` channel)
sees every change exactly once, and the REST order book never shows a rolled-back order.
Reading it is synchronous: no event can arrive between a snapshot and the subscription
that follows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.events import Event, LevelChanged, MarketUpdated
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.money import ONE_DOLLAR
from kalshi_sandbox.domain.portfolio import Fill
from kalshi_sandbox.domain.queries import TradeQuery
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.exchange.commands import Page
from kalshi_sandbox.exchange.ports import Store


@dataclass(frozen=True, slots=True)
class Top:
    """The best bid and ask of a market, with the counts resting there."""

    yes_bid: int
    yes_bid_size: int
    yes_ask: int
    yes_ask_size: int


EMPTY_TOP = Top(0, 0, ONE_DOLLAR, 0)


class MarketData:
    """Every market's price levels, kept by committed events."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._levels: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
        self._markets: dict[str, Market] = {}

    async def load(self) -> None:
        """Rebuild the view from the resting orders (at start, and when state is replaced)."""
        levels: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
        async with self.store.transaction() as tx:
            orders = await tx.resting_orders()
        for order in orders:
            sides = levels.setdefault(order.ticker, ({}, {}))
            side = sides[0] if order.side is Side.YES else sides[1]
            side[order.yes_price] = side.get(order.yes_price, 0) + order.remaining_count
        self._levels = levels
        self._markets = {}

    def listen(self, events: Sequence[Event]) -> None:
        """Apply one committed batch (a ``Feed`` listener)."""
        for event in events:
            if isinstance(event, LevelChanged):
                sides = self._levels.get(event.ticker)
                if sides is None:
                    sides = self._levels[event.ticker] = ({}, {})
                side = sides[0] if event.side is Side.YES else sides[1]
                count = side.get(event.yes_price, 0) + event.delta
                if count > 0:
                    side[event.yes_price] = count
                else:
                    side.pop(event.yes_price, None)
            elif isinstance(event, MarketUpdated):
                self._markets[event.market.ticker] = event.market

    def market(self, ticker: str) -> Market | None:
        """Return the market as the last trade left it, if one traded since the start."""
        return self._markets.get(ticker)

    def levels(self, ticker: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Return (YES bids, NO bids) as (price, count) ascending by price.

        NO bids are at NO prices: a YES ask at p is a NO bid at 1 - p
        (https://docs.kalshi.com/getting_started/orderbook_responses).
        """
        sides = self._levels.get(ticker)
        if sides is None:
            return [], []
        yes = sorted(sides[0].items())
        no = sorted((ONE_DOLLAR - price, count) for price, count in sides[1].items())
        return yes, no

    def top(self, ticker: str) -> Top:
        """Return the best YES bid and ask (0 and $1 where a side is empty)."""
        sides = self._levels.get(ticker)
        if sides is None:
            return EMPTY_TOP
        bids, asks = sides
        bid = max(bids) if bids else 0
        ask = min(asks) if asks else ONE_DOLLAR
        return Top(bid, bids.get(bid, 0), ask, asks.get(ask, 0))


    # Trades and candlesticks (reads of the stored fills) -----------------------------------

    async def trades(self, query: TradeQuery) -> Page[Fill]:
        """Return a page of public trades (each its taker's fill), newest first."""
        async with self.store.transaction() as tx:
            rows = await tx.list_trades(replace(query, limit=query.limit + 1))
        return Page.of(rows, query.limit, lambda f: (f.created_ts, f.fill_id))

    async def candles(self, ticker: str, start: Instant, end: Instant,
                      period: int) -> list[Candle]:
        """Return the candles of ``period`` microseconds ending in [start, end] with trades.

        Only periods with a trade have a candle: the sandbox keeps no history of quotes,
        so ``yes_bid``/``yes_ask`` of each candle are the book's best at read time
        (docs/behaviour.md, "Market data").
        """
        trades: list[Fill] = []
        after = None
        async with self.store.transaction() as tx:
            while True:
                page = await tx.list_trades(TradeQuery(
                    limit=1000, after=after, ticker=ticker, min_ts=start - period,
                    max_ts=end))
                trades.extend(page)
                if len(page) < 1000:
                    break
                after = (page[-1].created_ts, page[-1].fill_id)
        candles: dict[Instant, Candle] = {}
        for fill in reversed(trades):
            close = ((fill.created_ts - 1) // period + 1) * period
            if not start <= close <= end:
                continue
            candle = candles.get(close)
            if candle is None:
                candles[close] = Candle(close, fill.yes_price, fill.yes_price,
                                        fill.yes_price, fill.yes_price, fill.count,
                                        fill.yes_price * fill.count)
            else:
                candle.high = max(candle.high, fill.yes_price)
                candle.low = min(candle.low, fill.yes_price)
                candle.close = fill.yes_price
                candle.volume += fill.count
                candle.notional += fill.yes_price * fill.count
        return sorted(candles.values(), key=lambda c: c.end)


@dataclass(slots=True)
class Candle:
    """One period's trades: open, high, low, close YES prices and the volume."""

    end: Instant
    open: int
    high: int
    low: int
    close: int
    volume: int
    notional: int

    @property
    def mean(self) -> int:
        return self.notional // self.volume if self.volume else 0


__all__ = ["EMPTY_TOP", "Candle", "MarketData", "Top"]
