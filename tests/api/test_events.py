"""Series, events and the lifecycle verbs over signed HTTP: filters, pages, nested markets,
and the refusals of bad input (Kalshi's error bodies, nothing changed)."""

from __future__ import annotations

from typing import Any

from tests.api.support import bare_error, nested_error
from tests.conftest import HVM_MARKET, MARKET
from tests.support.server import Control, Trader


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def test_a_market_creates_its_event_and_series_and_the_event_lists_its_markets(
        control: Control, new_trader: Any) -> None:
    trader: Trader = new_trader("reader")
    control.market("KXTEST-26DEC31-T60", title="Above 60")
    events = ok(trader.get("/events", params={"with_nested_markets": "true"}))
    by_ticker = {e["event_ticker"]: e for e in events["events"]}
    assert sorted(by_ticker) == ["KXTEST-26DEC31", "KXTESTHVM-26DEC31"]
    assert [m["ticker"] for m in by_ticker["KXTEST-26DEC31"]["markets"]] == [
        MARKET, "KXTEST-26DEC31-T60"]
    assert by_ticker["KXTEST-26DEC31"]["series_ticker"] == "KXTEST"
    bare = ok(trader.get("/events"))["events"]
    assert all("markets" not in e for e in bare)
    one = ok(trader.get("/events/KXTESTHVM-26DEC31"))
    assert "markets" not in one["event"]
    assert [m["ticker"] for m in one["markets"]] == [HVM_MARKET]
    series = ok(trader.get("/series"))["series"]
    assert [s["ticker"] for s in series] == ["KXTEST", "KXTESTHVM"]
    assert ok(trader.get("/series/KXTEST"))["series"]["ticker"] == "KXTEST"


def test_events_page_by_cursor_and_filter_by_series_status_and_tickers(
        control: Control, new_trader: Any) -> None:
    trader: Trader = new_trader("reader")
    for n in range(3):
        control.market(f"KXPAGE-2{n}JAN01-T1")
    first = ok(trader.get("/events", params={"limit": 2}))
    second = ok(trader.get("/events", params={"limit": 2, "cursor": first["cursor"]}))
    third = ok(trader.get("/events", params={"limit": 2, "cursor": second["cursor"]}))
    seen = [e["event_ticker"] for page in (first, second, third) for e in page["events"]]
    assert seen == ["KXPAGE-20JAN01", "KXPAGE-21JAN01", "KXPAGE-22JAN01", "KXTEST-26DEC31",
                    "KXTESTHVM-26DEC31"]
    assert third["cursor"] == ""
    in_series = ok(trader.get("/events", params={"series_ticker": "KXPAGE"}))["events"]
    assert len(in_series) == 3
    picked = ok(trader.get("/events", params={"tickers": "KXTEST-26DEC31,KXPAGE-21JAN01"}))
    assert [e["event_ticker"] for e in picked["events"]] == ["KXPAGE-21JAN01", "KXTEST-26DEC31"]
    control.call("POST", "/markets/KXPAGE-20JAN01-T1/close", {})
    closed = ok(trader.get("/events", params={"status": "closed"}))["events"]
    assert [e["event_ticker"] for e in closed] == ["KXPAGE-20JAN01"]
    opened = ok(trader.get("/events", params={"status": "open"}))["events"]
    assert "KXPAGE-20JAN01" not in [e["event_ticker"] for e in opened]
    bare_error(trader.get("/events", params={"status": "sideways"}))
    bare_error(trader.get("/events", params={"limit": 201}))


def test_unknown_events_and_series_are_404_and_removed_endpoints_answer_404(
        control: Control, new_trader: Any) -> None:
    trader: Trader = new_trader("reader")
    nested_error(trader.get("/events/NOPE-1"), 404, "not_found")
    nested_error(trader.get("/series/NOPE"), 404, "not_found")
    assert trader.get("/exchange/announcements").status_code == 404


def test_lifecycle_verbs_refuse_what_the_status_machine_forbids_and_change_nothing(
        control: Control, new_trader: Any) -> None:
    trader: Trader = new_trader("reader")
    control.call("POST", "/markets/NOPE/close", {}, expect=404)
    control.call("POST", f"/markets/{MARKET}/settle", {}, expect=400)
    control.call("POST", f"/markets/{MARKET}/settle", {"result": "maybe"}, expect=400)
    control.call("POST", f"/markets/{MARKET}/settle",
                 {"result": "scalar", "settlement_value_dollars": "1.5"}, expect=400)
    assert ok(trader.get(f"/markets/{MARKET}"))["market"]["status"] == "active"
    control.call("POST", f"/markets/{MARKET}/pause", {})
    assert ok(trader.get(f"/markets/{MARKET}"))["market"]["status"] == "inactive"
    control.call("POST", f"/markets/{MARKET}/open", {})
    assert ok(trader.get(f"/markets/{MARKET}"))["market"]["status"] == "active"
    determined = control.call("POST", f"/markets/{MARKET}/determine",
                              {"result": "scalar", "settlement_value_dollars": "0.25"})
    assert (determined["status"], determined["settlement_value_dollars"]) == (
        "finalized", "0.2500")
    # With no settlement timer the determined market settles at once.
    settled = ok(trader.get(f"/markets/{MARKET}"))["market"]
    assert (settled["status"], settled["result"]) == ("finalized", "scalar")
    control.call("POST", f"/markets/{MARKET}/pause", {}, expect=409)
    control.call("POST", f"/markets/{MARKET}/settle", {}, expect=409)
    control.call("POST", f"/markets/{MARKET}/settle", {"result": "yes"}, expect=409)
    events = ok(trader.get("/events", params={"status": "settled"}))["events"]
    assert [e["event_ticker"] for e in events] == ["KXTEST-26DEC31"]


def test_a_determined_market_settles_when_its_settlement_timer_runs_out(
        control: Control, new_trader: Any) -> None:
    trader: Trader = new_trader("reader")
    control.market("KXTIMER-26DEC31-T1", settlement_timer_seconds=600)
    control.call("POST", "/markets/KXTIMER-26DEC31-T1/determine", {"result": "yes"})
    market = ok(trader.get("/markets/KXTIMER-26DEC31-T1"))["market"]
    assert (market["status"], market["settlement_timer_seconds"]) == ("determined", 600)
    control.advance(599)
    assert ok(trader.get("/markets/KXTIMER-26DEC31-T1"))["market"]["status"] == "determined"
    control.advance(1)
    market = ok(trader.get("/markets/KXTIMER-26DEC31-T1"))["market"]
    assert market["status"] == "finalized"
    assert "settlement_ts" in market
