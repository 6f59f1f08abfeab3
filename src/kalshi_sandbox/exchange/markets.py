"""Markets of the emulated exchange: created by the operator, closed and reopened by it.

Closing a market (any status but ``active``) closes its open RFQs, reason ``market_closed``,
except those a confirmed quote holds open until it executes or fails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kalshi_sandbox.domain.clock import MICROS, Instant
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters, NotFound
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

YEAR = 365 * 86_400 * MICROS


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """What the control plane needs to create a market; the rest has defaults."""

    ticker: str
    event_ticker: str | None = None
    series_ticker: str | None = None
    title: str | None = None
    subtitle: str = ""
    status: MarketStatus = MarketStatus.ACTIVE
    hvm: bool | None = None
    price_level_structure: str = "linear_cent"
    price_ranges: tuple[PriceRange, ...] | None = None
    open_time: Instant | None = None
    close_time: Instant | None = None
    mve_collection_ticker: str | None = None


class Markets:
    """Create, list and change markets."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.store = exchange.store
        self.clock = exchange.clock

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
        market = Market(
            ticker=ticker, event_ticker=event, series_ticker=series,
            title=spec.title or ticker, subtitle=spec.subtitle, status=spec.status, hvm=hvm,
            price_level_structure=spec.price_level_structure, price_ranges=ranges,
            open_time=spec.open_time if spec.open_time is not None else now - 86_400 * MICROS,
            close_time=spec.close_time if spec.close_time is not None else now + YEAR,
            created_ts=now, updated_ts=now, mve_collection_ticker=spec.mve_collection_ticker,
        )
        async with self.store.transaction() as tx:
            if await tx.get_market(ticker) is not None:
                raise Conflict(f"market {ticker} already exists")
            await tx.insert_market(market)
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
