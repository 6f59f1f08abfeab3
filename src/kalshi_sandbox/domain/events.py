"""Domain events: immutable facts, named in the past tense, published after commit.

Events carry domain objects, not wire payloads: each front door (the WebSocket channel, the
journal) renders them for its audience, applying who may see what (domain/rfq.py, domain/quote.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.lifecycle import MarketEvent
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.orders import OrderGroup
from kalshi_sandbox.domain.portfolio import Fill, Order, Position
from kalshi_sandbox.domain.quote import Quote, Side
from kalshi_sandbox.domain.rfq import Rfq


@dataclass(frozen=True, slots=True)
class RfqCreated:
    """An RFQ was opened; every communications subscriber hears of it."""

    rfq: Rfq


@dataclass(frozen=True, slots=True)
class RfqDeleted:
    """An RFQ closed for any reason: deleted, replaced, executed, expired, market closed."""

    rfq: Rfq
    deleted_ts: Instant


@dataclass(frozen=True, slots=True)
class QuoteCreated:
    """A maker quoted an RFQ; only that maker and the requester hear of it."""

    quote: Quote


@dataclass(frozen=True, slots=True)
class QuoteAccepted:
    """The requester accepted one side of a quote; the confirmation window is running."""

    quote: Quote


@dataclass(frozen=True, slots=True)
class QuoteConfirmed:
    """The maker confirmed; the execution timer is running (Kalshi sends no message)."""

    quote: Quote


@dataclass(frozen=True, slots=True)
class QuoteCancelled:
    """A quote was cancelled, replaced or voided (Kalshi sends no message)."""

    quote: Quote


@dataclass(frozen=True, slots=True)
class QuoteExecuted:
    """A confirmed quote traded; each party has its own order."""

    quote: Quote
    maker_order: Order
    requester_order: Order


@dataclass(frozen=True, slots=True)
class OrderUpdated:
    """An order was created or changed."""

    order: Order
    created: bool


@dataclass(frozen=True, slots=True)
class FillCreated:
    """A user's order filled (part of) its size."""

    fill: Fill
    post_position: int | None = None
    """The user's position in the market after this fill (0.01-contract units, + = YES)."""


@dataclass(frozen=True, slots=True)
class LevelChanged:
    """The resting count at one price level of a market's book changed (``orderbook_delta``)."""

    ticker: str
    side: Side
    """``YES``: the YES bid ladder; ``NO``: the NO bid ladder (YES asks)."""
    yes_price: int
    delta: int
    user_id: str
    """Whose order changed the level (its owner alone sees ``client_order_id``)."""
    subaccount: int
    client_order_id: str
    ts: Instant


@dataclass(frozen=True, slots=True)
class PositionChanged:
    """A user's position in a market changed (``market_positions``)."""

    position: Position


@dataclass(frozen=True, slots=True)
class MarketUpdated:
    """A market's trading figures changed: last price, volume, open interest (``ticker``)."""

    market: Market


@dataclass(frozen=True, slots=True)
class OrderGroupChanged:
    """An order group was created, triggered, reset, deleted or given a new limit
    (``order_group_updates``)."""

    group: OrderGroup
    event_type: str
    """``created``, ``triggered``, ``reset``, ``deleted`` or ``limit_updated``."""
    ts: Instant


@dataclass(frozen=True, slots=True)
class MarketLifecycle:
    """A market was created or changed status or close time (``market_lifecycle_v2``, or
    ``multivariate_market_lifecycle`` for a combo market)."""

    market: Market
    event_type: str
    """``created``, ``activated``, ``deactivated``, ``close_date_updated``, ``determined``
    or ``settled``."""
    ts: Instant


@dataclass(frozen=True, slots=True)
class EventLifecycle:
    """An event was created (``event_lifecycle`` on the lifecycle channels)."""

    market_event: MarketEvent
    ts: Instant


Event = (
    RfqCreated
    | RfqDeleted
    | QuoteCreated
    | QuoteAccepted
    | QuoteConfirmed
    | QuoteCancelled
    | QuoteExecuted
    | OrderUpdated
    | FillCreated
    | LevelChanged
    | PositionChanged
    | MarketUpdated
    | OrderGroupChanged
    | MarketLifecycle
    | EventLifecycle
)
