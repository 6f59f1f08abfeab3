"""Typed answers of the order endpoints and the public trades and candlesticks.

V2 order entry (https://docs.kalshi.com/api-reference/orders/create-order-v2) answers slim
objects: the order id, what filled and what rests. Read the whole order with
``get_order(order_id)``. Money and counts are :class:`decimal.Decimal`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from kalshi_sandbox.client._envelope import from_ms, raw_field
from kalshi_sandbox.client.models import (
    Side,
    amount,
    count,
    flag,
    integer,
    required_text,
    side,
    text,
    timestamp,
)


def _error(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    value = data.get("error")
    return value if isinstance(value, Mapping) else None


def _count(data: Mapping[str, Any], *names: str) -> Decimal:
    for name in names:
        value = count(data, name)
        if value is not None:
            return value
    return Decimal("0.00")


def _ms(data: Mapping[str, Any]) -> datetime | None:
    stamp = integer(data, "ts_ms")
    return None if stamp is None else from_ms(stamp)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderResult:
    """What placing (or amending) an order did: contracts filled now and left resting.

    In a batch, an item the exchange refused has ``error`` (Kalshi's ``code``, ``message``,
    ``details``) and an empty ``order_id``.
    """

    order_id: str
    fill_count: Decimal
    remaining_count: Decimal
    client_order_id: str | None = None
    average_fill_price: Decimal | None = None
    average_fee_paid: Decimal | None = None
    ts: datetime | None = None
    error: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = raw_field()

    @property
    def ok(self) -> bool:
        """Return True unless this is a refused batch item."""
        return self.error is None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> OrderResult:
        """Read a ``CreateOrderV2Response`` (or an amend's, or a batch item)."""
        return cls(order_id=str(data.get("order_id") or ""),
                   fill_count=_count(data, "fill_count", "fill_count_fp"),
                   remaining_count=_count(data, "remaining_count", "remaining_count_fp"),
                   client_order_id=text(data, "client_order_id"),
                   average_fill_price=amount(data, "average_fill_price"),
                   average_fee_paid=amount(data, "average_fee_paid"), ts=_ms(data),
                   error=_error(data), raw=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelResult:
    """A cancelled order and how many contracts the cancel took off the book."""

    order_id: str
    reduced_by: Decimal
    client_order_id: str | None = None
    ts: datetime | None = None
    error: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = raw_field()

    @property
    def ok(self) -> bool:
        """Return True unless this is a refused batch item."""
        return self.error is None

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> CancelResult:
        """Read a ``CancelOrderV2Response`` (or a batch-cancel item)."""
        return cls(order_id=required_text(data, "order_id"),
                   reduced_by=_count(data, "reduced_by_fp", "reduced_by"),
                   client_order_id=text(data, "client_order_id"), ts=_ms(data),
                   error=_error(data), raw=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class DecreaseResult:
    """A decreased order and the contracts it still has resting."""

    order_id: str
    remaining_count: Decimal
    client_order_id: str | None = None
    ts: datetime | None = None
    raw: Mapping[str, Any] = raw_field()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> DecreaseResult:
        """Read a ``DecreaseOrderV2Response``."""
        return cls(order_id=required_text(data, "order_id"),
                   remaining_count=_count(data, "remaining_count"),
                   client_order_id=text(data, "client_order_id"), ts=_ms(data), raw=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class QueuePosition:
    """A resting order's place: the contracts resting ahead of it at its price (0 = first)."""

    order_id: str
    market_ticker: str
    ahead: Decimal
    raw: Mapping[str, Any] = raw_field()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> QueuePosition:
        """Read one entry of ``GET /portfolio/orders/queue_positions``."""
        return cls(order_id=required_text(data, "order_id"),
                   market_ticker=required_text(data, "market_ticker"),
                   ahead=_count(data, "queue_position_fp", "queue_position"),
                   raw=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderGroup:
    """An order group: its contracts limit over a rolling 15 s, and (read singly) its orders."""

    id: str
    contracts_limit: Decimal | None
    is_auto_cancel_enabled: bool | None
    orders: tuple[str, ...] = ()
    raw: Mapping[str, Any] = raw_field()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], group_id: str = "") -> OrderGroup:
        """Read an order group (``GET /portfolio/order_groups[/{id}]``)."""
        orders = data.get("orders")
        return cls(id=str(data.get("id") or data.get("order_group_id") or group_id),
                   contracts_limit=count(data, "contracts_limit_fp", "contracts_limit"),
                   is_auto_cancel_enabled=flag(data, "is_auto_cancel_enabled"),
                   orders=tuple(str(o) for o in orders) if isinstance(orders, list) else (),
                   raw=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """A public trade; ``taker_side`` is the outcome the taker bought."""

    trade_id: str
    ticker: str
    count: Decimal
    yes_price: Decimal
    no_price: Decimal | None
    taker_side: Side | None
    created_time: datetime | None
    taker_book_side: str | None = None
    is_block_trade: bool | None = None
    raw: Mapping[str, Any] = raw_field()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Trade:
        """Read one trade of ``GET /markets/trades``."""
        trade_count = count(data, "count_fp", "count")
        yes_price = amount(data, "yes_price_dollars", "yes_price")
        if trade_count is None or yes_price is None:
            raise ValueError("a trade needs count_fp and yes_price_dollars")
        return cls(trade_id=required_text(data, "trade_id"),
                   ticker=text(data, "ticker") or required_text(data, "market_ticker"),
                   count=trade_count, yes_price=yes_price,
                   no_price=amount(data, "no_price_dollars", "no_price"),
                   taker_side=side(data, "taker_outcome_side", "taker_side"),
                   created_time=timestamp(data.get("created_time")),
                   taker_book_side=text(data, "taker_book_side"),
                   is_block_trade=flag(data, "is_block_trade"), raw=data)


@dataclass(frozen=True, slots=True, kw_only=True)
class Candlestick:
    """One period's trades: open, high, low, close YES prices (None without trades), volume."""

    end: datetime
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    close: Decimal | None
    volume: Decimal
    raw: Mapping[str, Any] = raw_field()

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Candlestick:
        """Read one ``MarketCandlestick``."""
        price = data.get("price")
        prices: Mapping[str, Any] = price if isinstance(price, Mapping) else {}
        end = timestamp(data.get("end_period_ts"))
        if end is None:
            raise ValueError("missing end_period_ts")
        return cls(end=end, open=amount(prices, "open_dollars", "open"),
                   high=amount(prices, "high_dollars", "high"),
                   low=amount(prices, "low_dollars", "low"),
                   close=amount(prices, "close_dollars", "close"),
                   volume=_count(data, "volume_fp", "volume"), raw=data)


__all__ = ["CancelResult", "Candlestick", "DecreaseResult", "OrderGroup", "OrderResult",
           "QueuePosition", "Trade"]
