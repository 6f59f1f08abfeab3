"""Markets of the emulated exchange: created by the operator with their event and series.

A new market starts its own timers (open at ``open_time``, close at ``close_time``) and is
announced on the lifecycle channels; exchange/lifecycle.py moves it on from there. The raw
``update_market`` (``PATCH /sandbox/v1/markets/{ticker}``) sets fields as given: leaving
``active`` closes the market's open RFQs, reason ``market_closed``, except those a confirmed
quote holds open until it executes or fails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kalshi_sandbox.domain.clock import MICROS, Instant
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters, NotFound
from kalshi_sandbox.domain.events import EventLifecycle, MarketLifecycle
from kalshi_sandbox.domain.lifecycle import Leg, MarketEvent, Series, encode_legs
from kalshi_sandbox.domain.market import (
    PRICE_LEVEL_STRUCTURES,
    Market,
    MarketStatus,
    PriceRange,
)
from kalshi_sandbox.domain.queries import MarketQuery
from kalshi_sandbox.domain.rfq import RfqCloseReason
from kalshi_sandbox.domain.rules import is_high_volatility
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.lifecycle import Lifecycle

YEAR = 365 * 86_400 * MICROS


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What the control plane needs to create a market; the rest has defaults."""

    ticker: str
    event_ticker: str | None = None
    series_ticker: str | None = None
    title: str | None = None
    subtitle: str = ""
    status: MarketStatus | None = None
    """None: ``initialized`` if the open time is ahead, else ``active``."""
    hvm: bool | None = None
    price_level_structure: str = "linear_cent"
    price_ranges: tuple[PriceRange, ...] | None = None
    open_time: Instant | None = None
    close_time: Instant | None = None
    mve_collection_ticker: str | None = None
    mve_selected_legs: tuple[Leg, ...] = ()
    event_title: str | None = None
    event_sub_title: str = ""
    series_title: str | None = None
    category: str = "Sandbox"
    settlement_timer: int = 0
    """Microseconds from determination to settlement."""


class Markets:
    """Create, list and change markets; a new market's event and series are created with it
    when they do not exist yet."""

    def __init__(self, exchange: Exchange, lifecycle: Lifecycle | None = None) -> None:
        self.exchange = exchange
        self.store = exchange.store
        self.clock = exchange.clock
        self.lifecycle = lifecycle or Lifecycle(exchange)

    async def create_market(self, spec: MarketSpec) -> Market:
        """Create a market; HVM defaults to true for combo (multivariate) markets."""
        ticker = spec.ticker.strip()
        if not ticker:
            raise InvalidParameters("ticker must not be empty")
        ranges = spec.price_ranges
        if ranges is None:
            ranges = PRICE_LEVEL_STRUCTURES.get(spec.price_level_structure)
            if ranges is None:
                known = ", ".join(sorted(PRICE_LEVEL_STRUCTURES))
                raise InvalidParameters(
                    f"unknown price_level_structure {spec.price_level_structure!r}; give "
                    f"price_ranges or use one of: {known}"
                )
        _check_ranges(ranges)
        now = self.clock.now()
        event = spec.event_ticker or (ticker.rsplit("-", 1)[0] if "-" in ticker else ticker)
        series = spec.series_ticker or event.split("-", 1)[0]
        hvm = spec.hvm
        if hvm is None:
            hvm = is_high_volatility(ticker, spec.mve_collection_ticker)
        open_time = spec.open_time if spec.open_time is not None else now - 86_400 * MICROS
        close_time = spec.close_time if spec.close_time is not None else now + YEAR
        if close_time <= open_time:
            raise InvalidParameters("close_time must come after open_time")
        if not 0 <= spec.settlement_timer <= YEAR:
            raise InvalidParameters("settlement_timer_seconds must be between 0 and a year")
        status = spec.status
        if status is None:
            status = MarketStatus.INITIALIZED if open_time > now else MarketStatus.ACTIVE
        market = Market(
            ticker=ticker, event_ticker=event, series_ticker=series,
            title=spec.title or ticker, subtitle=spec.subtitle, status=status, hvm=hvm,
            price_level_structure=spec.price_level_structure, price_ranges=ranges,
            open_time=open_time, close_time=close_time,
            created_ts=now, updated_ts=now, mve_collection_ticker=spec.mve_collection_ticker,
            settlement_timer=spec.settlement_timer,
            mve_selected_legs=encode_legs(spec.mve_selected_legs),
        )
        async with self.exchange.work() as w:
            tx = w.tx
            if await tx.get_market(ticker) is not None:
                raise Conflict(f"market {ticker} already exists")
            known_series = await tx.get_series(series)
            if known_series is None:
                await tx.insert_series(Series(
                    ticker=series, title=spec.series_title or series, category=spec.category,
                    frequency="custom", tags="", fee_type="quadratic_with_maker_fees",
                    fee_multiplier="1", created_ts=now, updated_ts=now))
            known_event = await tx.get_event(event)
            if known_event is None:
                created = MarketEvent(
                    event_ticker=event, series_ticker=series,
                    title=spec.event_title or spec.title or event,
                    sub_title=spec.event_sub_title, mutually_exclusive=False,
                    created_ts=now, updated_ts=now,
                    mve_collection_ticker=spec.mve_collection_ticker, strike_date=close_time)
                await tx.insert_event(created)
                w.events.append(EventLifecycle(created, now))
            elif known_event.series_ticker != series:
                raise Conflict(f"event {event} belongs to series {known_event.series_ticker}, "
                               f"not {series}")
            else:
                await tx.update_event(replace(known_event, updated_ts=now))
            await tx.insert_market(market)
            # A market created without a close time has a placeholder a year out, and no
            # close timer: it stays open until closed by hand (docs/behaviour.md).
            await self.lifecycle.schedule(w, market, close=spec.close_time is not None)
            w.events.append(MarketLifecycle(market, "created", now))
        return market

    async def list_markets(self) -> list[Market]:
        """Return every market."""
        async with self.store.transaction() as tx:
            return await tx.list_markets(MarketQuery(limit=1_000_000))

    async def update_market(self, ticker: str, *, status: MarketStatus | None = None,
                            hvm: bool | None = None, result: str | None = None) -> Market:
        """Change a market; leaving ``active`` closes its open RFQs (reason market_closed)."""
        async with self.exchange.work() as w:
            market = await w.tx.get_market(ticker)
            if market is None:
                raise NotFound(f"market {ticker} not found")
            changed = replace(
                market,
                status=status if status is not None else market.status,
                hvm=hvm if hvm is not None else market.hvm,
                result=result if result is not None else market.result,
                updated_ts=w.now,
            )
            await w.tx.update_market(changed)
            if not changed.tradable:
                for rfq in await w.tx.open_rfqs_on(ticker):
                    await self.exchange.close_rfq_if_free(w, rfq, RfqCloseReason.MARKET_CLOSED)
        return changed


def _check_ranges(ranges: tuple[PriceRange, ...]) -> None:
    if not ranges:
        raise InvalidParameters("price_ranges must not be empty")
    for band in ranges:
        if not (0 <= band.start < band.end <= 10_000 and band.step > 0):
            raise InvalidParameters("each price range needs 0 <= start < end <= 1 and step > 0")


__all__ = ["MarketSpec", "Markets"]
