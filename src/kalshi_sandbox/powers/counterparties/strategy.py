"""How the built-in counterparties price and choose: an auto-maker's bids around a fair price,
an auto-requester's pick of the cheapest quote."""

from __future__ import annotations

from collections.abc import Sequence

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.market import Market, PriceRange, on_grid
from kalshi_sandbox.domain.money import (
    ONE_DOLLAR,
)
from kalshi_sandbox.domain.quote import Quote, QuoteStatus, Side, trade_terms
from kalshi_sandbox.powers.counterparties.config import AcceptSide


def snap_down(halves: int, ranges: tuple[PriceRange, ...]) -> int:
    """Return the highest grid price at or below ``halves / 2`` ($0.0001 units), or 0."""
    best = 0
    for band in ranges:
        limit = min(halves, 2 * band.end)
        if limit < 2 * band.start:
            continue
        price = band.start + (limit - 2 * band.start) // (2 * band.step) * band.step
        if price > best and on_grid(price, ranges):
            best = price
    return best


def maker_prices(fair: int, spread: int, market: Market) -> tuple[int, int]:
    """Return (yes_bid, no_bid): the fair price less half the spread, snapped down to the grid.

    Snapping each bid down keeps ``yes_bid + no_bid <= 1 - spread``; a bid that falls to zero
    declines that side.
    """
    yes = snap_down(2 * fair - spread, market.price_ranges)
    no = snap_down(2 * (ONE_DOLLAR - fair) - spread, market.price_ranges)
    return yes, no


def best_choice(quotes: Sequence[Quote], side: AcceptSide, *,
                flip: bool = False) -> tuple[Quote, Side] | None:
    """Pick the open quote and side that cost the requester least per contract.

    Ties go to the older quote (then the lower id), then to YES. ``side`` other than best
    restricts the choice.
    """
    sides = (Side.YES, Side.NO) if side is AcceptSide.BEST else (Side(side.value),)
    best: tuple[tuple[int, Instant, int], Quote, Side] | None = None
    for quote in sorted(quotes, key=lambda q: (q.created_ts, q.id)):
        if quote.status is not QuoteStatus.OPEN:
            continue
        for order, candidate in enumerate(sides):
            terms = trade_terms(quote.yes_bid, quote.no_bid, candidate, flip=flip)
            if terms.maker_price == 0 or quote.side_contracts(candidate) == 0:
                continue
            key = (terms.requester_price, quote.created_ts, order)
            if best is None or key < best[0]:
                best = (key, quote, candidate)
    return None if best is None else (best[1], best[2])


__all__ = ["best_choice", "maker_prices", "snap_down"]
