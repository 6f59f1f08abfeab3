"""Combo (multivariate) markets over signed HTTP and WebSocket: collections, creating a market
from legs with Kalshi's error codes, where combos are listed, and a combo RFQ carrying its
legs through the high-volatility windows (3 s to confirm, 1 s to execute)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.support import nested_error, quote_as
from tests.conftest import MARKET
from tests.support.server import Control, ServerProcess, Trader
from tests.ws.client import OpenSocket, open_sockets

OTHER = "KXOTHER-26DEC31-T1"
COLLECTION = "KXMVETEST"
CREATE = f"/multivariate_event_collections/{COLLECTION}"


@pytest.fixture
def sockets(server: ServerProcess) -> Iterator[OpenSocket]:
    yield from open_sockets(server.base_url)


def leg(market: str, side: str = "yes") -> dict[str, str]:
    return {"event_ticker": market.rsplit("-", 1)[0], "market_ticker": market, "side": side}


def collection(control: Control) -> None:
    control.market(OTHER)
    control.call("POST", "/collections", {
        "collection_ticker": COLLECTION, "title": "Test combos",
        "associated_events": ["KXTEST-26DEC31", "KXOTHER-26DEC31"]}, expect=201)


def combo(trader: Trader, *legs: dict[str, str]) -> dict[str, Any]:
    response = trader.post(CREATE, json={"selected_markets": list(legs)})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


def test_collections_list_and_read_and_create_one_market_per_set_of_legs(
        control: Control, new_trader: Any) -> None:
    trader: Trader = new_trader("combo")
    collection(control)
    listed = trader.get("/multivariate_event_collections").json()
    [found] = listed["multivariate_contracts"]
    assert (found["collection_ticker"], found["associated_event_tickers"]) == (
        COLLECTION, ["KXTEST-26DEC31", "KXOTHER-26DEC31"])
    one = trader.get(f"/multivariate_event_collections/{COLLECTION}").json()
    assert one["multivariate_contract"]["size_min"] == 2
    nested_error(trader.get("/multivariate_event_collections/NOPE"), 404, "not_found")

    created = combo(trader, leg(MARKET), leg(OTHER, "no"))
    again = combo(trader, leg(OTHER, "no"), leg(MARKET))
    assert again == created
    assert created["market_ticker"].startswith(COLLECTION + "-")
    market = trader.get(f"/markets/{created['market_ticker']}").json()["market"]
    assert market["mve_collection_ticker"] == COLLECTION
    assert market["mve_selected_legs"] == [leg(MARKET), leg(OTHER, "no")]
    assert market["price_level_structure"] == "center_deci_edge_centi_cent"
    payload = trader.post(CREATE, json={"selected_markets": [leg(MARKET), leg(OTHER)],
                                        "with_market_payload": True}).json()
    assert payload["market"]["ticker"] == payload["market_ticker"]

    only = trader.get("/markets", params={"mve_filter": "only"}).json()["markets"]
    assert sorted(m["ticker"] for m in only) == sorted(
        [created["market_ticker"], payload["market_ticker"]])
    multivariate = trader.get("/events/multivariate",
                              params={"with_nested_markets": "true"}).json()["events"]
    assert created["event_ticker"] in [e["event_ticker"] for e in multivariate]
    plain = trader.get("/events").json()["events"]
    assert created["event_ticker"] not in [e["event_ticker"] for e in plain]
    by_collection = trader.get("/events/multivariate",
                               params={"collection_ticker": COLLECTION}).json()["events"]
    assert len(by_collection) == 2


def test_bad_legs_get_kalshis_documented_codes_with_the_offending_tickers(
        control: Control, new_trader: Any) -> None:
    trader: Trader = new_trader("combo")
    collection(control)
    control.market("KXTEST-26DEC31-T60")
    control.market("KXNOTIN-26DEC31-T1")
    error = nested_error(trader.post(CREATE, json={"selected_markets": [
        leg(MARKET), leg(MARKET), leg(OTHER)]}), 400, "duplicated_legs")
    assert error["details"] == MARKET
    error = nested_error(trader.post(CREATE, json={"selected_markets": [
        leg(MARKET), leg(MARKET, "no")]}), 400, "conflicting_leg_outcomes")
    assert error["details"] == MARKET
    error = nested_error(trader.post(CREATE, json={"selected_markets": [
        leg(MARKET), leg("KXNOTIN-26DEC31-T1")]}), 400, "invalid_market_combination")
    assert error["details"] == "KXNOTIN-26DEC31-T1"
    error = nested_error(trader.post(CREATE, json={"selected_markets": [
        leg(MARKET), leg("KXTEST-26DEC31-T60")]}), 400, "invalid_market_combination")
    assert error["details"] == "KXTEST-26DEC31-T60"
    nested_error(trader.post(CREATE, json={"selected_markets": []}), 400,
                 "invalid_parameters")
    nested_error(trader.post("/multivariate_event_collections/NOPE",
                             json={"selected_markets": [leg(MARKET), leg(OTHER)]}),
                 404, "not_found")
    assert trader.get("/markets", params={"mve_filter": "only"}).json()["markets"] == []


def test_combo_rfq_carries_its_legs_and_gets_the_three_and_one_second_windows(
        control: Control, new_trader: Any, sockets: OpenSocket) -> None:
    requester: Trader = new_trader("combo-requester")
    maker: Trader = new_trader("combo-maker")
    watch = sockets(maker)
    watch.subscribe("communications", "multivariate_market_lifecycle", "market_lifecycle_v2")
    collection(control)
    ticker = combo(requester, leg(MARKET), leg(OTHER, "no"))["market_ticker"]
    legs = [leg(MARKET), leg(OTHER, "no")]

    rfq_id = requester.create_rfq(ticker, "10")
    rfq = requester.rfq(rfq_id)
    assert (rfq["mve_collection_ticker"], rfq["mve_selected_legs"]) == (COLLECTION, legs)

    # The quote accepted but not confirmed lapses after 3 s.
    quote_id = maker.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    requester.accept(rfq_id, quote_id, "yes")
    control.advance(2.9)
    assert quote_as(requester, rfq_id, quote_id)["status"] == "accepted"
    control.advance(0.1)
    assert quote_as(requester, rfq_id, quote_id)["status"] == "cancelled"

    # A confirmed quote executes 1 s after its confirmation.
    quote_id = maker.create_quote(rfq_id, yes_bid="0.40", no_bid="0.55")
    requester.accept(rfq_id, quote_id, "yes")
    control.advance(2.9)
    maker.confirm(rfq_id, quote_id)
    control.advance(0.9)
    assert quote_as(requester, rfq_id, quote_id)["status"] == "confirmed"
    control.advance(0.1)
    assert quote_as(requester, rfq_id, quote_id)["status"] == "executed"

    frames = watch.drain()
    created = [f["msg"] for f in frames if f["type"] == "rfq_created"]
    assert [(m["market_ticker"], m["mve_collection_ticker"], m["mve_selected_legs"])
            for m in created] == [(ticker, COLLECTION, legs)]
    combos = [f["msg"] for f in frames if f["type"] == "multivariate_market_lifecycle"]
    assert [(m["event_type"], m["market_ticker"]) for m in combos] == [("created", ticker)]
    plain = [f["msg"]["market_ticker"] for f in frames if f["type"] == "market_lifecycle_v2"]
    assert plain == [OTHER]
