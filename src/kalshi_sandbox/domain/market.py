"""Markets and their price grids (docs/behaviour.md, "Markets")."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.copies import copier
from kalshi_sandbox.domain.money import ONE_DOLLAR


class MarketStatus(StrEnum):
    """Market statuses of Kalshi's Market object."""

    INITIALIZED = "initialized"
    INACTIVE = "inactive"
    ACTIVE = "active"
    CLOSED = "closed"
    DETERMINED = "determined"
    DISPUTED = "disputed"
    AMENDED = "amended"
    FINALIZED = "finalized"


SETTLED_STATUSES: tuple[MarketStatus, ...] = (
    MarketStatus.DETERMINED, MarketStatus.FINALIZED, MarketStatus.AMENDED,
    MarketStatus.DISPUTED,
)
"""Statuses of a market whose outcome is known: what the ``settled`` filters select."""


@dataclass(frozen=True, slots=True)
class PriceRange:
    """One band of a price grid, in $0.0001 units: prices ``start + k*step`` up to ``end``."""

    start: int
    end: int
    step: int


PRICE_LEVEL_STRUCTURES: dict[str, tuple[PriceRange, ...]] = {
    "linear_cent": (PriceRange(0, ONE_DOLLAR, 100),),
    "deci_cent": (PriceRange(0, ONE_DOLLAR, 10),),
    "tapered_deci_cent": (
        PriceRange(0, 1000, 10),
        PriceRange(1000, 9000, 100),
        PriceRange(9000, ONE_DOLLAR, 10),
    ),
    "center_centi_edge_centi_cent": (PriceRange(0, ONE_DOLLAR, 1),),
    "center_deci_edge_centi_cent": (
        PriceRange(0, 100, 1),
        PriceRange(100, 9900, 10),
        PriceRange(9900, ONE_DOLLAR, 1),
    ),
}
"""The price-level structures Kalshi documents, band by band (docs/behaviour.md, "Wire")."""


def on_grid(price: int, ranges: tuple[PriceRange, ...]) -> bool:
    """Return True if ``price`` (0 < price < $1) is a valid tick of ``ranges``.

    At a boundary shared by two bands the finer step wins, so a price valid in either band
    is valid. Whole-cent prices are valid on every Kalshi grid.
    """
    if not 0 < price < ONE_DOLLAR:
        return False
    return any(
        band.start <= price <= band.end and (price - band.start) % band.step == 0
        for band in ranges
    )


@dataclass(frozen=True, slots=True)
class Market:
    """A market the sandbox trades; prices in $0.0001 units, counts in 0.01 contracts."""

    ticker: str
    event_ticker: str
    series_ticker: str
    title: str
    subtitle: str
    status: MarketStatus
    hvm: bool
    price_level_structure: str
    price_ranges: tuple[PriceRange, ...]
    open_time: Instant
    close_time: Instant
    created_ts: Instant
    updated_ts: Instant
    mve_collection_ticker: str | None = None
    last_price: int = 0
    volume: int = 0
    open_interest: int = 0
    result: str = ""
    settlement_value: int | None = None
    """The YES side's payout per contract once determined, $0.0001 units."""
    determination_ts: Instant | None = None
    settlement_ts: Instant | None = None
    settlement_timer: int = 0
    """Microseconds from determination to settlement (``settlement_timer_seconds``)."""
    mve_selected_legs: str = ""
    """A combo market's legs, as domain/lifecycle.py encodes them."""

    @property
    def tradable(self) -> bool:
        """Return True if RFQs may be created and executed on this market."""
        return self.status is MarketStatus.ACTIVE

    def traded(self, yes_price: int, count: int, open_interest_change: int,
               now: Instant) -> Market:
        """Return this market after a trade: its last price, volume and open interest."""
        return _changed(self, last_price=yes_price, volume=self.volume + count,
                        open_interest=self.open_interest + open_interest_change,
                        updated_ts=now)


_changed = copier(Market)
