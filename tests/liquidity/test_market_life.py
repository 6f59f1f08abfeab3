"""Liquidity makers across a market's life: they stop quoting a market that closes (and stay
out), quote it again when it reopens, and their positions settle like anyone's."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from kalshi_sandbox.client import KalshiClient
from tests.conftest import MARKET
from tests.support.server import Control, ServerProcess

D = Decimal


@pytest.fixture
def public(server: ServerProcess) -> Iterator[KalshiClient]:
    with KalshiClient(base_url=server.base_url, credentials_from_env=False) as client:
        yield client


def test_a_maker_withdraws_from_a_closed_market_and_its_position_settles(
        control: Control, public: KalshiClient) -> None:
    lp = control.call("POST", "/liquidity", {
        "name": "lp", "markets": [MARKET], "volatility": "0", "fair_value": "0.50",
        "depth": 2, "size": "10", "balance_dollars": "1000"}, expect=201)
    taker = control.trader("taker")
    bought = taker.post("/portfolio/events/orders", json={
        "ticker": MARKET, "side": "bid", "count": "15", "price": "0.53",
        "time_in_force": "immediate_or_cancel", "self_trade_prevention_type": "taker_at_cross"})
    assert bought.json()["fill_count"] == "15.00", bought.text
    lp_before = D(control.call("GET", f"/accounts/{lp['user_id']}")["account"][
        "balance_dollars"])

    control.call("POST", f"/markets/{MARKET}/close", {})
    book = public.get_orderbook(MARKET)
    assert (book.yes, book.no) == ((), ())
    control.advance(5)
    book = public.get_orderbook(MARKET)
    assert (book.yes, book.no) == ((), ())
    state = control.call("GET", "/liquidity/lp")["state"]
    assert state.get(MARKET, {}).get("quoting", False) is False

    control.call("POST", f"/markets/{MARKET}/open", {})
    control.advance(1)
    assert public.get_orderbook(MARKET).yes != ()

    control.call("POST", f"/markets/{MARKET}/settle", {"result": "no"})
    assert public.get_orderbook(MARKET).yes == ()
    lp_after = D(control.call("GET", f"/accounts/{lp['user_id']}")["account"][
        "balance_dollars"])
    # The maker sold 15 YES (holds 15 NO): a NO result pays it $15.
    assert lp_after == lp_before + 15
    assert taker.get("/portfolio/positions").json()["market_positions"] == []
