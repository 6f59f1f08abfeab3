"""What a WebSocket subscription yields: the channels' messages and stream events.

Data messages (https://docs.kalshi.com/websockets/communications; the market-data channels'
in client/market_messages.py) carry their envelope's
``sid``, ``seq`` and ``sending_ts_ms`` next to the typed payload. Stream events report what
happened to the connection itself: :class:`Subscribed` when the server acknowledged a channel,
:class:`SequenceGap` when ``seq`` skipped numbers (messages were lost; the channel has no
replay), :class:`SubscriptionDropped` when the server dropped one subscription (error 25, a
connection too far behind) and it is subscribed again, and :class:`Reconnected` after the
connection dropped and was re-established (messages sent meanwhile are lost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from kalshi_sandbox.client._envelope import StreamMessage, envelope_fields, from_ms
from kalshi_sandbox.client.market_messages import (
    MARKET_MESSAGE_TYPES,
    MarketPositionMessage,
    OrderbookDelta,
    OrderbookSnapshot,
    TickerMessage,
    TradeMessage,
    parse_market_message,
)
from kalshi_sandbox.client.models import (
    CENTI_CENT,
    MveSelectedLeg,
    Side,
    amount,
    count,
    flag,
    integer,
    legs,
    required_amount,
    required_text,
    required_timestamp,
    side,
    text,
    timestamp,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RfqCreated(StreamMessage):
    """An RFQ was created (sent to every subscriber)."""

    id: str
    creator_id: str
    market_ticker: str
    created_ts: datetime
    event_ticker: str | None = None
    contracts: Decimal | None = None
    target_cost: Decimal | None = None
    mve_collection_ticker: str | None = None
    mve_selected_legs: tuple[MveSelectedLeg, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RfqDeleted(StreamMessage):
    """An RFQ was closed for any reason: deleted, replaced, executed or expired."""

    id: str
    creator_id: str
    market_ticker: str
    deleted_ts: datetime
    event_ticker: str | None = None
    contracts: Decimal | None = None
    target_cost: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteCreated(StreamMessage):
    """A quote was created (sent to its maker and to the RFQ's requester)."""

    quote_id: str
    rfq_id: str
    quote_creator_id: str
    rfq_creator_id: str
    market_ticker: str
    yes_bid: Decimal
    no_bid: Decimal
    created_ts: datetime
    event_ticker: str | None = None
    yes_contracts_offered: Decimal | None = None
    no_contracts_offered: Decimal | None = None
    rfq_target_cost: Decimal | None = None
    subaccount: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteAccepted(StreamMessage):
    """The requester accepted a quote; the maker now has to confirm it in time."""

    quote_id: str
    rfq_id: str
    quote_creator_id: str
    rfq_creator_id: str
    market_ticker: str
    yes_bid: Decimal
    no_bid: Decimal
    accepted_side: Side | None = None
    contracts_accepted: Decimal | None = None
    event_ticker: str | None = None
    yes_contracts_offered: Decimal | None = None
    no_contracts_offered: Decimal | None = None
    rfq_target_cost: Decimal | None = None
    subaccount: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteExecuted(StreamMessage):
    """A confirmed quote executed; ``order_id`` is the recipient's own order."""

    quote_id: str
    rfq_id: str
    quote_creator_id: str
    rfq_creator_id: str
    order_id: str
    client_order_id: str | None
    market_ticker: str
    executed_ts: datetime
    event_ticker: str | None = None
    subaccount: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FillMessage(StreamMessage):
    """One of your orders filled (channel ``fill``); an RFQ execution sends one per party."""

    trade_id: str
    order_id: str
    market_ticker: str
    side: Side
    yes_price: Decimal
    count: Decimal
    ts: datetime
    no_price: Decimal | None = None
    action: str | None = None
    is_taker: bool | None = None
    fee_cost: Decimal | None = None
    post_position: Decimal | None = None
    client_order_id: str | None = None
    subaccount: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserOrderMessage(StreamMessage):
    """One of your orders was created or changed (channel ``user_orders``)."""

    order_id: str
    ticker: str
    status: str
    side: Side
    yes_price: Decimal
    no_price: Decimal | None = None
    action: str | None = None
    initial_count: Decimal | None = None
    fill_count: Decimal | None = None
    remaining_count: Decimal | None = None
    client_order_id: str | None = None
    created_time: datetime | None = None
    last_update_time: datetime | None = None
    subaccount: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMessage(StreamMessage):
    """A message of a type this client does not model, or one that did not parse."""

    error: str | None = None


@dataclass(frozen=True, slots=True)
class Subscribed:
    """The server acknowledged a subscription to ``channel`` under ``sid``."""

    channel: str
    sid: int


@dataclass(frozen=True, slots=True)
class SequenceGap:
    """``seq`` on ``sid`` jumped from ``expected`` to ``received``: messages were lost."""

    sid: int
    expected: int
    received: int

    @property
    def missed(self) -> int:
        """Return how many messages were lost."""
        return self.received - self.expected


@dataclass(frozen=True, slots=True)
class SubscriptionDropped:
    """The server dropped subscription ``sid`` of ``channel`` with error ``code``.

    Code 25 (``message`` "Subscription buffer overflow") means the connection fell so far
    behind that its waiting messages were discarded. The channel is subscribed again at once
    (a new :class:`Subscribed` follows); what was sent in between is lost, so re-read state
    over REST if it matters.
    """

    channel: str
    sid: int
    code: int
    message: str


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The connection dropped (``reason``) and was re-established after ``attempts`` tries.

    The channels are subscribed again (each yields a new :class:`Subscribed`); whatever was
    sent while disconnected is lost, so re-read state over REST if it matters.
    """

    attempts: int
    reason: str


DataMessage = (RfqCreated | RfqDeleted | QuoteCreated | QuoteAccepted | QuoteExecuted
               | FillMessage | UserOrderMessage | OrderbookSnapshot | OrderbookDelta
               | TickerMessage | TradeMessage | MarketPositionMessage | UnknownMessage)
"""A message the server sent on a channel."""

StreamEvent = DataMessage | Subscribed | SequenceGap | SubscriptionDropped | Reconnected
"""Everything a subscription yields."""


def _quote_common(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "quote_id": required_text(m, "quote_id"),
        "rfq_id": required_text(m, "rfq_id"),
        "quote_creator_id": required_text(m, "quote_creator_id"),
        "rfq_creator_id": required_text(m, "rfq_creator_id"),
        "market_ticker": required_text(m, "market_ticker"),
        "event_ticker": text(m, "event_ticker"),
        "subaccount": integer(m, "subaccount"),
    }


def _offers(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "yes_bid": required_amount(m, "yes_bid_dollars", "yes_bid"),
        "no_bid": required_amount(m, "no_bid_dollars", "no_bid"),
        "yes_contracts_offered": count(m, "yes_contracts_offered_fp"),
        "no_contracts_offered": count(m, "no_contracts_offered_fp"),
        "rfq_target_cost": amount(m, "rfq_target_cost_dollars", "rfq_target_cost_centi_cents",
                                  CENTI_CENT),
    }


def _required_side(m: Mapping[str, Any], *names: str) -> Side:
    value = side(m, *names)
    if value is None:
        raise ValueError(f"missing {names[0]}")
    return value


def _required_count(m: Mapping[str, Any], current: str, legacy: str) -> Decimal:
    value = count(m, current, legacy)
    if value is None:
        raise ValueError(f"missing {current}")
    return value


def parse_message(envelope: Mapping[str, Any]) -> DataMessage:
    """Turn a data envelope into its typed message (:class:`UnknownMessage` if unmodelled)."""
    base = envelope_fields(envelope)
    m: Mapping[str, Any] = base["raw"]
    kind = base["type"]
    try:
        if kind in MARKET_MESSAGE_TYPES:
            return parse_market_message(kind, base)
        if kind == "rfq_created":
            return RfqCreated(
                **base, id=required_text(m, "id"), creator_id=required_text(m, "creator_id"),
                market_ticker=required_text(m, "market_ticker"),
                created_ts=required_timestamp(m.get("created_ts"), "created_ts"),
                event_ticker=text(m, "event_ticker"),
                contracts=count(m, "contracts_fp", "contracts"),
                target_cost=amount(m, "target_cost_dollars", "target_cost_centi_cents",
                                   CENTI_CENT),
                mve_collection_ticker=text(m, "mve_collection_ticker"),
                mve_selected_legs=legs(m.get("mve_selected_legs")),
            )
        if kind == "rfq_deleted":
            return RfqDeleted(
                **base, id=required_text(m, "id"), creator_id=required_text(m, "creator_id"),
                market_ticker=required_text(m, "market_ticker"),
                deleted_ts=required_timestamp(m.get("deleted_ts"), "deleted_ts"),
                event_ticker=text(m, "event_ticker"),
                contracts=count(m, "contracts_fp", "contracts"),
                target_cost=amount(m, "target_cost_dollars", "target_cost_centi_cents",
                                   CENTI_CENT),
            )
        if kind == "quote_created":
            return QuoteCreated(
                **base, **_quote_common(m), **_offers(m),
                created_ts=required_timestamp(m.get("created_ts"), "created_ts"),
            )
        if kind == "quote_accepted":
            return QuoteAccepted(
                **base, **_quote_common(m), **_offers(m),
                accepted_side=side(m, "accepted_side"),
                contracts_accepted=count(m, "contracts_accepted_fp"),
            )
        if kind == "quote_executed":
            return QuoteExecuted(
                **base, **_quote_common(m), order_id=required_text(m, "order_id"),
                client_order_id=text(m, "client_order_id"),
                executed_ts=required_timestamp(m.get("executed_ts"), "executed_ts"),
            )
        if kind == "fill":
            stamp = integer(m, "ts_ms")
            return FillMessage(
                **base, trade_id=required_text(m, "trade_id"),
                order_id=required_text(m, "order_id"),
                market_ticker=required_text(m, "market_ticker"),
                side=_required_side(m, "purchased_side", "side"),
                yes_price=required_amount(m, "yes_price_dollars", "yes_price"),
                no_price=amount(m, "no_price_dollars", "no_price"),
                count=_required_count(m, "count_fp", "count"),
                ts=(from_ms(stamp) if stamp is not None
                    else required_timestamp(m.get("ts"), "ts")),
                action=text(m, "action"), is_taker=flag(m, "is_taker"),
                fee_cost=amount(m, "fee_cost"),
                post_position=count(m, "post_position_fp", "post_position"),
                client_order_id=text(m, "client_order_id"), subaccount=integer(m, "subaccount"),
            )
        if kind == "user_order":
            return UserOrderMessage(
                **base, order_id=required_text(m, "order_id"),
                ticker=required_text(m, "ticker"), status=required_text(m, "status"),
                side=_required_side(m, "outcome_side", "side"),
                yes_price=required_amount(m, "yes_price_dollars", "yes_price"),
                no_price=amount(m, "no_price_dollars", "no_price"),
                action=text(m, "action"),
                initial_count=count(m, "initial_count_fp", "initial_count"),
                fill_count=count(m, "fill_count_fp", "fill_count"),
                remaining_count=count(m, "remaining_count_fp", "remaining_count"),
                client_order_id=text(m, "client_order_id"),
                created_time=timestamp(m.get("created_time")),
                last_update_time=timestamp(m.get("last_update_time")),
                subaccount=integer(m, "subaccount_number"),
            )
    except (ValueError, TypeError) as exc:
        return UnknownMessage(**base, error=f"could not read {kind}: {exc}")
    return UnknownMessage(**base)


__all__ = [
    "DataMessage",
    "FillMessage",
    "MarketPositionMessage",
    "OrderbookDelta",
    "OrderbookSnapshot",
    "QuoteAccepted",
    "QuoteCreated",
    "QuoteExecuted",
    "Reconnected",
    "RfqCreated",
    "RfqDeleted",
    "SequenceGap",
    "StreamEvent",
    "StreamMessage",
    "Subscribed",
    "SubscriptionDropped",
    "TickerMessage",
    "TradeMessage",
    "UnknownMessage",
    "UserOrderMessage",
    "parse_message",
]
