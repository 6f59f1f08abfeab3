"""Fault rules on Kalshi's REST API: what a bot sees (status, exact body, latency) and that a
faulted request changed nothing, through a real server with signed requests."""

from __future__ import annotations

import random

import pytest

from tests.conftest import HVM_MARKET, MARKET
from tests.faults.conftest import Faults
from tests.faults.support import (
    QUOTES,
    RATE_LIMITED,
    RFQS,
    bare,
    nested,
    quote_body,
    rfq_body,
    scoped,
    state,
    timed,
)
from tests.support.server import Control
from tests.ws.client import OpenSocket

UNAVAILABLE = {"type": "error", "status": 503, "code": "service_unavailable",
               "message": "service unavailable", "details": "exchange is down for a test"}
UNAVAILABLE_BODY = nested(503, "service_unavailable", "service unavailable",
                          "exchange is down for a test")


def _error(status: int = 503) -> dict[str, object]:
    return {"type": "error", "status": status}


# Each action ----------------------------------------------------------------------------------


def test_error_rule_answers_the_nested_kalshi_error_and_creates_no_rfq(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    watcher = sockets(maker)
    watcher.subscribe("communications")
    before = state(requester)
    rule = faults.add(UNAVAILABLE, match={"path": RFQS, "method": "POST"})

    response = requester.post(RFQS, json=rfq_body(MARKET))

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE_BODY
    assert response.headers["content-type"] == "application/json"
    assert state(requester) == before
    assert watcher.drain() == []
    assert faults.get(rule["id"])["hits"] == 1


def test_rate_limit_rule_answers_429_with_kalshis_body_and_no_retry_headers(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    before = state(requester)
    faults.add({"type": "rate_limit"}, match={"path": RFQS, "method": "POST"})

    response = requester.post(RFQS, json=rfq_body(MARKET))

    assert response.status_code == 429
    assert response.json() == RATE_LIMITED
    assert not {"retry-after", "x-ratelimit-limit", "x-ratelimit-remaining"} & set(
        response.headers)
    assert state(requester) == before


def test_latency_rule_delays_the_request_then_handles_it(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    faults.add({"type": "latency", "ms": 300}, match={"path": RFQS, "method": "POST"})

    response, took = timed(lambda: requester.post(RFQS, json=rfq_body(MARKET)))

    assert response.status_code == 201, response.text
    assert took >= 0.3
    assert requester.rfq(response.json()["id"])["status"] == "open"


def test_latency_and_error_rules_both_apply_the_error_after_the_wait(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    faults.add({"type": "latency", "ms": 200}, match={"path": RFQS})
    faults.add(_error(500), match={"path": RFQS})

    response, took = timed(lambda: requester.get(RFQS))

    assert response.status_code == 500
    assert response.json() == nested(500, "internal_server_error", "internal server error")
    assert took >= 0.2


def test_error_rule_takes_any_status_code_message_and_details(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    faults.add({"type": "error", "status": 400, "code": "insufficient_balance",
                "message": "insufficient balance"}, match={"path": RFQS, "method": "POST"})

    response = requester.post(RFQS, json=rfq_body(MARKET))

    assert response.status_code == 400
    assert response.json() == {"error": {"code": "insufficient_balance",
                                         "message": "insufficient balance"}}


# Faulted lifecycle steps change nothing ---------------------------------------------------------


def test_faulted_create_quote_leaves_no_quote_and_sends_no_event(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    ws_requester, ws_maker = sockets(requester), sockets(maker)
    ws_requester.subscribe("communications")
    ws_maker.subscribe("communications")
    before = (state(requester), state(maker))
    faults.add(UNAVAILABLE, match={"path": QUOTES, "method": "POST"})

    response = maker.post(QUOTES, json=quote_body(rfq_id))

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE_BODY
    assert (state(requester), state(maker)) == before
    assert ws_requester.drain() == []
    assert ws_maker.drain() == []


def test_faulted_accept_leaves_the_quote_open_and_a_retry_then_accepts_it(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    ws_requester, ws_maker = sockets(requester), sockets(maker)
    sid_r = ws_requester.subscribe("communications")["communications"]
    sid_m = ws_maker.subscribe("communications")["communications"]
    before = (state(requester), state(maker))
    faults.add(UNAVAILABLE, match={"path": "/communications/rfqs/*/accept"}, count=1)

    response = requester.put(scoped(rfq_id, quote_id, "accept"),
                             json={"accepted_side": "yes"})

    assert response.status_code == 503
    assert response.json() == UNAVAILABLE_BODY
    assert (state(requester), state(maker)) == before
    assert requester.quote(quote_id)["status"] == "open"
    assert ws_requester.drain() == []
    assert ws_maker.drain() == []

    requester.accept(rfq_id, quote_id, "yes")
    assert requester.quote(quote_id)["status"] == "accepted"
    for client, sid in ((ws_requester, sid_r), (ws_maker, sid_m)):
        frames = client.drain()
        assert [(f["type"], f["sid"], f["seq"]) for f in frames] == [
            ("quote_accepted", sid, 1)]
        assert client.gaps == []


def test_faulted_confirm_leaves_the_quote_accepted_and_nothing_executes(
        control: Control, faults: Faults, sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    requester.accept(rfq_id, quote_id, "yes")
    ws_requester, ws_maker = sockets(requester), sockets(maker)
    ws_requester.subscribe("communications", "fill", "user_orders")
    ws_maker.subscribe("communications", "fill", "user_orders")
    before = (state(requester), state(maker))
    faults.add(UNAVAILABLE, match={"path": "/trade-api/v2/communications/*/confirm",
                                   "method": "PUT"})

    for path in (scoped(rfq_id, quote_id, "confirm"), bare(quote_id, "confirm")):
        response = maker.put(path)
        assert response.status_code == 503, path
        assert response.json() == UNAVAILABLE_BODY

    control.advance(20)
    assert maker.quote(quote_id)["status"] == "accepted"
    assert "confirmed_ts" not in maker.quote(quote_id)
    assert (state(requester), state(maker)) == before
    assert ws_requester.drain() == []
    assert ws_maker.drain() == []


def test_faulted_create_rfq_by_header_changes_nothing(control: Control,
                                                      sockets: OpenSocket) -> None:
    requester = control.trader("requester")
    watcher = sockets(control.trader("maker"))
    watcher.subscribe("communications")
    before = state(requester)

    response = requester.post(RFQS, json=rfq_body(MARKET),
                              headers={"X-Sandbox-Fault": "error=503"})

    assert response.status_code == 503
    assert response.json() == nested(503, "service_unavailable", "service unavailable")
    assert state(requester) == before
    assert watcher.drain() == []


# Matching -------------------------------------------------------------------------------------


def test_path_glob_matches_only_the_paths_it_covers(control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    rule = faults.add(_error(), match={"path": "/communications/rfqs/*"})

    assert rule["match"]["path"] == "/trade-api/v2/communications/rfqs/*"
    assert requester.get(RFQS).status_code == 200
    rfq_id = requester.create_rfq(MARKET)
    assert requester.get(f"{RFQS}/{rfq_id}").status_code == 503
    assert requester.get("/portfolio/balance").status_code == 200


def test_method_matches_only_that_method(control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    faults.add(_error(), match={"path": RFQS, "method": "post"})

    assert requester.get(RFQS).status_code == 200
    assert requester.post(RFQS, json=rfq_body(MARKET)).status_code == 503


@pytest.mark.parametrize("identifier", ["name", "user_id", "key_id"])
def test_account_matches_the_caller_by_name_user_id_or_key_id(
        control: Control, faults: Faults, identifier: str) -> None:
    alice = control.trader("alice")
    bob = control.trader("bob")
    account = {"name": "alice", "user_id": alice.account.user_id,
               "key_id": alice.account.key_id}[identifier]
    faults.add(_error(), match={"account": account})

    assert alice.get("/portfolio/balance").status_code == 503
    assert bob.get("/portfolio/balance").status_code == 200


def test_market_matches_from_path_query_and_body(control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    faults.add(_error(), match={"market": HVM_MARKET})

    assert requester.get(f"/markets/{HVM_MARKET}").status_code == 503
    assert requester.get(f"/markets/{MARKET}").status_code == 200
    assert requester.get(RFQS, params={"market_ticker": HVM_MARKET}).status_code == 503
    assert requester.get(RFQS, params={"market_ticker": MARKET}).status_code == 200
    assert requester.get("/portfolio/orders", params={"ticker": HVM_MARKET}).status_code == 503
    assert requester.post(RFQS, json=rfq_body(HVM_MARKET)).status_code == 503
    assert requester.post(RFQS, json=rfq_body(MARKET)).status_code == 201
    assert requester.get("/portfolio/balance").status_code == 200


def test_market_matches_quote_actions_through_their_rfq_or_quote(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    hvm_rfq = requester.create_rfq(HVM_MARKET)
    hvm_quote = maker.create_quote(hvm_rfq)
    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    faults.add(_error(), match={"market": HVM_MARKET})

    assert maker.post(QUOTES, json=quote_body(hvm_rfq)).status_code == 503
    assert requester.get(f"{RFQS}/{hvm_rfq}").status_code == 503
    assert requester.put(scoped(hvm_rfq, hvm_quote, "accept"),
                         json={"accepted_side": "yes"}).status_code == 503
    assert requester.put(bare(hvm_quote, "accept"),
                         json={"accepted_side": "yes"}).status_code == 503
    assert maker.quote(quote_id)["status"] == "open"
    requester.accept(rfq_id, quote_id, "yes")
    assert requester.get(bare(hvm_quote)).status_code == 503
    assert requester.get(bare(quote_id)).status_code == 200


def test_all_criteria_must_match_together(control: Control, faults: Faults) -> None:
    alice = control.trader("alice")
    bob = control.trader("bob")
    faults.add(_error(), match={"path": RFQS, "method": "POST", "account": "alice",
                                "market": HVM_MARKET})

    assert alice.post(RFQS, json=rfq_body(MARKET)).status_code == 201
    assert bob.post(RFQS, json=rfq_body(HVM_MARKET)).status_code == 201
    assert alice.get(RFQS, params={"market_ticker": HVM_MARKET}).status_code == 200
    assert alice.post(RFQS, json=rfq_body(HVM_MARKET)).status_code == 503


def test_a_rule_without_criteria_faults_every_kalshi_request(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    faults.add({"type": "rate_limit"})

    for path in (RFQS, QUOTES, "/markets", "/exchange/status", "/portfolio/balance",
                 "/communications/id"):
        response = requester.get(path)
        assert (response.status_code, response.json()) == (429, RATE_LIMITED), path
    assert requester.post(RFQS, json=rfq_body(MARKET)).status_code == 429


# Probability and count --------------------------------------------------------------------------


@pytest.mark.parametrize(("probability", "expected"), [(0, 200), (1, 503)])
def test_probability_zero_never_fires_and_one_always_fires(
        control: Control, faults: Faults, probability: float, expected: int) -> None:
    requester = control.trader("requester")
    rule = faults.add(_error(), match={"path": RFQS}, probability=probability)

    statuses = {requester.get(RFQS).status_code for _ in range(10)}

    assert statuses == {expected}
    assert faults.get(rule["id"])["hits"] == (10 if probability else 0)


def test_seeded_probability_faults_the_requests_its_generator_picks_and_repeats(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    generator = random.Random(20260611)
    expected = [generator.random() < 0.3 for _ in range(30)]
    assert 0 < sum(expected) < 30

    runs = []
    for _ in range(2):
        rule = faults.add(_error(), match={"path": RFQS}, probability=0.3, seed=20260611)
        assert rule["seed"] == 20260611
        runs.append([requester.get(RFQS).status_code == 503 for _ in range(30)])
        assert faults.get(rule["id"])["hits"] == sum(expected)
        control.call("DELETE", f"/faults/{rule['id']}", expect=204)

    assert runs == [expected, expected]


def test_a_rule_without_a_seed_reports_the_one_it_drew(control: Control,
                                                       faults: Faults) -> None:
    control.trader("requester")
    rule = faults.add(_error(), probability=0.5)
    assert isinstance(rule["seed"], int)
    assert faults.get(rule["id"])["seed"] == rule["seed"]


def test_count_exhausts_the_rule_after_that_many_faults(control: Control,
                                                        faults: Faults) -> None:
    requester = control.trader("requester")
    rule = faults.add(UNAVAILABLE, match={"path": RFQS, "method": "POST"}, count=2)
    assert (rule["count"], rule["remaining"], rule["hits"]) == (2, 2, 0)

    statuses = [requester.post(RFQS, json=rfq_body(market)).status_code
                for market in (MARKET, MARKET, MARKET, HVM_MARKET)]

    assert statuses == [503, 503, 201, 201]
    assert len(requester.get(RFQS).json()["rfqs"]) == 2
    after = faults.get(rule["id"])
    assert (after["count"], after["remaining"], after["hits"]) == (2, 0, 2)


def test_count_with_probability_counts_only_the_requests_that_fired(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    generator = random.Random(7)
    draws = [generator.random() < 0.5 for _ in range(40)]
    fired_at = [n for n, fired in enumerate(draws) if fired][:3]
    faults.add(_error(), match={"path": RFQS}, probability=0.5, count=3, seed=7)

    faulted = [n for n in range(40) if requester.get(RFQS).status_code == 503]

    assert faulted == fired_at


def test_first_error_rule_that_fires_answers_and_later_ones_keep_their_count(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    first = faults.add(_error(503), match={"path": RFQS}, count=1)
    second = faults.add(_error(502), match={"path": RFQS}, count=1)

    assert [requester.get(RFQS).status_code for _ in range(3)] == [503, 502, 200]
    assert faults.get(first["id"])["hits"] == 1
    assert faults.get(second["id"])["hits"] == 1


# The X-Sandbox-Fault header ---------------------------------------------------------------------


@pytest.mark.parametrize(("header", "status", "body"), [
    ("error=503", 503, nested(503, "service_unavailable", "service unavailable")),
    ("error=400:insufficient_balance", 400,
     nested(400, "insufficient_balance", "insufficient balance")),
    ("error=404", 404, nested(404, "not_found", "not found")),
    ("rate_limit", 429, RATE_LIMITED),
])
def test_header_forces_an_error_on_one_request_only(
        control: Control, header: str, status: int, body: object) -> None:
    requester = control.trader("requester")
    before = state(requester)

    response = requester.post(RFQS, json=rfq_body(MARKET), headers={"X-Sandbox-Fault": header})

    assert response.status_code == status
    assert response.json() == body
    assert state(requester) == before
    assert requester.post(RFQS, json=rfq_body(MARKET)).status_code == 201


def test_header_latency_delays_the_request_then_handles_it(control: Control) -> None:
    requester = control.trader("requester")

    response, took = timed(lambda: requester.post(
        RFQS, json=rfq_body(MARKET), headers={"X-Sandbox-Fault": "latency=250"}))

    assert response.status_code == 201, response.text
    assert took >= 0.25


def test_header_combines_latency_and_an_error(control: Control) -> None:
    requester = control.trader("requester")
    before = state(requester)

    response, took = timed(lambda: requester.post(
        RFQS, json=rfq_body(MARKET), headers={"X-Sandbox-Fault": "latency=150, error=500"}))

    assert response.status_code == 500
    assert response.json() == nested(500, "internal_server_error", "internal server error")
    assert took >= 0.15
    assert state(requester) == before


def test_header_error_wins_over_a_rule_and_rule_latency_still_applies(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    latency = faults.add({"type": "latency", "ms": 150}, match={"path": RFQS})
    error = faults.add(_error(502), match={"path": RFQS})

    response, took = timed(lambda: requester.get(
        RFQS, headers={"X-Sandbox-Fault": "rate_limit"}))

    assert (response.status_code, response.json()) == (429, RATE_LIMITED)
    assert took >= 0.15
    assert faults.get(latency["id"])["hits"] == 1
    assert faults.get(error["id"])["hits"] == 0


@pytest.mark.parametrize("header", ["error", "error=200", "error=abc", "latency=-1",
                                    "latency", "rate_limit=5", "explode"])
def test_unreadable_header_is_refused_with_400_naming_the_header(
        control: Control, header: str) -> None:
    requester = control.trader("requester")
    before = state(requester)

    response = requester.post(RFQS, json=rfq_body(MARKET), headers={"X-Sandbox-Fault": header})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_sandbox_fault"
    assert "X-Sandbox-Fault" in error["details"]
    assert state(requester) == before


def test_empty_header_faults_nothing(control: Control) -> None:
    requester = control.trader("requester")
    response = requester.post(RFQS, json=rfq_body(MARKET), headers={"X-Sandbox-Fault": ""})
    assert response.status_code == 201, response.text


# Bots that read the error ---------------------------------------------------------------------


def test_a_retrying_bot_gets_through_after_a_counted_outage(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    maker = control.trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    faults.add({"type": "rate_limit"}, match={"path": QUOTES, "account": "maker"}, count=3)

    attempts = 0
    while True:
        attempts += 1
        response = maker.post(QUOTES, json=quote_body(rfq_id))
        if response.status_code != 429:
            break
        assert response.json() == RATE_LIMITED
    assert response.status_code == 201, response.text
    assert attempts == 4
    quotes = requester.get(QUOTES, params={"rfq_id": rfq_id}).json()["quotes"]
    assert [q["id"] for q in quotes] == [response.json()["id"]]
