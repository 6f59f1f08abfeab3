"""Counterparty delays are timers in the exchange's scheduler: each fires at its own instant."""

from __future__ import annotations

from tests.conftest import HVM_MARKET, MARKET
from tests.counterparties.conftest import Bots, at, now, seconds
from tests.support.server import Control


def test_one_long_advance_fires_every_reaction_at_its_instant_in_order_with_exchange_timers(
        control: Control, bots: Bots) -> None:
    bots.requester("rq", markets=[MARKET], accept={"delay": 2})
    bots.maker("mm", markets=[MARKET], quote_delay=1, confirm={"policy": "always",
                                                               "delay": 0.5})
    # Interval RFQs elsewhere keep timers due between (and after) the chain's reactions.
    bots.requester("ticker", markets=[HVM_MARKET], interval=2.5)
    start = now(control)
    rfq_id = bots.rfq("rq")
    viewer = control.trader("viewer")

    fired = control.advance(30)["fired_timers"]

    quote_id = bots.activity("mm", "quote")[0]["quote_id"]
    rfq = viewer.rfq(rfq_id)
    assert (rfq["status"], rfq["cancellation_reason"]) == ("closed", "executed")
    [accepted] = bots.activity("rq", "accept")
    [confirmed] = bots.activity("mm", "confirm")
    [executed] = bots.activity("mm", "executed")
    assert accepted["quote_id"] == quote_id
    assert [at(a["at"]) - start for a in (bots.activity("mm", "quote")[0], accepted,
                                          confirmed, executed)] == [
        seconds(1), seconds(3), seconds(3.5), seconds(18.5)]
    assert at(rfq["cancelled_ts"]) - start == seconds(18.5)
    ticks = bots.activity("ticker", "rfq")
    assert [at(a["at"]) - start for a in ticks] == [seconds(2.5 * k) for k in range(1, 13)]
    # quote, accept, confirm, execution, and twelve interval ticks.
    assert fired == 4 + 12


def test_a_zero_delay_has_fired_when_an_advance_by_zero_seconds_returns(
        control: Control, bots: Bots) -> None:
    bots.maker("mm", quote_delay=0)
    requester = control.trader("alice")
    rfq_id = requester.create_rfq(MARKET)

    # A timer already due may fire as soon as the response is out; the advance waits for it.
    control.advance(0)
    [quote] = bots.activity("mm", "quote")
    assert quote["rfq_id"] == rfq_id
    assert at(quote["at"]) == at(requester.rfq(rfq_id)["created_ts"])
    assert control.call("GET", "/clock")["pending_timers"] == 0


def test_a_reaction_is_scheduled_before_the_response_that_caused_it(
        control: Control, bots: Bots) -> None:
    bots.maker("mm", quote_delay=1)
    requester = control.trader("alice")
    requester.create_rfq(MARKET)

    clock = control.call("GET", "/clock")
    assert clock["pending_timers"] == 1
    assert at(clock["next_timer"]) == at(clock["now"]) + seconds(1)
