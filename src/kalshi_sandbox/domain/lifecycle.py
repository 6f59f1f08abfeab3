"""A market's whole life: series and events above it, its status machine, and settlement.

Kalshi groups markets into events and events into series
(https://docs.kalshi.com/getting_started/terms). A market moves through the statuses of
https://docs.kalshi.com/getting_started/market_lifecycle: ``initialized`` until its open time,
``active`` while it trades, ``closed`` after its close time, ``determined`` once its result is
known, ``finalized`` once positions are paid out. ``TRANSITIONS`` is that machine as a table;
``settlement_of`` is what a settlement pays one position (docs/behaviour.md, "Lifecycle").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters
from kalshi_sandbox.domain.market import Market, MarketStatus
from kalshi_sandbox.domain.money import ONE_DOLLAR, cost
from kalshi_sandbox.domain.portfolio import Position

CENT = 10_000
"""One cent in micro-dollars: payouts are floored to whole cents."""


@dataclass(frozen=True, slots=True)
class Series:
    """A template for recurring events (Kalshi's Series object)."""

    ticker: str
    title: str
    category: str
    frequency: str
    tags: str
    """Comma-separated."""
    fee_type: str
    fee_multiplier: str
    created_ts: Instant
    updated_ts: Instant


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """An event: the real-world question its markets answer (Kalshi's EventData object)."""

    event_ticker: str
    series_ticker: str
    title: str
    sub_title: str
    mutually_exclusive: bool
    created_ts: Instant
    updated_ts: Instant
    mve_collection_ticker: str | None = None
    """Set for the events of combo (multivariate) markets, which ``GET /events`` leaves out."""
    strike_date: Instant | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    """What settling one market did to one position (Kalshi's Settlement object).

    Counts in 0.01 contracts, money in micro-dollars, ``value`` in $0.0001 units.
    """

    id: str
    user_id: str
    subaccount: int
    ticker: str
    event_ticker: str
    market_result: str
    yes_count: int
    yes_total_cost: int
    no_count: int
    no_total_cost: int
    revenue: int
    fee_cost: int
    """Trade fees paid on the position."""
    rounding_fee: int
    """What flooring the payout to whole cents kept back (FIX ``MiscFeeAmt``)."""
    value: int | None
    settled_ts: Instant


class Trigger(StrEnum):
    """What moves a market from one status to another."""

    OPEN = "open"
    """Its open time came, or the operator reopened it."""
    PAUSE = "pause"
    CLOSE = "close"
    DETERMINE = "determine"
    SETTLE = "settle"


S = MarketStatus
TRANSITIONS: dict[tuple[MarketStatus, Trigger], MarketStatus] = {
    (S.INITIALIZED, Trigger.OPEN): S.ACTIVE,
    (S.INACTIVE, Trigger.OPEN): S.ACTIVE,
    (S.CLOSED, Trigger.OPEN): S.ACTIVE,
    (S.ACTIVE, Trigger.PAUSE): S.INACTIVE,
    (S.INITIALIZED, Trigger.CLOSE): S.CLOSED,
    (S.ACTIVE, Trigger.CLOSE): S.CLOSED,
    (S.INACTIVE, Trigger.CLOSE): S.CLOSED,
    (S.CLOSED, Trigger.DETERMINE): S.DETERMINED,
    (S.DETERMINED, Trigger.DETERMINE): S.AMENDED,
    (S.AMENDED, Trigger.DETERMINE): S.AMENDED,
    (S.DETERMINED, Trigger.SETTLE): S.FINALIZED,
    (S.AMENDED, Trigger.SETTLE): S.FINALIZED,
}
"""Kalshi's market status machine (docs/behaviour.md, "Lifecycle")."""

RESULTS = ("yes", "no", "scalar")


def next_status(market: Market, trigger: Trigger) -> MarketStatus:
    """Return the status ``trigger`` moves ``market`` to, or raise ``Conflict``."""
    status = TRANSITIONS.get((market.status, trigger))
    if status is None:
        raise Conflict(f"cannot {trigger.value} market {market.ticker} in status "
                       f"{market.status.value}")
    return status


def settlement_value(result: str, value: int | None) -> int:
    """Return the YES side's payout per contract ($0.0001 units) for ``result``."""
    if result == "yes":
        return ONE_DOLLAR
    if result == "no":
        return 0
    if result == "scalar":
        if value is None or not 0 <= value <= ONE_DOLLAR:
            raise InvalidParameters("a scalar result needs settlement_value between 0 and 1")
        return value
    raise InvalidParameters(f"result must be one of {', '.join(RESULTS)}")


def settlement_of(position: Position, event_ticker: str, result: str, value: int,
                  settlement_id: str, now: Instant) -> Settlement:
    """Return the settlement of ``position`` at YES payout ``value``.

    YES holders get ``value`` per contract, NO holders one dollar less it; the payout is
    floored to whole cents and what that keeps back is the rounding fee
    (https://docs.kalshi.com/getting_started/market_settlement).
    """
    held = position.position
    exact = cost(value, held) if held > 0 else cost(ONE_DOLLAR - value, -held)
    revenue = exact - exact % CENT
    return Settlement(
        id=settlement_id, user_id=position.user_id, subaccount=position.subaccount,
        ticker=position.ticker, event_ticker=event_ticker, market_result=result,
        yes_count=max(held, 0), yes_total_cost=position.exposure if held > 0 else 0,
        no_count=max(-held, 0), no_total_cost=position.exposure if held < 0 else 0,
        revenue=revenue, fee_cost=position.fees_paid, rounding_fee=exact - revenue,
        value=value, settled_ts=now,
    )


@dataclass(frozen=True, slots=True)
class Leg:
    """One leg of a combo market: a side of one market of one event."""

    event_ticker: str
    market_ticker: str
    side: str


def encode_legs(legs: tuple[Leg, ...]) -> str:
    """Return legs as stored in a market row."""
    if not legs:
        return ""
    return json.dumps([[leg.event_ticker, leg.market_ticker, leg.side] for leg in legs])


def decode_legs(text: str) -> tuple[Leg, ...]:
    """Return the legs stored in a market row."""
    if not text:
        return ()
    return tuple(Leg(*item) for item in json.loads(text))


__all__ = [
    "CENT",
    "RESULTS",
    "TRANSITIONS",
    "Leg",
    "MarketEvent",
    "Series",
    "Settlement",
    "Trigger",
    "decode_legs",
    "encode_legs",
    "next_status",
    "settlement_of",
    "settlement_value",
]
