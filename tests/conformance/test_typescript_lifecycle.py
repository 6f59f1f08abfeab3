"""Kalshi's official TypeScript SDK (kalshi-typescript 3.30.0), unmodified but for its host,
reads series, events, the exchange schedule, combo collections and settlements, and makes a
combo market from legs (``ts/lifecycle_flow.js``)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.support import execute
from tests.conformance.test_typescript_sdk import _credentials, run_script
from tests.conftest import MARKET
from tests.support.server import Control

OTHER = "KXOTHER-26DEC31-T1"


@pytest.fixture
def flow(control: Control) -> dict[str, Any]:
    control.market(OTHER)
    control.call("POST", "/collections", {"collection_ticker": "KXMVETS",
                                          "associated_events": ["KXTEST-26DEC31",
                                                                "KXOTHER-26DEC31"]},
                 expect=201)
    requester, maker = control.trader("ts-requester"), control.trader("ts-maker")
    execute(control, requester, maker, OTHER, contracts="10", yes_bid="0.40", no_bid="0.55")
    control.call("POST", f"/markets/{OTHER}/settle", {"result": "yes"})
    control.market("KXOTHER-26DEC31-T2")
    payload = {"base_url": control.base_url, "series": "KXTEST", "event": "KXTEST-26DEC31",
               "collection": "KXMVETS",
               "legs": [{"event_ticker": "KXTEST-26DEC31", "market_ticker": MARKET,
                         "side": "yes"},
                        {"event_ticker": "KXOTHER-26DEC31", "market_ticker": "KXOTHER-26DEC31-T2",
                         "side": "no"}],
               "account": _credentials(requester.account)}
    return run_script("lifecycle_flow.js", payload)


def test_typescript_sdk_reads_series_events_schedule_collections_and_settlements(
        flow: dict[str, Any]) -> None:
    assert flow["series"]["series"]["ticker"] == "KXTEST"
    assert "KXTEST" in [s["ticker"] for s in flow["series_list"]["series"]]
    assert [e["event_ticker"] for e in flow["events"]["events"]] == ["KXTEST-26DEC31"]
    assert [m["ticker"] for m in flow["event"]["event"]["markets"]] == [MARKET]
    assert flow["schedule"]["schedule"]["maintenance_windows"] == []
    [collection] = flow["collections"]["multivariate_contracts"]
    assert collection["collection_ticker"] == "KXMVETS"
    combo = flow["combo"]["market_ticker"]
    [event] = flow["multivariate"]["events"]
    assert [m["ticker"] for m in event["markets"]] == [combo]
    assert [leg["market_ticker"] for leg in event["markets"][0]["mve_selected_legs"]] == [
        MARKET, "KXOTHER-26DEC31-T2"]
    [settlement] = flow["settlements"]["settlements"]
    assert (settlement["ticker"], settlement["market_result"], settlement["yes_count_fp"],
            settlement["revenue"]) == (OTHER, "yes", "10.00", 1000)
