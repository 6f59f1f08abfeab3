"""DELETE of RFQs and quotes, and what closing an RFQ does to its quotes."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx
import pytest

from tests.api.conftest import NewTrader
from tests.api.support import (
    QUOTES,
    RFQS,
    bare,
    instant,
    nested_error,
    quote_as,
    scoped,
)
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, Trader

Delete = Callable[[Trader, str, str], httpx.Response]


def delete_scoped(trader: Trader, rfq_id: str, quote_id: str) -> httpx.Response:
    return trader.delete(scoped(rfq_id, quote_id))


def delete_bare(trader: Trader, rfq_id: str, quote_id: str) -> httpx.Response:
    return trader.delete(bare(quote_id))


PATHS = pytest.mark.parametrize("delete_quote", [delete_scoped, delete_bare],
                                ids=["scoped", "bare"])


@pytest.fixture
def deal(control: Control, new_trader: NewTrader) -> tuple[Trader, Trader, str, str]:
    """A requester's 10-contract RFQ on MARKET with one open quote 0.40 / 0.55."""
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(MARKET, "10")
    return requester, maker, rfq_id, maker.create_quote(rfq_id, "0.40", "0.55")


def delete_rfq(trader: Trader, rfq_id: str) -> httpx.Response:
    return trader.delete(f"{RFQS}/{rfq_id}")


# Delete RFQ ---------------------------------------------------------------------------------


def test_delete_rfq_closes_it_and_cancels_its_open_and_accepted_quotes(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    makers = [new_trader(f"maker{i}") for i in range(3)]
    rfq_id = requester.create_rfq(MARKET, "10")
    replaced = makers[0].create_quote(rfq_id, "0.30", "0.55")
    open_quote = makers[0].create_quote(rfq_id, "0.40", "0.55")
    accepted = makers[1].create_quote(rfq_id, "0.41", "0.55")
    withdrawn = makers[2].create_quote(rfq_id, "0.42", "0.55")
    assert delete_scoped(makers[2], rfq_id, withdrawn).status_code == 204
    requester.accept(rfq_id, accepted, "yes")
    control.advance(1)

    response = delete_rfq(requester, rfq_id)
    assert response.status_code == 204, response.text
    assert response.content == b""

    rfq = requester.rfq(rfq_id)
    assert rfq["status"] == "closed"
    assert rfq["cancellation_reason"] == "deleted_by_user"
    assert rfq["cancelled_ts"] == rfq["updated_ts"]
    assert instant(rfq["cancelled_ts"]) > instant(rfq["created_ts"])
    reasons = {q["id"]: (q["status"], q.get("cancellation_reason"))
               for q in requester.get(QUOTES, params={"rfq_id": rfq_id}).json()["quotes"]}
    assert reasons == {
        replaced: ("cancelled", "replaced"),
        open_quote: ("cancelled", "rfq_closed"),
        accepted: ("cancelled", "rfq_closed"),
        withdrawn: ("cancelled", "deleted_by_user"),
    }
    # The accepted quote's confirmation window no longer matters: confirming fails.
    nested_error(makers[1].put(scoped(rfq_id, accepted, "confirm")), 400, "RFQ_CLOSED")
    control.advance(60)
    assert quote_as(requester, rfq_id, accepted)["cancellation_reason"] == "rfq_closed"


def test_delete_rfq_twice_is_rfq_closed(deal: tuple[Trader, Trader, str, str]) -> None:
    requester, _, rfq_id, _ = deal
    assert delete_rfq(requester, rfq_id).status_code == 204
    nested_error(delete_rfq(requester, rfq_id), 400, "RFQ_CLOSED")
    assert requester.rfq(rfq_id)["cancellation_reason"] == "deleted_by_user"


def test_delete_rfq_by_anyone_but_its_creator_is_404(
        new_trader: NewTrader, deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, quote_id = deal
    for caller in (maker, new_trader("stranger")):
        error = nested_error(delete_rfq(caller, rfq_id), 404, "not_found")
        assert error["message"] == "rfq not found"
    assert requester.rfq(rfq_id)["status"] == "open"
    assert quote_as(maker, rfq_id, quote_id)["status"] == "open"


def test_delete_rfq_unknown_is_404_and_malformed_is_400(
        deal: tuple[Trader, Trader, str, str]) -> None:
    requester, _, _, _ = deal
    nested_error(delete_rfq(requester, str(uuid.uuid4())), 404, "not_found")
    nested_error(delete_rfq(requester, "not-a-uuid"), 400, "invalid_parameters")


def test_delete_rfq_with_a_confirmed_quote_is_refused_and_the_trade_still_executes(
        control: Control, new_trader: NewTrader, deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, quote_id = deal
    rivals = [new_trader("rival1"), new_trader("rival2")]
    rival_quotes = [r.create_quote(rfq_id, "0.39", "0.55") for r in rivals]
    assert delete_scoped(rivals[1], rfq_id, rival_quotes[1]).status_code == 204
    requester.accept(rfq_id, quote_id, "yes")
    maker.confirm(rfq_id, quote_id)

    error = nested_error(delete_rfq(requester, rfq_id), 400, "invalid_parameters")
    assert "confirmed" in error["details"]
    assert requester.rfq(rfq_id)["status"] == "open"
    assert quote_as(maker, rfq_id, quote_id)["status"] == "confirmed"
    # Neither can the maker withdraw, nor can replace_existing close the RFQ.
    nested_error(delete_scoped(maker, rfq_id, quote_id), 400, "invalid_parameters")
    response = requester.post(RFQS, json={"market_ticker": HVM_MARKET, "contracts_fp": "1",
                                          "rest_remainder": False, "replace_existing": True})
    assert response.status_code == 201, response.text
    assert requester.rfq(rfq_id)["status"] == "open"

    control.advance(15)
    executed = quote_as(requester, rfq_id, quote_id)
    assert executed["status"] == "executed"
    rfq = requester.rfq(rfq_id)
    assert (rfq["status"], rfq["cancellation_reason"]) == ("closed", "executed")
    still_open = quote_as(rivals[0], rfq_id, rival_quotes[0])
    assert (still_open["status"], still_open["cancellation_reason"]) == ("cancelled",
                                                                         "rfq_executed")
    assert still_open["cancelled_ts"] == executed["executed_ts"]
    withdrawn = quote_as(rivals[1], rfq_id, rival_quotes[1])
    assert withdrawn["cancellation_reason"] == "deleted_by_user"
    nested_error(delete_rfq(requester, rfq_id), 400, "RFQ_CLOSED")


def test_delete_rfq_after_an_accepted_quote_lapsed_is_allowed(
        control: Control, deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, quote_id = deal
    requester.accept(rfq_id, quote_id)
    control.advance(30)
    assert delete_rfq(requester, rfq_id).status_code == 204
    lapsed = quote_as(maker, rfq_id, quote_id)
    assert lapsed["cancellation_reason"] == "confirmation_timeout"


# Delete quote ------------------------------------------------------------------------------


@PATHS
def test_delete_quote_by_its_maker_cancels_an_open_quote(
        control: Control, deal: tuple[Trader, Trader, str, str], delete_quote: Delete) -> None:
    requester, maker, rfq_id, quote_id = deal
    control.advance(1)
    response = delete_quote(maker, rfq_id, quote_id)
    assert response.status_code == 204, response.text
    assert response.content == b""
    quote = quote_as(requester, rfq_id, quote_id)
    assert (quote["status"], quote["cancellation_reason"]) == ("cancelled", "deleted_by_user")
    assert quote["cancelled_ts"] == quote["updated_ts"]
    assert instant(quote["cancelled_ts"]) > instant(quote["created_ts"])
    # The RFQ itself stays open for other quotes.
    assert requester.rfq(rfq_id)["status"] == "open"
    nested_error(requester.put(scoped(rfq_id, quote_id, "accept"),
                               json={"accepted_side": "yes"}), 400, "invalid_parameters")


@PATHS
def test_delete_quote_while_accepted_withdraws_it_before_confirmation(
        control: Control, new_trader: NewTrader, deal: tuple[Trader, Trader, str, str],
        delete_quote: Delete) -> None:
    requester, maker, rfq_id, quote_id = deal
    rival = new_trader("rival")
    other = rival.create_quote(rfq_id, "0.39", "0.55")
    requester.accept(rfq_id, quote_id, "yes")
    assert delete_quote(maker, rfq_id, quote_id).status_code == 204
    quote = quote_as(maker, rfq_id, quote_id)
    assert (quote["status"], quote["cancellation_reason"]) == ("cancelled", "deleted_by_user")
    assert quote["accepted_side"] == "yes"
    # The lapsed timer does not rewrite the reason; confirming is over.
    control.advance(30)
    assert quote_as(maker, rfq_id, quote_id)["cancellation_reason"] == "deleted_by_user"
    nested_error(maker.put(scoped(rfq_id, quote_id, "confirm")), 400, "quote_expired")
    # The requester may now accept another quote.
    assert requester.put(scoped(rfq_id, other, "accept"),
                         json={"accepted_side": "yes"}).status_code == 204


@PATHS
def test_delete_quote_after_confirmation_is_refused_and_the_trade_executes(
        control: Control, deal: tuple[Trader, Trader, str, str], delete_quote: Delete) -> None:
    requester, maker, rfq_id, quote_id = deal
    requester.accept(rfq_id, quote_id)
    maker.confirm(rfq_id, quote_id)
    error = nested_error(delete_quote(maker, rfq_id, quote_id), 400, "invalid_parameters")
    assert "confirmed" in error["details"]
    control.advance(15)
    assert quote_as(maker, rfq_id, quote_id)["status"] == "executed"
    nested_error(delete_quote(maker, rfq_id, quote_id), 400, "invalid_parameters")


@PATHS
def test_delete_quote_already_cancelled_is_invalid_parameters(
        deal: tuple[Trader, Trader, str, str], delete_quote: Delete) -> None:
    _, maker, rfq_id, quote_id = deal
    assert delete_quote(maker, rfq_id, quote_id).status_code == 204
    error = nested_error(delete_quote(maker, rfq_id, quote_id), 400, "invalid_parameters")
    assert "cancelled" in error["details"]


@PATHS
def test_delete_quote_by_the_requester_or_a_third_party_is_404(
        new_trader: NewTrader, deal: tuple[Trader, Trader, str, str],
        delete_quote: Delete) -> None:
    requester, maker, rfq_id, quote_id = deal
    for caller in (requester, new_trader("stranger")):
        error = nested_error(delete_quote(caller, rfq_id, quote_id), 404, "not_found")
        assert error["message"] == "quote not found"
    assert quote_as(maker, rfq_id, quote_id)["status"] == "open"


def test_delete_quote_under_the_wrong_rfq_is_404(new_trader: NewTrader,
                                                 deal: tuple[Trader, Trader, str, str]) -> None:
    _, maker, rfq_id, quote_id = deal
    other_rfq = new_trader("other").create_rfq(MARKET, "1")
    nested_error(delete_scoped(maker, other_rfq, quote_id), 404, "not_found")
    nested_error(delete_scoped(maker, str(uuid.uuid4()), quote_id), 404, "not_found")
    nested_error(delete_bare(maker, rfq_id, str(uuid.uuid4())), 404, "not_found")
    assert quote_as(maker, rfq_id, quote_id)["status"] == "open"


@pytest.mark.parametrize("path", ["/communications/quotes/xyz",
                                  "/communications/rfqs/xyz/quotes/{q}",
                                  "/communications/rfqs/{r}/quotes/xyz"])
def test_delete_quote_with_a_malformed_id_is_a_400(deal: tuple[Trader, Trader, str, str],
                                                   path: str) -> None:
    _, maker, rfq_id, quote_id = deal
    nested_error(maker.delete(path.format(q=quote_id, r=rfq_id)), 400, "invalid_parameters")


def test_delete_quote_on_a_closed_rfq_reports_the_cancellation(
        deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, quote_id = deal
    assert delete_rfq(requester, rfq_id).status_code == 204
    error = nested_error(delete_scoped(maker, rfq_id, quote_id), 400, "invalid_parameters")
    assert "rfq_closed" in error["details"]


def test_closing_a_market_closes_its_rfqs_and_cancels_their_quotes(
        control: Control, deal: tuple[Trader, Trader, str, str]) -> None:
    requester, maker, rfq_id, quote_id = deal
    control.call("PATCH", f"/markets/{MARKET}", {"status": "closed"})
    rfq = requester.rfq(rfq_id)
    assert (rfq["status"], rfq["cancellation_reason"]) == ("closed", "market_closed")
    quote = quote_as(maker, rfq_id, quote_id)
    assert (quote["status"], quote["cancellation_reason"]) == ("cancelled", "rfq_closed")
