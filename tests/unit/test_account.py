"""Positions, cash and realised PnL when fills arrive."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kalshi_sandbox.domain.account import communications_id
from kalshi_sandbox.domain.money import ONE_DOLLAR
from kalshi_sandbox.domain.portfolio import Order, OrderStatus, Position, empty_position
from kalshi_sandbox.domain.quote import Side

NOW = 1_000


def flat() -> Position:
    return empty_position("u", 0, "M", 0)


def long_yes() -> Position:
    """10 YES contracts bought at $0.40: cost basis $4.00."""
    position, _ = flat().apply_fill(Side.YES, 4_000, 1_000, 0, NOW)
    return position


def test_apply_fill_opening_yes_pays_yes_price_plus_fee() -> None:
    position, cash = flat().apply_fill(Side.YES, 4_000, 1_000, 100, NOW)
    assert cash == -4_000_100
    assert position == Position("u", 0, "M", position=1_000, exposure=4_000_000,
                                total_traded=4_000_000, realized_pnl=-100, fees_paid=100,
                                updated_ts=NOW)


def test_apply_fill_opening_no_pays_one_minus_yes_price() -> None:
    position, cash = flat().apply_fill(Side.NO, 3_000, 1_000, 0, NOW)
    assert cash == -7_000_000
    assert (position.position, position.exposure, position.total_traded) == (
        -1_000, 7_000_000, 7_000_000)


def test_apply_fill_adding_to_a_position_adds_to_its_basis() -> None:
    position, cash = long_yes().apply_fill(Side.YES, 5_000, 500, 200, NOW)
    assert cash == -2_500_200
    assert (position.position, position.exposure) == (1_500, 6_500_000)
    assert (position.realized_pnl, position.fees_paid) == (-200, 200)
    assert position.total_traded == 6_500_000


def test_apply_fill_closing_part_realises_profit_on_that_part() -> None:
    # Buying 4 NO at $0.40 (yes price 0.60) sells 4 YES at $0.60 that cost $0.40 each.
    position, cash = long_yes().apply_fill(Side.NO, 6_000, 400, 100, NOW)
    assert cash == 2_400_000 - 100
    assert (position.position, position.exposure) == (600, 2_400_000)
    assert position.realized_pnl == 800_000 - 100
    assert position.fees_paid == 100


def test_apply_fill_closing_everything_leaves_a_flat_position_without_basis() -> None:
    position, cash = long_yes().apply_fill(Side.NO, 3_000, 1_000, 0, NOW)
    # Sold at $0.30 what cost $0.40: a $1.00 loss on 10 contracts.
    assert cash == 3_000_000
    assert (position.position, position.exposure) == (0, 0)
    assert position.realized_pnl == -1_000_000


def test_apply_fill_flipping_closes_then_opens_the_other_side() -> None:
    position, cash = long_yes().apply_fill(Side.NO, 6_000, 1_500, 0, NOW)
    # Close 10 YES at $0.60 (+$6.00), open 5 NO at $0.40 (-$2.00).
    assert cash == 6_000_000 - 2_000_000
    assert (position.position, position.exposure) == (-500, 2_000_000)
    assert position.realized_pnl == 2_000_000
    assert position.total_traded == 4_000_000 + 6_000_000


def test_apply_fill_closing_a_no_position_with_yes() -> None:
    short, _ = flat().apply_fill(Side.NO, 3_000, 1_000, 0, NOW)
    position, cash = short.apply_fill(Side.YES, 2_000, 1_000, 0, NOW)
    # NO bought at $0.70, sold at $0.80 (buying YES at $0.20).
    assert cash == 8_000_000
    assert (position.position, position.exposure, position.realized_pnl) == (0, 0, 1_000_000)


def test_apply_fill_partial_close_with_uneven_basis_keeps_every_micro_dollar() -> None:
    odd, _ = flat().apply_fill(Side.YES, 3_333, 3, 0, NOW)
    position, _ = odd.apply_fill(Side.NO, 5_000, 1, 0, NOW)
    rest, _ = position.apply_fill(Side.NO, 5_000, 2, 0, NOW)
    assert rest.exposure == 0
    assert rest.realized_pnl == 3 * 5_000 - 3 * 3_333


def test_apply_fill_does_not_change_the_original() -> None:
    original = long_yes()
    original.apply_fill(Side.NO, 6_000, 400, 0, NOW + 5)
    assert original == long_yes()


def test_cash_needed_is_zero_when_a_fill_only_closes() -> None:
    assert long_yes().cash_needed(Side.NO, 6_000, 1_000, 100) == 0
    assert flat().cash_needed(Side.YES, 4_000, 1_000, 100) == 4_000_100


fills = st.lists(st.tuples(st.sampled_from(Side), st.integers(1, ONE_DOLLAR - 1),
                           st.integers(1, 10_000), st.integers(0, 10_000)), max_size=20)


@given(fills)
def test_apply_fill_sequence_cash_plus_position_value_matches_pnl(
        sequence: list[tuple[Side, int, int, int]]) -> None:
    position = flat()
    total_cash = 0
    for side, yes_price, count, fee in sequence:
        position, cash = position.apply_fill(side, yes_price, count, fee, NOW)
        total_cash += cash
    # What was paid in, less what came back, is the open basis less realised PnL.
    assert -total_cash == position.exposure - position.realized_pnl
    assert position.fees_paid == sum(fee for *_, fee in sequence)
    assert position.exposure >= 0
    if position.position == 0:
        assert position.exposure == 0


def test_communications_id_is_stable_per_salt_and_hides_the_user_id() -> None:
    first = communications_id("salt", "user")
    assert first == communications_id("salt", "user")
    assert first != communications_id("other", "user")
    assert "user" not in first
    assert len(first) == 64


def test_order_remaining_count_is_zero_unless_resting() -> None:
    order = Order("o", "u", 0, "c", "M", Side.YES, 5_000, 1_000, 400, OrderStatus.RESTING,
                  0, 0, 0, 0, 0, 0)
    assert order.remaining_count == 600
    for status in (OrderStatus.EXECUTED, OrderStatus.CANCELED):
        done = Order("o", "u", 0, "c", "M", Side.YES, 5_000, 1_000, 400, status,
                     0, 0, 0, 0, 0, 0)
        assert done.remaining_count == 0
