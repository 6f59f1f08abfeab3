"""Every number the control plane takes is range-checked: out of range is a 400, and the
sandbox is left as it was (the clock where it stood, no account, rule or bot added)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.security.conftest import CONTROL, accounts_of
from tests.support.server import Control, ServerProcess, running

END_OF_9999 = "9999-12-31T23:59:59.999999Z"


def post(server: ServerProcess, path: str, body: Any) -> httpx.Response:
    """POST ``body`` as JSON (``bytes``: as they are, declared JSON)."""
    if isinstance(body, bytes):
        return httpx.post(server.base_url + CONTROL + path, content=body, timeout=30,
                          headers={"Content-Type": "application/json"})
    return httpx.post(server.base_url + CONTROL + path, json=body, timeout=30)


def clock_of(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(server.base_url + CONTROL + "/clock")
    assert response.status_code == 200, response.text
    clock: dict[str, Any] = response.json()
    return clock


def assert_invalid(response: httpx.Response, says: str = "") -> None:
    assert response.status_code == 400, response.text
    error = response.json().get("error", response.json())
    assert error["code"] in ("invalid_parameters", "bad_request"), error
    assert says in str(error.get("details")), error


# The clock ------------------------------------------------------------------------------------


@pytest.mark.parametrize("speed", [1e300, 1e308, 1001, 0, -1, 0.0001, "10", True, None])
def test_clock_speed_out_of_range_is_refused_and_health_stays_up(
        system_server: ServerProcess, speed: Any) -> None:
    response = post(system_server, "/clock/speed", {"speed": speed})
    assert_invalid(response, "speed must be a number from 0.001 to 1000")
    assert clock_of(system_server)["speed"] == 1.0
    health = httpx.get(system_server.base_url + CONTROL + "/health")
    assert health.status_code == 200, health.text


def test_the_fastest_clock_still_reads_a_four_digit_year(system_server: ServerProcess) -> None:
    try:
        assert post(system_server, "/clock/speed", {"speed": 1000}).status_code == 200
        time.sleep(0.05)  # the clock runs at its speed against real time
        year = int(clock_of(system_server)["now"][:4])
        assert 1970 <= year <= 9999
    finally:
        assert post(system_server, "/clock/speed", {"speed": 1}).status_code == 200


@pytest.fixture
def manual_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox of its own: these tests move its clock to the end of time."""
    yield from running(tmp_path_factory.mktemp("manual"))


@pytest.mark.parametrize("body", [
    {"seconds": "300000000000"}, {"seconds": 300000000000}, {"seconds": 1e20},
    {"seconds": "1e5"}, {"seconds": -1}, {"seconds": "-1"}, {"seconds": "NaN"},
    {"seconds": "9" * 5000}, {"to": "9999-12-31T23:59:59-23:59"},
    {"to": "10000-01-01T00:00:00Z"}, {"to": "+275760-09-13T00:00:00Z"},
    {"to": "1969-12-31T23:59:59Z"}, {"to": "0001-01-01T00:00:00+23:59"},
])
def test_the_clock_never_leaves_the_years_1970_to_9999(manual_server: ServerProcess,
                                                       body: dict[str, Any]) -> None:
    before = clock_of(manual_server)["now"]
    assert_invalid(post(manual_server, "/clock/advance", body))
    assert clock_of(manual_server)["now"] == before


def test_the_clock_reaches_the_end_of_9999_and_stops_there(
        manual_server: ServerProcess) -> None:
    control = Control(manual_server.base_url)
    try:
        moved = post(manual_server, "/clock/advance", {"to": "9999-12-31T23:59:59Z"})
        assert moved.status_code == 200, moved.text
        assert_invalid(post(manual_server, "/clock/advance", {"seconds": 1}),
                       f"cannot move past {END_OF_9999}")
        assert clock_of(manual_server)["now"] == "9999-12-31T23:59:59Z"
        # The sandbox still works at the end of time: ids, accounts, markets, RFQs.
        control.market("KXEND-99DEC31-T1")
        trader = control.trader("last")
        rfq = trader.create_rfq("KXEND-99DEC31-T1")
        assert trader.rfq(rfq)["created_ts"].startswith("9999-12-31T23:59:59")
        assert httpx.get(manual_server.base_url + CONTROL + "/health").status_code == 200
    finally:
        control.close()


# Accounts, markets, faults, counterparties -----------------------------------------------------


@pytest.mark.parametrize("body", [
    {"name": "rich", "balance_dollars": "1000000000000"},
    {"name": "rich", "balance_dollars": "1e12"},
    {"name": "rich", "balance_dollars": "-5"},
    {"name": "rich", "balance_dollars": 1e12},  # a number is read as dollars, and bounded
    {"name": "rich", "balance_dollars": -5},
    {"name": "rich", "balance_dollars": True},
    {"name": "rich", "usage_tier": "x" * 200},
])
def test_account_numbers_out_of_range_create_nothing(server: ServerProcess, control: Control,
                                                     body: dict[str, Any]) -> None:
    before = accounts_of(server)
    response = post(server, "/accounts", body)
    assert response.status_code == 400, response.text
    assert accounts_of(server) == before


@pytest.mark.parametrize("body", [
    {"balance_dollars": "1000000000000"}, {"balance_dollars": "1", "subaccount": 64},
    {"balance_dollars": "1", "subaccount": -1}, {"balance_dollars": "1", "subaccount": 2**64},
    {"balance_dollars": "1", "subaccount": 1e300},
])
def test_balances_out_of_range_are_refused(control: Control, body: dict[str, Any]) -> None:
    trader = control.trader("funded", "25")
    response = control.plane.send("PUT", f"/accounts/{trader.account.user_id}/balance", body)
    assert response.status_code == 400, response.text
    assert trader.balance()["balance_dollars"] == "25.0000"


@pytest.mark.parametrize("body", [
    {"ticker": "KXT-1", "open_time": "0001-01-01T00:00:00Z"},
    {"ticker": "KXT-1", "close_time": "9999-12-31T23:59:59-01:00"},
    {"ticker": "KXT-1", "price_ranges": [{"start": "0", "end": "1" * 40, "step": "0.01"}]},
])
def test_market_numbers_out_of_range_create_nothing(server: ServerProcess, control: Control,
                                                    body: dict[str, Any]) -> None:
    response = post(server, "/markets", body)
    assert response.status_code == 400, response.text
    markets = httpx.get(server.base_url + CONTROL + "/markets").json()["markets"]
    assert "KXT-1" not in [m["ticker"] for m in markets]


@pytest.mark.parametrize("rule", [
    {"action": {"type": "error", "status": 600}}, {"action": {"type": "error", "status": 399}},
    {"action": {"type": "latency", "ms": 1e9}}, {"action": {"type": "latency", "ms": -1}},
    {"action": {"type": "rate_limit"}, "probability": 1.5},
    b'{"action": {"type": "rate_limit"}, "probability": 1e400}',
    {"action": {"type": "rate_limit"}, "count": 0},
    {"action": {"type": "rate_limit"}, "count": 2**40},
    {"action": {"type": "rate_limit"}, "seed": -1},
    {"action": {"type": "rate_limit"}, "seed": 2**64},
    {"action": {"type": "ws_close", "code": 999}},
])
def test_fault_rule_numbers_out_of_range_add_no_rule(server: ServerProcess, control: Control,
                                                     rule: Any) -> None:
    response = post(server, "/faults", rule)
    assert response.status_code == 400, response.text
    assert httpx.get(server.base_url + CONTROL + "/faults").json()["faults"] == []


@pytest.mark.parametrize(("kind", "body"), [
    ("makers", {"name": "m", "quote_delay": "1e999999999"}),
    ("makers", {"name": "m", "quote_delay": 1e300}),
    ("makers", {"name": "m", "spread": "2"}),
    ("makers", {"name": "m", "fair_price": "1.5"}),
    ("makers", {"name": "m", "seed": 2**64}),
    ("makers", {"name": "m", "balance_dollars": "1" * 20}),
    ("makers", {"name": "m", "confirm": {"policy": "probability", "probability": 2}}),
    ("requesters", {"name": "r", "interval": 0.01}),
    ("requesters", {"name": "r", "interval": "-1e999999999"}),
    ("requesters", {"name": "r", "contracts": "1e9"}),
    ("requesters", {"name": "r", "contracts": "9" * 40}),
    ("requesters", {"name": "r", "delete_probability": "inf"}),
])
def test_counterparty_numbers_out_of_range_start_no_bot(
        server: ServerProcess, control: Control, kind: str, body: dict[str, Any]) -> None:
    started = time.monotonic()
    response = post(server, f"/counterparties/{kind}", body)
    assert response.status_code == 400, response.text
    assert time.monotonic() - started < 5  # refused, not computed
    assert httpx.get(server.base_url + CONTROL + "/counterparties").json()[
        "counterparties"] == []
