"""Orders, fills and positions: what a trade leaves in a user's portfolio."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.copies import copier
from kalshi_sandbox.domain.money import ONE_DOLLAR, cost
from kalshi_sandbox.domain.quote import Side


class OrderStatus(StrEnum):
    """Order statuses of Kalshi's Order object."""

    RESTING = "resting"
    CANCELED = "canceled"
    EXECUTED = "executed"


@dataclass(frozen=True, slots=True)
class Order:
    """An order placed for one party of an RFQ execution."""

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

    @property
    def remaining_count(self) -> int:
        """Return the unfilled part of the order."""
        return self.initial_count - self.fill_count if self.status is OrderStatus.RESTING else 0


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


_changed = copier(Position)


def empty_position(user_id: str, subaccount: int, ticker: str, now: Instant) -> Position:
    """Return a flat position."""
    return Position(user_id, subaccount, ticker, 0, 0, 0, 0, 0, now)


NO_POSITION = empty_position("", 0, "", 0)
"""A flat position of no one in particular: what ``cash_needed`` starts from when a user
holds nothing in a market (it reads only the position's amounts)."""
