"""Routing committed events to WebSocket subscriptions: who hears what, in commit order.

The fanout listens to a ``Feed`` (exchange/bus.py) and, for each committed batch, renders
every event once per distinct audience and hands each subscription its frame. Sequence numbers
are assigned here, synchronously, in batch order, so ``seq`` runs 1, 2, 3 ... per ``sid`` in
commit order whatever the connections do afterwards.

Recipients (docs/behaviour.md, "WebSocket"):

* ``rfq_created`` / ``rfq_deleted``: every ``communications`` subscription, or only the
  creator's own with ``user_filter: "self"``; the creator id is obscured for others when the
  RFQ asks for it, except for the maker whose quote executed on it.
* ``quote_created`` / ``quote_accepted`` / ``quote_executed``: the quote's maker and the RFQ's
  requester only, each rendered for its recipient (``quote_executed`` with its own order).
* ``fill`` and ``user_order``: the owner's ``fill`` / ``user_orders`` subscriptions.

Injected faults (powers/faults/) are asked about each data message after its ``seq`` is taken:
a lost message leaves a gap, as on Kalshi, and a held-back one keeps its place in the queue.

``shard_factor``/``shard_key`` split ``communications`` messages by market ticker with jump
consistent hashing, so a ticker stays on its shard and growing the factor moves few tickers.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, Protocol

import msgspec

from kalshi_sandbox.api.ws import render
from kalshi_sandbox.domain.clock import Clock
from kalshi_sandbox.domain.events import (
    Event,
    EventLifecycle,
    FillCreated,
    LevelChanged,
    MarketLifecycle,
    MarketUpdated,
    OrderGroupChanged,
    OrderUpdated,
    PositionChanged,
    QuoteAccepted,
    QuoteCreated,
    QuoteExecuted,
    RfqCreated,
    RfqDeleted,
)
from kalshi_sandbox.domain.quote import Quote
from kalshi_sandbox.domain.rfq import Rfq
from kalshi_sandbox.exchange.bus import Feed

log = logging.getLogger(__name__)

COMMUNICATIONS = "communications"
FILL = "fill"
USER_ORDERS = "user_orders"
ORDERBOOK = "orderbook_delta"
TICKER = "ticker"
TRADE = "trade"
POSITIONS = "market_positions"
ORDER_GROUPS = "order_group_updates"
LIFECYCLE = "market_lifecycle_v2"
MVE_LIFECYCLE = "multivariate_market_lifecycle"
MARKET_CHANNELS = frozenset({ORDERBOOK, TICKER, TRADE, LIFECYCLE, MVE_LIFECYCLE})
"""Channels of public market data: every subscriber of a market hears its messages."""
SERVED_CHANNELS = frozenset({COMMUNICATIONS, FILL, USER_ORDERS, POSITIONS, ORDER_GROUPS,
                             *MARKET_CHANNELS})
"""Channels the sandbox serves."""
UNFILTERED = frozenset({ORDER_GROUPS, LIFECYCLE, MVE_LIFECYCLE})
"""Channels whose messages no market filter narrows."""
KALSHI_CHANNELS = frozenset({
    "orderbook_delta", "ticker", "ticker_v2", "trade", "fill", "market_positions",
    "market_lifecycle_v2", "multivariate_market_lifecycle", "multivariate", "communications",
    "order_group_updates", "user_orders", "cfbenchmarks_value", "pyth_value",
})
"""Every channel name Kalshi's WebSocket knows (https://docs.kalshi.com/getting_started/quick_start_websockets)."""

_encode = msgspec.json.Encoder().encode
_MASK64 = (1 << 64) - 1


def jump_hash(key: int, buckets: int) -> int:
    """Map a 64-bit ``key`` to one of ``buckets`` (Lamping and Veach's jump consistent hash)."""
    bucket, candidate = -1, 0
    while candidate < buckets:
        bucket = candidate
        key = (key * 2862933555777941757 + 1) & _MASK64
        candidate = int((bucket + 1) * ((1 << 31) / ((key >> 33) + 1)))
    return bucket


@lru_cache(maxsize=65536)
def shard_of(ticker: str, factor: int) -> int:
    """Return the shard (0 <= shard < ``factor``) that carries ``ticker``'s messages."""
    key = int.from_bytes(hashlib.sha256(ticker.encode()).digest()[:8], "big")
    return jump_hash(key, factor)


class BookView(Protocol):
    """The published books (exchange/marketdata.py)."""

    def levels(self, ticker: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]: ...

    def top(self, ticker: str) -> Any: ...

    def market(self, ticker: str) -> Any: ...


class Outbox(Protocol):
    """Where a subscription's frames go: its connection's bounded queue."""

    def deliver(self, subscription: Subscription, frame: str) -> None:
        """Queue ``frame`` for sending, or drop ``subscription`` if the queue is full."""
        ...

    def deliver_later(self, subscription: Subscription, frame: str, delay: float) -> None:
        """Queue ``frame`` to leave no sooner than ``delay`` seconds from now, in its turn."""
        ...

    def close(self, code: int) -> None:
        """Close the connection with ``code`` once the frames already queued are sent."""
        ...


@dataclass(frozen=True, slots=True)
class MessageFault:
    """What injected faults do to one data message."""

    drop: bool = False
    """Lose the message (its ``seq`` stays spent)."""
    delay: float = 0.0
    """Seconds to hold the message back (and the frames queued behind it)."""
    close_code: int | None = None
    """Close the connection with this code instead of sending the message."""


class MessageFaults(Protocol):
    """Fault rules on data messages (a port: the faults power implements it)."""

    watching: bool
    """False when no rule can apply, so messages pass without a lookup."""

    def message_fault(self, user_id: str, kind: str, ticker: str) -> MessageFault | None:
        """Return what to do to a ``kind`` message about ``ticker`` for ``user_id``."""
        ...


@dataclass(eq=False, slots=True)
class Subscription:
    """One ``sid`` of one connection."""

    sid: int
    channel: str
    user_id: str
    outbox: Outbox
    shard_factor: int = 1
    shard_key: int = 0
    only_own_rfqs: bool = False
    markets: set[str] | None = None
    """Market tickers a ``fill``/``user_orders`` subscription is limited to (None: all)."""
    use_yes_price: bool = False
    """``orderbook_delta``: NO-side levels at YES prices instead of NO prices."""
    seq: int = 0
    """The ``seq`` of the last message sent on this sid."""
    active: bool = field(default=True)

    def covers(self, ticker: str) -> bool:
        """Return True if messages about market ``ticker`` belong on this subscription."""
        if self.shard_factor > 1 and shard_of(ticker, self.shard_factor) != self.shard_key:
            return False
        return self.markets is None or ticker in self.markets

    def describe(self) -> dict[str, Any]:
        """Return the subscription as ``list_subscriptions`` shows it."""
        return {"channel": self.channel, "sid": self.sid}


def frame(kind: str, sid: int, seq: int, sending_ts_ms: int, payload: str) -> str:
    """Return a data message's JSON text, ``payload`` already encoded."""
    return (f'{{"type":"{kind}","sid":{sid},"seq":{seq},'
            f'"sending_ts_ms":{sending_ts_ms},"msg":{payload}}}')


def _json(data: dict[str, Any]) -> str:
    return _encode(data).decode()


class Fanout:
    """The live subscriptions of this instance, indexed by audience."""

    def __init__(self, clock: Clock, faults: MessageFaults | None = None) -> None:
        self.clock = clock
        self.faults = faults
        self._rfq_audience: dict[Subscription, None] = {}
        self._by_user: dict[tuple[str, str], dict[Subscription, None]] = {}
        self._by_channel: dict[str, dict[Subscription, None]] = {}
        """Subscriptions of the public market-data channels, by channel."""
        self._detach: Callable[[], None] | None = None
        self.marketdata: BookView | None = None

    def attach(self, feed: Feed) -> None:
        """Start listening to ``feed``."""
        self.detach()
        self._detach = feed.subscribe(self.publish)

    def detach(self) -> None:
        """Stop listening."""
        if self._detach is not None:
            self._detach()
            self._detach = None

    def add(self, subscription: Subscription) -> None:
        """Start routing messages to ``subscription``."""
        if subscription.channel == COMMUNICATIONS:
            self._rfq_audience[subscription] = None
        if subscription.channel in MARKET_CHANNELS:
            self._by_channel.setdefault(subscription.channel, {})[subscription] = None
        key = (subscription.user_id, subscription.channel)
        self._by_user.setdefault(key, {})[subscription] = None

    def remove(self, subscription: Subscription) -> None:
        """Stop routing messages to ``subscription``."""
        subscription.active = False
        self._rfq_audience.pop(subscription, None)
        self._by_channel.get(subscription.channel, {}).pop(subscription, None)
        key = (subscription.user_id, subscription.channel)
        subs = self._by_user.get(key)
        if subs is not None:
            subs.pop(subscription, None)
            if not subs:
                del self._by_user[key]

    @property
    def subscriptions(self) -> int:
        """Return how many subscriptions are live."""
        return sum(len(subs) for subs in self._by_user.values())

    # The feed listener ----------------------------------------------------------------------

    def publish(self, events: Sequence[Event]) -> None:
        """Route one committed batch; called by the feed, must not block."""
        ts_ms = self.clock.now() // 1000
        orders = {e.order.order_id: e.order for e in events if isinstance(e, OrderUpdated)}
        executed_by = {e.quote.rfq_id: e.quote.creator_user_id for e in events
                       if isinstance(e, QuoteExecuted)}
        tickers: dict[str, None] = {}
        for event in events:
            if isinstance(event, RfqCreated):
                self._rfq_event("rfq_created", event.rfq, None, ts_ms,
                                partial(render.rfq_created, event.rfq))
            elif isinstance(event, RfqDeleted):
                rfq = event.rfq
                self._rfq_event("rfq_deleted", rfq, executed_by.get(rfq.id), ts_ms,
                                partial(render.rfq_deleted, rfq, event.deleted_ts))
            elif isinstance(event, QuoteCreated):
                self._quote_event("quote_created", event.quote, ts_ms,
                                  partial(render.quote_created, event.quote))
            elif isinstance(event, QuoteAccepted):
                self._quote_event("quote_accepted", event.quote, ts_ms,
                                  partial(render.quote_accepted, event.quote))
            elif isinstance(event, QuoteExecuted):
                self._executed(event, ts_ms)
            elif isinstance(event, FillCreated):
                fill = event.fill
                order = orders.get(fill.order_id)
                client_order_id = None if order is None else order.client_order_id
                self._private(FILL, fill.user_id, fill.ticker, "fill", ts_ms,
                              partial(render.fill, fill, event.post_position, client_order_id))
                if fill.is_taker:
                    self._market(TRADE, fill.ticker, "trade", ts_ms,
                                 partial(render.trade, fill))
            elif isinstance(event, OrderUpdated):
                order = event.order
                self._private(USER_ORDERS, order.user_id, order.ticker, "user_order", ts_ms,
                              partial(render.user_order, order))
            elif isinstance(event, LevelChanged):
                self._level(event, ts_ms)
                tickers[event.ticker] = None
            elif isinstance(event, PositionChanged):
                position = event.position
                self._private(POSITIONS, position.user_id, position.ticker, "market_position",
                              ts_ms, partial(render.market_position, position))
            elif isinstance(event, MarketUpdated):
                tickers[event.market.ticker] = None
            elif isinstance(event, MarketLifecycle):
                # Combo markets have their own channel (Kalshi, 2026-02-12 and 2026-03-19).
                channel = MVE_LIFECYCLE if event.market.mve_collection_ticker else LIFECYCLE
                self._market(channel, event.market.ticker, channel, ts_ms,
                             partial(render.market_lifecycle, event))
            elif isinstance(event, EventLifecycle):
                created = event.market_event
                channel = MVE_LIFECYCLE if created.mve_collection_ticker else LIFECYCLE
                self._market(channel, created.event_ticker, "event_lifecycle", ts_ms,
                             partial(render.event_lifecycle, event))
            elif isinstance(event, OrderGroupChanged):
                self._private(ORDER_GROUPS, event.group.user_id, "", "order_group_updates",
                              ts_ms, partial(render.order_group_update, event))
            # QuoteConfirmed and QuoteCancelled have no message on Kalshi's channel.
        view = self.marketdata
        if tickers and view is not None and self._by_channel.get(TICKER):
            for ticker in tickers:
                self._market(TICKER, ticker, "ticker", ts_ms,
                             partial(render.ticker, ticker, view.top(ticker),
                                     view.market(ticker), ts_ms))

    def snapshot(self, sub: Subscription, ticker: str) -> None:
        """Send ``sub`` the current book of ``ticker`` (``orderbook_snapshot``)."""
        view = self.marketdata
        yes, no = view.levels(ticker) if view is not None else ([], [])
        payload = _json(render.orderbook_snapshot(ticker, yes, no, sub.use_yes_price))
        self._send(sub, "orderbook_snapshot", payload, self.clock.now() // 1000, ticker)

    def _market(self, channel: str, ticker: str, kind: str, ts_ms: int,
                build: Callable[[], dict[str, Any]]) -> None:
        subs = self._by_channel.get(channel)
        if not subs:
            return
        payload: str | None = None
        for sub in tuple(subs):
            if not sub.active or not sub.covers(ticker):
                continue
            if payload is None:
                payload = _json(build())
            self._send(sub, kind, payload, ts_ms, ticker)

    def _level(self, event: LevelChanged, ts_ms: int) -> None:
        subs = self._by_channel.get(ORDERBOOK)
        if not subs:
            return
        payloads: dict[tuple[bool, bool], str] = {}
        for sub in tuple(subs):
            if not sub.active or not sub.covers(event.ticker):
                continue
            own = sub.user_id == event.user_id
            key = (own, sub.use_yes_price)
            payload = payloads.get(key)
            if payload is None:
                payload = payloads[key] = _json(render.orderbook_delta(
                    event, own=own, use_yes_price=sub.use_yes_price))
            self._send(sub, "orderbook_delta", payload, ts_ms, event.ticker)

    def _send(self, sub: Subscription, kind: str, payload: str, ts_ms: int,
              ticker: str) -> None:
        sub.seq += 1
        faults = self.faults
        if faults is not None and faults.watching:
            message_fault = faults.message_fault(sub.user_id, kind, ticker)
            if message_fault is not None:
                if message_fault.close_code is not None:
                    sub.outbox.close(message_fault.close_code)
                elif not message_fault.drop:
                    sub.outbox.deliver_later(
                        sub, frame(kind, sub.sid, sub.seq, ts_ms, payload), message_fault.delay)
                return
        sub.outbox.deliver(sub, frame(kind, sub.sid, sub.seq, ts_ms, payload))

    def _rfq_event(self, kind: str, rfq: Rfq, counterparty: str | None, ts_ms: int,
                   build: Callable[[bool], dict[str, Any]]) -> None:
        # At most two renderings: the creator's real id, and the obscured one.
        payloads: dict[bool, str] = {}
        creator = rfq.creator_user_id
        # A snapshot: delivering may drop a subscription (buffer overflow) mid-loop.
        for sub in tuple(self._rfq_audience):
            if not sub.active:
                continue
            if sub.only_own_rfqs and sub.user_id != creator:
                continue
            if not sub.covers(rfq.market_ticker):
                continue
            entitled = rfq.shows_creator_to(sub.user_id, counterparty)
            payload = payloads.get(entitled)
            if payload is None:
                payload = payloads[entitled] = _json(build(entitled))
            self._send(sub, kind, payload, ts_ms, rfq.market_ticker)

    def _quote_event(self, kind: str, quote: Quote, ts_ms: int,
                     build: Callable[[str], dict[str, Any]]) -> None:
        for viewer in (quote.creator_user_id, quote.rfq_creator_user_id):
            subs = self._by_user.get((viewer, COMMUNICATIONS))
            if not subs:
                continue
            payload: str | None = None
            for sub in tuple(subs):
                if not sub.active or not sub.covers(quote.market_ticker):
                    continue
                if payload is None:
                    payload = _json(build(viewer))
                self._send(sub, kind, payload, ts_ms, quote.market_ticker)

    def _executed(self, event: QuoteExecuted, ts_ms: int) -> None:
        quote = event.quote
        for viewer, order in ((quote.creator_user_id, event.maker_order),
                              (quote.rfq_creator_user_id, event.requester_order)):
            subs = self._by_user.get((viewer, COMMUNICATIONS))
            if not subs:
                continue
            payload: str | None = None
            for sub in tuple(subs):
                if not sub.active or not sub.covers(quote.market_ticker):
                    continue
                if payload is None:
                    payload = _json(render.quote_executed(quote, order, viewer))
                self._send(sub, "quote_executed", payload, ts_ms, quote.market_ticker)

    def _private(self, channel: str, user_id: str, ticker: str, kind: str, ts_ms: int,
                 build: Callable[[], dict[str, Any]]) -> None:
        subs = self._by_user.get((user_id, channel))
        if not subs:
            return
        payload: str | None = None
        for sub in tuple(subs):
            if not sub.active or not sub.covers(ticker):
                continue
            if payload is None:
                payload = _json(build())
            self._send(sub, kind, payload, ts_ms, ticker)
