"""Block-trade proposals: a trade agreed off the book, proposed by one party (or a broker)
and executed once both named parties accept
(https://docs.kalshi.com/api-reference/communications/propose-block-trade).

Kalshi does not list the statuses; the sandbox uses ``open`` until both parties accept
(``executed``) or the expiration passes (``expired``) (docs/behaviour.md, "Block trades").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.errors import Conflict, NotFound


class BlockTradeStatus(StrEnum):
    """Statuses of a block-trade proposal (the sandbox's names; Kalshi lists none)."""

    OPEN = "open"
    EXECUTED = "executed"
    EXPIRED = "expired"
    FAILED = "failed"
    """Both accepted but the trade could not settle (a party could not pay)."""


@dataclass(frozen=True, slots=True)
class BlockTrade:
    """A block-trade proposal; ``price`` in $0.0001 units, ``count`` in 0.01 contracts.

    The buyer buys YES, the seller sells YES (buys NO) at ``price``.
    """

    id: str
    proposer_user_id: str
    buyer_user_id: str
    buyer_subaccount: int
    seller_user_id: str
    seller_subaccount: int
    market_ticker: str
    price: int
    count: int
    maker_side: str
    expiration_ts: Instant
    status: BlockTradeStatus
    created_ts: Instant
    updated_ts: Instant
    buyer_accepted: bool = False
    seller_accepted: bool = False
    buyer_accepted_ts: Instant | None = None
    seller_accepted_ts: Instant | None = None
    executed_ts: Instant | None = None
    buyer_order_id: str | None = None
    seller_order_id: str | None = None

    def visible_to(self, user_id: str) -> bool:
        """Return True if ``user_id`` proposed it or is named in it."""
        return user_id in (self.proposer_user_id, self.buyer_user_id, self.seller_user_id)

    @property
    def agreed(self) -> bool:
        """Return True once both named parties have accepted."""
        return self.buyer_accepted and self.seller_accepted

    def accept(self, user_id: str, now: Instant) -> BlockTrade:
        """Return the proposal with ``user_id``'s acceptance (as buyer, seller or both)."""
        if user_id not in (self.buyer_user_id, self.seller_user_id):
            raise NotFound("block trade proposal not found",
                           message="block trade proposal not found")
        if self.status is not BlockTradeStatus.OPEN:
            raise Conflict(f"cannot accept a block trade proposal in status {self.status}")
        if now >= self.expiration_ts:
            raise Conflict("the block trade proposal has expired")
        changed = self
        if user_id == self.buyer_user_id and not self.buyer_accepted:
            changed = replace(changed, buyer_accepted=True, buyer_accepted_ts=now)
        if user_id == self.seller_user_id and not self.seller_accepted:
            changed = replace(changed, seller_accepted=True, seller_accepted_ts=now)
        return replace(changed, updated_ts=now)


__all__ = ["BlockTrade", "BlockTradeStatus"]
