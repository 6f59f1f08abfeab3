"""``/sandbox/v1/faults`` and ``kalshi-sandbox faults``: adding, reading, removing and clearing
rules, refusing malformed ones, and never faulting the control plane itself."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from kalshi_sandbox.cli import app
from tests.conftest import MARKET
from tests.faults.conftest import Faults
from tests.faults.support import RFQS, rfq_body
from tests.support.server import Control, ServerProcess

runner = CliRunner()


def test_added_rule_is_echoed_with_its_id_remaining_hits_and_seed(
        control: Control, faults: Faults) -> None:
    alice = control.trader("alice")
    rule = faults.add({"type": "error", "status": 409}, probability=0.25, count=3, seed=11,
                      match={"path": "/trade-api/v2/communications/*/accept", "method": "put",
                             "account": "alice", "market": MARKET})

    assert rule == {
        "id": rule["id"],
        "match": {"path": "/trade-api/v2/communications/*/accept", "method": "PUT",
                  "account": "alice", "market": MARKET},
        "action": {"type": "error", "status": 409, "code": "conflict", "message": "conflict",
                   "details": None},
        "probability": 0.25, "count": 3, "remaining": 3, "hits": 0, "seed": 11,
    }
    assert faults.list() == [rule]
    assert faults.get(rule["id"]) == rule
    assert alice.get(RFQS).status_code == 200


def test_each_action_is_echoed_with_its_defaults(control: Control, faults: Faults) -> None:
    actions = [faults.add(action)["action"] for action in (
        {"type": "rate_limit"}, {"type": "latency", "ms": 5}, {"type": "ws_drop"},
        {"type": "ws_delay", "ms": 7, "message_types": ["fill", "rfq_created"]},
        {"type": "ws_close"})]
    assert actions == [
        {"type": "rate_limit"},
        {"type": "latency", "ms": 5},
        {"type": "ws_drop", "message_types": None},
        {"type": "ws_delay", "ms": 7, "message_types": ["fill", "rfq_created"]},
        {"type": "ws_close", "message_types": None, "code": 1001},
    ]


@pytest.mark.parametrize(("body", "words"), [
    ({}, "action"),
    ({"action": {"type": "explode"}}, "action.type"),
    ({"action": {"type": "error", "status": 200}}, "action.status"),
    ({"action": {"type": "error", "status": "503"}}, "action.status"),
    ({"action": {"type": "latency"}}, "ms"),
    ({"action": {"type": "latency", "ms": -1}}, "action.ms"),
    ({"action": {"type": "rate_limit", "status": 503}}, "unknown field"),
    ({"action": {"type": "ws_drop", "message_types": ["quote_confirmed"]}}, "quote_confirmed"),
    ({"action": {"type": "ws_drop", "message_types": []}}, "message_types"),
    ({"action": {"type": "ws_close", "code": 999}}, "action.code"),
    ({"action": {"type": "ws_drop"}, "match": {"path": "/trade-api/ws/v2"}}, "account"),
    ({"action": {"type": "rate_limit"}, "probability": 1.5}, "probability"),
    ({"action": {"type": "rate_limit"}, "count": 0}, "count"),
    ({"action": {"type": "rate_limit"}, "seed": "x"}, "seed"),
    ({"action": {"type": "rate_limit"}, "probabilty": 0.5}, "unknown field"),
    ({"action": {"type": "rate_limit"}, "match": {"account": "nobody"}}, "nobody"),
    ({"action": {"type": "rate_limit"}, "match": {"verb": "GET"}}, "unknown field"),
    ({"action": {"type": "rate_limit"}, "match": {"path": ""}}, "match.path"),
])
def test_malformed_rule_is_refused_with_400_saying_what_is_wrong(
        control: Control, faults: Faults, body: dict[str, Any], words: str) -> None:
    error = faults.refused(body)["error"]
    assert error["code"] == "invalid_parameters"
    assert words in error["details"]
    assert faults.list() == []


def test_a_body_that_is_not_a_json_object_is_refused(control: Control) -> None:
    response = control.http.post("/faults", content=b"[1]",
                                 headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_removed_rule_stops_applying_and_a_second_remove_is_404(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    rule = faults.add({"type": "rate_limit"}, match={"path": RFQS})
    assert requester.get(RFQS).status_code == 429

    control.call("DELETE", f"/faults/{rule['id']}", expect=204)

    assert requester.get(RFQS).status_code == 200
    assert faults.list() == []
    assert control.call("DELETE", f"/faults/{rule['id']}", expect=404)["error"]["code"] == (
        "not_found")
    assert control.call("GET", f"/faults/{rule['id']}", expect=404)["error"]["code"] == (
        "not_found")


def test_clear_removes_every_rule_and_ids_are_not_reused(control: Control,
                                                         faults: Faults) -> None:
    requester = control.trader("requester")
    first = faults.add({"type": "rate_limit"})
    faults.add({"type": "latency", "ms": 1})

    control.call("DELETE", "/faults", expect=204)

    assert faults.list() == []
    assert requester.get(RFQS).status_code == 200
    assert faults.add({"type": "rate_limit"})["id"] != first["id"]


def test_reset_clears_the_rules(control: Control, faults: Faults) -> None:
    faults.add({"type": "rate_limit"})
    control.reset()
    assert faults.list() == []


def test_control_plane_is_never_faulted_by_a_rule_or_the_header(
        control: Control, faults: Faults) -> None:
    faults.add({"type": "error", "status": 503})
    faults.add({"type": "error", "status": 503}, match={"path": "/sandbox/*"})

    response = control.http.get("/accounts", headers={"X-Sandbox-Fault": "error=500"})
    assert response.status_code == 200
    assert control.http.get("/health").status_code == 200
    assert [r["hits"] for r in faults.list()] == [0, 0]


def test_rule_on_an_unknown_kalshi_path_answers_before_routing(
        control: Control, faults: Faults) -> None:
    requester = control.trader("requester")
    faults.add({"type": "rate_limit"}, match={"path": "/nowhere"})
    assert requester.get("/nowhere").status_code == 429
    assert requester.get(RFQS).status_code == 200


# The command line -----------------------------------------------------------------------------


def _cli(server: ServerProcess, *args: str) -> Any:
    result = runner.invoke(app, ["faults", *args, "--url", server.base_url],
                           env={"COLUMNS": "200", "KALSHI_SANDBOX_URL": None})
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if result.output.strip() else None


def test_cli_adds_lists_removes_and_clears_rules(control: Control, server: ServerProcess,
                                                 faults: Faults) -> None:
    requester = control.trader("requester")

    added = _cli(server, "add", "--path", "/communications/rfqs", "--method", "POST",
                 "--account", "requester", "--error", "400:insufficient_balance",
                 "--count", "1", "--seed", "5", "--json")
    assert added["match"] == {"path": "/trade-api/v2/communications/rfqs", "method": "POST",
                              "account": "requester", "market": None}
    assert added["action"] == {"type": "error", "status": 400,
                               "code": "insufficient_balance",
                               "message": "insufficient balance", "details": None}
    assert (added["count"], added["seed"]) == (1, 5)
    response = requester.post(RFQS, json=rfq_body(MARKET))
    assert (response.status_code, response.json()["error"]["code"]) == (
        400, "insufficient_balance")

    delayed = _cli(server, "add", "--ws-delay", "50", "--message-type", "quote_accepted",
                   "--message-type", "fill", "--market", MARKET, "--json")
    assert delayed["action"] == {"type": "ws_delay", "ms": 50,
                                 "message_types": ["fill", "quote_accepted"]}
    listed = _cli(server, "list", "--json")["faults"]
    assert [(r["id"], r["hits"], r["remaining"]) for r in listed] == [
        (added["id"], 1, 0), (delayed["id"], 0, None)]

    assert _cli(server, "remove", added["id"], "--json") == {"removed": added["id"]}
    assert [r["id"] for r in faults.list()] == [delayed["id"]]
    assert _cli(server, "clear", "--json") == {"cleared": True}
    assert faults.list() == []


@pytest.mark.parametrize(("args", "action"), [
    (("--rate-limit",), {"type": "rate_limit"}),
    (("--latency", "20"), {"type": "latency", "ms": 20}),
    (("--error", "503", "--code", "down", "--message", "exchange down", "--details", "x"),
     {"type": "error", "status": 503, "code": "down", "message": "exchange down",
      "details": "x"}),
    (("--ws-drop",), {"type": "ws_drop", "message_types": None}),
    (("--ws-close", "--close-code", "4001"),
     {"type": "ws_close", "message_types": None, "code": 4001}),
])
def test_cli_builds_each_action(control: Control, server: ServerProcess,
                                args: tuple[str, ...], action: dict[str, Any]) -> None:
    assert _cli(server, "add", *args, "--json")["action"] == action


@pytest.mark.parametrize("args", [(), ("--rate-limit", "--ws-drop"), ("--error", "abc")])
def test_cli_add_needs_exactly_one_readable_action(server: ServerProcess,
                                                   args: tuple[str, ...]) -> None:
    result = runner.invoke(app, ["faults", "add", *args, "--url", server.base_url],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "error" in result.output


def test_cli_reports_a_refused_rule_and_exits_1(control: Control,
                                               server: ServerProcess) -> None:
    result = runner.invoke(app, ["faults", "add", "--rate-limit", "--account", "nobody",
                                 "--url", server.base_url], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "nobody" in result.output
