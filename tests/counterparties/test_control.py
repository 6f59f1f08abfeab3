"""Starting, configuring, pausing and removing counterparties (control plane and CLI)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from kalshi_sandbox.cli import app
from tests.conftest import HVM_MARKET, MARKET
from tests.counterparties.conftest import Bots, quotes_on
from tests.support.server import Control

runner = CliRunner()


def test_created_maker_and_requester_answer_with_their_full_configuration_and_account(
        control: Control, bots: Bots) -> None:
    maker = bots.maker("mm", fair_price="0.6", confirm={"policy": "late"})
    requester = bots.requester("rq", markets=[MARKET], interval=2.5)

    assert {k: v for k, v in maker.items() if k not in ("user_id", "communications_id")} == {
        "name": "mm", "kind": "maker", "active": True, "markets": None, "quote_delay": 1,
        "fair_price": "0.6000", "spread": "0.0400",
        "confirm": {"policy": "late", "delay": 1, "probability": 1.0, "late_by": 1},
        "balance_dollars": "100000.0000", "seed": None, "stats": {}, "activity": []}
    assert {k: v for k, v in requester.items()
            if k not in ("user_id", "communications_id")} == {
        "name": "rq", "kind": "requester", "active": True, "markets": [MARKET],
        "contracts": "10.00", "interval": 2.5, "accept": {"delay": 1, "side": "best"},
        "delete_probability": 0.0, "balance_dollars": "100000.0000", "seed": None,
        "stats": {}, "activity": []}
    account = control.call("GET", f"/accounts/{maker['user_id']}")["account"]
    assert (account["name"], account["communications_id"], account["balance_dollars"]) == (
        "mm", maker["communications_id"], "100000.0000")
    assert [b["name"] for b in bots.all()] == ["mm", "rq"]
    assert bots.get("rq") == requester


@pytest.mark.parametrize(
    ("kind", "body", "detail"),
    [
        ("makers", {"name": ""}, "name must be"),
        ("makers", {"name": "a/b"}, "name must be"),
        ("makers", {"name": "m", "confirm": {"policy": "sometimes"}}, "confirm.policy must be"),
        ("makers", {"name": "m", "confirm": {"policy": "probability"}},
         "confirm.probability is required"),
        ("makers", {"name": "m", "confirm": {"policy": "probability", "probability": 1.5}},
         "confirm.probability must be between 0 and 1"),
        ("makers", {"name": "m", "spread": "1"}, "spread must be less than 1"),
        ("makers", {"name": "m", "spread": "-0.1"}, "spread must be a non-negative decimal"),
        ("makers", {"name": "m", "fair_price": "1"}, "fair_price must be between 0 and 1"),
        ("makers", {"name": "m", "quote_delay": -1}, "quote_delay must be between"),
        ("makers", {"name": "m", "quote_delay": "soon"}, "quote_delay must be a number"),
        ("makers", {"name": "m", "markets": ["KXNOPE-1"]}, "market KXNOPE-1 not found"),
        ("makers", {"name": "m", "markets": []}, "markets must not be empty"),
        ("makers", {"name": "m", "confirm_policy": "never"}, "unknown maker field"),
        ("requesters", {"name": "r", "interval": 0}, "interval must be between 0.1"),
        ("requesters", {"name": "r", "contracts": "0"}, "contracts must be positive"),
        ("requesters", {"name": "r", "contracts": "1.001"}, "at most 2 decimal places"),
        ("requesters", {"name": "r", "accept": {"side": "maybe"}}, "accept.side must be"),
        ("requesters", {"name": "r", "delete_probability": -0.5},
         "delete_probability must be between 0 and 1"),
        ("requesters", {"name": "r", "balance_dollars": "lots"}, "balance_dollars must be"),
        ("requesters", {"name": "r", "seed": "7"}, "seed must be an integer"),
    ],
)
def test_invalid_configuration_is_refused_with_kalshis_error_body_and_nothing_created(
        control: Control, kind: str, body: dict[str, Any], detail: str) -> None:
    accounts = len(control.call("GET", "/accounts")["accounts"])
    response = control.http.post(f"/counterparties/{kind}", json=body)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameters"
    assert detail in error["details"]
    assert control.call("GET", "/counterparties") == {"counterparties": []}
    assert len(control.call("GET", "/accounts")["accounts"]) == accounts


def test_duplicate_name_conflicts_and_unknown_name_is_not_found(
        control: Control, bots: Bots) -> None:
    bots.maker("mm")
    duplicate = control.http.post("/counterparties/requesters", json={"name": "mm"})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "conflict"
    for method, path in (("GET", "/counterparties/ghost"), ("PATCH", "/counterparties/ghost"),
                         ("DELETE", "/counterparties/ghost"),
                         ("POST", "/counterparties/requesters/ghost/rfqs")):
        response = control.http.request(method, path, json={})
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "not_found"
    undecodable = control.http.post("/counterparties/makers", content=b"{",
                                   headers={"Content-Type": "application/json"})
    assert undecodable.status_code == 400


def test_on_demand_rfq_is_refused_for_a_maker_and_for_a_paused_requester(
        control: Control, bots: Bots) -> None:
    bots.maker("mm")
    bots.requester("rq", markets=[MARKET])
    bots.patch("rq", active=False)

    for name, detail in (("mm", "only requesters create rfqs"), ("rq", "is paused")):
        response = control.http.post(f"/counterparties/requesters/{name}/rfqs", json={})
        assert response.status_code == 400
        assert detail in response.json()["error"]["details"]


def test_patch_changes_configuration_merging_nested_policies(
        control: Control, bots: Bots) -> None:
    bots.maker("mm", spread="0.02", confirm={"policy": "always", "delay": 3})
    changed = bots.patch("mm", spread="0.10", markets=[HVM_MARKET],
                         confirm={"policy": "never"})
    assert (changed["spread"], changed["markets"]) == ("0.1000", [HVM_MARKET])
    assert changed["confirm"] == {"policy": "never", "delay": 3, "probability": 1.0,
                                  "late_by": 1}

    requester = control.trader("alice")
    ignored = requester.create_rfq(MARKET)
    quoted = requester.create_rfq(HVM_MARKET)
    control.advance(1)
    assert quotes_on(requester, ignored) == []
    [quote] = quotes_on(requester, quoted)
    assert (quote["yes_bid_dollars"], quote["no_bid_dollars"]) == ("0.4500", "0.4500")

    refused = control.http.patch("/counterparties/mm", json={"spread": "2"})
    assert refused.status_code == 400
    renamed = control.http.patch("/counterparties/mm", json={"name": "other"})
    assert renamed.status_code == 400
    assert bots.get("mm")["spread"] == "0.1000"


def test_patch_balance_sets_the_counterparty_accounts_balance(
        control: Control, bots: Bots) -> None:
    maker = bots.maker("mm", balance_dollars="50")
    assert bots.patch("mm", balance_dollars="0.50")["balance_dollars"] == "0.5000"
    assert bots.balance(maker["user_id"]) == "0.5000"

    # Too poor to quote 10 contracts at 0.48: the exchange refuses, as it would anyone.
    requester = control.trader("alice")
    rfq_id = requester.create_rfq(MARKET, "10")
    control.advance(1)
    assert quotes_on(requester, rfq_id) == []
    [attempt] = bots.activity("mm", "quote")
    assert attempt["outcome"] == "insufficient_balance"

    # Sending back the whole counterparty as read changes nothing, the balance included.
    control.call("PUT", f"/accounts/{maker['user_id']}/balance", {"balance_dollars": "7"})
    as_read = bots.get("mm")
    again = control.call("PATCH", "/counterparties/mm", as_read)
    assert _without_activity(again) == _without_activity(as_read)
    assert bots.balance(maker["user_id"]) == "7.0000"


def _without_activity(bot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in bot.items() if k not in ("stats", "activity")}


def test_paused_counterparty_drops_its_pending_reactions_and_resumes_on_new_events(
        control: Control, bots: Bots) -> None:
    bots.maker("mm", quote_delay=5)
    bots.requester("rq", markets=[HVM_MARKET], interval=10)
    requester = control.trader("alice")
    missed = requester.create_rfq(MARKET)
    assert control.call("GET", "/clock")["pending_timers"] == 2

    assert bots.patch("mm", active=False)["active"] is False
    assert bots.patch("rq", active=False)["active"] is False
    assert control.call("GET", "/clock")["pending_timers"] == 0
    control.advance(30)
    assert quotes_on(requester, missed) == []
    assert bots.activity("rq", "rfq") == []

    bots.patch("mm", active=True)
    bots.patch("rq", active=True)
    control.advance(10)  # the interval counts again from the resume
    control.advance(5)  # the maker's quote delay
    assert quotes_on(requester, missed) == []
    [made] = bots.activity("rq", "rfq")
    assert made["market"] == HVM_MARKET
    [quote] = bots.activity("mm", "quote")
    assert quote["rfq_id"] == made["rfq_id"]


def test_deleted_counterparty_stops_acting_and_keeps_its_account_and_trades(
        control: Control, bots: Bots) -> None:
    maker = bots.maker("mm", quote_delay=2)
    requester = control.trader("alice")
    rfq_id = requester.create_rfq(MARKET)

    assert control.http.delete("/counterparties/mm").status_code == 204
    assert bots.all() == []
    assert control.call("GET", "/clock")["pending_timers"] == 0
    control.advance(5)
    assert quotes_on(requester, rfq_id) == []
    assert control.call("GET", f"/accounts/{maker['user_id']}")["account"]["name"] == "mm"
    assert bots.maker("mm")["user_id"] != maker["user_id"]


def test_reset_removes_every_counterparty_and_its_pending_reactions(
        control: Control, bots: Bots) -> None:
    bots.maker("mm")
    bots.requester("rq", interval=5)
    control.trader("alice").create_rfq(MARKET)

    control.reset()
    assert bots.all() == []
    assert control.call("GET", "/clock")["pending_timers"] == 0
    control.market(MARKET)
    assert bots.maker("mm")["active"] is True


# The CLI ------------------------------------------------------------------------------------


def _cli(control: Control, *args: str, code: int = 0) -> Any:
    result = runner.invoke(app, [*args, "--url", control.base_url, "--json"],
                           env={"COLUMNS": "200", "KALSHI_SANDBOX_URL": None})
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout) if code == 0 else result.stderr


def test_cli_bots_commands_add_list_trade_pause_and_remove(control: Control) -> None:
    maker = _cli(control, "bots", "add-maker", "mm", "--market", MARKET, "--quote-delay", "1",
                 "--fair-price", "0.55", "--spread", "0.02", "--confirm", "probability",
                 "--probability", "1", "--confirm-delay", "0.5", "--seed", "3")
    assert (maker["markets"], maker["fair_price"], maker["confirm"]) == (
        [MARKET], "0.5500", {"policy": "probability", "delay": 0.5, "probability": 1.0,
                             "late_by": 1})
    requester = _cli(control, "bots", "add-requester", "rq", "--market", MARKET,
                     "--contracts", "3", "--accept-delay", "1", "--accept-side", "no",
                     "--balance", "500")
    assert (requester["contracts"], requester["accept"], requester["balance_dollars"]) == (
        "3.00", {"delay": 1, "side": "no"}, "500.0000")
    assert [b["name"] for b in _cli(control, "bots", "list")["counterparties"]] == ["mm", "rq"]

    rfq = _cli(control, "bots", "rfq", "rq")
    assert rfq["market"] == MARKET
    control.advance(1)  # quote
    control.advance(1)  # accept NO
    control.advance(0.5)  # confirm
    control.advance(15)  # execute
    listed = _cli(control, "bots", "list")["counterparties"]
    executed = {b["name"]: [a["role"] for a in b["activity"] if a["action"] == "executed"]
                for b in listed}
    assert executed == {"mm": ["maker"], "rq": ["requester"]}

    assert _cli(control, "bots", "pause", "rq")["active"] is False
    assert _cli(control, "bots", "resume", "rq")["active"] is True
    assert _cli(control, "bots", "remove", "mm") == {"removed": "mm"}
    assert "not_found" in _cli(control, "bots", "remove", "mm", code=1)
    assert [b["name"] for b in _cli(control, "bots", "list")["counterparties"]] == ["rq"]
