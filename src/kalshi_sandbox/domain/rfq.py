"""The RFQ: a requester's public request for two-sided quotes on one market."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.copies import copier
from kalshi_sandbox.domain.errors import IllegalTransition


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
    cancellation_reason: str | None = None
    mve_collection_ticker: str | None = None

    def close(self, reason: RfqCloseReason, now: Instant) -> Rfq:
        """Return this RFQ closed for ``reason`` at ``now``."""
        status = TRANSITIONS.get((self.status, RfqTrigger.CLOSE))
        if status is None:
            raise IllegalTransition("rfq", self.status, RfqTrigger.CLOSE)
        return _changed(
            self,
            status=status,
            cancellation_reason=reason.value,
            cancelled_ts=now,
            updated_ts=now,
        )


_changed = copier(Rfq)
