"""Order entry's rules: what an order may ask for, what it does to the book, order groups.

The checks run in the order Kalshi reports their errors; the decisions (what a time in
force, post-only, fill-or-kill, self-trade prevention and reduce-only mean) follow
https://docs.kalshi.com/api-reference/orders/create-order-v2 and
https://docs.kalshi.com/getting_started/order_groups; where Kalshi is silent the choice is
written down in docs/behaviour.md ("Order book").
"""

from __future__ import annotations

from dataclasses import dataclass

from kalshi_sandbox.domain.book import Book, Plan, Resting, SelfTradePrevention
from kalshi_sandbox.domain.clock import MICROS, Instant
from kalshi_sandbox.domain.copies import copier
from kalshi_sandbox.domain.errors import (
    FillOrKillInsufficientVolume,
    InvalidOrder,
    InvalidOrderSize,
    InvalidPrice,
    MarketClosed,
    NotFound,
)
from kalshi_sandbox.domain.market import Market, on_grid
from kalshi_sandbox.domain.money import COUNT_SCALE, cost, trading_fee
from kalshi_sandbox.domain.portfolio import Order, OrderStatus, TimeInForce
from kalshi_sandbox.domain.quote import Side

MAX_ORDER_COUNT = 1_000_000 * COUNT_SCALE
"""The largest count one order may ask for (0.01-contract units)."""

POST_ONLY_CROSS = "post only cross"
"""The ``details`` of Kalshi's refusal of a post-only order that would take liquidity."""


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """An order as a caller asks for it, in internal units, whichever API it came through."""

    ticker: str
    side: Side
    """The outcome bought: ``YES`` is a bid, ``NO`` an ask on the YES book."""
    yes_price: int
    count: int
    time_in_force: TimeInForce
    self_trade_prevention: SelfTradePrevention = SelfTradePrevention.TAKER_AT_CROSS
    client_order_id: str | None = None
    expiration_ts: Instant | None = None
    post_only: bool = False
    reduce_only: bool = False
    cancel_order_on_pause: bool = False
    subaccount: int = 0
    order_group_id: str | None = None
    buy_max_cost: int | None = None
    """Micro-dollars the order may spend at most (legacy ``buy_max_cost``); makes it
    fill-or-kill."""
    wire_side: str = ""
    wire_action: str = ""


def check_order(request: OrderRequest, market: Market | None, now: Instant) -> Market:
    """Return the market ``request`` trades on, or raise Kalshi's refusal."""
    if market is None:
        raise NotFound(f"market {request.ticker} not found", message="market not found")
    if request.count <= 0 or request.count > MAX_ORDER_COUNT:
        raise InvalidOrderSize(f"count must be between 0.01 and {MAX_ORDER_COUNT // 100}")
    if not on_grid(request.yes_price, market.price_ranges):
        raise InvalidPrice(f"price {request.yes_price / 10_000:.4f} is not on the price grid "
                           f"of {market.ticker} ({market.price_level_structure})")
    if request.expiration_ts is not None:
        if request.time_in_force is not TimeInForce.GOOD_TILL_CANCELED:
            raise InvalidOrder("an expiration time is allowed only with good_till_canceled")
        if request.expiration_ts <= now:
            raise InvalidOrder("the expiration time is in the past")
    if not market.tradable:
        raise MarketClosed(f"market {market.ticker} is {market.status}, not open for trading")
    return market


def reducible(position: int, side: Side) -> int:
    """Return how many contracts buying ``side`` can close of a net ``position``."""
    held = -position if side is Side.YES else position
    return max(held, 0)


@dataclass(frozen=True, slots=True)
class Placement:
    """What an incoming order does: the plan it trades, and whether its remainder rests."""

    plan: Plan
    rests: bool
    reason: str | None = None
    """Why the remainder was cancelled, when it was (Kalshi's FIX reason names)."""


def place(book: Book, request: OrderRequest, user_id: str,
          skip: frozenset[str] = frozenset()) -> Placement:
    """Decide what ``request`` does against ``book``; change nothing.

    Raise Kalshi's refusals: a post-only order that would trade, a fill-or-kill order (or
    one with ``buy_max_cost``) that the book cannot fill entirely. A fill-or-kill order
    stopped by self-trade prevention keeps its fills, as Kalshi announced on 2025-09-25
    (https://docs.kalshi.com/changelog).
    """
    if request.post_only and book.crosses(request.side, request.yes_price):
        raise InvalidOrder(POST_ONLY_CROSS)
    plan = book.plan(request.side, request.yes_price, request.count, user_id,
                     request.self_trade_prevention, max_cost=request.buy_max_cost,
                     skip=skip)
    all_or_none = (request.time_in_force is TimeInForce.FILL_OR_KILL
                   or request.buy_max_cost is not None)
    if all_or_none and plan.filled < request.count and not (plan.stopped or plan.cancelled):
        raise FillOrKillInsufficientVolume(
            f"{plan.filled / COUNT_SCALE:.2f} of {request.count / COUNT_SCALE:.2f} "
            "contracts can fill now")
    left = request.count - plan.filled
    if not left:
        return Placement(plan, False)
    if plan.stopped:
        return Placement(plan, False, "TAKER_CANCEL_FOR_SELF_TRADE_PREVENTION")
    if all_or_none or request.time_in_force is TimeInForce.IMMEDIATE_OR_CANCEL:
        return Placement(plan, False, "IMMEDIATE_OR_CANCELLED")
    return Placement(plan, True)


def placement_cost(request: OrderRequest, taker_fee_bps: int) -> tuple[int, int]:
    """Return (cost at the limit price, the taker fee on it) of the whole order."""
    price = request.yes_price if request.side is Side.YES else 10_000 - request.yes_price
    return cost(price, request.count), trading_fee(request.count, request.yes_price,
                                                   taker_fee_bps)


def new_order(order_id: str, user_id: str, request: OrderRequest, count: int,
              priority: int, now: Instant) -> Order:
    """Return the stored form of a newly placed order, before any fill."""
    return Order(
        order_id=order_id, user_id=user_id, subaccount=request.subaccount,
        client_order_id=request.client_order_id or "", ticker=request.ticker,
        side=request.side, yes_price=request.yes_price, initial_count=count, fill_count=0,
        status=OrderStatus.RESTING, taker_fill_cost=0, maker_fill_cost=0, taker_fees=0,
        maker_fees=0, created_ts=now, updated_ts=now, post_only=request.post_only,
        time_in_force=request.time_in_force, expiration_ts=request.expiration_ts,
        self_trade_prevention=request.self_trade_prevention.value,
        order_group_id=request.order_group_id,
        cancel_order_on_pause=request.cancel_order_on_pause,
        reduce_only=request.reduce_only, priority=priority,
        wire_side=request.wire_side, wire_action=request.wire_action,
    )


def resting(order: Order) -> Resting:
    """Return the book's entry for a resting order."""
    return Resting(order.order_id, order.user_id, order.subaccount, order.side,
                   order.yes_price, order.remaining_count, order.priority,
                   order.client_order_id)


def check_resting(order: Order | None, user_id: str, subaccount: int | None = None) -> Order:
    """Return the caller's order, refusing an unknown one (404) or one no longer resting."""
    if order is None or order.user_id != user_id or (
            subaccount is not None and order.subaccount != subaccount):
        raise NotFound("order not found", message="order not found")
    if order.status is not OrderStatus.RESTING:
        raise InvalidOrder(f"order is {order.status}, not resting")
    return order


@dataclass(frozen=True, slots=True)
class Amendment:
    """What an amend does to a resting order."""

    remaining: int
    """The count left to rest after the amend."""
    keeps_priority: bool
    """True for a pure size decrease at the same price."""


def amendment(order: Order, yes_price: int, total: int) -> Amendment:
    """Return the effect of amending ``order`` to ``yes_price`` and a total (filled + resting)
    count of ``total``; refuse a total below what already filled."""
    if total < order.fill_count:
        raise InvalidOrderSize("the new count is below the filled count")
    remaining = total - order.fill_count
    keeps = yes_price == order.yes_price and remaining <= order.remaining_count
    return Amendment(remaining, keeps)


# Order groups ------------------------------------------------------------------------------

GROUP_WINDOW = 15 * MICROS
"""Order groups count matched contracts over a rolling 15-second window
(https://docs.kalshi.com/getting_started/order_groups)."""


@dataclass(frozen=True, slots=True)
class OrderGroup:
    """A user's order group: a contracts limit over a rolling window, and its orders."""

    id: str
    user_id: str
    subaccount: int
    contracts_limit: int
    triggered: bool
    matches: str
    """Matched contracts in the window: ``instant:count`` pairs joined by commas."""
    created_ts: Instant
    updated_ts: Instant

    def matched(self, now: Instant) -> list[tuple[Instant, int]]:
        """Return the (instant, contracts) matches still inside the window at ``now``."""
        entries = []
        for item in filter(None, self.matches.split(",")):
            at, count = item.split(":")
            if int(at) > now - GROUP_WINDOW:
                entries.append((int(at), int(count)))
        return entries

    def volume(self, now: Instant) -> int:
        """Return the contracts matched within the window."""
        return sum(count for _, count in self.matched(now))

    def record(self, count: int, now: Instant) -> OrderGroup:
        """Return the group after ``count`` more contracts matched; trigger past the limit."""
        entries = [*self.matched(now), (now, count)]
        total = sum(c for _, c in entries)
        return _group_changed(self, matches=",".join(f"{a}:{c}" for a, c in entries),
                              triggered=self.triggered or total > self.contracts_limit,
                              updated_ts=now)

    def reset(self, now: Instant) -> OrderGroup:
        """Return the group active again with an empty window."""
        return _group_changed(self, triggered=False, matches="", updated_ts=now)

    def trigger(self, now: Instant) -> OrderGroup:
        """Return the group triggered."""
        return _group_changed(self, triggered=True, updated_ts=now)

    def limited(self, contracts_limit: int, now: Instant) -> OrderGroup:
        """Return the group with a new limit; a limit below the window's volume triggers it."""
        return _group_changed(self, contracts_limit=contracts_limit, updated_ts=now,
                              triggered=self.triggered or self.volume(now) > contracts_limit)


_group_changed = copier(OrderGroup)


def check_group(group: OrderGroup | None, user_id: str, subaccount: int) -> OrderGroup:
    """Return the caller's order group that a new order names, or refuse the order."""
    if group is None or group.user_id != user_id or group.subaccount != subaccount:
        raise NotFound("order group not found", message="order group not found")
    if group.triggered:
        raise InvalidOrder("the order group is triggered; reset it to place orders in it")
    return group


__all__ = [
    "GROUP_WINDOW",
    "MAX_ORDER_COUNT",
    "POST_ONLY_CROSS",
    "Amendment",
    "OrderGroup",
    "OrderRequest",
    "Placement",
    "amendment",
    "check_group",
    "check_order",
    "check_resting",
    "new_order",
    "place",
    "placement_cost",
    "reducible",
    "resting",
]
