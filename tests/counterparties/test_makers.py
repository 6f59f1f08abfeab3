"""Auto-makers against a human requester: quoting, prices on the grid, each confirm policy."""

from __future__ import annotations

import random
from decimal import Decimal

from tests.conftest import HVM_MARKET, MARKET
from tests.counterparties.conftest import Bots, at, quotes_on, seconds
from tests.support.server import Control, Trader

# A quote of yes_bid 0.40 / no_bid 0.55 accepted on YES for 10 contracts:
# the requester pays 10 x 0.45 + a 0.1733 taker fee, the maker 10 x 0.55 + a 0.0434 maker fee.
FAIR, SPREAD = "0.425", "0.05"
REQUESTER_AFTER, MAKER_AFTER = "995.3267", "994.4566"


def _quoted(control: Control, bots: Bots, requester: Trader, rfq_id: str,
            delay: float = 1) -> dict[str, str]:
    control.advance(delay)
    quotes = quotes_on(requester, rfq_id)
    assert len(quotes) == 1, quotes
    return quotes[0]


def _fills(trader: Trader) -> list[dict[str, str]]:
    fills: list[dict[str, str]] = trader.get("/portfolio/fills").json()["fills"]
    return fills


def test_maker_quotes_each_rfq_after_its_delay_at_fair_price_less_half_the_spread(
        control: Control, bots: Bots) -> None:
    maker = bots.maker("mm", quote_delay=2, fair_price="0.60", spread="0.04")
    requester = control.trader("alice")
    rfq_id = requester.create_rfq(MARKET)
    created = at(requester.rfq(rfq_id)["created_ts"])

    control.advance(1.9)
    assert quotes_on(requester, rfq_id) == []
    control.advance(0.1)

    [quote] = quotes_on(requester, rfq_id)
    assert (quote["yes_bid_dollars"], quote["no_bid_dollars"]) == ("0.5800", "0.3800")
    assert quote["creator_id"] == maker["communications_id"]
    assert quote["status"] == "open"
    assert at(quote["created_ts"]) == created + seconds(2)
    [action] = bots.activity("mm", "quote")
    assert (action["outcome"], action["quote_id"]) == ("ok", quote["id"])


def test_maker_without_fair_price_quotes_around_the_markets_last_price_else_half(
        control: Control, bots: Bots) -> None:
    requester, human = control.trader("alice"), control.trader("bob")
    bots.maker("mm", spread="0.04", quote_delay=0)
    first = requester.create_rfq(MARKET)
    control.advance(0)
    [untraded] = quotes_on(requester, first)
    assert (untraded["yes_bid_dollars"], untraded["no_bid_dollars"]) == ("0.4800", "0.4800")

    # A trade at a YES price of 0.45 (1 - no_bid 0.55) sets the market's last price.
    quote_id = human.create_quote(first, yes_bid="0.40", no_bid="0.55")
    requester.accept(first, quote_id, "yes")
    human.confirm(first, quote_id)
    control.advance(15)
    assert requester.quote(quote_id)["status"] == "executed"

    second = requester.create_rfq(MARKET)
    control.advance(0)
    [traded] = quotes_on(requester, second)
    assert (traded["yes_bid_dollars"], traded["no_bid_dollars"]) == ("0.4300", "0.5300")


def test_maker_snaps_each_bid_down_to_the_markets_price_grid(
        control: Control, bots: Bots) -> None:
    control.market("KXDECI-26DEC31-T1", price_level_structure="deci_cent")
    control.market("KXTAPER-26DEC31-T1", price_level_structure="tapered_deci_cent")
    requester = control.trader("alice")
    bots.maker("cent", fair_price="0.5033", spread="0.005", quote_delay=0,
               markets=[MARKET, "KXDECI-26DEC31-T1"])
    bots.maker("taper", fair_price="0.95", spread="0.005", quote_delay=0,
               markets=["KXTAPER-26DEC31-T1"])
    on_cent = requester.create_rfq(MARKET)
    on_deci = requester.create_rfq("KXDECI-26DEC31-T1")
    on_taper = requester.create_rfq("KXTAPER-26DEC31-T1")
    control.advance(0)

    bids = {rfq_id: [(q["yes_bid_dollars"], q["no_bid_dollars"])
                     for q in quotes_on(requester, rfq_id)]
            for rfq_id in (on_cent, on_deci, on_taper)}
    # 0.5033 - 0.0025 = 0.5008 and 0.4967 - 0.0025 = 0.4942, each rounded down to a tick.
    assert bids[on_cent] == [("0.5000", "0.4900")]
    assert bids[on_deci] == [("0.5000", "0.4940")]
    # 0.9475 lies in the 0.001 band above 0.90, 0.0475 in the 0.001 band below 0.10.
    assert bids[on_taper] == [("0.9470", "0.0470")]


def test_maker_declines_a_side_whose_bid_falls_below_the_grid_and_skips_when_both_do(
        control: Control, bots: Bots) -> None:
    requester = control.trader("alice")
    bots.maker("edge", fair_price="0.02", spread="0.06", quote_delay=0, markets=[MARKET])
    bots.maker("wide", fair_price="0.50", spread="0.99", quote_delay=0, markets=[MARKET])
    rfq_id = requester.create_rfq(MARKET)
    control.advance(0)

    [quote] = quotes_on(requester, rfq_id)
    assert (quote["yes_bid_dollars"], quote["no_bid_dollars"]) == ("0.0000", "0.9500")
    assert [a["outcome"] for a in bots.activity("wide", "quote")] == ["no_price"]


def test_maker_with_a_market_filter_quotes_only_rfqs_on_those_markets(
        control: Control, bots: Bots) -> None:
    requester = control.trader("alice")
    bots.maker("mm", markets=[MARKET], quote_delay=1)
    elsewhere = requester.create_rfq(HVM_MARKET)
    here = requester.create_rfq(MARKET)
    control.advance(5)

    assert quotes_on(requester, elsewhere) == []
    assert len(quotes_on(requester, here)) == 1
    assert [a["rfq_id"] for a in bots.activity("mm", "quote")] == [here]


def test_several_makers_answer_a_human_requester_who_takes_the_best_quote(
        control: Control, bots: Bots) -> None:
    requester = control.trader("alice")
    cheap = bots.maker("cheap", fair_price="0.50", spread="0.02", quote_delay=1)
    dear = bots.maker("dear", fair_price="0.50", spread="0.10", quote_delay=2)
    rfq_id = requester.create_rfq(MARKET)
    control.advance(2)

    quotes = {q["creator_id"]: q for q in quotes_on(requester, rfq_id)}
    assert set(quotes) == {cheap["communications_id"], dear["communications_id"]}
    best = quotes[cheap["communications_id"]]
    assert best["no_bid_dollars"] == "0.4900"
    requester.accept(rfq_id, best["id"], "yes")
    control.advance(1 + 15)

    assert requester.quote(best["id"])["status"] == "executed"
    other = quotes[dear["communications_id"]]["id"]
    assert [a["reason"] for a in bots.activity("dear", "quote_cancelled")] == ["rfq_executed"]
    assert [a["quote_id"] for a in bots.activity("cheap", "executed")] == [best["id"]]
    assert other not in [a["quote_id"] for a in bots.activity("cheap", "executed")]
    assert [(f["outcome_side"], f["yes_price_dollars"]) for f in _fills(requester)] == [
        ("yes", "0.5100")]


# Confirm policies ------------------------------------------------------------------------------


def test_confirm_always_confirms_after_its_delay_and_the_trade_executes(
        control: Control, bots: Bots) -> None:
    maker = bots.maker("mm", fair_price=FAIR, spread=SPREAD, balance_dollars="1000",
                       confirm={"policy": "always", "delay": 2})
    requester = control.trader("alice", "1000")
    rfq_id = requester.create_rfq(MARKET, "10")
    quote = _quoted(control, bots, requester, rfq_id)
    requester.accept(rfq_id, quote["id"], "yes")
    accepted = at(requester.quote(quote["id"])["accepted_ts"])

    control.advance(1.9)
    assert requester.quote(quote["id"])["status"] == "accepted"
    control.advance(0.1)
    confirmed = requester.quote(quote["id"])
    assert confirmed["status"] == "confirmed"
    assert at(confirmed["confirmed_ts"]) == accepted + seconds(2)
    assert [a["outcome"] for a in bots.activity("mm", "confirm")] == ["ok"]

    control.advance(15)
    assert requester.quote(quote["id"])["status"] == "executed"
    assert [(f["outcome_side"], f["count_fp"], f["yes_price_dollars"])
            for f in _fills(requester)] == [("yes", "10.00", "0.4500")]
    assert requester.balance()["balance_dollars"] == REQUESTER_AFTER
    assert bots.balance(maker["user_id"]) == MAKER_AFTER
    assert [a["role"] for a in bots.activity("mm", "executed")] == ["maker"]


def test_confirm_always_meets_the_short_window_of_a_high_volatility_market(
        control: Control, bots: Bots) -> None:
    bots.maker("mm", confirm={"policy": "always", "delay": 1})
    requester = control.trader("alice")
    rfq_id = requester.create_rfq(HVM_MARKET, "5")
    quote = _quoted(control, bots, requester, rfq_id)
    requester.accept(rfq_id, quote["id"], "no")

    control.advance(1)
    assert requester.quote(quote["id"])["status"] == "confirmed"
    control.advance(1)
    assert requester.quote(quote["id"])["status"] == "executed"


def test_confirm_never_lets_the_window_lapse_and_nothing_trades(
        control: Control, bots: Bots) -> None:
    maker = bots.maker("mm", fair_price=FAIR, spread=SPREAD, balance_dollars="1000",
                       confirm={"policy": "never"})
    requester = control.trader("alice", "1000")
    rfq_id = requester.create_rfq(MARKET, "10")
    quote = _quoted(control, bots, requester, rfq_id)
    requester.accept(rfq_id, quote["id"], "yes")

    control.advance(29.9)
    assert requester.quote(quote["id"])["status"] == "accepted"
    control.advance(0.1)
    voided = requester.quote(quote["id"])
    assert (voided["status"], voided["cancellation_reason"]) == ("cancelled",
                                                                 "confirmation_timeout")
    control.advance(60)

    assert [a["outcome"] for a in bots.activity("mm", "confirm")] == ["declined"]
    assert bots.activity("mm", "executed") == []
    assert _fills(requester) == []
    assert requester.balance()["balance_dollars"] == "1000.0000"
    assert bots.balance(maker["user_id"]) == "1000.0000"
    assert requester.rfq(rfq_id)["status"] == "open"


def test_confirm_late_arrives_after_the_window_and_gets_quote_expired(
        control: Control, bots: Bots) -> None:
    maker = bots.maker("mm", fair_price=FAIR, spread=SPREAD, balance_dollars="1000",
                       confirm={"policy": "late", "late_by": 2})
    requester = control.trader("alice", "1000")
    rfq_id = requester.create_rfq(MARKET, "10")
    quote = _quoted(control, bots, requester, rfq_id)
    requester.accept(rfq_id, quote["id"], "yes")

    control.advance(30)
    assert requester.quote(quote["id"])["status"] == "cancelled"
    assert bots.activity("mm", "confirm") == []
    control.advance(1.9)
    assert bots.activity("mm", "confirm") == []
    control.advance(0.1)

    [late] = bots.activity("mm", "confirm")
    assert (late["outcome"], late["quote_id"]) == ("quote_expired", quote["id"])
    assert at(late["at"]) == at(requester.quote(quote["id"])["accepted_ts"]) + seconds(32)
    control.advance(30)
    final = requester.quote(quote["id"])
    assert (final["status"], final["cancellation_reason"]) == ("cancelled",
                                                               "confirmation_timeout")
    assert _fills(requester) == []
    assert requester.balance()["balance_dollars"] == "1000.0000"
    assert bots.balance(maker["user_id"]) == "1000.0000"


def test_confirm_with_probability_one_or_zero_always_or_never_confirms(
        control: Control, bots: Bots) -> None:
    bots.maker("sure", markets=[MARKET], confirm={"policy": "probability", "probability": 1})
    bots.maker("nope", markets=[HVM_MARKET], confirm={"policy": "probability",
                                                      "probability": 0})
    requester = control.trader("alice")
    sure_rfq = requester.create_rfq(MARKET)
    nope_rfq = requester.create_rfq(HVM_MARKET)
    control.advance(1)
    [sure] = quotes_on(requester, sure_rfq)
    [nope] = quotes_on(requester, nope_rfq)
    requester.accept(sure_rfq, sure["id"], "yes")
    requester.accept(nope_rfq, nope["id"], "yes")
    control.advance(1)

    assert requester.quote(sure["id"])["status"] == "confirmed"
    assert requester.quote(nope["id"])["status"] == "accepted"
    control.advance(15)
    assert requester.quote(sure["id"])["status"] == "executed"
    assert requester.quote(nope["id"])["cancellation_reason"] == "confirmation_timeout"
    assert [a["outcome"] for a in bots.activity("nope", "confirm")] == ["declined"]


def test_confirm_with_probability_follows_the_seeded_draws_one_per_acceptance(
        control: Control, bots: Bots) -> None:
    rounds, seed, p = 8, 7, 0.5
    draws = random.Random(seed)
    expected = [draws.random() < p for _ in range(rounds)]
    # The seed must exercise both outcomes.
    assert set(expected) == {True, False}
    maker = bots.maker("coin", confirm={"policy": "probability", "probability": p},
                       seed=seed, balance_dollars="1000")
    requester = control.trader("alice", "1000")
    quote_ids = []
    for index in range(rounds):
        ticker = f"KXCOIN-26DEC31-T{index}"
        control.market(ticker)
        rfq_id = requester.create_rfq(ticker, "1")
        quote = _quoted(control, bots, requester, rfq_id)
        requester.accept(rfq_id, quote["id"], "yes")
        quote_ids.append(quote["id"])
    control.advance(60)

    statuses = [requester.quote(q)["status"] for q in quote_ids]
    assert statuses == ["executed" if confirm else "cancelled" for confirm in expected]
    assert len(_fills(requester)) == sum(expected)
    outcomes = [a["outcome"] for a in bots.activity("coin", "confirm")]
    assert sorted(outcomes) == sorted("ok" if c else "declined" for c in expected)
    # Each trade is 1 contract at a YES price of 0.52 (bids 0.48/0.48): the maker pays 0.48
    # plus a 0.0044 fee, the requester 0.52 plus a 0.0175 fee.
    trades = sum(expected)
    assert bots.balance(maker["user_id"]) == f"{Decimal(1000) - trades * Decimal('0.4844'):.4f}"
    assert requester.balance()["balance_dollars"] == (
        f"{Decimal(1000) - trades * Decimal('0.5375'):.4f}")
