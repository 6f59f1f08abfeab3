"""The fixture's counterparty helpers: what they send, and what comes back."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from kalshi_sandbox.client import QuoteStatus
from kalshi_sandbox.testing import ControlPlaneError, KalshiSandbox


def test_maker_shorthand_builds_the_confirm_policy(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    maker = sb.counterparties.maker("mm", markets=[sb.markets[0]], quote_delay=0.5,
                                    fair_price=Decimal("0.6"), spread="0.02",
                                    confirm="probability", probability=0.25,
                                    confirm_delay=timedelta(seconds=2), balance=500, seed=3)
    assert (maker.name, maker.kind, maker.active) == ("mm", "maker", True)
    assert maker.user_id
    assert maker.config["markets"] == [sb.markets[0]]
    assert maker.config["fair_price"] == "0.6000"
    assert maker.config["confirm"] == {"policy": "probability", "delay": 2,
                                       "probability": 0.25, "late_by": 1}
    assert maker.config["balance_dollars"] == "500.0000"
    late = sb.counterparties.maker("late", confirm="late", late_by=3)
    assert late.config["confirm"]["policy"] == "late"
    assert late.config["confirm"]["late_by"] == 3
    whole = sb.counterparties.maker("whole", confirm={"policy": "never"})
    assert whole.config["confirm"]["policy"] == "never"


def test_requester_on_demand_rfq_and_accept_options(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    taker = sb.counterparties.requester("taker", markets=[sb.markets[1]], contracts=3,
                                        accept_delay=0, accept_side="no")
    assert taker.config["accept"] == {"delay": 0, "side": "no"}
    assert taker.config["interval"] is None
    rfq_id = sb.counterparties.rfq("taker", contracts="4")
    maker = sb.client(sb.maker)
    rfq = maker.get_rfq(rfq_id)
    assert (rfq.market_ticker, rfq.contracts) == (sb.markets[1], Decimal(4))
    assert rfq.creator_id == taker.communications_id
    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    sb.clock.advance(0)  # a zero delay fires on the next advance
    quote = maker.get_quote(rfq_id, quote_id)
    assert (quote.status, quote.accepted_side) == (QuoteStatus.ACCEPTED, "no")


def test_pause_resume_update_remove_and_clear(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    sb.counterparties.maker("a")
    sb.counterparties.requester("b", markets=[sb.markets[0]])
    assert [p.name for p in sb.counterparties.list()] == ["a", "b"]
    assert not sb.counterparties.pause("a").active
    assert sb.counterparties.get("a").active is False
    assert sb.counterparties.resume("a").active
    assert sb.counterparties.update("a", spread="0.10").config["spread"] == "0.1000"
    sb.counterparties.remove("a")
    assert [p.name for p in sb.counterparties.list()] == ["b"]
    sb.counterparties.clear()
    assert sb.counterparties.list() == []
    with pytest.raises(ControlPlaneError) as missing:
        sb.counterparties.get("a")
    assert missing.value.status == 404


def test_paused_maker_does_not_quote(kalshi_sandbox: KalshiSandbox) -> None:
    sb = kalshi_sandbox
    sb.counterparties.maker("mm", quote_delay=1)
    sb.counterparties.pause("mm")
    requester = sb.client(sb.requester)
    rfq_id = requester.create_rfq(sb.markets[0], contracts=10)
    sb.clock.advance(5)
    assert list(requester.iter_quotes(rfq_id=rfq_id)) == []


def test_dollar_amounts_refuse_floats(kalshi_sandbox: KalshiSandbox) -> None:
    with pytest.raises(TypeError, match="never float"):
        kalshi_sandbox.counterparties.maker("mm", spread=0.04)  # type: ignore[arg-type]
