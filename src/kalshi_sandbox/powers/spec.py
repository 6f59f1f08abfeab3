"""What the OpenAPI document of the control plane says beyond the route table: summaries,
query parameters and body fields of the powers' endpoints (README, "The control plane";
docs/tester.md). The routes come from the served app (web/openapi.py), so an endpoint
missing here is still documented, generically.

Plain data: (method, path relative to ``/sandbox/v1``) -> fields of an ``Operation``.
"""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]

STRING: Spec = {"type": "string"}
INTEGER: Spec = {"type": "integer"}
BOOLEAN: Spec = {"type": "boolean"}
NUMBER: Spec = {"type": "number"}
MONEY: Spec = {"type": ["string", "number"],
               "description": "Dollars, as a decimal string or a number"}


def obj(required: tuple[str, ...] = (), **properties: Spec) -> Spec:
    """Return the JSON Schema of an object with these properties."""
    schema: Spec = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


MARKET = obj(("ticker",), ticker=STRING, event_ticker=STRING, series_ticker=STRING,
             title=STRING, subtitle=STRING, status=STRING, hvm=BOOLEAN,
             price_level_structure=STRING, open_time=STRING, close_time=STRING)
PATH_BODY = obj(path=STRING)

CONTROL_OPERATIONS: dict[tuple[str, str], Spec] = {
    ("GET", "/health"): {"summary": "The sandbox answers: clock and pending timers",
                             "tag": "admin"},
    ("POST", "/accounts"): {
        "summary": "Create an account and its API key", "tag": "admin",
        "body": obj(("name",), name=STRING, balance_dollars=MONEY, public_key_pem=STRING,
                 usage_tier=STRING, key_id=STRING),
        "responses": {201: "Created: user_id, key_id, private_key_pem, ..."}},
    ("GET", "/accounts"): {"summary": "List accounts", "tag": "admin"},
    ("GET", "/accounts/{user_id}"): {"summary": "Read an account", "tag": "admin"},
    ("POST", "/accounts/{user_id}/keys"): {
        "summary": "Add an API key", "tag": "admin", "body": obj(public_key_pem=STRING),
        "body_required": False, "responses": {201: "Created"}},
    ("PUT", "/accounts/{user_id}/balance"): {
        "summary": "Set a balance", "tag": "admin",
        "body": obj(("balance_dollars",), balance_dollars=MONEY, subaccount=INTEGER)},
    ("GET", "/accounts/{user_id}/limits"): {
        "summary": "An account's rate-limit tier and tokens", "tag": "admin"},
    ("PUT", "/accounts/{user_id}/limits"): {
        "summary": "Give an account a usage tier", "tag": "admin",
        "body": obj(("usage_tier",), usage_tier=STRING)},
    ("POST", "/markets"): {"summary": "Create a market", "tag": "admin", "body": MARKET,
                               "responses": {201: "Created"}},
    ("GET", "/markets"): {"summary": "List markets", "tag": "admin"},
    ("PATCH", "/markets/{ticker}"): {
        "summary": "Change a market's status, HVM flag or result", "tag": "admin",
        "body": obj(status=STRING, hvm=BOOLEAN, result=STRING)},
    ("POST", "/reset"): {"summary": "Delete all state", "tag": "admin",
                             "body": obj(seed=BOOLEAN), "body_required": False},
    ("GET", "/clock"): {"summary": "Read the clock", "tag": "clock"},
    ("POST", "/clock/advance"): {
        "summary": "Move a manual clock, firing every timer that falls due", "tag": "clock",
        "body": obj(seconds={"type": ["number", "string"]}, to=STRING)},
    ("POST", "/clock/speed"): {"summary": "Run the system clock faster", "tag": "clock",
                                   "body": obj(("speed",), speed=NUMBER)},
    ("GET", "/faults"): {"summary": "List fault rules", "tag": "faults"},
    ("POST", "/faults"): {
        "summary": "Add a fault rule", "tag": "faults",
        "body": obj(endpoint=STRING, method=STRING, account=STRING, market=STRING,
                 probability=NUMBER, count=INTEGER, error=STRING, status=INTEGER,
                 latency=NUMBER, ws=STRING), "responses": {201: "Created"}},
    ("DELETE", "/faults"): {"summary": "Remove every fault rule", "tag": "faults"},
    ("GET", "/faults/{rule_id}"): {"summary": "Read a fault rule", "tag": "faults"},
    ("DELETE", "/faults/{rule_id}"): {"summary": "Remove a fault rule", "tag": "faults"},
    ("GET", "/counterparties"): {"summary": "List counterparties", "tag": "counterparties"},
    ("POST", "/counterparties/makers"): {
        "summary": "Start an auto-maker", "tag": "counterparties",
        "body": obj(name=STRING, markets={"type": "array", "items": STRING}, spread=STRING,
                 confirm=STRING), "responses": {201: "Created"}},
    ("POST", "/counterparties/requesters"): {
        "summary": "Start an auto-requester", "tag": "counterparties",
        "body": obj(name=STRING, markets={"type": "array", "items": STRING}, interval=NUMBER,
                 accept=STRING), "responses": {201: "Created"}},
    ("POST", "/counterparties/requesters/{name}/rfqs"): {
        "summary": "Have an auto-requester ask for quotes now", "tag": "counterparties",
        "body": {"type": "object"}, "body_required": False},
    ("GET", "/counterparties/{name}"): {"summary": "Read a counterparty",
                                            "tag": "counterparties"},
    ("PATCH", "/counterparties/{name}"): {"summary": "Change, pause or resume a counterparty",
                                              "tag": "counterparties", "body": obj(active=BOOLEAN)},
    ("DELETE", "/counterparties/{name}"): {"summary": "Stop a counterparty",
                                               "tag": "counterparties"},
    ("GET", "/liquidity"): {"summary": "List liquidity makers", "tag": "liquidity"},
    ("POST", "/liquidity"): {
        "summary": "Start a liquidity maker", "tag": "liquidity",
        "body": obj(name=STRING, markets={"type": "array"}, depth=INTEGER, size=STRING,
                 spread=STRING), "responses": {201: "Created"}},
    ("POST", "/liquidity/requote"): {"summary": "Every maker quotes now", "tag": "liquidity"},
    ("GET", "/liquidity/{name}"): {"summary": "Read a liquidity maker", "tag": "liquidity"},
    ("PATCH", "/liquidity/{name}"): {"summary": "Change or pause a liquidity maker",
                                         "tag": "liquidity", "body": obj(active=BOOLEAN)},
    ("DELETE", "/liquidity/{name}"): {"summary": "Remove a liquidity maker", "tag": "liquidity"},
    ("POST", "/liquidity/{name}/requote"): {"summary": "A maker quotes now", "tag": "liquidity"},
    ("PUT", "/liquidity/{name}/markets/{ticker}"): {
        "summary": "Move a market's fair value, give it a path or its own parameters",
        "tag": "liquidity", "body": obj(fair_value=STRING, path={"type": "array"}, spread=STRING)},
    ("POST", "/snapshots"): {"summary": "Take a snapshot (answered, or to a file)",
                                 "tag": "state", "body": PATH_BODY, "body_required": False},
    ("POST", "/snapshots/restore"): {"summary": "Restore a snapshot", "tag": "state",
                                         "body": {"type": "object"}},
    ("GET", "/journal"): {"summary": "The journal as JSON Lines", "tag": "state",
                              "query": (("after", INTEGER, "Leave out entries up to this seq"),)},
    ("POST", "/journal/export"): {"summary": "Write the journal to a file", "tag": "state",
                                      "body": obj(("path",), path=STRING, after=INTEGER)},
    ("POST", "/journal/replay"): {"summary": "Rebuild a journal's state in a fresh sandbox",
                                      "tag": "state", "body": {"type": "object"}},
    ("GET", "/openapi.json"): {"summary": "This document", "tag": "meta"},
    ("GET", "/dashboard/state"): {
        "summary": "Everything the dashboard shows, at once", "tag": "dashboard"},
    ("GET", "/dashboard/feed"): {
        "summary": "Server-sent events: the dashboard's state after every committed change",
        "tag": "dashboard", "responses": {200: "text/event-stream"}},
}
"""Metadata of the control plane's endpoints, by (method, path under ``/sandbox/v1``)."""

SECURITY = {"AdminToken": {
    "type": "http", "scheme": "bearer",
    "description": "Needed when the server runs with --admin-token; otherwise loopback "
                   "callers need nothing"}}

__all__ = ["CONTROL_OPERATIONS", "SECURITY"]
