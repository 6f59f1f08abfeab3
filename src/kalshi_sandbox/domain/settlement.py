"""Money moves: what a trade does to each party's position, cash and fees.

A trade is ``count`` contracts at one YES price between two parties, each buying one side:
the YES buyer pays the YES price, the NO buyer one dollar less it, and each pays its fee
(the taker's multiplier or the maker's). Buying the side opposite to a held position closes
it first (``Position.apply_fill``). A trade settles only if every party's balance stays at
or above zero; otherwise nothing of it happens.

``settle`` is the one path every trade takes, on the book and in an RFQ's execution (which
enters both parties' orders into the book, exchange/engine.py); ``trade_fills`` builds the
fills a trade leaves behind (docs/behaviour.md, "Execution").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.money import trading_fee
from kalshi_sandbox.domain.portfolio import Fill, Order, Position
from kalshi_sandbox.domain.quote import Quote, Side, Terms
from kalshi_sandbox.domain.rfq import Rfq
from kalshi_sandbox.domain.rules import Rules


class Ids(Protocol):
    """Where new identifiers come from (the exchange's generator)."""

    def new(self) -> str:
        """Return a fresh id."""
        ...

    def token(self, length: int = 8) -> str:
        """Return ``length`` random hex characters."""
        ...


@dataclass(frozen=True, slots=True)
class Leg:
    """One party of a trade: who buys which side, at which fee multiplier."""

    user_id: str
    subaccount: int
    side: Side
    fee_bps: int
    is_taker: bool


@dataclass(frozen=True, slots=True)
class Settled:
    """What a trade did to one party."""

    leg: Leg
    fee: int
    """Micro-dollars."""
    before: Position
    after: Position
    cash: int
    """Change of the balance in micro-dollars: negative for a purchase, net of the fee."""
    balance: int
    """The balance after the trade."""


def settle(yes_price: int, count: int, legs: Sequence[Leg], positions: Sequence[Position],
           balances: Sequence[int], now: Instant) -> list[Settled] | None:
    """Settle a trade of ``count`` contracts at ``yes_price`` between ``legs``.

    ``positions`` and ``balances`` are each party's before the trade, in the order of
    ``legs``. Return what happens to each, or None if some party cannot pay.
    """
    settled = []
    for leg, position, balance in zip(legs, positions, balances, strict=True):
        fee = trading_fee(count, yes_price, leg.fee_bps)
        after, cash = position.apply_fill(leg.side, yes_price, count, fee, now)
        if balance + cash < 0:
            return None
        settled.append(Settled(leg, fee, position, after, cash, balance + cash))
    return settled


def open_interest_change(settled: Sequence[Settled]) -> int:
    """Return how many contracts a trade added to (or took from) the market's open interest."""
    return sum(abs(s.after.position) - abs(s.before.position) for s in settled) // 2


def check_funds(position: Position, balance: int, side: Side, yes_price: int, count: int,
                fee: int) -> int | None:
    """Return the cash buying ``count`` of ``side`` needs if ``balance`` falls short, else None."""
    needed = position.cash_needed(side, yes_price, count, fee)
    return needed if needed > balance else None


# Book trades -----------------------------------------------------------------------------


def match_legs(taker: Order, maker_user_id: str, maker_subaccount: int,
               rules: Rules) -> tuple[Leg, Leg]:
    """Return the legs of a book trade: the incoming order (taker), then the resting one."""
    return (Leg(taker.user_id, taker.subaccount, taker.side, rules.taker_fee_bps, True),
            Leg(maker_user_id, maker_subaccount, taker.side.opposite, rules.maker_fee_bps,
                False))


def trade_fills(settled: Sequence[Settled], order_ids: Sequence[str], ticker: str,
                yes_price: int, count: int, ids: Ids, now: Instant, *,
                block_trade: bool = False) -> list[Fill]:
    """Return one fill per party of a settled trade; the fills share one trade id."""
    trade_id = ids.new()
    return [Fill(fill_id=ids.new(), trade_id=trade_id, order_id=order_id,
                 user_id=result.leg.user_id, subaccount=result.leg.subaccount, ticker=ticker,
                 side=result.leg.side, yes_price=yes_price, count=count,
                 is_taker=result.leg.is_taker, fee=result.fee, created_ts=now,
                 is_block_trade=block_trade)
            for result, order_id in zip(settled, order_ids, strict=True)]


# RFQ executions --------------------------------------------------------------------------


def quote_legs(quote: Quote, rfq: Rfq, terms: Terms, rules: Rules) -> tuple[Leg, Leg]:
    """Return the requester's leg (the taker) and the maker's leg of an accepted quote."""
    return (Leg(rfq.creator_user_id, rfq.creator_subaccount, terms.requester_side,
                rules.taker_fee_bps, True),
            Leg(quote.creator_user_id, quote.creator_subaccount, terms.maker_side,
                rules.maker_fee_bps, False))


__all__ = [
    "Ids",
    "Leg",
    "Settled",
    "check_funds",
    "match_legs",
    "open_interest_change",
    "quote_legs",
    "settle",
    "trade_fills",
]
