"""Auto-requesters against human makers: on-demand and interval RFQs, accepting, deleting."""

from __future__ import annotations

import random

from tests.conftest import HVM_MARKET, MARKET
from tests.counterparties.conftest import Bots, at, now, quotes_on, seconds
from tests.support.server import Control


def test_requester_on_demand_rfq_trades_with_a_human_maker_who_confirms(
        control: Control, bots: Bots) -> None:
    requester = bots.requester("rq", markets=[MARKET], contracts="10", balance_dollars="1000",
                               accept={"delay": 1})
    maker = control.trader("bob", "1000")
    rfq_id = bots.rfq("rq")

    rfq = maker.rfq(rfq_id)
    assert (rfq["market_ticker"], rfq["contracts_fp"], rfq["status"]) == (MARKET, "10.00",
                                                                          "open")
    assert rfq["creator_id"] == requester["communications_id"]
    quote_id = maker.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    control.advance(0.9)
    assert maker.quote(quote_id)["status"] == "open"
    control.advance(0.1)

    accepted = maker.quote(quote_id)
    assert (accepted["status"], accepted["accepted_side"]) == ("accepted", "yes")
    maker.confirm(rfq_id, quote_id)
    control.advance(15)
    assert maker.quote(quote_id)["status"] == "executed"
    assert maker.rfq(rfq_id)["cancellation_reason"] == "executed"
    # The usual example trade: 10 YES at 0.45 for the requester, 10 NO at 0.55 for the maker.
    assert bots.balance(requester["user_id"]) == "995.3267"
    assert maker.balance()["balance_dollars"] == "994.4566"
    assert [a["action"] for a in bots.get("rq")["activity"]] == ["rfq", "accept", "executed"]


def test_requester_accepts_the_cheapest_side_across_every_quote_that_arrived_in_its_delay(
        control: Control, bots: Bots) -> None:
    bots.requester("best", markets=[MARKET], accept={"delay": 2})
    bots.requester("yes", markets=[MARKET], accept={"delay": 2, "side": "yes"})
    bots.requester("no", markets=[MARKET], accept={"delay": 2, "side": "no"})
    first, second = control.trader("first"), control.trader("second")
    chosen = {}
    for name in ("best", "yes", "no"):
        rfq_id = bots.rfq(name)
        # YES costs the requester 1 - no_bid, NO costs 1 - yes_bid.
        a = first.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")  # YES 0.45, NO 0.60
        control.advance(1)
        b = second.create_quote(rfq_id, yes_bid="0.58", no_bid="0.30")  # YES 0.70, NO 0.42
        control.advance(1)
        quotes = {q["id"]: q for q in quotes_on(first, rfq_id) + quotes_on(second, rfq_id)}
        [(quote_id, side)] = [(q, quotes[q]["accepted_side"]) for q in (a, b)
                              if quotes[q]["status"] == "accepted"]
        chosen[name] = ("a" if quote_id == a else "b", side)

    assert chosen == {"best": ("b", "no"), "yes": ("a", "yes"), "no": ("b", "no")}


def test_requester_waits_its_delay_from_the_first_quote_and_takes_a_better_later_one(
        control: Control, bots: Bots) -> None:
    bots.requester("rq", markets=[MARKET], accept={"delay": 3})
    early, late = control.trader("early"), control.trader("late")
    rfq_id = bots.rfq("rq")
    worse = early.create_quote(rfq_id, yes_bid="0.40", no_bid="0.50")
    control.advance(2)
    better = late.create_quote(rfq_id, yes_bid="0.40", no_bid="0.52")
    control.advance(0.9)
    assert early.quote(worse)["status"] == "open"
    control.advance(0.1)

    assert early.quote(worse)["status"] == "open"
    assert late.quote(better)["status"] == "accepted"
    assert late.quote(better)["accepted_side"] == "yes"


def test_requester_with_delete_probability_one_deletes_its_rfq_instead_of_accepting(
        control: Control, bots: Bots) -> None:
    bots.requester("rq", markets=[MARKET], delete_probability=1, accept={"delay": 1})
    maker = control.trader("bob")
    rfq_id = bots.rfq("rq")
    quote_id = maker.create_quote(rfq_id)
    control.advance(1)

    rfq = maker.rfq(rfq_id)
    assert (rfq["status"], rfq["cancellation_reason"]) == ("closed", "deleted_by_user")
    quote = maker.quote(quote_id)
    assert (quote["status"], quote["cancellation_reason"]) == ("cancelled", "rfq_closed")
    assert [a["rfq_id"] for a in bots.activity("rq", "delete_rfq")] == [rfq_id]
    assert bots.activity("rq", "accept") == []


def test_requester_deletes_or_accepts_by_its_seeded_draws(
        control: Control, bots: Bots) -> None:
    rounds, seed, p = 8, 11, 0.5
    draws = random.Random(seed)
    deletes = [draws.random() < p for _ in range(rounds)]
    # The seed must exercise both outcomes.
    assert set(deletes) == {True, False}
    tickers = [f"KXDEL-26DEC31-T{i}" for i in range(rounds)]
    for ticker in tickers:
        control.market(ticker)
    bots.requester("rq", markets=tickers, delete_probability=p, seed=seed)
    maker = control.trader("bob")
    outcomes = []
    for ticker in tickers:
        rfq_id = bots.rfq("rq", market=ticker)
        quote_id = maker.create_quote(rfq_id)
        control.advance(1)
        outcomes.append(maker.quote(quote_id)["status"])

    assert outcomes == ["cancelled" if delete else "accepted" for delete in deletes]


def test_requester_at_an_interval_creates_rfqs_in_turn_on_markets_without_one_open(
        control: Control, bots: Bots) -> None:
    start = now(control)
    bots.requester("rq", markets=[MARKET, HVM_MARKET], interval=10)
    maker = control.trader("bob")

    control.advance(9.9)
    assert bots.activity("rq", "rfq") == []
    control.advance(0.1)
    control.advance(10)
    control.advance(10)

    made = bots.activity("rq", "rfq")
    assert [(a["outcome"], a.get("market"), at(a["at"]) - start) for a in made] == [
        ("ok", MARKET, seconds(10)), ("ok", HVM_MARKET, seconds(20)),
        ("invalid_parameters", None, seconds(30))]
    listed = maker.get("/communications/rfqs", params={"status": "open"}).json()["rfqs"]
    assert sorted(r["market_ticker"] for r in listed) == sorted([MARKET, HVM_MARKET])

    # Once the first RFQ is gone, the next turn uses its market again.
    first = made[0]["rfq_id"]
    control.call("PATCH", f"/markets/{MARKET}", {"status": "closed"})
    control.call("PATCH", f"/markets/{MARKET}", {"status": "active"})
    assert maker.rfq(first)["status"] == "closed"
    control.advance(10)
    assert [a.get("market") for a in bots.activity("rq", "rfq")][-1] == MARKET


def test_requester_on_demand_reports_an_open_rfq_as_kalshi_does(
        control: Control, bots: Bots) -> None:
    bots.requester("rq", markets=[MARKET])
    bots.rfq("rq", market=MARKET, contracts="2.5")
    listed = control.trader("bob").get("/communications/rfqs").json()["rfqs"]
    assert [r["contracts_fp"] for r in listed] == ["2.50"]

    taken = control.http.post("/counterparties/requesters/rq/rfqs", json={"market": MARKET})
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "rfq_already_exists"
    none_left = control.http.post("/counterparties/requesters/rq/rfqs", json={})
    assert none_left.status_code == 400
    assert "open rfq on each of its markets" in none_left.json()["error"]["details"]


def test_auto_requester_and_auto_makers_trade_with_each_other_unattended(
        control: Control, bots: Bots) -> None:
    requester = bots.requester("rq", markets=[MARKET], interval=20, balance_dollars="1000")
    bots.maker("tight", spread="0.02", balance_dollars="1000")
    bots.maker("loose", spread="0.10", balance_dollars="1000")

    control.advance(20)  # the RFQ
    control.advance(1)  # both quotes
    control.advance(1)  # accept the tight maker's YES at 0.51
    control.advance(1)  # confirm
    control.advance(15)  # execute

    [executed] = bots.activity("rq", "executed")
    assert [a["quote_id"] for a in bots.activity("tight", "executed")] == [executed["quote_id"]]
    assert bots.activity("loose", "executed") == []
    # 10 contracts at 0.51 plus a 0.07 x 10 x 0.51 x 0.49 = 0.1750 (rounded up) taker fee.
    assert bots.balance(requester["user_id"]) == "994.7250"
