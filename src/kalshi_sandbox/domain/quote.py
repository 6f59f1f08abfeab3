"""The quote: a maker's private, two-sided answer to an RFQ, and its state machine."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.copies import copier
from kalshi_sandbox.domain.errors import IllegalTransition
from kalshi_sandbox.domain.money import ONE_DOLLAR, cost, trading_fee


class QuoteStatus(StrEnum):
    """Quote statuses exactly as Kalshi enumerates them."""

    OPEN = "open"
    ACCEPTED = "accepted"
    CONFIRMED = "confirmed"
    EXECUTED = "executed"
    CANCELLED = "cancelled"


class QuoteTrigger(StrEnum):
    """What can happen to a quote; each name reads as a verb in error messages."""

    ACCEPT = "accept"
    CONFIRM = "confirm"
    EXECUTE = "execute"
    CANCEL = "cancel"
    LAPSE = "lapse"
    FAIL = "fail"


class QuoteCancelReason(StrEnum):
    """Values of ``cancellation_reason`` on a cancelled quote (the sandbox's vocabulary)."""

    DELETED_BY_USER = "deleted_by_user"
    REPLACED = "replaced"
    RFQ_CLOSED = "rfq_closed"
    RFQ_EXECUTED = "rfq_executed"
    CONFIRMATION_TIMEOUT = "confirmation_timeout"
    EXECUTION_FAILED = "execution_failed"


class Side(StrEnum):
    """A binary market's two outcomes."""

    YES = "yes"
    NO = "no"

    @property
    def opposite(self) -> Side:
        """Return the other outcome."""
        return Side.NO if self is Side.YES else Side.YES


TRANSITIONS: dict[tuple[QuoteStatus, QuoteTrigger], QuoteStatus] = {
    (QuoteStatus.OPEN, QuoteTrigger.ACCEPT): QuoteStatus.ACCEPTED,
    (QuoteStatus.OPEN, QuoteTrigger.CANCEL): QuoteStatus.CANCELLED,
    (QuoteStatus.ACCEPTED, QuoteTrigger.CONFIRM): QuoteStatus.CONFIRMED,
    (QuoteStatus.ACCEPTED, QuoteTrigger.CANCEL): QuoteStatus.CANCELLED,
    (QuoteStatus.ACCEPTED, QuoteTrigger.LAPSE): QuoteStatus.CANCELLED,
    (QuoteStatus.CONFIRMED, QuoteTrigger.EXECUTE): QuoteStatus.EXECUTED,
    (QuoteStatus.CONFIRMED, QuoteTrigger.FAIL): QuoteStatus.CANCELLED,
}
"""Every legal (state, trigger) pair; anything else raises ``IllegalTransition``."""


def next_status(status: QuoteStatus, trigger: QuoteTrigger) -> QuoteStatus:
    """Return the status ``trigger`` leads to from ``status``, or raise."""
    target = TRANSITIONS.get((status, trigger))
    if target is None:
        raise IllegalTransition("quote", status, trigger)
    return target


@dataclass(frozen=True, slots=True)
class Quote:
    """A quote as stored; prices in $0.0001 units, counts in 0.01-contract units."""

    id: str
    rfq_id: str
    creator_user_id: str
    creator_id: str
    creator_subaccount: int
    rfq_creator_user_id: str
    rfq_creator_id: str
    rfq_creator_subaccount: int
    rfq_obscure_creator_id: bool
    market_ticker: str
    event_ticker: str
    contracts: int
    yes_bid: int
    no_bid: int
    yes_contracts: int
    """Contracts the requester receives by accepting ``yes``."""
    no_contracts: int
    """Contracts the requester receives by accepting ``no``."""
    rfq_target_cost: int | None
    target_cost_excludes_fees: bool
    rest_remainder: bool
    post_only: bool
    status: QuoteStatus
    created_ts: Instant
    updated_ts: Instant
    accepted_side: Side | None = None
    accepted_ts: Instant | None = None
    confirm_deadline: Instant | None = None
    confirmed_ts: Instant | None = None
    execute_at: Instant | None = None
    executed_ts: Instant | None = None
    cancelled_ts: Instant | None = None
    cancellation_reason: str | None = None
    creator_order_id: str | None = None
    rfq_creator_order_id: str | None = None

    def accept(self, side: Side, now: Instant, deadline: Instant) -> Quote:
        """Return this quote accepted on ``side``, to be confirmed before ``deadline``."""
        return _changed(
            self,
            status=next_status(self.status, QuoteTrigger.ACCEPT),
            accepted_side=side,
            accepted_ts=now,
            confirm_deadline=deadline,
            updated_ts=now,
        )

    def confirm(self, now: Instant, execute_at: Instant) -> Quote:
        """Return this quote confirmed, due to execute at ``execute_at``."""
        return _changed(
            self,
            status=next_status(self.status, QuoteTrigger.CONFIRM),
            confirmed_ts=now,
            execute_at=execute_at,
            updated_ts=now,
        )

    def execute(self, now: Instant, creator_order_id: str, rfq_creator_order_id: str) -> Quote:
        """Return this quote executed with both parties' order ids."""
        return _changed(
            self,
            status=next_status(self.status, QuoteTrigger.EXECUTE),
            executed_ts=now,
            creator_order_id=creator_order_id,
            rfq_creator_order_id=rfq_creator_order_id,
            updated_ts=now,
        )

    def cancel(self, reason: QuoteCancelReason, now: Instant) -> Quote:
        """Return this quote cancelled for ``reason``."""
        trigger = {
            QuoteCancelReason.CONFIRMATION_TIMEOUT: QuoteTrigger.LAPSE,
            QuoteCancelReason.EXECUTION_FAILED: QuoteTrigger.FAIL,
        }.get(reason, QuoteTrigger.CANCEL)
        return _changed(
            self,
            status=next_status(self.status, trigger),
            cancellation_reason=reason.value,
            cancelled_ts=now,
            updated_ts=now,
        )

    def side_contracts(self, side: Side) -> int:
        """Return how many contracts accepting ``side`` trades."""
        return self.yes_contracts if side is Side.YES else self.no_contracts


_changed = copier(Quote)


@dataclass(frozen=True, slots=True)
class Terms:
    """Who gets what, at which price, when a quote is accepted on one side."""

    requester_side: Side
    requester_price: int
    maker_side: Side
    maker_price: int
    yes_price: int
    """The trade's YES price; the NO price is ``ONE_DOLLAR - yes_price``."""


def trade_terms(yes_bid: int, no_bid: int, accepted_side: Side, *, flip: bool = False) -> Terms:
    """Map ``accepted_side`` to both parties' positions (reference §4.4, open question Q1).

    By default ``accepted_side`` is the outcome the requester ends up holding: accepting
    ``yes`` sells YES to the requester at ``1 - no_bid``, the maker buying NO at its
    ``no_bid``. With ``flip`` the reading is reversed: ``yes`` hits the maker's YES bid.
    """
    requester_side = accepted_side.opposite if flip else accepted_side
    maker_side = requester_side.opposite
    maker_price = no_bid if maker_side is Side.NO else yes_bid
    requester_price = ONE_DOLLAR - maker_price
    yes_price = requester_price if requester_side is Side.YES else maker_price
    return Terms(requester_side, requester_price, maker_side, maker_price, yes_price)


def size_for_target(target: int, price: int, *, taker_fee_bps: int, excludes_fees: bool,
                    whole_contracts: bool = False) -> int:
    """Return the most contracts (0.01 units) a target cost in micro-dollars buys at ``price``.

    With ``excludes_fees`` the target covers principal only; otherwise principal plus the
    requester's taker fee must fit within it (reference §4.3, Q8).
    """
    if price <= 0 or target <= 0:
        return 0
    step = 100 if whole_contracts else 1
    count = target // price
    count -= count % step
    if excludes_fees:
        return count
    # Principal plus fee grows with the count, so binary-search the grid for the largest fit.
    low, high = 0, count // step
    while low < high:
        middle = (low + high + 1) // 2
        size = middle * step
        if cost(price, size) + trading_fee(size, price, taker_fee_bps) <= target:
            low = middle
        else:
            high = middle - 1
    return low * step
