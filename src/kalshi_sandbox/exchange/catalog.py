"""The read side of a market's life: series, events (with their markets), settlements and
combo collections, page by page, each read one transaction."""

from __future__ import annotations

from dataclasses import dataclass, replace

from kalshi_sandbox.domain.clock import Clock
from kalshi_sandbox.domain.combos import Collection
from kalshi_sandbox.domain.errors import NotFound
from kalshi_sandbox.domain.lifecycle import MarketEvent, Series, Settlement
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.queries import (
    CollectionQuery,
    EventQuery,
    MarketQuery,
    PortfolioQuery,
    SeriesQuery,
)
from kalshi_sandbox.exchange.commands import Actor, Page
from kalshi_sandbox.exchange.ports import Store, Transaction

ALL_MARKETS = 10_000
"""At most this many markets of one event are nested in it."""


@dataclass(frozen=True, slots=True)
class EventView:
    """An event and, when asked for, its markets in ticker order."""

    event: MarketEvent
    markets: tuple[Market, ...] = ()


class Catalog:
    """Read series, events, settlements and collections."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def series(self, ticker: str) -> Series:
        """Return one series."""
        async with self.store.transaction() as tx:
            series = await tx.get_series(ticker)
        if series is None:
            raise NotFound(f"series {ticker} not found", message="series not found")
        return series

    async def list_series(self, query: SeriesQuery) -> Page[Series]:
        """Return a page of series in ticker order."""
        async with self.store.transaction() as tx:
            rows = await tx.list_series(replace(query, limit=query.limit + 1))
        return Page.of(rows, query.limit, lambda s: (0, s.ticker))

    async def event(self, event_ticker: str, *, nested: bool = True) -> EventView:
        """Return one event with its markets."""
        async with self.store.transaction() as tx:
            event = await tx.get_event(event_ticker)
            if event is None:
                raise NotFound(f"event {event_ticker} not found", message="event not found")
            return EventView(event, await self._markets(tx, event) if nested else ())

    async def list_events(self, query: EventQuery, *, nested: bool) -> Page[EventView]:
        """Return a page of events in ticker order, with their markets if ``nested``."""
        async with self.store.transaction() as tx:
            rows = await tx.list_events(replace(query, limit=query.limit + 1))
            markets: dict[str, list[Market]] = {}
            if nested:
                # One read for the page's markets, not one per event.
                for market in await tx.markets_of_events([e.event_ticker for e in rows]):
                    markets.setdefault(market.event_ticker, []).append(market)
            views = [EventView(e, tuple(markets.get(e.event_ticker, ()))) for e in rows]
        return Page.of(views, query.limit, lambda v: (0, v.event.event_ticker))

    @staticmethod
    async def _markets(tx: Transaction, event: MarketEvent) -> tuple[Market, ...]:
        return tuple(await tx.list_markets(MarketQuery(limit=ALL_MARKETS,
                                                       event_ticker=event.event_ticker)))

    async def settlements(self, actor: Actor, query: PortfolioQuery) -> Page[Settlement]:
        """Return a page of the caller's settlements, newest first."""
        async with self.store.transaction() as tx:
            rows = await tx.list_settlements(replace(query, user_id=actor.user_id,
                                                     limit=query.limit + 1))
        return Page.of(rows, query.limit, lambda s: (s.settled_ts, s.id))

    async def collection(self, ticker: str) -> Collection:
        """Return one multivariate event collection."""
        async with self.store.transaction() as tx:
            collection = await tx.get_collection(ticker)
        if collection is None:
            raise NotFound(f"collection {ticker} not found", message="not found")
        return collection

    async def list_collections(self, query: CollectionQuery) -> Page[Collection]:
        """Return a page of collections in ticker order."""
        query = replace(query, limit=query.limit + 1, open_at=self.clock.now())
        async with self.store.transaction() as tx:
            rows = await tx.list_collections(query)
        return Page.of(rows, query.limit - 1, lambda c: (0, c.collection_ticker))


__all__ = ["Catalog", "EventView"]
