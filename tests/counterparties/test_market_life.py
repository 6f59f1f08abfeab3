"""Built-in counterparties across a market's life: an interval requester stops asking for
quotes on a closed market, a maker's open quote goes with the RFQ the close ends, and the
positions they traded settle like anyone's."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import MARKET
from tests.counterparties.conftest import Bots
from tests.support.server import Control

D = Decimal


def test_counterparties_stop_trading_a_closed_market_and_their_positions_settle(
        control: Control, bots: Bots) -> None:
    maker = bots.maker("mm", fair_price="0.50", spread="0.10", quote_delay=1,
                       balance_dollars="1000", confirm={"policy": "always", "delay": 1})
    requester = bots.requester("rq", markets=[MARKET], contracts="10", interval=10,
                               balance_dollars="1000", accept={"delay": 2})
    control.advance(30)
    executed = [a for a in bots.get("rq")["activity"] if a["action"] == "executed"]
    assert executed, bots.get("rq")["activity"]
    rfqs_before = len([a for a in bots.get("rq")["activity"]
                       if a["action"] == "rfq" and a["outcome"] == "ok"])

    control.call("POST", f"/markets/{MARKET}/close", {})
    control.advance(60)
    activity = bots.get("rq")["activity"]
    assert len([a for a in activity
                if a["action"] == "rfq" and a["outcome"] == "ok"]) == rfqs_before
    # It still tries on its interval, and says why nothing came of it.
    assert activity[-1]["detail"] == "requester rq has no tradable market"
    human = control.trader("human")
    rfqs = human.get("/communications/rfqs", params={"status": "open"}).json()["rfqs"]
    assert rfqs == []

    maker_before = D(bots.balance(maker["user_id"]))
    requester_before = D(bots.balance(requester["user_id"]))
    control.call("POST", f"/markets/{MARKET}/settle", {"result": "yes"})
    # The requester bought YES from the maker ten at a time: a YES result pays the requester
    # $1 a contract and the maker nothing.
    bought = D(10) * len(executed)
    assert D(bots.balance(requester["user_id"])) == requester_before + bought
    assert D(bots.balance(maker["user_id"])) == maker_before
