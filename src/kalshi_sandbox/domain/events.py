"""Domain events: immutable facts, named in the past tense, published after commit.

Events carry domain objects, not wire payloads: each front door (the WebSocket channel, the
journal) renders them for its audience, applying who may see what (domain/rfq.py, domain/quote.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.portfolio import Fill, Order
from kalshi_sandbox.domain.quote import Quote
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
)
