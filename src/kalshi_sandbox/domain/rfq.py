"""The RFQ: a requester's public request for two-sided quotes on one market.

Everything the exchange decides about an RFQ lives here: its states and the one transition
table, the checks that run before a transition in the order Kalshi reports their errors, and
who may see its creator. See docs/states.md for the state diagram drawn from ``TRANSITIONS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.copies import copier
from kalshi_sandbox.domain.errors import (
    IllegalTransition,
    InvalidParameters,
    RfqClosed,
    SandboxError,
)

OBSCURED_CREATOR_ID = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
"""SHA-256 of the empty string: what others see of a creator who asked to be obscured."""


class RfqStatus(StrEnum):
    """The two RFQ statuses Kalshi publishes; the reason for closing is a separate field."""

    OPEN = "open"
    CLOSED = "closed"


class RfqTrigger(StrEnum):
    """What can happen to an RFQ."""

    CLOSE = "close"


class RfqCloseReason(StrEnum):
    """Values of ``cancellation_reason`` on a closed RFQ (the sandbox's vocabulary)."""

    DELETED_BY_USER = "deleted_by_user"
    REPLACED = "replaced"
    EXECUTED = "executed"
    EXPIRED = "expired"
    MARKET_CLOSED = "market_closed"


TRANSITIONS: dict[tuple[RfqStatus, RfqTrigger], RfqStatus] = {
    (RfqStatus.OPEN, RfqTrigger.CLOSE): RfqStatus.CLOSED,
}
"""Every legal (state, trigger) pair; anything else is refused."""

REFUSALS: dict[tuple[RfqStatus, RfqTrigger], Callable[[Rfq], SandboxError]] = {
    (RfqStatus.CLOSED, RfqTrigger.CLOSE):
        lambda rfq: RfqClosed(f"rfq is already closed ({rfq.cancellation_reason})"),
}
"""What Kalshi answers a request that asks for an illegal pair, where it says more than the
default ``invalid_parameters`` "cannot close rfq in state closed" (``Rfq.require``). Which
pairs are illegal comes from ``TRANSITIONS`` alone."""


def next_status(status: RfqStatus, trigger: RfqTrigger) -> RfqStatus:
    """Return the status ``trigger`` leads to from ``status``, or raise ``IllegalTransition``."""
    target = TRANSITIONS.get((status, trigger))
    if target is None:
        raise IllegalTransition("rfq", status, trigger)
    return target


@dataclass(frozen=True, slots=True)
class Rfq:
    """An RFQ as stored; every instant is in microseconds since the epoch."""

    id: str
    creator_user_id: str
    creator_id: str
    """The creator's public communications id."""
    creator_subaccount: int
    market_ticker: str
    event_ticker: str
    contracts: int
    """Size in 0.01-contract units; 0 for a target-cost RFQ."""
    target_cost: int | None
    """Target cost in micro-dollars, or None for a contract-sized RFQ."""
    target_cost_excludes_fees: bool
    rest_remainder: bool
    obscure_creator_id: bool
    status: RfqStatus
    created_ts: Instant
    updated_ts: Instant
    cancelled_ts: Instant | None = None
    cancellation_reason: RfqCloseReason | None = None
    mve_collection_ticker: str | None = None
    mve_selected_legs: str = ""
    """A combo market's legs, as domain/lifecycle.py encodes them."""

    @property
    def is_open(self) -> bool:
        """Return True while the RFQ takes quotes."""
        return self.status is RfqStatus.OPEN

    def require(self, trigger: RfqTrigger) -> None:
        """Raise what Kalshi answers if the table does not allow ``trigger`` now."""
        if (self.status, trigger) not in TRANSITIONS:
            refuse = REFUSALS.get((self.status, trigger))
            if refuse is not None:
                raise refuse(self)
            raise InvalidParameters(f"cannot {trigger} rfq in state {self.status}")

    def close(self, reason: RfqCloseReason, now: Instant) -> Rfq:
        """Return this RFQ closed for ``reason`` at ``now``."""
        return _changed(
            self,
            status=next_status(self.status, RfqTrigger.CLOSE),
            cancellation_reason=reason,
            cancelled_ts=now,
            updated_ts=now,
        )

    # Who sees the creator ---------------------------------------------------------------

    def shows_creator_to(self, viewer: str | None, counterparty: str | None = None) -> bool:
        """Return True if ``viewer`` sees the creator's real communications id.

        Everyone does unless the creator asked to be obscured; then only the creator and
        ``counterparty``, the maker whose quote executed on the RFQ.
        """
        return (not self.obscure_creator_id or viewer == self.creator_user_id
                or (viewer is not None and viewer == counterparty))

    def creator_id_shown(self, entitled: bool) -> str:
        """Return the creator id a viewer sees, ``entitled`` as ``shows_creator_to`` says."""
        return self.creator_id if entitled or not self.obscure_creator_id \
            else OBSCURED_CREATOR_ID


_changed = copier(Rfq)


def hides_obscured(creator_filter: str | None, viewer: str) -> bool:
    """Return True if a listing filtered by ``creator_filter`` leaves out obscured RFQs.

    Filtering by another member's private user id must not reveal the RFQs they obscured.
    """
    return creator_filter not in (None, viewer)


def may_close_automatically(has_confirmed_quote: bool) -> bool:
    """Return True if the exchange may close an RFQ on its own (replaced, expired, market
    closed): an RFQ whose quote is confirmed stays open until that quote executes or fails."""
    return not has_confirmed_quote


# Checks before a transition, in the order Kalshi reports their errors ------------------------


def check_delete(rfq: Rfq, has_confirmed_quote: bool) -> None:
    """Refuse a requester's delete of a closed RFQ, or of one whose quote is confirmed."""
    rfq.require(RfqTrigger.CLOSE)
    if has_confirmed_quote:
        raise InvalidParameters("quote already confirmed: the rfq closes when that quote executes")


def check_quotable(rfq: Rfq | None, rfq_id: str, maker_user_id: str) -> Rfq:
    """Return the RFQ a maker may quote, or raise as Kalshi does (missing, closed, own)."""
    if rfq is None:
        raise InvalidParameters(f"rfq {rfq_id} not found")
    if not rfq.is_open:
        raise RfqClosed(f"rfq is closed ({rfq.cancellation_reason})")
    if rfq.creator_user_id == maker_user_id:
        raise InvalidParameters("you cannot quote your own rfq")
    return rfq


def check_still_open(rfq: Rfq | None) -> Rfq:
    """Return the RFQ of a quote being accepted or confirmed, or raise ``RfqClosed``."""
    if rfq is None or not rfq.is_open:
        raise RfqClosed("rfq is closed")
    return rfq


__all__ = [
    "OBSCURED_CREATOR_ID",
    "REFUSALS",
    "TRANSITIONS",
    "Rfq",
    "RfqCloseReason",
    "RfqStatus",
    "RfqTrigger",
    "check_delete",
    "check_quotable",
    "check_still_open",
    "hides_obscured",
    "may_close_automatically",
    "next_status",
]
