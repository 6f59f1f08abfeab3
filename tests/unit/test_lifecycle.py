"""The market status machine, settlement payouts, combo leg rules and block-trade acceptance,
as pure domain rules."""

from __future__ import annotations

import pytest

from kalshi_sandbox.domain.blocktrade import BlockTrade, BlockTradeStatus
from kalshi_sandbox.domain.combos import Collection, ComboError, check_legs, combo_tickers
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters, NotFound
from kalshi_sandbox.domain.lifecycle import (
    CENT,
    Leg,
    Trigger,
    decode_legs,
    encode_legs,
    next_status,
    settlement_of,
    settlement_value,
)
from kalshi_sandbox.domain.market import PRICE_LEVEL_STRUCTURES, Market, MarketStatus
from kalshi_sandbox.domain.portfolio import Position


def market(status: MarketStatus) -> Market:
    return Market("M-1", "M", "S", "t", "", status, False, "linear_cent",
                  PRICE_LEVEL_STRUCTURES["linear_cent"], 0, 10, 0, 0)


def test_the_status_machine_refuses_what_its_table_lacks_naming_the_status() -> None:
    assert next_status(market(MarketStatus.ACTIVE), Trigger.CLOSE) is MarketStatus.CLOSED
    assert next_status(market(MarketStatus.DETERMINED), Trigger.DETERMINE) is (
        MarketStatus.AMENDED)
    with pytest.raises(Conflict, match="cannot settle market M-1 in status active"):
        next_status(market(MarketStatus.ACTIVE), Trigger.SETTLE)
    with pytest.raises(Conflict):
        next_status(market(MarketStatus.FINALIZED), Trigger.OPEN)


def test_settlement_value_is_one_dollar_zero_or_the_scalar_given() -> None:
    assert settlement_value("yes", None) == 10_000
    assert settlement_value("no", 5_000) == 0
    assert settlement_value("scalar", 2_500) == 2_500
    for result, value in (("scalar", None), ("scalar", 10_001), ("maybe", None)):
        with pytest.raises(InvalidParameters):
            settlement_value(result, value)


def test_payouts_are_floored_to_cents_and_the_rest_is_a_rounding_fee() -> None:
    # 3.33 YES contracts at a scalar value of $0.2501: $0.832833 floors to $0.83.
    holder = Position("u", 0, "M-1", 333, 1_000_000, 1_000_000, 0, 20_000, 0)
    settled = settlement_of(holder, "M", "scalar", 2_501, "s", 5)
    assert (settled.yes_count, settled.no_count, settled.yes_total_cost) == (333, 0, 1_000_000)
    assert (settled.revenue, settled.rounding_fee) == (830_000, 2_833)
    assert settled.revenue % CENT == 0
    assert settled.fee_cost == 20_000
    short = Position("u", 0, "M-1", -1_000, 4_000_000, 4_000_000, 0, 0, 0)
    paid = settlement_of(short, "M", "no", 0, "s", 5)
    assert (paid.no_count, paid.no_total_cost, paid.revenue) == (1_000, 4_000_000, 10_000_000)
    assert settlement_of(short, "M", "yes", 10_000, "s", 5).revenue == 0


def collection(**changes: object) -> Collection:
    base = {"collection_ticker": "KXMVE", "series_ticker": "KXMVE", "title": "t",
            "description": "", "associated_events": "A,B", "open_date": 0, "close_date": 10,
            "is_single_market_per_event": True, "is_all_yes": False, "size_min": 2,
            "size_max": 3, "created_ts": 0}
    base.update(changes)
    return Collection(**base)  # type: ignore[arg-type]


def test_combo_legs_are_checked_in_kalshis_order_of_refusals() -> None:
    events = {"A-1": "A", "A-2": "A", "B-1": "B", "C-1": "C"}
    check_legs(collection(), (Leg("A", "A-1", "yes"), Leg("B", "B-1", "no")), events)
    cases = [
        ((Leg("A", "A-1", "yes"), Leg("A", "A-1", "yes")), "duplicated_legs", "A-1"),
        ((Leg("A", "A-1", "yes"), Leg("A", "A-1", "no")), "conflicting_leg_outcomes", "A-1"),
        ((Leg("A", "A-1", "yes"), Leg("C", "C-1", "yes")), "invalid_market_combination",
         "C-1"),
        ((Leg("A", "A-1", "yes"), Leg("A", "A-2", "yes")), "invalid_market_combination",
         "A-2"),
        ((Leg("A", "A-1", "yes"), Leg("B", "B-9", "yes")), "invalid_market_combination",
         "B-9"),
    ]
    for legs, code, details in cases:
        with pytest.raises(ComboError) as raised:
            check_legs(collection(), legs, events)
        assert (raised.value.code, raised.value.details) == (code, details)
    with pytest.raises(ComboError):
        check_legs(collection(is_all_yes=True),
                   (Leg("A", "A-1", "yes"), Leg("B", "B-1", "no")), events)
    with pytest.raises(InvalidParameters, match="2 to 3 legs"):
        check_legs(collection(), (Leg("A", "A-1", "yes"),), events)


def test_the_same_legs_in_any_order_name_the_same_combo_and_round_trip() -> None:
    legs = (Leg("A", "A-1", "yes"), Leg("B", "B-1", "no"))
    assert combo_tickers(collection(), legs) == combo_tickers(collection(), legs[::-1])
    assert combo_tickers(collection(), legs) != combo_tickers(
        collection(), (Leg("A", "A-1", "no"), Leg("B", "B-1", "no")))
    assert decode_legs(encode_legs(legs)) == legs
    assert decode_legs("") == ()


def test_a_block_trade_is_accepted_by_its_parties_only_while_open() -> None:
    trade = BlockTrade("b", "broker", "buyer", 0, "seller", 0, "M-1", 4_200, 100, "yes", 50,
                       BlockTradeStatus.OPEN, 0, 0)
    with pytest.raises(NotFound):
        trade.accept("broker", 1)
    once = trade.accept("buyer", 1)
    assert (once.buyer_accepted, once.seller_accepted, once.agreed) == (True, False, False)
    both = once.accept("seller", 2)
    assert both.agreed
    with pytest.raises(Conflict, match="expired"):
        trade.accept("buyer", 50)
    with pytest.raises(Conflict):
        BlockTrade("b", "x", "buyer", 0, "seller", 0, "M-1", 1, 1, "no", 50,
                   BlockTradeStatus.EXPIRED, 0, 0).accept("buyer", 1)
