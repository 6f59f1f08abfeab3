"""How a liquidity maker prices: the fair value's moves and the ladder of orders around it.

Pure functions over integers ($0.0001 price units, 0.01-contract counts); the service
(powers/liquidity/service.py) turns a ladder into orders.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.market import PriceRange, on_grid
from kalshi_sandbox.domain.money import ONE_DOLLAR
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.powers.liquidity.config import Params

FAIR_LOW = 100
FAIR_HIGH = ONE_DOLLAR - 100
"""A random walk keeps the fair value between $0.01 and $0.99."""


def snap_down(price: int, ranges: Sequence[PriceRange]) -> int:
    """Return the highest grid price at or below ``price``, or 0 if there is none."""
    best = 0
    for band in ranges:
        limit = min(price, band.end)
        if limit < band.start:
            continue
        candidate = band.start + (limit - band.start) // band.step * band.step
        if candidate > best and on_grid(candidate, tuple(ranges)):
            best = candidate
    return best


def snap_up(price: int, ranges: Sequence[PriceRange]) -> int:
    """Return the lowest grid price at or above ``price``, or $1 if there is none."""
    best = ONE_DOLLAR
    for band in ranges:
        if price > band.end:
            continue
        low = max(price, band.start)
        candidate = band.start + -(-(low - band.start) // band.step) * band.step
        if candidate <= band.end and candidate < best and on_grid(candidate, tuple(ranges)):
            best = candidate
    return best


@dataclass(frozen=True, slots=True)
class Level:
    """One order of a ladder: ``YES`` a bid, ``NO`` an ask, at a YES price."""

    side: Side
    yes_price: int
    size: int


def ladder(fair: int, params: Params, ranges: Sequence[PriceRange]) -> list[Level]:
    """Return the orders around ``fair``: the best bid and ask ``spread`` apart, then
    ``depth - 1`` more on each side ``step`` apart, each on the grid (bids rounded down, asks
    up) and each a distinct price; levels that fall off the grid's ends are left out."""
    half = -(-params.spread // 2)
    levels: list[Level] = []
    bid = ONE_DOLLAR
    ask = 0
    for i in range(params.depth):
        bid = min(snap_down(fair - half - i * params.step, ranges), snap_down(bid - 1, ranges))
        if bid > 0:
            levels.append(Level(Side.YES, bid, params.size))
        ask = max(snap_up(fair + half + i * params.step, ranges), snap_up(ask + 1, ranges))
        if ask < ONE_DOLLAR:
            levels.append(Level(Side.NO, ask, params.size))
    return levels


def walk(fair: int, volatility: int, rng: random.Random) -> int:
    """Return the fair value after one step of a random walk with standard deviation
    ``volatility``, kept between $0.01 and $0.99."""
    if volatility <= 0:
        return fair
    moved = fair + round(rng.gauss(0.0, float(volatility)))
    return min(max(moved, FAIR_LOW), FAIR_HIGH)


def path_value(path: Sequence[tuple[int, int]], start: Instant, now: Instant) -> int | None:
    """Return the fair value a path gives at ``now`` (None before its first point)."""
    value: int | None = None
    for offset, price in path:
        if start + offset > now:
            break
        value = price
    return value


__all__ = ["FAIR_HIGH", "FAIR_LOW", "Level", "ladder", "path_value", "snap_down",
           "snap_up", "walk"]
