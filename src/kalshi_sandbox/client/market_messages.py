"""Messages of the market-data channels: ``orderbook_delta``, ``ticker``, ``trade``,
``market_positions`` (https://docs.kalshi.com/websockets/orderbook-updates and its sibling
pages).

Prices are dollars and counts contracts, as :class:`decimal.Decimal`. Order book levels are
bids only: YES bids at YES prices, NO bids at NO prices (unless the subscription asked for
``use_yes_price``, when NO levels come at YES prices). :class:`~kalshi_sandbox.client.book.LiveBook`
keeps a book from a snapshot and its deltas.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from kalshi_sandbox.client._envelope import StreamMessage, from_ms
from kalshi_sandbox.client.models import (
    CENT,
    Side,
    amount,
    count,
    flag,
    integer,
    required_amount,
    required_text,
    side,
    text,
    timestamp,
)

Level = tuple[Decimal, Decimal]
"""A price level: (price in dollars, contracts resting)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderbookSnapshot(StreamMessage):
    """A market's whole book, first on an ``orderbook_delta`` subscription (ascending)."""

    market_ticker: str
    market_id: str | None
    yes: tuple[Level, ...]
    no: tuple[Level, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderbookDelta(StreamMessage):
    """The count resting at one level changed by ``delta``; ``side`` names the ladder.

    ``client_order_id`` and ``subaccount`` are present only on your copy, when your order
    caused the change.
    """

    market_ticker: str
    market_id: str | None
    price: Decimal
    delta: Decimal
    side: Side
    ts: datetime | None = None
    client_order_id: str | None = None
    subaccount: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TickerMessage(StreamMessage):
    """A market's best bid and ask (with sizes), last price, volume and open interest."""

    market_ticker: str
    price: Decimal | None
    yes_bid: Decimal | None
    yes_ask: Decimal | None
    yes_bid_size: Decimal | None = None
    yes_ask_size: Decimal | None = None
    volume: Decimal | None = None
    open_interest: Decimal | None = None
    ts: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeMessage(StreamMessage):
    """A public trade; ``taker_side`` is the outcome the taker bought."""

    trade_id: str
    market_ticker: str
    yes_price: Decimal
    no_price: Decimal | None
    count: Decimal
    taker_side: Side | None
    taker_book_side: str | None = None
    is_block_trade: bool | None = None
    ts: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MarketPositionMessage(StreamMessage):
    """Your position in a market changed (+ YES, - NO contracts)."""

    market_ticker: str
    position: Decimal
    position_cost: Decimal | None = None
    realized_pnl: Decimal | None = None
    fees_paid: Decimal | None = None
    volume: Decimal | None = None
    subaccount: int | None = None


MarketMessage = (OrderbookSnapshot | OrderbookDelta | TickerMessage | TradeMessage
                 | MarketPositionMessage)

MARKET_MESSAGE_TYPES = frozenset({"orderbook_snapshot", "orderbook_delta", "ticker", "trade",
                                  "market_position"})


def levels(value: Any, legacy_cents: bool = False) -> tuple[Level, ...]:
    """Read ``[[price, count], ...]`` levels (dollar strings, or legacy cents and ints)."""
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    out: list[Level] = []
    for item in value:
        if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 2:
            raise ValueError(f"not a price level: {item!r}")
        price, size = Decimal(str(item[0])), Decimal(str(item[1]))
        out.append((price * CENT if legacy_cents else price, size))
    return tuple(out)


def _book_side(m: Mapping[str, Any], current: str, dollars: str, cents: str
               ) -> tuple[Level, ...]:
    if m.get(current) is not None:
        return levels(m[current])
    if m.get(dollars) is not None:
        return levels(m[dollars])
    return levels(m.get(cents), legacy_cents=True)


def _when(m: Mapping[str, Any]) -> datetime | None:
    stamp = integer(m, "ts_ms")
    if stamp is not None:
        return from_ms(stamp)
    return timestamp(m.get("ts"))


def _required(value: Decimal | None, name: str) -> Decimal:
    if value is None:
        raise ValueError(f"missing {name}")
    return value


def parse_market_message(kind: str, base: dict[str, Any]) -> MarketMessage:
    """Read one market-data message from its envelope's fields (``raw`` is the ``msg``)."""
    m: Mapping[str, Any] = base["raw"]
    if kind == "orderbook_snapshot":
        return OrderbookSnapshot(
            **base, market_ticker=required_text(m, "market_ticker"),
            market_id=text(m, "market_id"),
            yes=_book_side(m, "yes_dollars_fp", "yes_dollars", "yes"),
            no=_book_side(m, "no_dollars_fp", "no_dollars", "no"))
    if kind == "orderbook_delta":
        found = side(m, "side")
        if found is None:
            raise ValueError("missing side")
        return OrderbookDelta(
            **base, market_ticker=required_text(m, "market_ticker"),
            market_id=text(m, "market_id"),
            price=required_amount(m, "price_dollars", "price"),
            delta=_required(count(m, "delta_fp", "delta"), "delta_fp"), side=found,
            ts=_when(m), client_order_id=text(m, "client_order_id"),
            subaccount=integer(m, "subaccount"))
    if kind == "ticker":
        return TickerMessage(
            **base, market_ticker=required_text(m, "market_ticker"),
            price=amount(m, "price_dollars", "price"),
            yes_bid=amount(m, "yes_bid_dollars", "yes_bid"),
            yes_ask=amount(m, "yes_ask_dollars", "yes_ask"),
            yes_bid_size=count(m, "yes_bid_size_fp"), yes_ask_size=count(m, "yes_ask_size_fp"),
            volume=count(m, "volume_fp", "volume"),
            open_interest=count(m, "open_interest_fp", "open_interest"), ts=_when(m))
    if kind == "trade":
        return TradeMessage(
            **base, trade_id=required_text(m, "trade_id"),
            market_ticker=required_text(m, "market_ticker"),
            yes_price=required_amount(m, "yes_price_dollars", "yes_price"),
            no_price=amount(m, "no_price_dollars", "no_price"),
            count=_required(count(m, "count_fp", "count"), "count_fp"),
            taker_side=side(m, "taker_outcome_side", "taker_side"),
            taker_book_side=text(m, "taker_book_side"),
            is_block_trade=flag(m, "is_block_trade"), ts=_when(m))
    assert kind == "market_position"
    return MarketPositionMessage(
        **base, market_ticker=required_text(m, "market_ticker"),
        position=_required(count(m, "position_fp", "position"), "position_fp"),
        position_cost=amount(m, "position_cost_dollars"),
        realized_pnl=amount(m, "realized_pnl_dollars"),
        fees_paid=amount(m, "fees_paid_dollars"), volume=count(m, "volume_fp"),
        subaccount=integer(m, "subaccount"))


__all__ = [
    "MARKET_MESSAGE_TYPES",
    "Level",
    "MarketMessage",
    "MarketPositionMessage",
    "OrderbookDelta",
    "OrderbookSnapshot",
    "TickerMessage",
    "TradeMessage",
    "levels",
    "parse_market_message",
]
