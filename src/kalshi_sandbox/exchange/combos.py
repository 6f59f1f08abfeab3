"""Combo (multivariate) markets as use cases: collections, and markets made from their legs.

``POST /multivariate_event_collections/{collection_ticker}`` creates the combo market of the
given legs, or returns it if those legs made one already (the same legs in any order name the
same market). A combo market is an HVM (the 3 s / 1 s windows), on the
``center_deci_edge_centi_cent`` grid, closing with the earliest of its legs
(docs/behaviour.md, "Combos").
"""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_sandbox.domain.clock import MICROS, Instant
from kalshi_sandbox.domain.combos import Collection, check_legs, combo_tickers
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters, NotFound
from kalshi_sandbox.domain.lifecycle import Leg
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.queries import MarketQuery
from kalshi_sandbox.exchange.markets import YEAR, Markets, MarketSpec

COMBO_STRUCTURE = "center_deci_edge_centi_cent"
"""Every combo market's price grid since 2026-08-27."""
MAX_LEGS = 100


@dataclass(frozen=True, slots=True)
class CollectionSpec:
    """What the control plane needs to create a collection."""

    collection_ticker: str
    associated_events: tuple[str, ...]
    series_ticker: str | None = None
    title: str | None = None
    description: str = ""
    open_date: Instant | None = None
    close_date: Instant | None = None
    is_single_market_per_event: bool | None = None
    is_all_yes: bool = False
    size_min: int = 2
    size_max: int = 10


class Combos:
    """Create collections and the combo markets of their legs."""

    def __init__(self, markets: Markets) -> None:
        self.markets = markets
        self.store = markets.store
        self.clock = markets.clock

    async def create_collection(self, spec: CollectionSpec) -> Collection:
        """Create a collection over existing events."""
        ticker = spec.collection_ticker.strip()
        if not ticker:
            raise InvalidParameters("collection_ticker must not be empty")
        if not spec.associated_events:
            raise InvalidParameters("associated_events must name at least one event")
        if not 1 <= spec.size_min <= spec.size_max <= MAX_LEGS:
            raise InvalidParameters(f"need 1 <= size_min <= size_max <= {MAX_LEGS}")
        now = self.clock.now()
        collection = Collection(
            collection_ticker=ticker, series_ticker=spec.series_ticker or ticker,
            title=spec.title or ticker, description=spec.description,
            associated_events=",".join(dict.fromkeys(spec.associated_events)),
            open_date=spec.open_date if spec.open_date is not None else now,
            close_date=spec.close_date if spec.close_date is not None else now + YEAR,
            is_single_market_per_event=(spec.is_single_market_per_event
                                        if spec.is_single_market_per_event is not None
                                        else True),
            is_all_yes=spec.is_all_yes, size_min=spec.size_min, size_max=spec.size_max,
            created_ts=now)
        async with self.store.transaction() as tx:
            if await tx.get_collection(ticker) is not None:
                raise Conflict(f"collection {ticker} already exists")
            for event in spec.associated_events:
                if await tx.get_event(event) is None:
                    raise InvalidParameters(f"event {event} not found")
            await tx.insert_collection(collection)
        return collection

    async def create_market(self, collection_ticker: str, legs: tuple[Leg, ...]) -> Market:
        """Return the combo market of ``legs`` in the collection, creating it if needed."""
        async with self.store.transaction() as tx:
            collection = await tx.get_collection(collection_ticker)
            if collection is None:
                raise NotFound(f"collection {collection_ticker} not found", message="not found")
            found = await tx.list_markets(MarketQuery(
                limit=len(legs) or 1, tickers=tuple({leg.market_ticker for leg in legs})))
        now = self.clock.now()
        if not collection.open_date <= now < collection.close_date:
            raise InvalidParameters(f"collection {collection_ticker} is not open")
        check_legs(collection, legs, {m.ticker: m.event_ticker for m in found})
        closed = [m.ticker for m in found if not m.tradable]
        if closed:
            raise InvalidParameters(",".join(closed), message="invalid market combination",
                                    code="invalid_market_combination")
        event, ticker = combo_tickers(collection, legs)
        try:
            return await self.markets.exchange.get_market(ticker)
        except NotFound:
            pass
        close = min([m.close_time for m in found] + [collection.close_date])
        title = " & ".join(f"{leg.side} {leg.market_ticker}" for leg in legs)
        try:
            return await self.markets.create_market(MarketSpec(
                ticker=ticker, event_ticker=event, series_ticker=collection.series_ticker,
                title=title, price_level_structure=COMBO_STRUCTURE,
                open_time=now - MICROS, close_time=max(close, now + MICROS),
                mve_collection_ticker=collection.collection_ticker, mve_selected_legs=legs,
                event_title=f"{collection.title}: {title}"))
        except Conflict:  # created by a concurrent request with the same legs
            return await self.markets.exchange.get_market(ticker)


__all__ = ["COMBO_STRUCTURE", "CollectionSpec", "Combos"]
