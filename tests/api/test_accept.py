"""PUT …/accept on both paths: sides, states, actors, balance."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.api.conftest import NewTrader
from tests.api.support import (
    QUOTES,
    RFQS,
    bare,
    flat_error,
    instant,
    nested_error,
    quote_as,
    scoped,
)
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, Trader

Accept = Callable[[Trader, str, str, Any], httpx.Response]


def accept_scoped(trader: Trader, rfq_id: str, quote_id: str, side: Any) -> httpx.Response:
    return trader.put(scoped(rfq_id, quote_id, "accept"), json={"accepted_side": side})


def accept_bare(trader: Trader, rfq_id: str, quote_id: str, side: Any) -> httpx.Response:
    return trader.put(bare(quote_id, "accept"), json={"accepted_side": side})


PATHS = pytest.mark.parametrize("accept", [accept_scoped, accept_bare], ids=["scoped", "bare"])


@pytest.fixture
def deal(control: Control, new_trader: NewTrader) -> tuple[Trader, Trader, str, str]:
    """A requester's 10-contract RFQ on MARKET with one open quote 0.40 / 0.55."""
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(MARKET, "10")
    return requester, maker, rfq_id, maker.create_quote(rfq_id, "0.40", "0.55")


@PATHS
@pytest.mark.parametrize(("sent", "side"), [("yes", "yes"), ("no", "no"), ("true", "yes"),
                                            ("false", "no"), (True, "yes"), (False, "no")])
def test_accept_quote_records_the_side_in_either_vocabulary(
        control: Control, deal: tuple[Trader, Trader, str, str], accept: Accept, sent: Any,
        side: str) -> None:
    requester, maker, rfq_id, quote_id = deal
    control.advance(2)
    response = accept(requester, rfq_id, quote_id, sent)
    assert response.status_code == 204, response.text
    assert response.content == b""
    quote = quote_as(maker, rfq_id, quote_id)
    assert quote["status"] == "accepted"
    assert quote["accepted_side"] == side
    assert quote["accepted_ts"] == quote["updated_ts"]
    assert instant(quote["accepted_ts"]) > instant(quote["created_ts"])


def test_accept_quote_renders_true_false_to_kalshi_python_3_2_0(
        deal: tuple[Trader, Trader, str, str]) -> None:
    requester, _, rfq_id, quote_id = deal
    requester.accept(rfq_id, quote_id, "no")
    response = requester.get(bare(quote_id),
                             headers={"user-agent": "OpenAPI-Generator/3.2.0/python"})
    assert response.json()["quote"]["accepted_side"] == "false"


@pytest.mark.parametrize("side", ["maybe", "YESS", "", "1", "YES", "No", "TRUE", " yes"])
def test_accept_quote_with_an_unknown_side_is_invalid_parameters(
        deal: tuple[Trader, Trader, str, str], side: str) -> None:
    requester, maker, rfq_id, quote_id = deal
    nested_error(accept_scoped(requester, rfq_id, quote_id, side), 400, "invalid_parameters")
    assert quote_as(maker, rfq_id, quote_id)["status"] == "open"


def test_accept_quote_without_a_side_is_invalid_parameters(
        deal: tuple[Trader, Trader, str, str]) -> None:
    requester, _, rfq_id, quote_id = deal
    response = requester.put(scoped(rfq_id, quote_id, "accept"), json={})
    error = nested_error(response, 400, "invalid_parameters")
    assert "accepted_side" in error["details"]


@pytest.mark.parametrize(("body", "json_body"), [(b"", None), (b"{", None), (b"[]", None),
                                                 (None, {"accepted_side": 1})])
def test_accept_quote_with_an_undecodable_body_is_a_flat_bad_request(
        deal: tuple[Trader, Trader, str, str], body: bytes | None,
        json_body: Any) -> None:
    requester, maker, rfq_id, quote_id = deal
    if body is None:
        response = requester.put(scoped(rfq_id, quote_id, "accept"), json=json_body)
    else:
        response = requester.put(scoped(rfq_id, quote_id, "accept"), content=body,
                                 headers={"content-type": "application/json"})
    flat_error(response)
    assert quote_as(maker, rfq_id, quote_id)["status"] == "open"


@PATHS
def test_accept_quote_on_a_declined_side_is_invalid_parameters(
        control: Control, new_trader: NewTrader, accept: Accept) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(MARKET, "10")
    # no_bid "0": the maker will not buy NO, so the requester cannot get YES.
    quote_id = maker.create_quote(rfq_id, "0.40", "0")
    for side in ("yes", "true"):
        error = nested_error(accept(requester, rfq_id, quote_id, side), 400,
                             "invalid_parameters")
        assert "yes side" in error["details"]
    assert quote_as(requester, rfq_id, quote_id)["status"] == "open"
    assert accept(requester, rfq_id, quote_id, "no").status_code == 204
    assert quote_as(requester, rfq_id, quote_id)["accepted_side"] == "no"


@PATHS
def test_accept_quote_twice_is_invalid_parameters(deal: tuple[Trader, Trader, str, str],
                                                  accept: Accept) -> None:
    requester, maker, rfq_id, quote_id = deal
    assert accept(requester, rfq_id, quote_id, "yes").status_code == 204
    for side in ("yes", "no"):
        error = nested_error(accept(requester, rfq_id, quote_id, side), 400,
                             "invalid_parameters")
        assert "accepted" in error["details"]
    assert quote_as(maker, rfq_id, quote_id)["accepted_side"] == "yes"


@pytest.mark.parametrize("confirm", [False, True])
def test_accept_second_quote_while_one_is_accepted_or_confirmed_is_invalid_parameters(
        new_trader: NewTrader, deal: tuple[Trader, Trader, str, str], confirm: bool) -> None:
    requester, maker, rfq_id, first = deal
    rival = new_trader("rival")
    second = rival.create_quote(rfq_id, "0.45", "0.50")
    requester.accept(rfq_id, first, "yes")
    if confirm:
        maker.confirm(rfq_id, first)
    error = nested_error(accept_scoped(requester, rfq_id, second, "no"), 400,
                         "invalid_parameters")
    assert first in error["details"]
    assert quote_as(rival, rfq_id, second)["status"] == "open"


def test_accept_another_quote_after_the_accepted_one_lapsed_is_allowed(
        control: Control, new_trader: NewTrader,
        deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, first = deal
    rival = new_trader("rival")
    second = rival.create_quote(rfq_id, "0.45", "0.50")
    requester.accept(rfq_id, first, "yes")
    control.advance(29.999)
    assert quote_as(maker, rfq_id, first)["status"] == "accepted"
    control.advance(0.001)
    lapsed = quote_as(maker, rfq_id, first)
    assert (lapsed["status"], lapsed["cancellation_reason"]) == ("cancelled",
                                                                 "confirmation_timeout")
    nested_error(accept_scoped(requester, rfq_id, first, "yes"), 400, "invalid_parameters")
    assert accept_scoped(requester, rfq_id, second, "no").status_code == 204


def test_accept_quote_on_an_hvm_market_lapses_after_three_seconds(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(HVM_MARKET, "1")
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id)
    control.advance(2.999)
    assert quote_as(maker, rfq_id, quote_id)["status"] == "accepted"
    control.advance(0.001)
    assert quote_as(maker, rfq_id, quote_id)["status"] == "cancelled"


@PATHS
def test_accept_quote_by_its_maker_or_a_third_party_is_404(
        new_trader: NewTrader, deal: tuple[Trader, Trader, str, str], accept: Accept) -> None:
    requester, maker, rfq_id, quote_id = deal
    stranger = new_trader("stranger")
    for caller in (maker, stranger):
        error = nested_error(accept(caller, rfq_id, quote_id, "yes"), 404, "not_found")
        assert error["message"] == "quote not found"
    assert quote_as(requester, rfq_id, quote_id)["status"] == "open"


@PATHS
def test_accept_an_unknown_quote_is_404(deal: tuple[Trader, Trader, str, str],
                                        accept: Accept) -> None:
    requester, _, rfq_id, _ = deal
    nested_error(accept(requester, rfq_id, str(uuid.uuid4()), "yes"), 404, "not_found")


def test_accept_quote_under_another_rfq_of_the_requester_is_404(
        new_trader: NewTrader, deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, quote_id = deal
    other_rfq = requester.create_rfq(HVM_MARKET, "1")
    nested_error(accept_scoped(requester, other_rfq, quote_id, "yes"), 404, "not_found")
    nested_error(accept_scoped(requester, str(uuid.uuid4()), quote_id, "yes"), 404,
                 "not_found")
    assert quote_as(maker, rfq_id, quote_id)["status"] == "open"


@pytest.mark.parametrize("path", ["/communications/quotes/nope/accept",
                                  "/communications/rfqs/nope/quotes/{q}/accept",
                                  "/communications/rfqs/{r}/quotes/nope/accept"])
def test_accept_quote_with_a_malformed_id_is_a_400(
        deal: tuple[Trader, Trader, str, str], path: str) -> None:
    requester, _, rfq_id, quote_id = deal
    response = requester.put(path.format(q=quote_id, r=rfq_id), json={"accepted_side": "yes"})
    nested_error(response, 400, "invalid_parameters")


@PATHS
def test_accept_quote_on_a_deleted_rfq_is_rfq_closed(deal: tuple[Trader, Trader, str, str],
                                                      accept: Accept) -> None:
    requester, maker, rfq_id, quote_id = deal
    assert requester.delete(f"{RFQS}/{rfq_id}").status_code == 204
    nested_error(accept(requester, rfq_id, quote_id, "yes"), 400, "RFQ_CLOSED")
    quote = quote_as(maker, rfq_id, quote_id)
    assert (quote["status"], quote["cancellation_reason"]) == ("cancelled", "rfq_closed")


def test_accept_quote_on_an_executed_rfq_is_rfq_closed(
        control: Control, new_trader: NewTrader, deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, quote_id = deal
    rival = new_trader("rival")
    other = rival.create_quote(rfq_id, "0.45", "0.50")
    requester.accept(rfq_id, quote_id)
    maker.confirm(rfq_id, quote_id)
    control.advance(15)
    nested_error(accept_scoped(requester, rfq_id, other, "no"), 400, "RFQ_CLOSED")


@PATHS
def test_accept_quote_the_requester_cannot_pay_is_insufficient_balance(
        control: Control, new_trader: NewTrader, accept: Accept) -> None:
    # Accepting "yes" buys 10 YES at 1 - 0.55 = 0.45: $4.50 plus the taker fee
    # ceil_0.0001(0.07 x 10 x 0.45 x 0.55) = $0.1733, so $4.6733 in all.
    requester = new_trader("requester", "4.6732")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(MARKET, "10")
    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    nested_error(accept(requester, rfq_id, quote_id, "yes"), 400, "insufficient_balance")
    assert quote_as(maker, rfq_id, quote_id)["status"] == "open"
    # "no" buys 10 NO at 1 - 0.40 = 0.60: $6.00 plus fees, even further out of reach.
    nested_error(accept(requester, rfq_id, quote_id, "no"), 400, "insufficient_balance")
    control.call("PUT", f"/accounts/{requester.account.user_id}/balance",
                 {"balance_dollars": "4.6733"})
    assert accept(requester, rfq_id, quote_id, "yes").status_code == 204


def test_accept_quote_on_a_target_cost_rfq_trades_the_side_size(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    response = requester.post(RFQS, json={"market_ticker": MARKET, "rest_remainder": False,
                                          "target_cost_dollars": "10",
                                          "target_cost_excludes_fees": True})
    rfq_id = response.json()["id"]
    quote_id = maker.create_quote(rfq_id, "0.40", "0.55")
    requester.accept(rfq_id, quote_id, "no")
    maker.confirm(rfq_id, quote_id)
    control.advance(15)
    executed = quote_as(requester, rfq_id, quote_id)
    fills = requester.get("/portfolio/fills",
                          params={"order_id": executed["rfq_creator_order_id"]}).json()
    # "no" was sized at floor_0.01(10 / 0.60) = 16.66 contracts.
    assert [(f["outcome_side"], f["count_fp"]) for f in fills["fills"]] == [("no", "16.66")]


def test_accept_quote_lists_show_the_accepted_state_to_both_parties(
        deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, quote_id = deal
    requester.accept(rfq_id, quote_id, "no")
    for trader in (requester, maker):
        quotes = trader.get(QUOTES, params={"status": "accepted"}).json()["quotes"]
        assert [(q["id"], q["accepted_side"]) for q in quotes] == [(quote_id, "no")]
