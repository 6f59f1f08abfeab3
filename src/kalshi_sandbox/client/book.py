"""Order books: the REST answer (:class:`OrderBook`) and one kept live from the WebSocket
(:class:`LiveBook`).

Kalshi's books list bids only (https://docs.kalshi.com/getting_started/orderbook_responses):
YES bids at YES prices and NO bids at NO prices, each ascending with the best last. A NO bid
at q is a YES ask at 1 - q, which :attr:`OrderBook.yes_asks` and
:attr:`OrderBook.best_yes_ask` give.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kalshi_sandbox.client.market_messages import (
    Level,
    OrderbookDelta,
    OrderbookSnapshot,
    levels,
)
from kalshi_sandbox.client.models import Side

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class OrderBook:
    """A market's resting bids: ``yes`` at YES prices, ``no`` at NO prices, ascending."""

    ticker: str
    yes: tuple[Level, ...]
    no: tuple[Level, ...]

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], ticker: str = "") -> OrderBook:
        """Read ``GET /markets/{ticker}/orderbook`` (``orderbook_fp``, else ``orderbook``)."""
        current = data.get("orderbook_fp")
        if isinstance(current, Mapping):
            return cls(str(data.get("ticker") or ticker), levels(current.get("yes_dollars")),
                       levels(current.get("no_dollars")))
        legacy = data.get("orderbook")
        if not isinstance(legacy, Mapping):
            raise ValueError("the response has no 'orderbook_fp' or 'orderbook' object")
        if legacy.get("yes_dollars") is not None or legacy.get("no_dollars") is not None:
            return cls(str(data.get("ticker") or ticker), levels(legacy.get("yes_dollars")),
                       levels(legacy.get("no_dollars")))
        return cls(str(data.get("ticker") or ticker),
                   levels(legacy.get("yes"), legacy_cents=True),
                   levels(legacy.get("no"), legacy_cents=True))

    @property
    def best_yes_bid(self) -> Level | None:
        """The highest YES bid and its size, or None."""
        return self.yes[-1] if self.yes else None

    @property
    def best_no_bid(self) -> Level | None:
        """The highest NO bid (at a NO price) and its size, or None."""
        return self.no[-1] if self.no else None

    @property
    def yes_asks(self) -> tuple[Level, ...]:
        """The NO bids as YES asks (at YES prices), ascending: the best ask first."""
        return tuple((ONE - price, size) for price, size in reversed(self.no))

    @property
    def best_yes_ask(self) -> Level | None:
        """The lowest YES ask (1 - the best NO bid) and its size, or None."""
        asks = self.yes_asks
        return asks[0] if asks else None

    @property
    def spread(self) -> Decimal | None:
        """Best YES ask minus best YES bid, or None when a side is empty."""
        bid, ask = self.best_yes_bid, self.best_yes_ask
        return None if bid is None or ask is None else ask[0] - bid[0]

    def depth(self, side: Side | str) -> Decimal:
        """Return the contracts resting on one side (``yes`` bids or ``no`` bids)."""
        chosen = Side.parse(side)
        return sum((size for _, size in (self.yes if chosen is Side.YES else self.no)),
                   Decimal(0))


class LiveBook:
    """A market's book kept from an ``orderbook_delta`` subscription.

    Feed it every :class:`OrderbookSnapshot` and :class:`OrderbookDelta` of its market
    (:meth:`apply` ignores other markets'). After a :class:`~kalshi_sandbox.client.SequenceGap`
    the book is stale: call :meth:`invalidate` and wait for the next snapshot (resubscribe).
    ``use_yes_price`` must match the subscription's.
    """

    def __init__(self, ticker: str, *, use_yes_price: bool = False) -> None:
        self.ticker = ticker
        self.use_yes_price = use_yes_price
        self.yes: dict[Decimal, Decimal] = {}
        self.no: dict[Decimal, Decimal] = {}
        """NO bids by NO price."""
        self.ready = False
        """True once a snapshot arrived (and no gap since)."""
        self.updates = 0

    def _no_price(self, price: Decimal) -> Decimal:
        return ONE - price if self.use_yes_price else price

    def apply(self, message: OrderbookSnapshot | OrderbookDelta) -> bool:
        """Apply a snapshot or a delta of this market; return True if the book changed."""
        if message.market_ticker != self.ticker:
            return False
        if isinstance(message, OrderbookSnapshot):
            self.yes = {price: size for price, size in message.yes if size > 0}
            self.no = {self._no_price(price): size for price, size in message.no if size > 0}
            self.ready = True
        else:
            if not self.ready:
                return False
            ladder = self.yes if message.side is Side.YES else self.no
            price = message.price if message.side is Side.YES else self._no_price(message.price)
            size = ladder.get(price, Decimal(0)) + message.delta
            if size > 0:
                ladder[price] = size
            else:
                ladder.pop(price, None)
        self.updates += 1
        return True

    def invalidate(self) -> None:
        """Forget the book (a gap was seen): wait for a new snapshot."""
        self.ready = False
        self.yes.clear()
        self.no.clear()

    def book(self) -> OrderBook:
        """Return the book as it stands, in :class:`OrderBook`'s shape."""
        return OrderBook(self.ticker, tuple(sorted(self.yes.items())),
                         tuple(sorted(self.no.items())))


__all__ = ["LiveBook", "OrderBook"]
