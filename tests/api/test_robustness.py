"""Hostile requests on every endpoint: a 4xx in Kalshi's shape, never a 500, nothing changed."""

from __future__ import annotations

import pytest

from tests.api.conftest import NewTrader
from tests.api.support import QUOTES, RFQS, bare, flat_error, nested_error, quote_as, scoped
from tests.conftest import MARKET
from tests.support.server import Control

DEEP = [b"[" * 100_000, b'{"a":' * 100_000, b'{"market_ticker": ' + b"[" * 50_000]


@pytest.mark.parametrize("raw", DEEP, ids=["arrays", "objects", "in-a-field"])
def test_bodies_nested_too_deeply_are_a_flat_bad_request_on_every_body_endpoint(
        control: Control, new_trader: NewTrader, raw: bytes) -> None:
    requester, maker = new_trader("requester"), new_trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id)
    json = {"content-type": "application/json"}
    for trader, method, path in [
        (requester, "POST", RFQS),
        (maker, "POST", QUOTES),
        (requester, "PUT", scoped(rfq_id, quote_id, "accept")),
        (requester, "PUT", bare(quote_id, "accept")),
        (maker, "PUT", scoped(rfq_id, quote_id, "confirm")),
        (maker, "PUT", bare(quote_id, "confirm")),
    ]:
        error = flat_error(trader.request(method, path, content=raw, headers=json))
        assert error["details"], (method, path)
    # Nothing changed: no new RFQ or quote, the quote still waits for confirmation.
    assert [r["id"] for r in requester.get(RFQS).json()["rfqs"]] == [rfq_id]
    assert [q["id"] for q in maker.get(QUOTES).json()["quotes"]] == [quote_id]
    assert quote_as(maker, rfq_id, quote_id)["status"] == "accepted"


def test_a_path_with_a_trailing_slash_is_a_404_in_kalshis_shape_not_a_redirect(
        control: Control, new_trader: NewTrader) -> None:
    requester, maker = new_trader("requester"), new_trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    for trader, method, path in [
        (requester, "GET", "/communications/id/"),
        (requester, "GET", RFQS + "/"),
        (requester, "POST", RFQS + "/"),
        (requester, "GET", f"{RFQS}/{rfq_id}/"),
        (requester, "DELETE", f"{RFQS}/{rfq_id}/"),
        (maker, "GET", QUOTES + "/"),
        (maker, "GET", scoped(rfq_id, quote_id) + "/"),
        (maker, "DELETE", bare(quote_id) + "/"),
        (requester, "PUT", scoped(rfq_id, quote_id, "accept") + "/"),
        (maker, "PUT", bare(quote_id, "confirm") + "/"),
        (requester, "GET", "/markets/"),
        (requester, "GET", f"/markets/{MARKET}/"),
        (requester, "GET", "/exchange/status/"),
        (requester, "GET", "/portfolio/balance/"),
        (requester, "GET", "/portfolio/orders/"),
    ]:
        response = trader.request(method, path, json={"accepted_side": "yes"})
        nested_error(response, 404, "not_found")
    assert requester.rfq(rfq_id)["status"] == "open"
    assert quote_as(maker, rfq_id, quote_id)["status"] == "open"
