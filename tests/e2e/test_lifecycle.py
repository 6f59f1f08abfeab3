"""The complete RFQ flow against a real server process."""

from __future__ import annotations

from tests.conftest import MARKET
from tests.support.server import Control


def test_full_lifecycle_executes_at_quote_prices_and_records_fills(control: Control) -> None:
    requester = control.trader("requester", "1000")
    maker = control.trader("maker", "1000")

    rfq_id = requester.create_rfq(MARKET, "10")
    quote_id = maker.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    assert maker.quote(quote_id)["status"] == "open"

    requester.accept(rfq_id, quote_id, "yes")
    accepted = requester.quote(quote_id)
    assert accepted["status"] == "accepted"
    assert accepted["accepted_side"] == "yes"

    maker.confirm(rfq_id, quote_id)
    assert maker.quote(quote_id)["status"] == "confirmed"

    control.advance(14.9)
    assert maker.quote(quote_id)["status"] == "confirmed"
    control.advance(0.1)

    executed = requester.quote(quote_id)
    assert executed["status"] == "executed"
    assert "executed_ts" in executed
    requester_order = executed["rfq_creator_order_id"]
    assert "creator_order_id" not in executed
    maker_order = maker.quote(quote_id)["creator_order_id"]

    rfq = requester.rfq(rfq_id)
    assert rfq["status"] == "closed"
    assert rfq["cancellation_reason"] == "executed"

    fills = requester.get("/portfolio/fills", params={"order_id": requester_order}).json()
    assert [(f["outcome_side"], f["count_fp"], f["yes_price_dollars"], f["is_taker"])
            for f in fills["fills"]] == [("yes", "10.00", "0.4500", True)]
    maker_fills = maker.get("/portfolio/fills", params={"order_id": maker_order}).json()
    assert [(f["outcome_side"], f["no_price_dollars"], f["is_taker"])
            for f in maker_fills["fills"]] == [("no", "0.5500", False)]

    # Requester bought 10 YES at 0.45 ($4.50) plus a taker fee of 0.07*10*0.45*0.55 = $0.17325
    # rounded up to $0.1733; the maker bought 10 NO at 0.55 ($5.50) plus 0.0175*... = $0.0434.
    assert requester.balance()["balance_dollars"] == "995.3267"
    assert maker.balance()["balance_dollars"] == "994.4566"
    positions = requester.get("/portfolio/positions").json()["market_positions"]
    assert [(p["ticker"], p["position_fp"]) for p in positions] == [(MARKET, "10.00")]
    maker_positions = maker.get("/portfolio/positions").json()["market_positions"]
    assert [(p["ticker"], p["position_fp"]) for p in maker_positions] == [(MARKET, "-10.00")]
