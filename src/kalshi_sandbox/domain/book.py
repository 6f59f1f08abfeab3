"""The order book of one market and its matching: price-time priority on one binary book.

Kalshi keeps one book per market in which a YES bid at price p is the same liquidity as a
NO ask at 1 - p (https://docs.kalshi.com/getting_started/orderbook_responses). Every order
here is expressed on the YES leg: ``Side.YES`` is a bid (buys YES at ``price``),
``Side.NO`` an ask (sells YES at ``price``, which is buying NO at 1 - ``price``). Prices are
YES prices in $0.0001 units, counts in 0.01-contract units (domain/money.py).

Matching is in two steps so a caller can check each match before anything changes:
``plan`` walks the opposite side from the best price, oldest order first at each price,
and says what an incoming order would take (and which of its owner's own resting orders
self-trade prevention removes); ``apply`` then carries a plan out. Every change to the
book is recorded as a level delta (``Delta``) until ``drain`` collects them: the caller
turns them into ``orderbook_delta`` messages once its transaction commits.

A trade happens at the resting order's price, so an incoming order gets any price
improvement (docs/behaviour.md, "Order book").
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from kalshi_sandbox.domain.money import ONE_DOLLAR
from kalshi_sandbox.domain.quote import Side


class SelfTradePrevention(StrEnum):
    """Kalshi's ``self_trade_prevention_type`` values
    (https://docs.kalshi.com/api-reference/orders/create-order-v2)."""

    TAKER_AT_CROSS = "taker_at_cross"
    """The incoming order is cancelled when it would meet its owner's resting order."""
    MAKER = "maker"
    """The owner's resting order is cancelled and matching goes on."""


class Resting:
    """One resting order as the book holds it (mutable: fills lower ``remaining``)."""

    __slots__ = ("client_order_id", "order_id", "price", "priority", "remaining", "side",
                 "subaccount", "user_id")

    def __init__(self, order_id: str, user_id: str, subaccount: int, side: Side, price: int,
                 remaining: int, priority: int, client_order_id: str = "") -> None:
        self.order_id = order_id
        self.user_id = user_id
        self.subaccount = subaccount
        self.side = side
        self.price = price
        self.remaining = remaining
        self.priority = priority
        self.client_order_id = client_order_id

    def __repr__(self) -> str:
        return (f"Resting({self.order_id!r}, {self.side.value}, price={self.price}, "
                f"remaining={self.remaining}, priority={self.priority})")


@dataclass(slots=True)
class Plan:
    """What an incoming order would do against the book; ``Book.apply`` carries it out."""

    side: Side
    price: int
    count: int
    matches: list[tuple[Resting, int]] = field(default_factory=list)
    """(resting order, contracts it gives), in the order they trade."""
    cancelled: list[Resting] = field(default_factory=list)
    """The incoming order's owner's own resting orders that ``maker`` STP removes."""
    stopped: bool = False
    """True if ``taker_at_cross`` STP stopped the order at its owner's resting order."""

    @property
    def filled(self) -> int:
        """Return the contracts the incoming order takes."""
        return sum(take for _, take in self.matches)


@dataclass(frozen=True, slots=True)
class Delta:
    """A change of the resting count at one price level, caused by one order."""

    side: Side
    """``YES``: the bid (YES) ladder; ``NO``: the ask ladder (NO bids at 1 - price)."""
    price: int
    """The YES price of the level."""
    delta: int
    order: Resting


def taker_price(side: Side, yes_price: int) -> int:
    """Return what one contract costs the buyer of ``side`` at ``yes_price``."""
    return yes_price if side is Side.YES else ONE_DOLLAR - yes_price


class Book:
    """The resting orders of one market, best price first, then oldest first."""

    __slots__ = ("_asks", "_bids", "_deltas", "_next", "_orders", "ask_prices",
                 "bid_prices", "ticker")

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self._bids: dict[int, dict[str, Resting]] = {}
        self._asks: dict[int, dict[str, Resting]] = {}
        self.bid_prices: list[int] = []
        """Prices with YES bids, ascending (the best is last)."""
        self.ask_prices: list[int] = []
        """Prices with YES asks, ascending (the best is first)."""
        self._orders: dict[str, Resting] = {}
        self._deltas: list[Delta] = []
        self._next = 1

    # Reading -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._orders

    def get(self, order_id: str) -> Resting | None:
        """Return the resting order ``order_id``, if it rests here."""
        return self._orders.get(order_id)

    def orders(self) -> Iterator[Resting]:
        """Yield every resting order (in no particular order)."""
        return iter(self._orders.values())

    def continue_after(self, priority: int) -> None:
        """Hand out priorities after ``priority`` (the highest any order of the market had),
        so a book rebuilt after a restart numbers on as one that never stopped."""
        if priority >= self._next:
            self._next = priority + 1

    def next_priority(self) -> int:
        """Return a priority later than every order's in this book, and reserve it."""
        priority = self._next
        self._next = priority + 1
        return priority

    def best_bid(self) -> tuple[int, int] | None:
        """Return (price, resting count) of the best YES bid, if any."""
        if not self.bid_prices:
            return None
        price = self.bid_prices[-1]
        return price, sum(o.remaining for o in self._bids[price].values())

    def best_ask(self) -> tuple[int, int] | None:
        """Return (YES price, resting count) of the best YES ask, if any."""
        if not self.ask_prices:
            return None
        price = self.ask_prices[0]
        return price, sum(o.remaining for o in self._asks[price].values())

    def levels(self, side: Side) -> list[tuple[int, int]]:
        """Return (YES price, resting count) of every level of one side, ascending by price."""
        book, prices = ((self._bids, self.bid_prices) if side is Side.YES
                        else (self._asks, self.ask_prices))
        return [(p, sum(o.remaining for o in book[p].values())) for p in prices]

    def crosses(self, side: Side, price: int) -> bool:
        """Return True if an order of ``side`` at ``price`` would trade at once."""
        if side is Side.YES:
            return bool(self.ask_prices) and self.ask_prices[0] <= price
        return bool(self.bid_prices) and self.bid_prices[-1] >= price

    def queue_position(self, order_id: str) -> int:
        """Return the contracts resting ahead of ``order_id`` at its price (0 = first)."""
        order = self._orders[order_id]
        level = (self._bids if order.side is Side.YES else self._asks)[order.price]
        ahead = 0
        for other in level.values():
            if other is order:
                break
            ahead += other.remaining
        return ahead

    # Changing ------------------------------------------------------------------------------

    def add(self, order: Resting) -> None:
        """Rest ``order`` behind every order at its price.

        Orders loaded from storage must be added in priority order.
        """
        if order.order_id in self._orders:
            raise ValueError(f"order {order.order_id} already rests in {self.ticker}")
        if order.side is Side.YES:
            book, prices = self._bids, self.bid_prices
        else:
            book, prices = self._asks, self.ask_prices
        level = book.get(order.price)
        if level is None:
            level = book[order.price] = {}
            insort(prices, order.price)
        level[order.order_id] = order
        self._orders[order.order_id] = order
        if order.priority >= self._next:
            self._next = order.priority + 1
        self._deltas.append(Delta(order.side, order.price, order.remaining, order))

    def remove(self, order_id: str) -> Resting | None:
        """Take an order off the book; return it, or None if it was not resting."""
        order = self._orders.pop(order_id, None)
        if order is None:
            return None
        self._unlink(order)
        self._deltas.append(Delta(order.side, order.price, -order.remaining, order))
        return order

    def resize(self, order_id: str, remaining: int) -> Resting:
        """Lower (or raise) an order's resting count in place, keeping its priority.

        A count of zero takes it off the book.
        """
        order = self._orders[order_id]
        change = remaining - order.remaining
        if remaining <= 0:
            self.remove(order_id)
            return order
        order.remaining = remaining
        if change:
            self._deltas.append(Delta(order.side, order.price, change, order))
        return order

    def _unlink(self, order: Resting) -> None:
        if order.side is Side.YES:
            book, prices = self._bids, self.bid_prices
        else:
            book, prices = self._asks, self.ask_prices
        level = book[order.price]
        del level[order.order_id]
        if not level:
            del book[order.price]
            prices.remove(order.price)

    def drain(self) -> list[Delta]:
        """Return the level changes since the last call, and forget them."""
        deltas, self._deltas = self._deltas, []
        return deltas

    # Matching ------------------------------------------------------------------------------

    def plan(self, side: Side, price: int, count: int, user_id: str,
             stp: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS, *,
             max_cost: int | None = None, skip: frozenset[str] = frozenset()) -> Plan:
        """Return what an order buying ``count`` of ``side`` up to ``price`` would take.

        Nothing changes. ``max_cost`` (micro-dollars) caps what the contracts may cost the
        incoming order; ``skip`` names resting orders to pass over (the caller found they
        cannot trade).
        """
        plan = Plan(side, price, count)
        matches = plan.matches
        left = count
        if side is Side.YES:
            book = self._asks
            prices: list[int] | Iterator[int] = self.ask_prices
        else:
            book = self._bids
            prices = reversed(self.bid_prices)
        taker_at_cross = stp is SelfTradePrevention.TAKER_AT_CROSS
        budget = max_cost
        for level_price in prices:
            if (level_price > price) if side is Side.YES else (level_price < price):
                break
            unit = taker_price(side, level_price) if budget is not None else 0
            for order in book[level_price].values():
                if order.user_id == user_id:
                    if taker_at_cross:
                        plan.stopped = True
                        return plan
                    plan.cancelled.append(order)
                    continue
                if skip and order.order_id in skip:
                    continue
                take = order.remaining if order.remaining < left else left
                if budget is not None:
                    affordable = budget // unit if unit else take
                    if affordable < take:
                        take = affordable
                    if take <= 0:
                        return plan
                    budget -= take * unit
                matches.append((order, take))
                left -= take
                if left == 0:
                    return plan
        return plan

    def apply(self, plan: Plan) -> None:
        """Carry out ``plan``: lower or remove the resting orders it takes and cancels."""
        deltas = self._deltas
        for order, take in plan.matches:
            remaining = order.remaining - take
            if remaining <= 0:
                del self._orders[order.order_id]
                self._unlink(order)
                deltas.append(Delta(order.side, order.price, -order.remaining, order))
                order.remaining = 0
            else:
                order.remaining = remaining
                deltas.append(Delta(order.side, order.price, -take, order))
        for order in plan.cancelled:
            self.remove(order.order_id)


__all__ = ["Book", "Delta", "Plan", "Resting", "SelfTradePrevention", "taker_price"]
