"""The quote state table, trade terms and target-cost sizing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kalshi_sandbox.domain.errors import IllegalTransition, InvalidParameters
from kalshi_sandbox.domain.money import ONE_DOLLAR, cost, trading_fee
from kalshi_sandbox.domain.quote import (
    TRANSITIONS,
    Quote,
    QuoteCancelReason,
    QuoteStatus,
    QuoteTrigger,
    Side,
    Terms,
    next_status,
    size_for_target,
    trade_terms,
)

S = QuoteStatus
T = QuoteTrigger

LEGAL = {
    (S.OPEN, T.ACCEPT): S.ACCEPTED,
    (S.OPEN, T.CANCEL): S.CANCELLED,
    (S.ACCEPTED, T.CONFIRM): S.CONFIRMED,
    (S.ACCEPTED, T.CANCEL): S.CANCELLED,
    (S.ACCEPTED, T.LAPSE): S.CANCELLED,
    (S.CONFIRMED, T.EXECUTE): S.EXECUTED,
    (S.CONFIRMED, T.FAIL): S.CANCELLED,
}
ILLEGAL = [pair for pair in itertools.product(S, T) if pair not in LEGAL]


def make_quote(status: QuoteStatus = QuoteStatus.OPEN) -> Quote:
    return Quote(
        id="q1", rfq_id="r1", creator_user_id="maker", creator_id="maker-comm",
        creator_subaccount=0, rfq_creator_user_id="requester", rfq_creator_id="req-comm",
        rfq_creator_subaccount=0, rfq_obscure_creator_id=False, market_ticker="M",
        event_ticker="E", contracts=1_000, yes_bid=4_500, no_bid=5_000, yes_contracts=1_000,
        no_contracts=1_000, rfq_target_cost=None, target_cost_excludes_fees=False,
        rest_remainder=False, post_only=False, status=status, created_ts=1, updated_ts=1,
    )


def test_transitions_table_is_exactly_the_documented_lifecycle() -> None:
    assert TRANSITIONS == LEGAL


@pytest.mark.parametrize(("pair", "target"), list(LEGAL.items()))
def test_next_status_legal_pair_returns_target(pair: tuple[QuoteStatus, QuoteTrigger],
                                               target: QuoteStatus) -> None:
    assert next_status(*pair) is target


@pytest.mark.parametrize(("status", "trigger"), ILLEGAL)
def test_next_status_illegal_pair_raises_naming_state_and_trigger(
        status: QuoteStatus, trigger: QuoteTrigger) -> None:
    with pytest.raises(IllegalTransition) as caught:
        next_status(status, trigger)
    error = caught.value
    assert (error.subject, error.state, error.trigger) == ("quote", status, trigger)
    assert str(error) == f"cannot {trigger} quote in state {status}"
    assert isinstance(error, InvalidParameters)
    assert error.status == 400


def test_terminal_states_have_no_way_out() -> None:
    for status in (S.EXECUTED, S.CANCELLED):
        assert not [pair for pair in TRANSITIONS if pair[0] is status]


def test_quote_accept_records_side_window_and_status() -> None:
    accepted = make_quote().accept(Side.NO, now=10, deadline=40)
    assert accepted.status is S.ACCEPTED
    assert (accepted.accepted_side, accepted.accepted_ts) == (Side.NO, 10)
    assert (accepted.confirm_deadline, accepted.updated_ts) == (40, 10)


def test_quote_confirm_then_execute_records_orders() -> None:
    confirmed = make_quote().accept(Side.YES, 10, 40).confirm(now=20, execute_at=35)
    assert (confirmed.status, confirmed.confirmed_ts, confirmed.execute_at) == (
        S.CONFIRMED, 20, 35)
    executed = confirmed.execute(35, "maker-order", "requester-order")
    assert executed.status is S.EXECUTED
    assert (executed.creator_order_id, executed.rfq_creator_order_id) == (
        "maker-order", "requester-order")
    assert executed.executed_ts == executed.updated_ts == 35


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (S.OPEN, QuoteCancelReason.DELETED_BY_USER),
        (S.OPEN, QuoteCancelReason.REPLACED),
        (S.OPEN, QuoteCancelReason.RFQ_CLOSED),
        (S.OPEN, QuoteCancelReason.RFQ_EXECUTED),
        (S.ACCEPTED, QuoteCancelReason.DELETED_BY_USER),
        (S.ACCEPTED, QuoteCancelReason.CONFIRMATION_TIMEOUT),
        (S.CONFIRMED, QuoteCancelReason.EXECUTION_FAILED),
    ],
)
def test_quote_cancel_allowed_reason_cancels_with_reason(status: QuoteStatus,
                                                         reason: QuoteCancelReason) -> None:
    cancelled = make_quote(status).cancel(reason, now=50)
    assert cancelled.status is S.CANCELLED
    assert (cancelled.cancellation_reason, cancelled.cancelled_ts) == (reason.value, 50)


@pytest.mark.parametrize(
    ("status", "reason", "trigger"),
    [
        (S.OPEN, QuoteCancelReason.CONFIRMATION_TIMEOUT, T.LAPSE),
        (S.OPEN, QuoteCancelReason.EXECUTION_FAILED, T.FAIL),
        (S.CONFIRMED, QuoteCancelReason.DELETED_BY_USER, T.CANCEL),
        (S.CONFIRMED, QuoteCancelReason.CONFIRMATION_TIMEOUT, T.LAPSE),
        (S.EXECUTED, QuoteCancelReason.RFQ_CLOSED, T.CANCEL),
        (S.CANCELLED, QuoteCancelReason.DELETED_BY_USER, T.CANCEL),
    ],
)
def test_quote_cancel_wrong_state_raises_with_reason_trigger(
        status: QuoteStatus, reason: QuoteCancelReason, trigger: QuoteTrigger) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot {trigger} quote in state {status}"):
        make_quote(status).cancel(reason, now=50)


def test_quote_side_contracts_reads_the_requester_side_size() -> None:
    quote = make_quote()
    assert quote.side_contracts(Side.YES) == quote.yes_contracts
    assert quote.side_contracts(Side.NO) == quote.no_contracts


def test_side_opposite_swaps() -> None:
    assert Side.YES.opposite is Side.NO
    assert Side.NO.opposite is Side.YES


# yes_bid 0.45, no_bid 0.50 (a two-sided quote that does not cross).
YES_BID, NO_BID = 4_500, 5_000


def test_trade_terms_accept_yes_requester_buys_yes_at_one_minus_no_bid() -> None:
    assert trade_terms(YES_BID, NO_BID, Side.YES) == Terms(
        requester_side=Side.YES, requester_price=5_000, maker_side=Side.NO,
        maker_price=NO_BID, yes_price=5_000)


def test_trade_terms_accept_no_requester_buys_no_at_one_minus_yes_bid() -> None:
    assert trade_terms(YES_BID, NO_BID, Side.NO) == Terms(
        requester_side=Side.NO, requester_price=5_500, maker_side=Side.YES,
        maker_price=YES_BID, yes_price=YES_BID)


def test_trade_terms_flip_accept_yes_hits_the_makers_yes_bid() -> None:
    assert trade_terms(YES_BID, NO_BID, Side.YES, flip=True) == trade_terms(
        YES_BID, NO_BID, Side.NO)


def test_trade_terms_flip_accept_no_hits_the_makers_no_bid() -> None:
    assert trade_terms(YES_BID, NO_BID, Side.NO, flip=True) == trade_terms(
        YES_BID, NO_BID, Side.YES)


@given(st.integers(0, ONE_DOLLAR), st.integers(0, ONE_DOLLAR), st.sampled_from(Side),
       st.booleans())
def test_trade_terms_parties_take_opposite_sides_and_pay_one_dollar(
        yes_bid: int, no_bid: int, side: Side, flip: bool) -> None:
    terms = trade_terms(yes_bid, no_bid, side, flip=flip)
    assert terms.maker_side is terms.requester_side.opposite
    assert terms.requester_price + terms.maker_price == ONE_DOLLAR
    yes_payer_price = (terms.requester_price if terms.requester_side is Side.YES
                       else terms.maker_price)
    assert terms.yes_price == yes_payer_price


def largest_fitting(target: int, price: int, bps: int, step: int) -> int:
    """Search every size on the grid, largest first (the plain definition)."""
    for size in range(target // price - (target // price) % step, -1, -step):
        if cost(price, size) + trading_fee(size, price, bps) <= target:
            return size
    return 0


def test_size_for_target_principal_only_floors_to_hundredths() -> None:
    # $35.00 at $0.55 buys 63.63... contracts -> 63.63.
    assert size_for_target(35_000_000, 5_500, taker_fee_bps=700, excludes_fees=True) == 6_363


def test_size_for_target_principal_only_whole_contracts_floors_to_integers() -> None:
    assert size_for_target(35_000_000, 5_500, taker_fee_bps=700, excludes_fees=True,
                           whole_contracts=True) == 6_300


def test_size_for_target_fee_inclusive_leaves_room_for_the_fee() -> None:
    # 63.63 contracts at $0.55 cost $34.9965 + fee $1.1024 > $35; 61.69 cost
    # $33.9295 + fee $1.0688 = $34.9983, and 61.70 no longer fits.
    size = size_for_target(35_000_000, 5_500, taker_fee_bps=700, excludes_fees=False)
    assert size == largest_fitting(35_000_000, 5_500, 700, 1)
    assert cost(5_500, size) + trading_fee(size, 5_500, 700) <= 35_000_000
    assert cost(5_500, size + 1) + trading_fee(size + 1, 5_500, 700) > 35_000_000
    assert size == 6_169


def test_size_for_target_fee_inclusive_whole_contracts_is_an_integer_count() -> None:
    size = size_for_target(35_000_000, 5_500, taker_fee_bps=700, excludes_fees=False,
                           whole_contracts=True)
    assert size % 100 == 0
    assert size == largest_fitting(35_000_000, 5_500, 700, 100)


@pytest.mark.parametrize(("target", "price"), [(0, 5_000), (1_000_000, 0), (-5, 5_000)])
def test_size_for_target_without_target_or_price_is_zero(target: int, price: int) -> None:
    for excludes in (False, True):
        assert size_for_target(target, price, taker_fee_bps=700, excludes_fees=excludes) == 0


def test_size_for_target_below_one_contract_in_whole_mode_is_zero() -> None:
    assert size_for_target(500_000, 5_500, taker_fee_bps=700, excludes_fees=True,
                           whole_contracts=True) == 0


@given(target=st.integers(1, 20_000_000), price=st.integers(1, ONE_DOLLAR - 1),
       bps=st.sampled_from([0, 175, 700, 10_000]), whole=st.booleans())
def test_size_for_target_fee_inclusive_is_the_largest_size_that_fits(
        target: int, price: int, bps: int, whole: bool) -> None:
    step = 100 if whole else 1
    size = size_for_target(target, price, taker_fee_bps=bps, excludes_fees=False,
                           whole_contracts=whole)
    assert size % step == 0
    assert cost(price, size) + trading_fee(size, price, bps) <= target
    bigger = size + step
    assert cost(price, bigger) + trading_fee(bigger, price, bps) > target


@given(target=st.integers(1, 10**12), price=st.integers(1, ONE_DOLLAR - 1),
       whole=st.booleans())
def test_size_for_target_principal_only_is_the_largest_affordable_size(
        target: int, price: int, whole: bool) -> None:
    step = 100 if whole else 1
    size = size_for_target(target, price, taker_fee_bps=700, excludes_fees=True,
                           whole_contracts=whole)
    assert size % step == 0
    assert cost(price, size) <= target < cost(price, size + step)
