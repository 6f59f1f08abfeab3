"""Fixed-point parsing, formatting and fee arithmetic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_sandbox.domain.money import (
    MAX_WHOLE_DIGITS,
    MoneyFormatError,
    ceil_div,
    cost,
    count_to_whole,
    format_count,
    format_fixed,
    format_money,
    format_price,
    money_to_cents,
    parse_count,
    parse_dollars,
    parse_fixed,
    parse_price,
    price_to_cents,
    trading_fee,
)


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("0", 0),
        ("1", 10_000),
        ("0.56", 5_600),
        ("0.5600", 5_600),
        ("0.5", 5_000),
        ("0.0001", 1),
        ("0.99990000", 9_999),
        ("1.", 10_000),
        ("007.5", 75_000),
    ],
)
def test_parse_price_valid_text_returns_units_of_a_hundredth_cent(text: str, units: int) -> None:
    assert parse_price(text) == units


@pytest.mark.parametrize(
    ("text", "units"),
    [("10", 1_000), ("10.0", 1_000), ("10.00", 1_000), ("0.01", 1), ("2.5", 250),
     ("3.100", 310)],
)
def test_parse_count_valid_text_returns_hundredths_of_a_contract(text: str, units: int) -> None:
    assert parse_count(text) == units


def test_parse_dollars_returns_micro_dollars() -> None:
    assert parse_dollars("35.00") == 35_000_000
    assert parse_dollars("0.0001") == 100


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        " 1",
        "1 ",
        "0.5\n",
        "-1",
        "-0.5",
        "+1",
        "1e2",
        "1E-2",
        "NaN",
        "nan",
        "inf",
        "Infinity",
        ".5",
        ".",
        "1.2.3",
        "1,5",
        "0x10",
        "1_000",
        "١",
        "０.５",
    ],
)
def test_parse_price_malformed_text_raises_money_format_error(text: str) -> None:
    with pytest.raises(MoneyFormatError, match="non-negative decimal string"):
        parse_price(text)


def test_parse_price_more_than_four_significant_decimals_raises() -> None:
    with pytest.raises(MoneyFormatError, match="at most 4 decimal places"):
        parse_price("0.12345")


def test_parse_count_more_than_two_significant_decimals_raises() -> None:
    with pytest.raises(MoneyFormatError, match="at most 2 decimal places"):
        parse_count("1.001")


def test_parse_fixed_error_names_the_field() -> None:
    with pytest.raises(MoneyFormatError, match="yes_bid"):
        parse_price("abc", what="yes_bid")


def test_parse_fixed_zero_decimals_accepts_only_zero_fractions() -> None:
    assert parse_fixed("12.000", 0) == 12
    with pytest.raises(MoneyFormatError):
        parse_fixed("12.5", 0)


def test_parse_fixed_too_many_whole_digits_raises_instead_of_overflowing() -> None:
    largest = "9" * MAX_WHOLE_DIGITS
    assert parse_count(largest) == int(largest) * 100
    assert parse_count("0" * 40 + "1") == 100
    with pytest.raises(MoneyFormatError, match="too large"):
        parse_count("1" + "0" * MAX_WHOLE_DIGITS)
    with pytest.raises(MoneyFormatError, match="too large"):
        parse_dollars("9" * 5_000)


@given(st.integers(min_value=0, max_value=10**(MAX_WHOLE_DIGITS + 4) - 1))
def test_format_then_parse_price_round_trips(units: int) -> None:
    assert parse_price(format_price(units)) == units


@given(st.integers(min_value=0, max_value=10**(MAX_WHOLE_DIGITS + 2) - 1))
def test_format_then_parse_count_round_trips(units: int) -> None:
    assert parse_count(format_count(units)) == units


@pytest.mark.parametrize(
    ("units", "decimals", "text"),
    [
        (0, 4, "0.0000"),
        (4_500, 4, "0.4500"),
        (10_000, 4, "1.0000"),
        (-5, 2, "-0.05"),
        (-150, 2, "-1.50"),
        (7, 0, "7"),
        (-7, 0, "-7"),
    ],
)
def test_format_fixed_renders_exact_decimal_places(units: int, decimals: int, text: str) -> None:
    assert format_fixed(units, decimals) == text


def test_format_count_and_price_use_kalshi_widths() -> None:
    assert format_count(1_000) == "10.00"
    assert format_price(3_500) == "0.3500"


@pytest.mark.parametrize(
    ("micros", "decimals", "text"),
    [
        (17_500, 6, "0.017500"),
        (17_500, 4, "0.0175"),
        (17_599, 4, "0.0175"),
        (-17_599, 4, "-0.0175"),
        (-1, 4, "0.0000"),
        (1_000_000, 2, "1.00"),
        (123_456_789, 6, "123.456789"),
    ],
)
def test_format_money_truncates_toward_zero(micros: int, decimals: int, text: str) -> None:
    assert format_money(micros, decimals) == text


@pytest.mark.parametrize(
    ("micros", "cents"),
    [(0, 0), (9_999, 0), (10_000, 1), (-9_999, 0), (-10_001, -1),
     (10**20 + 9_999, 10**16)],
)
def test_money_to_cents_truncates_toward_zero_exactly(micros: int, cents: int) -> None:
    assert money_to_cents(micros) == cents


@pytest.mark.parametrize(("units", "whole"), [(0, 0), (199, 1), (-150, -1), (-100, -1),
                                              (-99, 0)])
def test_count_to_whole_truncates_toward_zero(units: int, whole: int) -> None:
    assert count_to_whole(units) == whole


def test_price_to_cents_truncates_sub_cent_prices() -> None:
    assert price_to_cents(5_678) == 56
    assert price_to_cents(99) == 0


def test_cost_price_times_count_is_micro_dollars() -> None:
    # $0.52 x 1 contract == $0.52 == 520_000 micro-dollars.
    assert cost(5_200, 100) == 520_000
    assert cost(1, 1) == 1


@pytest.mark.parametrize(("numerator", "denominator", "result"),
                         [(0, 7, 0), (1, 7, 1), (7, 7, 1), (8, 7, 2)])
def test_ceil_div_rounds_up(numerator: int, denominator: int, result: int) -> None:
    assert ceil_div(numerator, denominator) == result


def test_trading_fee_kalshi_fill_example_is_0_0175() -> None:
    # A real fill: price 0.52, 1 contract, multiplier 0.07 -> fee "0.017500"
    # (0.07 x 0.52 x 0.48 = 0.017472, rounded up to $0.0001).
    fee = trading_fee(100, 5_200, 700)
    assert fee == 17_500
    assert format_money(fee, 6) == "0.017500"


def test_trading_fee_exact_multiple_of_a_hundredth_cent_is_not_rounded_up() -> None:
    # 0.07 x 100 x 0.5 x 0.5 = 1.75 exactly.
    assert trading_fee(10_000, 5_000, 700) == 1_750_000


def test_trading_fee_tiny_trade_rounds_up_to_one_hundredth_cent() -> None:
    assert trading_fee(1, 100, 175) == 100


@pytest.mark.parametrize(("count", "price", "bps"), [(0, 5_000, 700), (100, 5_000, 0),
                                                     (100, 5_000, -1)])
def test_trading_fee_without_size_or_multiplier_is_zero(count: int, price: int,
                                                        bps: int) -> None:
    assert trading_fee(count, price, bps) == 0


@given(st.integers(min_value=1, max_value=10**8), st.integers(min_value=1, max_value=9_999),
       st.integers(min_value=1, max_value=10_000))
def test_trading_fee_is_smallest_hundredth_cent_at_or_above_the_exact_fee(
        count: int, price: int, bps: int) -> None:
    fee = trading_fee(count, price, bps)
    # Exact fee in units of 1e-14 dollars: count/1e2 * price/1e4 * (1-price)/1e4 * bps/1e4.
    exact = count * price * (10_000 - price) * bps
    per_hundredth_cent = 10**10
    assert fee % 100 == 0
    assert (fee // 100) * per_hundredth_cent >= exact
    assert (fee // 100 - 1) * per_hundredth_cent < exact
