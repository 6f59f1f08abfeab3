"""GET /markets, GET /markets/{ticker} and GET /exchange/status."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import NewTrader
from tests.api.support import bare_error, nested_error, server_now_seconds
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import API, Control


@pytest.fixture
def public(control: Control) -> Any:
    """An unsigned client: market and exchange reads are public."""
    with httpx.Client(base_url=control.base_url + API, timeout=30) as client:
        yield client


def tickers(client: httpx.Client, **params: Any) -> list[str]:
    response = client.get("/markets", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["cursor"], str)
    return [m["ticker"] for m in body["markets"]]


def test_market_and_exchange_reads_need_no_signature(control: Control, public: httpx.Client
                                                     ) -> None:
    assert tickers(public) == sorted([MARKET, HVM_MARKET])
    market = public.get(f"/markets/{MARKET}").json()["market"]
    assert (market["ticker"], market["status"]) == (MARKET, "active")
    assert market["price_ranges"] == [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]
    status = public.get("/exchange/status").json()
    assert status["exchange_active"] is True
    assert status["trading_active"] is True
    nested_error(public.get("/markets/KXNOPE-1"), 404, "not_found")


def test_list_markets_filters_by_status_tickers_event_series_and_mve(
        control: Control, public: httpx.Client) -> None:
    control.market("KXOTHER-27JAN01-A", status="closed")
    control.market("KXOTHER-27JAN01-B", status="initialized")
    control.market("KXMVECOMBO-1-X", mve_collection_ticker="KXMVECOMBO")
    assert tickers(public, status="open") == sorted([MARKET, HVM_MARKET, "KXMVECOMBO-1-X"])
    assert tickers(public, status="closed") == ["KXOTHER-27JAN01-A"]
    assert tickers(public, status="unopened") == ["KXOTHER-27JAN01-B"]
    assert tickers(public, tickers=f"{MARKET},KXOTHER-27JAN01-A") == sorted(
        [MARKET, "KXOTHER-27JAN01-A"])
    assert tickers(public, event_ticker="KXOTHER-27JAN01") == ["KXOTHER-27JAN01-A",
                                                               "KXOTHER-27JAN01-B"]
    assert tickers(public, series_ticker="KXOTHER") == ["KXOTHER-27JAN01-A",
                                                        "KXOTHER-27JAN01-B"]
    assert tickers(public, mve_filter="only") == ["KXMVECOMBO-1-X"]
    assert "KXMVECOMBO-1-X" not in tickers(public, mve_filter="exclude")
    bare_error(public.get("/markets", params={"status": "active"}))
    bare_error(public.get("/markets", params={"mve_filter": "both"}))
    bare_error(public.get("/markets", params={"limit": 1001}))


def test_list_markets_pages_with_a_cursor(control: Control, public: httpx.Client) -> None:
    for letter in "ABC":
        control.market(f"KXPAGE-27JAN01-{letter}")
    everything = tickers(public)
    seen: list[str] = []
    cursor = ""
    while True:
        body = public.get("/markets", params={"limit": 2, **({"cursor": cursor} if cursor
                                                               else {})}).json()
        seen.extend(m["ticker"] for m in body["markets"])
        cursor = body["cursor"]
        if not cursor:
            break
    assert seen == everything


@pytest.mark.parametrize("cursor", ["abc", "!!!", "not a cursor at all"])
def test_list_markets_ignores_a_malformed_cursor(control: Control, public: httpx.Client,
                                                 cursor: str) -> None:
    # Kalshi answers a garbage cursor on /markets with 200 (docs/behaviour.md), unlike the
    # communications lists.
    assert tickers(public, cursor=cursor) == tickers(public)


def test_list_markets_filters_by_creation_update_and_close_time(
        control: Control, public: httpx.Client) -> None:
    start = server_now_seconds(control)
    control.advance(100)
    control.market("KXLATER-27JAN01-A", close_time="2030-01-01T00:00:00Z")
    control.advance(100)
    control.call("PATCH", f"/markets/{MARKET}", {"hvm": False})
    later = {"KXLATER-27JAN01-A"}
    assert set(tickers(public, min_created_ts=start + 50)) == later
    assert set(tickers(public, max_created_ts=start + 50)) == {MARKET, HVM_MARKET}
    assert set(tickers(public, min_updated_ts=start + 150)) == {MARKET}
    close_2030 = 1893456000
    assert set(tickers(public, min_close_ts=close_2030 - 1)) == later
    assert set(tickers(public, max_close_ts=close_2030 - 1)) == {MARKET, HVM_MARKET}
    assert tickers(public, min_close_ts=close_2030 + 1) == []


def test_list_markets_filters_by_settlement_time(control: Control, public: httpx.Client
                                                 ) -> None:
    control.advance(100)
    settled_at = server_now_seconds(control)
    control.call("PATCH", f"/markets/{MARKET}", {"status": "determined", "result": "yes"})
    assert tickers(public, min_settled_ts=settled_at - 1) == [MARKET]
    assert tickers(public, max_settled_ts=settled_at + 1) == [MARKET]
    assert tickers(public, min_settled_ts=settled_at + 1) == []
    assert tickers(public, max_settled_ts=settled_at - 1) == []


@pytest.mark.parametrize("name", ["min_created_ts", "max_created_ts", "min_updated_ts",
                                  "min_close_ts", "max_close_ts", "min_settled_ts",
                                  "max_settled_ts"])
@pytest.mark.parametrize("value", ["soon", "-1", "1.5"])
def test_list_markets_with_a_bad_timestamp_filter_is_a_bare_400(
        control: Control, public: httpx.Client, name: str, value: str) -> None:
    message = bare_error(public.get("/markets", params={name: value}))
    assert "GetMarkets" in message
    assert "".join(part.capitalize() for part in name.split("_")) in message


def test_market_reads_are_the_same_for_a_signed_caller(control: Control,
                                                       new_trader: NewTrader,
                                                       public: httpx.Client) -> None:
    trader = new_trader("someone")
    assert trader.get("/markets").json() == public.get("/markets").json()
    assert (trader.get(f"/markets/{MARKET}").json()
            == public.get(f"/markets/{MARKET}").json())
