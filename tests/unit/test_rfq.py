"""The RFQ state table: open RFQs close once, for a recorded reason."""

from __future__ import annotations

import pytest

from kalshi_sandbox.domain.errors import IllegalTransition
from kalshi_sandbox.domain.rfq import TRANSITIONS, Rfq, RfqCloseReason, RfqStatus, RfqTrigger


def make_rfq() -> Rfq:
    return Rfq(
        id="r1", creator_user_id="requester", creator_id="comm", creator_subaccount=0,
        market_ticker="M", event_ticker="E", contracts=1_000, target_cost=None,
        target_cost_excludes_fees=False, rest_remainder=False, obscure_creator_id=False,
        status=RfqStatus.OPEN, created_ts=1, updated_ts=1,
    )


def test_rfq_transitions_table_has_only_open_to_closed() -> None:
    assert TRANSITIONS == {(RfqStatus.OPEN, RfqTrigger.CLOSE): RfqStatus.CLOSED}


@pytest.mark.parametrize("reason", list(RfqCloseReason))
def test_rfq_close_open_rfq_records_reason_and_time(reason: RfqCloseReason) -> None:
    closed = make_rfq().close(reason, now=9)
    assert closed.status is RfqStatus.CLOSED
    assert (closed.cancellation_reason, closed.cancelled_ts, closed.updated_ts) == (
        reason.value, 9, 9)


def test_rfq_close_closed_rfq_raises_naming_state_and_trigger() -> None:
    closed = make_rfq().close(RfqCloseReason.EXPIRED, now=9)
    with pytest.raises(IllegalTransition, match="cannot close rfq in state closed") as caught:
        closed.close(RfqCloseReason.DELETED_BY_USER, now=10)
    assert (caught.value.state, caught.value.trigger) == (RfqStatus.CLOSED, RfqTrigger.CLOSE)
