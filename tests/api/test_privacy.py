"""Who sees what: quotes are private, RFQs public, private fields per owner."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.conftest import NewTrader
from tests.api.support import QUOTES, RFQS, bare, nested_error, quote_as, scoped
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, Trader

OBSCURED = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

MAKER_ONLY = ("creator_user_id", "creator_order_id", "creator_subaccount", "post_only")
REQUESTER_ONLY = ("rfq_creator_user_id", "rfq_creator_order_id", "rfq_creator_subaccount")


@pytest.fixture
def market_of_three(control: Control, new_trader: NewTrader
                    ) -> tuple[Trader, Trader, Trader, str, str, str]:
    """A requester's RFQ with quotes from makers A and B."""
    requester = new_trader("requester")
    maker_a = new_trader("maker_a")
    maker_b = new_trader("maker_b")
    rfq_id = requester.create_rfq(MARKET, "10")
    quote_a = maker_a.create_quote(rfq_id, "0.40", "0.55", post_only=True)
    quote_b = maker_b.create_quote(rfq_id, "0.41", "0.55")
    return requester, maker_a, maker_b, rfq_id, quote_a, quote_b


def test_a_maker_never_sees_another_makers_quote(
        market_of_three: tuple[Trader, Trader, Trader, str, str, str]) -> None:
    requester, maker_a, maker_b, rfq_id, quote_a, quote_b = market_of_three
    for path in (scoped(rfq_id, quote_a), bare(quote_a)):
        error = nested_error(maker_b.get(path), 404, "not_found")
        assert error["message"] == "quote not found"
    for params in ({}, {"rfq_id": rfq_id}, {"status": "open"}, {"rfq_user_filter": "self"},
                   {"rfq_creator_user_id": requester.account.user_id},
                   {"quote_creator_user_id": maker_a.account.user_id}):
        ids = [q["id"] for q in maker_b.get(QUOTES, params=params).json()["quotes"]]
        assert quote_a not in ids, params
    assert [q["id"] for q in maker_b.get(QUOTES).json()["quotes"]] == [quote_b]
    # Nor may B act on A's quote.
    nested_error(maker_b.delete(scoped(rfq_id, quote_a)), 404, "not_found")
    nested_error(maker_b.put(scoped(rfq_id, quote_a, "confirm")), 404, "not_found")
    # The requester sees both.
    assert {q["id"] for q in requester.get(QUOTES).json()["quotes"]} == {quote_a, quote_b}


def test_a_third_party_sees_the_rfq_but_none_of_its_quotes(
        new_trader: NewTrader,
        market_of_three: tuple[Trader, Trader, Trader, str, str, str]) -> None:
    _, _, _, rfq_id, quote_a, quote_b = market_of_three
    stranger = new_trader("stranger")
    assert stranger.rfq(rfq_id)["id"] == rfq_id
    for quote_id in (quote_a, quote_b):
        nested_error(stranger.get(scoped(rfq_id, quote_id)), 404, "not_found")
        nested_error(stranger.get(bare(quote_id)), 404, "not_found")
    assert stranger.get(QUOTES).json() == {"quotes": [], "cursor": ""}
    assert stranger.get(QUOTES, params={"rfq_id": rfq_id}).json()["quotes"] == []


def test_quote_private_fields_appear_only_for_their_owner(
        market_of_three: tuple[Trader, Trader, Trader, str, str, str]) -> None:
    requester, maker_a, _, rfq_id, quote_a, _ = market_of_three
    as_maker = quote_as(maker_a, rfq_id, quote_a)
    assert as_maker["creator_user_id"] == maker_a.account.user_id
    assert as_maker["creator_subaccount"] == 0
    assert as_maker["post_only"] is True
    for field in REQUESTER_ONLY:
        assert field not in as_maker, field

    as_requester = quote_as(requester, rfq_id, quote_a)
    assert as_requester["rfq_creator_user_id"] == requester.account.user_id
    assert as_requester["rfq_creator_subaccount"] == 0
    for field in MAKER_ONLY:
        assert field not in as_requester, field
    # Public fields agree.
    shared = set(as_maker) - set(MAKER_ONLY)
    assert {k: as_maker[k] for k in shared} == {k: as_requester[k] for k in shared
                                                if k in as_requester}
    assert as_maker["creator_id"] == maker_a.account.communications_id
    assert as_maker["rfq_creator_id"] == requester.account.communications_id


def test_quote_order_ids_after_execution_appear_only_for_their_owner(
        control: Control, market_of_three: tuple[Trader, Trader, Trader, str, str, str]
) -> None:
    requester, maker_a, _, rfq_id, quote_a, _ = market_of_three
    requester.accept(rfq_id, quote_a, "no")
    maker_a.confirm(rfq_id, quote_a)
    control.advance(15)
    as_maker = quote_as(maker_a, rfq_id, quote_a)
    as_requester = quote_as(requester, rfq_id, quote_a)
    assert as_maker["status"] == as_requester["status"] == "executed"
    assert "creator_order_id" in as_maker
    assert "rfq_creator_order_id" not in as_maker
    assert "rfq_creator_order_id" in as_requester
    assert "creator_order_id" not in as_requester
    assert as_maker["creator_order_id"] != as_requester["rfq_creator_order_id"]
    maker_orders = maker_a.get("/portfolio/orders").json()["orders"]
    assert [o["order_id"] for o in maker_orders] == [as_maker["creator_order_id"]]
    # Each party's order is its own: the other gets a 404 for it.
    nested_error(requester.get(f"/portfolio/orders/{as_maker['creator_order_id']}"), 404,
                 "not_found")


def test_quote_subaccounts_are_shown_only_to_their_owner(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    response = requester.post(RFQS, json={"market_ticker": MARKET, "contracts_fp": "1",
                                          "rest_remainder": False, "subaccount": 3})
    assert response.status_code == 201, response.text
    rfq_id = response.json()["id"]
    control.call("PUT", f"/accounts/{maker.account.user_id}/balance",
                 {"balance_dollars": "100", "subaccount": 7})
    quote_id = maker.create_quote(rfq_id, subaccount=7)
    as_maker = quote_as(maker, rfq_id, quote_id)
    as_requester = quote_as(requester, rfq_id, quote_id)
    assert as_maker["creator_subaccount"] == 7
    assert "rfq_creator_subaccount" not in as_maker
    assert as_requester["rfq_creator_subaccount"] == 3
    assert "creator_subaccount" not in as_requester
    assert requester.rfq(rfq_id)["creator_subaccount"] == 3
    assert "creator_subaccount" not in maker.rfq(rfq_id)


def test_rfqs_are_public_with_private_fields_stripped(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    stranger = new_trader("stranger")
    rfq_id = requester.create_rfq(MARKET, "10")
    own = requester.rfq(rfq_id)
    assert own["creator_user_id"] == requester.account.user_id
    assert own["creator_subaccount"] == 0
    public = stranger.rfq(rfq_id)
    assert "creator_user_id" not in public
    assert "creator_subaccount" not in public
    assert public == {k: v for k, v in own.items()
                      if k not in ("creator_user_id", "creator_subaccount")}
    assert public["creator_id"] == requester.account.communications_id
    listed = stranger.get(RFQS).json()["rfqs"]
    assert listed == [public]
    assert requester.get(RFQS).json()["rfqs"] == [own]
    for body in (public, *listed):
        assert requester.account.user_id not in str(body)


def test_obscure_creator_id_shows_the_placeholder_to_everyone_but_the_creator(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    maker = new_trader("maker")
    stranger = new_trader("stranger")
    response = requester.post(RFQS, json={"market_ticker": MARKET, "contracts_fp": "10",
                                          "rest_remainder": False,
                                          "obscure_creator_id": True})
    assert response.status_code == 201, response.text
    rfq_id = response.json()["id"]
    real = requester.account.communications_id

    assert requester.rfq(rfq_id)["creator_id"] == real
    for viewer in (maker, stranger):
        assert viewer.rfq(rfq_id)["creator_id"] == OBSCURED
        assert [r["creator_id"] for r in viewer.get(RFQS).json()["rfqs"]] == [OBSCURED]
        assert real not in viewer.get(f"{RFQS}/{rfq_id}").text

    quote_id = maker.create_quote(rfq_id)
    assert quote_as(maker, rfq_id, quote_id)["rfq_creator_id"] == OBSCURED
    assert quote_as(requester, rfq_id, quote_id)["rfq_creator_id"] == real
    listed = maker.get(QUOTES).json()["quotes"]
    assert [q["rfq_creator_id"] for q in listed] == [OBSCURED]
    # The maker's own id is never obscured to the requester.
    assert quote_as(requester, rfq_id, quote_id)["creator_id"] == maker.account.communications_id

    requester.accept(rfq_id, quote_id)
    assert quote_as(maker, rfq_id, quote_id)["rfq_creator_id"] == OBSCURED
    maker.confirm(rfq_id, quote_id)
    control.advance(15)
    # After execution the counterparty learns who it traded with.
    assert quote_as(maker, rfq_id, quote_id)["rfq_creator_id"] == real
    # Everyone else still sees the placeholder.
    assert stranger.rfq(rfq_id)["creator_id"] == OBSCURED


def test_filtering_by_another_members_user_id_never_finds_their_obscured_rfqs(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    stranger = new_trader("stranger")
    obscured = requester.create_rfq(MARKET, "10", obscure_creator_id=True)
    plain = requester.create_rfq(HVM_MARKET, "10")
    by_id = {"creator_user_id": requester.account.user_id}

    def listed(viewer: Trader) -> list[str]:
        response = viewer.get(RFQS, params=by_id)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["rfqs"]]

    assert listed(stranger) == [plain]
    assert sorted(listed(requester)) == sorted([obscured, plain])
    # Without the filter the obscured RFQ is still public, under the placeholder.
    everything = {r["id"]: r["creator_id"] for r in stranger.get(RFQS).json()["rfqs"]}
    assert everything[obscured] == OBSCURED


def test_rfqs_without_obscure_creator_id_show_the_real_id(
        control: Control, new_trader: NewTrader) -> None:
    requester = new_trader("requester")
    response = requester.post(RFQS, json={"market_ticker": MARKET, "contracts_fp": "1",
                                          "rest_remainder": False,
                                          "obscure_creator_id": False})
    rfq_id = response.json()["id"]
    assert new_trader("stranger").rfq(rfq_id)["creator_id"] == \
        requester.account.communications_id


def test_communications_id_is_a_stable_pseudonym_distinct_from_the_user_id(
        control: Control, new_trader: NewTrader) -> None:
    first = new_trader("first")
    second = new_trader("second")
    ids: list[str] = []
    for trader in (first, second):
        response = trader.get("/communications/id")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert set(body) == {"communications_id"}
        value = body["communications_id"]
        assert len(value) == 64
        assert int(value, 16) >= 0
        assert value == value.lower()
        assert value == trader.account.communications_id
        assert value != trader.account.user_id
        assert trader.get("/communications/id").json() == body
        ids.append(value)
    assert ids[0] != ids[1]


def test_communications_id_without_a_signature_is_a_401(control: Control,
                                                        new_trader: NewTrader) -> None:
    trader = new_trader("someone")
    response = trader.http.get("/communications/id", auth=httpx.Auth())
    nested_error(response, 401, "authentication_error")


def test_get_rfq_unknown_is_404_and_malformed_is_400(control: Control,
                                                     new_trader: NewTrader) -> None:
    trader = new_trader("someone")
    error = nested_error(trader.get(f"{RFQS}/{uuid.uuid4()}"), 404, "not_found")
    assert error["message"] == "rfq not found"
    nested_error(trader.get(f"{RFQS}/12345"), 400, "invalid_parameters")


def test_get_quote_unknown_is_404_and_malformed_is_400(
        market_of_three: tuple[Trader, Trader, Trader, str, str, str]) -> None:
    requester, maker_a, _, rfq_id, quote_a, _ = market_of_three
    nested_error(requester.get(bare(str(uuid.uuid4()))), 404, "not_found")
    nested_error(requester.get(scoped(rfq_id, str(uuid.uuid4()))), 404, "not_found")
    nested_error(requester.get(bare("q-1")), 400, "invalid_parameters")
    nested_error(requester.get(scoped("r-1", quote_a)), 400, "invalid_parameters")
    # The right quote under another RFQ id is not found either.
    nested_error(maker_a.get(scoped(str(uuid.uuid4()), quote_a)), 404, "not_found")
    assert maker_a.get(bare(quote_a)).json() == maker_a.get(scoped(rfq_id, quote_a)).json()
