"""The quote: a maker's private, two-sided answer to an RFQ, and its state machine.

Everything the exchange decides about a quote lives here: its states and the one transition
table, the checks that run before a transition in the order Kalshi reports their errors, who
may see the requester behind it, and the terms a side trades at. See docs/states.md for the
state diagram drawn from ``TRANSITIONS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from functools import lru_cache

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.copies import copier
from kalshi_sandbox.domain.errors import (
    IllegalTransition,
    InvalidParameters,
    QuoteExpired,
    SandboxError,
)
from kalshi_sandbox.domain.money import ONE_DOLLAR, cost, trading_fee
from kalshi_sandbox.domain.rfq import OBSCURED_CREATOR_ID, Rfq, check_still_open


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


def _already_confirmed(quote: Quote) -> SandboxError:
    return InvalidParameters(f"quote already confirmed (status {quote.status})")


def _not_withdrawable(quote: Quote) -> SandboxError:
    return InvalidParameters("quote already confirmed: it can no longer be withdrawn")


REFUSALS: dict[tuple[QuoteStatus, QuoteTrigger], Callable[[Quote], SandboxError]] = {
    (QuoteStatus.CONFIRMED, QuoteTrigger.CONFIRM): _already_confirmed,
    (QuoteStatus.EXECUTED, QuoteTrigger.CONFIRM): _already_confirmed,
    (QuoteStatus.CANCELLED, QuoteTrigger.CONFIRM):
        lambda quote: QuoteExpired(f"quote was cancelled ({quote.cancellation_reason})"),
    (QuoteStatus.OPEN, QuoteTrigger.CONFIRM):
        lambda quote: InvalidParameters("quote is not accepted"),
    (QuoteStatus.CONFIRMED, QuoteTrigger.CANCEL): _not_withdrawable,
    (QuoteStatus.EXECUTED, QuoteTrigger.CANCEL): _not_withdrawable,
    (QuoteStatus.CANCELLED, QuoteTrigger.CANCEL):
        lambda quote: InvalidParameters(f"quote already cancelled ({quote.cancellation_reason})"),
}
"""What Kalshi answers a request that asks for an illegal pair, where it says more than the
default ``invalid_parameters`` "cannot accept quote in state accepted" (``Quote.require``).
Which pairs are illegal comes from ``TRANSITIONS`` alone."""


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
    cancellation_reason: QuoteCancelReason | None = None
    creator_order_id: str | None = None
    rfq_creator_order_id: str | None = None

    def require(self, trigger: QuoteTrigger) -> None:
        """Raise what Kalshi answers if the table does not allow ``trigger`` now."""
        if (self.status, trigger) not in TRANSITIONS:
            refuse = REFUSALS.get((self.status, trigger))
            if refuse is not None:
                raise refuse(self)
            raise InvalidParameters(f"cannot {trigger} quote in state {self.status}")

    def window_lapsed(self, now: Instant) -> bool:
        """Return True if the confirmation window of an accepted quote is over at ``now``.

        It may be over before its timer has fired (a busy system clock, a manual clock
        moved past it): a confirm arriving then is too late all the same.
        """
        return (self.status is QuoteStatus.ACCEPTED and self.confirm_deadline is not None
                and now >= self.confirm_deadline)

    def shows_requester_to(self, viewer: str | None) -> bool:
        """Return True if ``viewer`` sees the requester's real communications id.

        Everyone does unless the RFQ asked to obscure it; then only the requester, and once
        the quote executed, its maker too.
        """
        return (not self.rfq_obscure_creator_id or viewer == self.rfq_creator_user_id
                or self.status is QuoteStatus.EXECUTED)

    def rfq_creator_id_seen_by(self, viewer: str | None) -> str:
        """Return the requester's communications id as ``viewer`` may see it."""
        return self.rfq_creator_id if self.shows_requester_to(viewer) else OBSCURED_CREATOR_ID

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
        return _changed(
            self,
            status=next_status(self.status, _CANCEL_TRIGGERS.get(reason, QuoteTrigger.CANCEL)),
            cancellation_reason=reason,
            cancelled_ts=now,
            updated_ts=now,
        )

    def side_contracts(self, side: Side) -> int:
        """Return how many contracts accepting ``side`` trades."""
        return self.yes_contracts if side is Side.YES else self.no_contracts


_changed = copier(Quote)
_CANCEL_TRIGGERS = {
    QuoteCancelReason.CONFIRMATION_TIMEOUT: QuoteTrigger.LAPSE,
    QuoteCancelReason.EXECUTION_FAILED: QuoteTrigger.FAIL,
}
"""Cancellations that are not a plain cancel: the window lapsing, the execution failing."""


@dataclass(frozen=True, slots=True)
class Terms:
    """Who gets what, at which price, when a quote is accepted on one side."""

    requester_side: Side
    requester_price: int
    maker_side: Side
    maker_price: int
    yes_price: int
    """The trade's YES price; the NO price is ``ONE_DOLLAR - yes_price``."""


@lru_cache(maxsize=4096)
def trade_terms(yes_bid: int, no_bid: int, accepted_side: Side, *, flip: bool = False) -> Terms:
    """Map ``accepted_side`` to both parties' positions (docs/behaviour.md, "Money and execution").

    By default ``accepted_side`` is the outcome the requester ends up holding: accepting
    ``yes`` sells YES to the requester at ``1 - no_bid``, the maker buying NO at its
    ``no_bid``. With ``flip`` the reading is reversed: ``yes`` hits the maker's YES bid.
    Terms are frozen and a lifecycle asks for the same few about seven times: they are
    remembered.
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
    requester's taker fee must fit within it (docs/behaviour.md, "Money and execution").
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


# Checks before a transition, in the order Kalshi reports their errors ------------------------


def check_accept(quote: Quote, rfq: Rfq | None, other_live: Quote | None, side: Side,
                 terms: Terms, market_open: bool) -> None:
    """Refuse an accept of ``side`` (trading on ``terms``) as Kalshi does.

    In order: the RFQ must be open, the quote open (the table), no other quote on the RFQ
    accepted or confirmed, the side offered, the market open for trading.
    """
    check_still_open(rfq)
    quote.require(QuoteTrigger.ACCEPT)
    if other_live is not None:
        raise InvalidParameters(f"quote {other_live.id} on this rfq is already "
                                f"{other_live.status}")
    if terms.maker_price == 0 or quote.side_contracts(side) == 0:
        raise InvalidParameters(f"the quote does not offer the {side} side")
    if not market_open:
        raise InvalidParameters(f"market {quote.market_ticker} is not open for trading")


class ConfirmOutcome(Enum):
    """What a maker's confirm does."""

    CONFIRM = "confirm"
    """Confirm the quote: the execution timer starts."""
    LAPSE = "lapse"
    """Too late: the window is over, so the quote is voided and the maker told so."""
    REPEATED = "repeated"
    """Already confirmed, and repeated confirms are answered as the first one was."""


def confirm_outcome(quote: Quote, rfq: Rfq | None, now: Instant, *,
                    idempotent: bool) -> ConfirmOutcome:
    """Decide a maker's confirm, raising as Kalshi does when it is refused.

    In order: a confirmed or executed quote is refused (or, ``idempotent``, confirmed
    again as a no-op); a window that is over voids the quote; the RFQ must be open; then the
    table refuses an open or cancelled quote.
    """
    if quote.status in (QuoteStatus.CONFIRMED, QuoteStatus.EXECUTED):
        if idempotent:
            return ConfirmOutcome.REPEATED
        quote.require(QuoteTrigger.CONFIRM)
    if quote.window_lapsed(now):
        return ConfirmOutcome.LAPSE
    check_still_open(rfq)
    quote.require(QuoteTrigger.CONFIRM)
    return ConfirmOutcome.CONFIRM


def check_withdraw(quote: Quote) -> None:
    """Refuse a maker's delete of a quote that is confirmed, executed or already cancelled."""
    quote.require(QuoteTrigger.CANCEL)


def check_no_live_quote(previous: Quote) -> None:
    """Refuse a new quote while the maker's previous one on the RFQ is past ``open``."""
    if previous.status is not QuoteStatus.OPEN:
        raise InvalidParameters(f"your quote {previous.id} on this rfq is already "
                                f"{previous.status}")


LIVE_QUOTES = (QuoteStatus.OPEN, QuoteStatus.ACCEPTED, QuoteStatus.CONFIRMED)
"""Statuses of a quote that may still trade."""
