"""Read queries: filters and keyset positions for listing stored objects."""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.rfq import RfqStatus

Cursor = tuple[Instant, str]
"""A keyset position: (sort instant, id) of the last row of the previous page."""


@dataclass(frozen=True, slots=True)
class RfqQuery:
    """Filters for listing RFQs, newest first."""

    limit: int
    after: Cursor | None = None
    market_ticker: str | None = None
    event_ticker: str | None = None
    status: RfqStatus | None = None
    creator_user_id: str | None = None
    subaccount: int | None = None
    closed_since: Instant | None = None
    """Hide closed RFQs last updated before this instant (retention)."""
    hide_obscured: bool = False
    """Leave out RFQs whose creator asked to be obscured."""


@dataclass(frozen=True, slots=True)
class QuoteQuery:
    """Filters for listing quotes visible to ``viewer_user_id``, newest first."""

    viewer_user_id: str
    limit: int
    after: Cursor | None = None
    status: QuoteStatus | None = None
    rfq_id: str | None = None
    creator_user_id: str | None = None
    rfq_creator_user_id: str | None = None
    min_updated: Instant | None = None
    max_updated: Instant | None = None
    cancelled_since: Instant | None = None
    """Hide cancelled quotes last updated before this instant (retention)."""


@dataclass(frozen=True, slots=True)
class MarketQuery:
    """Filters for listing markets, in ticker order."""

    limit: int
    after: str | None = None
    event_ticker: str | None = None
    series_ticker: str | None = None
    statuses: tuple[str, ...] | None = None
    tickers: tuple[str, ...] | None = None
    mve: bool | None = None
    min_created: Instant | None = None
    max_created: Instant | None = None
    min_updated: Instant | None = None
    min_close: Instant | None = None
    max_close: Instant | None = None
    min_settled: Instant | None = None
    """Only settled markets, settled (last updated) at or after this instant."""
    max_settled: Instant | None = None


@dataclass(frozen=True, slots=True)
class PortfolioQuery:
    """Filters for a user's orders, fills or positions, newest first."""

    user_id: str
    limit: int
    after: Cursor | None = None
    ticker: str | None = None
    event_ticker: str | None = None
    order_id: str | None = None
    status: str | None = None
    subaccount: int | None = None
    min_ts: Instant | None = None
    max_ts: Instant | None = None


@dataclass(frozen=True, slots=True)
class TradeQuery:
    """Filters for listing public trades (the takers' fills), newest first."""

    limit: int
    after: Cursor | None = None
    ticker: str | None = None
    min_ts: Instant | None = None
    max_ts: Instant | None = None
    is_block_trade: bool | None = None


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Filters for listing events, in ticker order."""

    limit: int
    after: str | None = None
    series_ticker: str | None = None
    tickers: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    """Only events with a market in one of these statuses."""
    mve: bool = False
    """Combo (multivariate) events instead of the others."""
    collection_ticker: str | None = None
    min_close: Instant | None = None
    """Only events with a market closing at or after this instant."""
    min_updated: Instant | None = None


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    """Filters for listing series, in ticker order."""

    limit: int
    after: str | None = None
    category: str | None = None
    tags: tuple[str, ...] | None = None
    min_updated: Instant | None = None


@dataclass(frozen=True, slots=True)
class CollectionQuery:
    """Filters for listing multivariate event collections, in ticker order."""

    limit: int
    after: str | None = None
    series_ticker: str | None = None
    associated_event: str | None = None
    open_at: Instant | None = None
    """With ``status``: the instant against which open and close dates are compared."""
    status: str | None = None


@dataclass(frozen=True, slots=True)
class BlockTradeQuery:
    """Filters for listing the block-trade proposals ``viewer_user_id`` may see, newest first."""

    viewer_user_id: str
    limit: int
    after: Cursor | None = None
    market_ticker: str | None = None
    status: str | None = None
