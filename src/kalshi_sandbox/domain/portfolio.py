"""Orders, fills and positions: what a trade leaves in a user's portfolio."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.copies import copier
from kalshi_sandbox.domain.money import ONE_DOLLAR, cost
from kalshi_sandbox.domain.quote import Side


class TimeInForce(StrEnum):
    """Kalshi's ``time_in_force`` values (https://docs.kalshi.com/api-reference/orders/create-order-v2)."""

    GOOD_TILL_CANCELED = "good_till_canceled"
    IMMEDIATE_OR_CANCEL = "immediate_or_cancel"
    FILL_OR_KILL = "fill_or_kill"


class OrderStatus(StrEnum):
    """Order statuses of Kalshi's Order object."""

    RESTING = "resting"
    CANCELED = "canceled"
    EXECUTED = "executed"


@dataclass(frozen=True, slots=True)
class Order:
    """An order: one placed on the book, or one party's of an RFQ execution.

    ``side`` is the outcome the order buys (``YES`` is a bid on the YES book, ``NO`` an ask)
    and ``yes_price`` its limit on the YES leg. The fields after ``post_only`` belong to
    orders entered through the order endpoints; an RFQ execution's orders leave them at
    their defaults.
    """

    order_id: str
    user_id: str
    subaccount: int
    client_order_id: str
    ticker: str
    side: Side
    yes_price: int
    initial_count: int
    fill_count: int
    status: OrderStatus
    taker_fill_cost: int
    maker_fill_cost: int
    taker_fees: int
    maker_fees: int
    created_ts: Instant
    updated_ts: Instant
    post_only: bool = False
    reduced: int = 0
    """Contracts taken off by decreases and amends (negative when an amend raised the size)."""
    time_in_force: TimeInForce | None = None
    expiration_ts: Instant | None = None
    self_trade_prevention: str | None = None
    order_group_id: str | None = None
    cancel_order_on_pause: bool = False
    reduce_only: bool = False
    priority: int = 0
    """Time priority in the book: lower rests ahead at the same price."""
    wire_side: str = ""
    """The legacy ``side`` the order was placed with (``yes``/``no``); empty for V2 orders."""
    wire_action: str = ""
    """The legacy ``action`` the order was placed with (``buy``/``sell``); empty for V2."""
    last_update_reason: str | None = None

    @property
    def remaining_count(self) -> int:
        """Return the unfilled part of the order."""
        if self.status is not OrderStatus.RESTING:
            return 0
        return self.initial_count - self.fill_count - self.reduced

    @property
    def book_side(self) -> str:
        """Return Kalshi's ``book_side``: ``bid`` for a YES buyer, ``ask`` for a NO buyer."""
        return "bid" if self.side is Side.YES else "ask"

    def own_price(self, yes_price: int) -> int:
        """Return what one contract at ``yes_price`` costs this order's side."""
        return yes_price if self.side is Side.YES else ONE_DOLLAR - yes_price

    def filled(self, count: int, yes_price: int, fee: int, *, taker: bool,
               now: Instant) -> Order:
        """Return this order after ``count`` more contracts filled at ``yes_price``."""
        fill_cost = cost(self.own_price(yes_price), count)
        fill_count = self.fill_count + count
        done = self.initial_count - fill_count - self.reduced <= 0
        return _order_changed(
            self, fill_count=fill_count,
            status=OrderStatus.EXECUTED if done else self.status,
            taker_fill_cost=self.taker_fill_cost + (fill_cost if taker else 0),
            maker_fill_cost=self.maker_fill_cost + (0 if taker else fill_cost),
            taker_fees=self.taker_fees + (fee if taker else 0),
            maker_fees=self.maker_fees + (0 if taker else fee),
            updated_ts=now,
        )

    def canceled(self, now: Instant, reason: str | None = None) -> Order:
        """Return this order with its remainder cancelled (executed if nothing remained)."""
        left = self.initial_count - self.fill_count - self.reduced
        status = OrderStatus.CANCELED if left > 0 else OrderStatus.EXECUTED
        return _order_changed(self, status=status, updated_ts=now,
                              last_update_reason=reason or self.last_update_reason)

    def resized(self, remaining: int, now: Instant, reason: str | None = None) -> Order:
        """Return this resting order with ``remaining`` contracts left to fill."""
        reduced = self.initial_count - self.fill_count - remaining
        status = OrderStatus.RESTING if remaining > 0 else OrderStatus.CANCELED
        return _order_changed(self, reduced=reduced, status=status, updated_ts=now,
                              last_update_reason=reason or self.last_update_reason)


@dataclass(frozen=True, slots=True)
class Fill:
    """One side of a trade, as the party that traded sees it."""

    fill_id: str
    trade_id: str
    order_id: str
    user_id: str
    subaccount: int
    ticker: str
    side: Side
    yes_price: int
    count: int
    is_taker: bool
    fee: int
    created_ts: Instant
    is_block_trade: bool = True


@dataclass(frozen=True, slots=True)
class Position:
    """A user's net position in one market; positive = YES contracts, negative = NO."""

    user_id: str
    subaccount: int
    ticker: str
    position: int
    exposure: int
    """Cost basis of the open position, micro-dollars."""
    total_traded: int
    realized_pnl: int
    fees_paid: int
    updated_ts: Instant

    def apply_fill(self, side: Side, yes_price: int, count: int, fee: int,
                   now: Instant) -> tuple[Position, int]:
        """Return the position after buying ``count`` of ``side``, and the cash change.

        Buying the side opposite to a held position closes it first: the pair nets to $1 per
        contract, so the cash change is a credit and the difference to the cost basis is
        realised.
        """
        price, signed, exposure, realized, cash = self._fill(side, yes_price, count, fee)
        updated = _changed(
            self,
            position=self.position + signed,
            exposure=exposure,
            total_traded=self.total_traded + cost(price, count),
            realized_pnl=realized,
            fees_paid=self.fees_paid + fee,
            updated_ts=now,
        )
        return updated, cash

    def cash_needed(self, side: Side, yes_price: int, count: int, fee: int) -> int:
        """Return the cash buying ``count`` of ``side`` consumes, net of any closing credit."""
        cash = self._fill(side, yes_price, count, fee)[4]
        return max(0, -cash)

    def _fill(self, side: Side, yes_price: int, count: int,
              fee: int) -> tuple[int, int, int, int, int]:
        """Return (price paid, signed count, exposure, realised P&L, cash) after a fill."""
        price = yes_price if side is Side.YES else ONE_DOLLAR - yes_price
        signed = count if side is Side.YES else -count
        held = self.position
        closing = 0
        if held and (held > 0) != (signed > 0):
            closing = min(abs(held), count)
        opening = count - closing
        cash = -cost(price, opening) - fee
        exposure = self.exposure
        realized = self.realized_pnl - fee
        if closing:
            basis = exposure * closing // abs(held)
            proceeds = cost(ONE_DOLLAR - price, closing)
            cash += proceeds
            realized += proceeds - basis
            exposure -= basis
        exposure += cost(price, opening)
        return price, signed, exposure, realized, cash


_order_changed = copier(Order)
_changed = copier(Position)


def empty_position(user_id: str, subaccount: int, ticker: str, now: Instant) -> Position:
    """Return a flat position."""
    return Position(user_id, subaccount, ticker, 0, 0, 0, 0, 0, now)


NO_POSITION = empty_position("", 0, "", 0)
"""A flat position of no one in particular: what ``cash_needed`` starts from when a user
holds nothing in a market (it reads only the position's amounts)."""
