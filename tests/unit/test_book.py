"""The matching engine of one market (domain/book.py) and order entry's rules (domain/orders.py)."""

from __future__ import annotations

import pytest

from kalshi_sandbox.domain.book import Book, Resting, SelfTradePrevention
from kalshi_sandbox.domain.errors import (
    FillOrKillInsufficientVolume,
    InvalidOrder,
    InvalidOrderSize,
    InvalidPrice,
    MarketClosed,
)
from kalshi_sandbox.domain.market import PRICE_LEVEL_STRUCTURES, Market, MarketStatus
from kalshi_sandbox.domain.orders import (
    OrderGroup,
    OrderRequest,
    amendment,
    check_order,
    new_order,
    place,
    reducible,
)
from kalshi_sandbox.domain.portfolio import OrderStatus, TimeInForce
from kalshi_sandbox.domain.quote import Side

YES, NO = Side.YES, Side.NO
GTC, IOC, FOK = (TimeInForce.GOOD_TILL_CANCELED, TimeInForce.IMMEDIATE_OR_CANCEL,
                 TimeInForce.FILL_OR_KILL)
MAKER = SelfTradePrevention.MAKER


def rest(book: Book, order_id: str, side: Side, price: int, count: int,
         user: str = "maker") -> Resting:
    order = Resting(order_id, user, 0, side, price, count, book.next_priority())
    book.add(order)
    return order


def request(side: Side, price: int, count: int, tif: TimeInForce = GTC,
            **extra: object) -> OrderRequest:
    return OrderRequest("M", side, price, count, tif, **extra)  # type: ignore[arg-type]


def market(status: MarketStatus = MarketStatus.ACTIVE, grid: str = "linear_cent") -> Market:
    return Market("M", "E", "S", "t", "s", status, False, grid,
                  PRICE_LEVEL_STRUCTURES[grid], 0, 10**18, 0, 0)


def test_a_yes_bid_at_p_meets_a_no_bid_at_one_minus_p() -> None:
    book = Book("M")
    rest(book, "ask", NO, 5_600, 1_000)  # sells YES at 0.56 == buys NO at 0.44
    plan = book.plan(YES, 5_600, 400, "taker")
    assert [(o.order_id, take) for o, take in plan.matches] == [("ask", 400)]
    assert book.plan(YES, 5_500, 400, "taker").matches == []


def test_best_price_first_then_oldest_first() -> None:
    book = Book("M")
    rest(book, "late-better", YES, 5_100, 100)
    rest(book, "old", YES, 5_000, 100)
    rest(book, "new", YES, 5_000, 100)
    rest(book, "newest-better", YES, 5_100, 100)
    plan = book.plan(NO, 5_000, 350, "taker")
    assert [(o.order_id, t) for o, t in plan.matches] == [
        ("late-better", 100), ("newest-better", 100), ("old", 100), ("new", 50)]


def test_apply_fills_makers_and_records_level_deltas() -> None:
    book = Book("M")
    rest(book, "a", YES, 5_000, 100)
    rest(book, "b", YES, 5_000, 100)
    book.drain()
    book.apply(book.plan(NO, 5_000, 150, "taker"))
    assert "a" not in book
    assert book.get("b") is not None
    assert book.levels(YES) == [(5_000, 50)]
    assert [(d.side, d.price, d.delta, d.order.order_id) for d in book.drain()] == [
        (YES, 5_000, -100, "a"), (YES, 5_000, -50, "b")]


def test_queue_position_counts_contracts_ahead_at_the_same_price() -> None:
    book = Book("M")
    rest(book, "a", YES, 5_000, 300)
    rest(book, "b", YES, 5_000, 200)
    rest(book, "c", YES, 5_000, 100)
    rest(book, "other", YES, 4_000, 999)
    assert [book.queue_position(i) for i in "abc"] == [0, 300, 500]
    book.resize("a", 100)
    assert book.queue_position("c") == 300


def test_taker_at_cross_stops_at_the_owners_resting_order_and_keeps_earlier_fills() -> None:
    book = Book("M")
    rest(book, "theirs", NO, 5_000, 100)
    rest(book, "mine", NO, 5_100, 100, user="taker")
    rest(book, "beyond", NO, 5_200, 100)
    plan = book.plan(YES, 5_200, 300, "taker")
    assert [o.order_id for o, _ in plan.matches] == ["theirs"]
    assert plan.stopped
    assert not plan.cancelled


def test_maker_stp_cancels_the_owners_resting_order_and_goes_on() -> None:
    book = Book("M")
    rest(book, "mine", NO, 5_000, 100, user="taker")
    rest(book, "theirs", NO, 5_000, 100)
    plan = book.plan(YES, 5_000, 300, "taker", MAKER)
    assert [o.order_id for o in plan.cancelled] == ["mine"]
    assert [o.order_id for o, _ in plan.matches] == ["theirs"]
    book.apply(plan)
    assert len(book) == 0


def test_max_cost_caps_what_the_taker_spends() -> None:
    book = Book("M")
    rest(book, "a", NO, 4_000, 1_000)
    # 0.40 per contract; $2.00 buys 5 contracts (500 units).
    plan = book.plan(YES, 5_000, 1_000, "taker", max_cost=2_000_000)
    assert plan.filled == 500


def test_post_only_that_would_cross_is_refused() -> None:
    book = Book("M")
    rest(book, "a", NO, 5_000, 100)
    with pytest.raises(InvalidOrder) as caught:
        place(book, request(YES, 5_000, 100, post_only=True), "taker")
    assert caught.value.details == "post only cross"
    assert place(book, request(YES, 4_900, 100, post_only=True), "taker").rests


def test_fill_or_kill_needs_the_whole_count_now() -> None:
    book = Book("M")
    rest(book, "a", NO, 5_000, 100)
    with pytest.raises(FillOrKillInsufficientVolume):
        place(book, request(YES, 5_000, 101, FOK), "taker")
    placement = place(book, request(YES, 5_000, 100, FOK), "taker")
    assert placement.plan.filled == 100
    assert not placement.rests


def test_fill_or_kill_stopped_by_self_trade_prevention_keeps_its_fills() -> None:
    book = Book("M")
    rest(book, "a", NO, 5_000, 100)
    rest(book, "mine", NO, 5_000, 100, user="taker")
    placement = place(book, request(YES, 5_000, 200, FOK), "taker")
    assert placement.plan.filled == 100
    assert not placement.rests


def test_immediate_or_cancel_never_rests_and_good_till_canceled_rests_the_remainder() -> None:
    book = Book("M")
    rest(book, "a", NO, 5_000, 100)
    assert not place(book, request(YES, 5_000, 300, IOC), "taker").rests
    placement = place(book, request(YES, 5_000, 300), "taker")
    assert placement.rests
    assert placement.plan.filled == 100


def test_check_order_refuses_in_kalshis_order() -> None:
    assert check_order(request(YES, 5_000, 100), market(), 0).ticker == "M"
    with pytest.raises(InvalidOrderSize):
        check_order(request(YES, 5_000, 0), market(), 0)
    with pytest.raises(InvalidPrice):
        check_order(request(YES, 5_050, 100), market(), 0)
    with pytest.raises(InvalidPrice):
        check_order(request(YES, 10_000, 100), market(), 0)
    assert check_order(request(YES, 5_050, 100), market(grid="deci_cent"), 0)
    with pytest.raises(InvalidOrder):
        check_order(request(YES, 5_000, 100, IOC, expiration_ts=10), market(), 0)
    with pytest.raises(InvalidOrder):
        check_order(request(YES, 5_000, 100, expiration_ts=10), market(), 10)
    with pytest.raises(MarketClosed):
        check_order(request(YES, 5_000, 100), market(MarketStatus.CLOSED), 0)


def test_reducible_counts_only_the_opposite_position() -> None:
    assert reducible(-500, YES) == 500
    assert reducible(500, YES) == 0
    assert reducible(500, NO) == 500


def test_order_fills_cancels_and_resizes() -> None:
    order = new_order("o", "u", request(NO, 4_000, 1_000), 1_000, 1, 0)
    filled = order.filled(400, 4_000, 100, taker=False, now=5)
    assert (filled.fill_count, filled.remaining_count, filled.status) == (
        400, 600, OrderStatus.RESTING)
    assert filled.maker_fill_cost == 400 * 6_000  # NO side pays 0.60
    assert filled.book_side == "ask"
    smaller = filled.resized(100, 6)
    assert (smaller.remaining_count, smaller.initial_count) == (100, 1_000)
    assert smaller.filled(100, 4_000, 0, taker=True, now=7).status is OrderStatus.EXECUTED
    assert smaller.canceled(8).status is OrderStatus.CANCELED
    assert smaller.resized(0, 9).status is OrderStatus.CANCELED


def test_amend_keeps_priority_only_for_a_size_decrease_at_the_same_price() -> None:
    order = new_order("o", "u", request(YES, 4_000, 1_000), 1_000, 1, 0).filled(
        200, 4_000, 0, taker=False, now=1)
    assert amendment(order, 4_000, 900).keeps_priority
    assert amendment(order, 4_000, 900).remaining == 700
    assert not amendment(order, 4_000, 1_100).keeps_priority
    assert not amendment(order, 4_100, 500).keeps_priority
    with pytest.raises(InvalidOrderSize):
        amendment(order, 4_000, 100)


def test_order_group_triggers_past_its_limit_over_a_rolling_window() -> None:
    group = OrderGroup("g", "u", 0, 1_000, False, "", 0, 0)
    group = group.record(600, 1_000_000)
    assert not group.triggered
    later = group.record(500, 20_000_000)  # the first match left the 15 s window
    assert not later.triggered
    assert later.volume(20_000_000) == 500
    assert group.record(500, 2_000_000).triggered
    assert group.limited(500, 1_000_000).triggered
    assert not group.trigger(3).reset(4).triggered
