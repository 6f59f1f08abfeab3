"""Timers are data: a row with a due instant, so they survive restarts and fire once."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant


class TimerKind(StrEnum):
    """What a timer does when it fires; the subject names the object it acts on."""

    CONFIRM_DEADLINE = "confirm_deadline"
    """Void an accepted quote its maker did not confirm in time."""
    EXECUTE = "execute"
    """Execute a confirmed quote."""
    RFQ_EXPIRY = "rfq_expiry"
    """Close an RFQ whose time to live ran out."""
    ORDER_EXPIRY = "order_expiry"
    """Cancel a resting order whose expiration time came."""
    MARKET_OPEN = "market_open"
    """Open a market whose open time came (subject ``open:TICKER``)."""
    MARKET_CLOSE = "market_close"
    """Close a market whose close time came (subject ``close:TICKER``)."""
    MARKET_SETTLE = "market_settle"
    """Settle a determined market whose settlement timer ran out (subject ``settle:TICKER``)."""
    BLOCK_TRADE_EXPIRY = "block_trade_expiry"
    """Expire a block-trade proposal nobody completed in time."""
    REACTION = "counterparty"
    """A built-in counterparty's next action; kept in memory only, never stored."""
    LIQUIDITY = "liquidity"
    """A built-in liquidity maker's next requote; kept in memory only, never stored."""


@dataclass(frozen=True, slots=True, order=True)
class Timer:
    """A pending timer; timers sort by due instant, then by creation order."""

    due: Instant
    id: int
    kind: TimerKind
    subject: str
