"""Price grids: which prices each structure allows."""

from __future__ import annotations

import pytest

from kalshi_sandbox.domain.market import (
    PRICE_LEVEL_STRUCTURES,
    Market,
    MarketStatus,
    PriceRange,
    on_grid,
)
from kalshi_sandbox.domain.money import ONE_DOLLAR

CASES: dict[str, tuple[list[int], list[int]]] = {
    # structure: (valid prices, invalid prices), in $0.0001 units.
    "linear_cent": ([100, 4_500, 9_900], [1, 10, 150, 9_950, 9_999]),
    "deci_cent": ([10, 120, 4_510, 9_990], [1, 5, 4_515, 9_995]),
    "tapered_deci_cent": (
        [10, 990, 1_000, 1_100, 8_900, 9_000, 9_010, 9_990],
        [5, 995, 1_010, 1_050, 8_990, 9_005, 9_995],
    ),
    "center_centi_edge_centi_cent": ([1, 2, 5_001, 9_999], []),
    "center_deci_edge_centi_cent": (
        [1, 99, 100, 110, 5_010, 9_890, 9_900, 9_901, 9_999],
        [101, 105, 5_015, 9_895],
    ),
}


def test_every_spelled_out_structure_has_cases() -> None:
    assert set(CASES) == set(PRICE_LEVEL_STRUCTURES)


@pytest.mark.parametrize("structure", sorted(CASES))
def test_on_grid_accepts_the_ticks_of_each_structure(structure: str) -> None:
    valid, _ = CASES[structure]
    ranges = PRICE_LEVEL_STRUCTURES[structure]
    assert [p for p in valid if not on_grid(p, ranges)] == []


@pytest.mark.parametrize("structure", sorted(CASES))
def test_on_grid_rejects_prices_between_ticks(structure: str) -> None:
    _, invalid = CASES[structure]
    ranges = PRICE_LEVEL_STRUCTURES[structure]
    assert [p for p in invalid if on_grid(p, ranges)] == []


@pytest.mark.parametrize("structure", sorted(PRICE_LEVEL_STRUCTURES))
def test_on_grid_zero_one_and_outside_are_never_valid(structure: str) -> None:
    ranges = PRICE_LEVEL_STRUCTURES[structure]
    for price in (0, ONE_DOLLAR, -100, ONE_DOLLAR + 100, 2 * ONE_DOLLAR):
        assert not on_grid(price, ranges), price


@pytest.mark.parametrize("structure", sorted(PRICE_LEVEL_STRUCTURES))
def test_on_grid_whole_cents_are_valid_on_every_structure(structure: str) -> None:
    ranges = PRICE_LEVEL_STRUCTURES[structure]
    assert all(on_grid(cents * 100, ranges) for cents in range(1, 100))


def test_on_grid_shared_boundary_belongs_to_both_bands() -> None:
    ranges = (PriceRange(0, 1_000, 10), PriceRange(1_000, ONE_DOLLAR, 500))
    assert on_grid(1_000, ranges)
    assert on_grid(1_500, ranges)
    assert not on_grid(1_010, ranges)


def test_on_grid_custom_band_counts_steps_from_its_start() -> None:
    ranges = (PriceRange(25, 9_975, 50),)
    assert on_grid(75, ranges)
    assert not on_grid(100, ranges)
    assert not on_grid(10, ranges)


def test_on_grid_empty_grid_allows_nothing() -> None:
    assert not on_grid(5_000, ())


@pytest.mark.parametrize("status", list(MarketStatus))
def test_market_is_tradable_only_when_active(status: MarketStatus) -> None:
    market = Market(
        ticker="M", event_ticker="E", series_ticker="S", title="t", subtitle="",
        status=status, hvm=False, price_level_structure="linear_cent",
        price_ranges=PRICE_LEVEL_STRUCTURES["linear_cent"], open_time=0, close_time=1,
        created_ts=0, updated_ts=0,
    )
    assert market.tradable is (status is MarketStatus.ACTIVE)
