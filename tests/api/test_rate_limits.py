"""Kalshi's token-bucket rate limits over real HTTP.

A server of its own runs with ``--rate-limit basic`` and a manual clock, so buckets refill
only when a test advances the clock: every count below is exact, however fast the machine.
Basic holds 400 Read and 100 Write tokens; most requests cost 10, quote create, delete and
get cost 2.
"""

from __future__ import annotations

import json
import ssl
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import kalshi_python_sync as sdk
import pytest
from typer.testing import CliRunner

from kalshi_sandbox.cli import app
from kalshi_sandbox.client import BucketLimit, KalshiClient, RateLimitError
from kalshi_sandbox.client.auth import PrivateKey
from tests.api.conftest import NewTrader, SharedKeyTrader
from tests.api.support import QUOTES, RFQS, post_quote, post_rfq, scoped
from tests.conformance.test_python_sdk import sdk_client
from tests.conftest import HVM_MARKET, MARKET, fresh_control
from tests.support.server import Account, Control, ServerProcess, Trader, running

LimitedTrader = Callable[..., Trader]
runner = CliRunner()

BASIC_LIMITS = {"usage_tier": "basic",
                "read": {"refill_rate": 200, "bucket_capacity": 400},
                "write": {"refill_rate": 100, "bucket_capacity": 100},
                "grants": []}
NON_DEFAULT_COSTS: list[dict[str, Any]] = [
    {"method": "GET", "path": "/trade-api/v2/communications/rfqs/{rfq_id}/quotes/{quote_id}",
     "cost": 2},
    {"method": "DELETE",
     "path": "/trade-api/v2/communications/rfqs/{rfq_id}/quotes/{quote_id}", "cost": 2},
    {"method": "POST", "path": "/trade-api/v2/communications/quotes", "cost": 2},
    {"method": "GET", "path": "/trade-api/v2/communications/quotes/{quote_id}", "cost": 2},
    {"method": "DELETE", "path": "/trade-api/v2/communications/quotes/{quote_id}", "cost": 2},
]

ORDER_COSTS: list[dict[str, Any]] = [
    {"method": method, "path": "/trade-api/v2/portfolio/" + path, "cost": cost}
    for method, path, cost in (
        ("DELETE", "events/orders", 2), ("DELETE", "events/orders/batched", 2),
        ("DELETE", "events/orders/{order_id}", 2), ("POST", "orders", 100),
        ("POST", "orders/batched", 100), ("DELETE", "orders/batched", 20),
        ("DELETE", "orders/{order_id}", 20), ("POST", "orders/{order_id}/amend", 100),
        ("POST", "orders/{order_id}/decrease", 100))
]
"""Order entry's costs: V2 cancels 2 tokens; legacy writes 100 and cancels 20
(https://docs.kalshi.com/changelog, 2026-06-04)."""


def some_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A sandbox limiting every account at Basic, on a manual clock."""
    yield from running(tmp_path_factory.mktemp("limited"), "--clock", "manual", "--no-seed",
                       "--rate-limit", "basic")


@pytest.fixture
def limited_control(limited: ServerProcess) -> Iterator[Control]:
    yield from fresh_control(limited)


@pytest.fixture
def limited_trader(limited_control: Control, key_pair: tuple[str, str],
                   signing_key: PrivateKey, tls: ssl.SSLContext) -> Iterator[LimitedTrader]:
    """Return a factory of signed traders on the limited server: ``(name, usage_tier=None)``."""
    traders: list[Trader] = []

    def make(name: str, usage_tier: str | None = None) -> Trader:
        body: dict[str, Any] = {"name": name, "balance_dollars": "1000",
                                "public_key_pem": key_pair[1]}
        if usage_tier is not None:
            body["usage_tier"] = usage_tier
        data = limited_control.call("POST", "/accounts", body, expect=201)
        trader = SharedKeyTrader(limited_control.base_url,
                                 Account(data["user_id"], data["name"],
                                         data["communications_id"], data["key_id"],
                                         key_pair[0]),
                                 signing_key, tls)
        traders.append(trader)
        return trader

    yield make
    for trader in traders:
        trader.close()


Call = tuple[str, str, dict[str, Any]]


def write_call() -> Call:
    """A Write request costing 10 tokens whatever it finds (an unknown RFQ: 404)."""
    return ("DELETE", f"{RFQS}/{some_id()}", {})


def read_call() -> Call:
    """A Read request costing 10 tokens."""
    return ("GET", RFQS, {})


def send(trader: Trader, call: Call) -> httpx.Response:
    method, path, kwargs = call
    return trader.request(method, path, **kwargs)


def allowed_until_refused(trader: Trader, call: Callable[[], Call], limit: int = 1000) -> int:
    """Send ``call()`` until one is refused with 429; return how many were not."""
    for count in range(limit):
        if send(trader, call()).status_code == 429:
            return count
    raise AssertionError(f"no 429 after {limit} requests")


def assert_rate_limited(response: httpx.Response) -> None:
    """Assert Kalshi's 429 exactly: status, body, and no Retry-After or X-RateLimit-*."""
    assert response.status_code == 429, response.text
    assert response.json() == {"error": "too many requests"}
    assert response.headers["content-type"] == "application/json"
    assert "retry-after" not in response.headers
    assert not [h for h in response.headers if h.lower().startswith("x-ratelimit")]


# The 429 and what it leaves behind ---------------------------------------------------------


def test_an_empty_write_bucket_answers_kalshis_429_and_creates_nothing(
        limited_trader: LimitedTrader, limited_control: Control) -> None:
    requester = limited_trader("requester")
    assert allowed_until_refused(requester, write_call) == 10
    response = post_rfq(requester, {"market_ticker": MARKET, "contracts_fp": "10",
                                    "rest_remainder": False})
    assert_rate_limited(response)
    listed = requester.get(RFQS)
    assert listed.status_code == 200, listed.text
    assert listed.json()["rfqs"] == []

    limited_control.advance(0.1)  # 10 Write tokens
    requester.create_rfq(MARKET)
    assert [r["market_ticker"] for r in requester.get(RFQS).json()["rfqs"]] == [MARKET]


def test_a_refused_quote_leaves_the_rfq_without_it(limited_trader: LimitedTrader) -> None:
    requester = limited_trader("requester")
    maker = limited_trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    assert allowed_until_refused(maker, write_call) == 10
    assert_rate_limited(post_quote(maker, rfq_id))
    assert requester.get(QUOTES, params={"rfq_id": rfq_id}).json()["quotes"] == []


def test_a_refused_accept_leaves_the_quote_open(limited_trader: LimitedTrader) -> None:
    requester = limited_trader("requester")
    maker = limited_trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    quote_id = maker.create_quote(rfq_id)
    assert allowed_until_refused(requester, write_call) == 9  # creating the RFQ cost 10
    response = requester.put(scoped(rfq_id, quote_id, "accept"), json={"accepted_side": "yes"})
    assert_rate_limited(response)
    assert requester.get(scoped(rfq_id, quote_id)).json()["quote"]["status"] == "open"


def test_rate_limits_apply_after_authentication(limited: ServerProcess,
                                                limited_trader: LimitedTrader) -> None:
    trader = limited_trader("trader")
    assert allowed_until_refused(trader, read_call) == 40
    # An unsigned request is refused for its signature, and costs the account nothing.
    unsigned = httpx.get(limited.base_url + "/trade-api/v2" + RFQS)
    assert unsigned.status_code == 401


# Buckets and costs ---------------------------------------------------------------------------


def test_reads_and_writes_are_billed_to_separate_buckets(
        limited_trader: LimitedTrader) -> None:
    trader = limited_trader("trader")
    assert allowed_until_refused(trader, write_call) == 10
    assert allowed_until_refused(trader, read_call) == 40
    assert_rate_limited(send(trader, write_call()))
    assert_rate_limited(send(trader, read_call()))


def test_each_account_has_buckets_of_its_own(limited_trader: LimitedTrader) -> None:
    first = limited_trader("first")
    second = limited_trader("second")
    assert allowed_until_refused(first, write_call) == 10
    assert allowed_until_refused(second, write_call) == 10


ENDPOINTS: list[tuple[str, str, str, str, int]] = [
    # (name, method, path template, bucket, tokens)
    ("communications id", "GET", "/communications/id", "read", 10),
    ("list rfqs", "GET", RFQS, "read", 10),
    ("get rfq", "GET", RFQS + "/{rfq}", "read", 10),
    ("list quotes", "GET", QUOTES, "read", 10),
    ("get quote scoped", "GET", RFQS + "/{rfq}/quotes/{quote}", "read", 2),
    ("get quote bare", "GET", QUOTES + "/{quote}", "read", 2),
    ("balance", "GET", "/portfolio/balance", "read", 10),
    ("positions", "GET", "/portfolio/positions", "read", 10),
    ("fills", "GET", "/portfolio/fills", "read", 10),
    ("orders", "GET", "/portfolio/orders", "read", 10),
    ("order", "GET", "/portfolio/orders/{quote}", "read", 10),
    ("account limits", "GET", "/account/limits", "read", 10),
    ("create rfq", "POST", RFQS, "write", 10),
    ("delete rfq", "DELETE", RFQS + "/{rfq}", "write", 10),
    ("create quote", "POST", QUOTES, "write", 2),
    ("delete quote scoped", "DELETE", RFQS + "/{rfq}/quotes/{quote}", "write", 2),
    ("delete quote bare", "DELETE", QUOTES + "/{quote}", "write", 2),
    ("accept scoped", "PUT", RFQS + "/{rfq}/quotes/{quote}/accept", "write", 10),
    ("accept bare", "PUT", QUOTES + "/{quote}/accept", "write", 10),
    ("confirm scoped", "PUT", RFQS + "/{rfq}/quotes/{quote}/confirm", "write", 10),
    ("confirm bare", "PUT", QUOTES + "/{quote}/confirm", "write", 10),
]
CAPACITY = {"read": 400, "write": 100}


@pytest.mark.parametrize(("method", "template", "bucket", "tokens"),
                         [e[1:] for e in ENDPOINTS], ids=[e[0] for e in ENDPOINTS])
def test_each_endpoint_costs_its_tokens_from_its_bucket(
        limited_trader: LimitedTrader, method: str, template: str, bucket: str,
        tokens: int) -> None:
    trader = limited_trader("trader")

    def call() -> Call:
        # Unknown ids and invalid bodies: the bucket pays before the handler looks at them.
        path = template.format(rfq=some_id(), quote=some_id())
        body = {"accepted_side": "yes"} if path.endswith("/accept") else {}
        return (method, path, {"json": body} if method in ("POST", "PUT") else {})

    # Exactly capacity / cost requests pass: that pins the cost to the token.
    assert allowed_until_refused(trader, call) == CAPACITY[bucket] // tokens
    other, same = (write_call, read_call) if bucket == "read" else (read_call, write_call)
    assert send(trader, other()).status_code != 429
    assert_rate_limited(send(trader, same()))


@pytest.mark.parametrize("path", ["/markets", f"/markets/{MARKET}", "/exchange/status",
                                  "/account/endpoint_costs"])
def test_endpoints_without_authentication_are_not_limited(
        limited_trader: LimitedTrader, path: str) -> None:
    trader = limited_trader("trader")
    assert allowed_until_refused(trader, read_call) == 40
    for _ in range(50):
        response = trader.get(path)
        assert response.status_code == 200, response.text


# Time and tiers ------------------------------------------------------------------------------


def test_advancing_the_manual_clock_refills_the_buckets_continuously(
        limited_trader: LimitedTrader, limited_control: Control) -> None:
    trader = limited_trader("trader")
    assert allowed_until_refused(trader, write_call) == 10
    for _ in range(5):
        assert_rate_limited(send(trader, write_call()))  # refused requests take nothing
    limited_control.advance(0.05)  # 5 tokens: not enough for a request costing 10
    assert_rate_limited(send(trader, write_call()))
    limited_control.advance(0.05)
    assert allowed_until_refused(trader, write_call) == 1
    limited_control.advance(1)
    assert allowed_until_refused(trader, write_call) == 10  # capacity, not 1 s + leftovers
    limited_control.advance(60)
    assert allowed_until_refused(trader, read_call) == 40  # Basic reads burst 2 s of budget


def test_a_new_tier_takes_effect_at_once_with_full_buckets(
        limited_trader: LimitedTrader, limited_control: Control) -> None:
    trader = limited_trader("trader")
    user_id = trader.account.user_id
    assert allowed_until_refused(trader, write_call) == 10
    changed = limited_control.call("PUT", f"/accounts/{user_id}/limits",
                                   {"usage_tier": "advanced"})
    assert changed == {
        "user_id": user_id, "usage_tier": "advanced", "enforced": True,
        "read": {"refill_rate": 300, "bucket_capacity": 600, "tokens": 600},
        "write": {"refill_rate": 300, "bucket_capacity": 600, "tokens": 600},
    }
    assert allowed_until_refused(trader, write_call) == 60
    shown = limited_control.call("GET", f"/accounts/{user_id}/limits")
    assert (shown["write"]["tokens"], shown["read"]["tokens"]) == (0, 600)
    assert limited_control.call("GET", f"/accounts/{user_id}")["account"]["usage_tier"] == \
        "advanced"
    limits = trader.get("/account/limits").json()
    assert limits == {
        "usage_tier": "advanced",
        "read": {"refill_rate": 300, "bucket_capacity": 600},
        "write": {"refill_rate": 300, "bucket_capacity": 600},
        "grants": [{"exchange_instance": "event_contract", "level": "advanced",
                    "source": "manual"}],
    }


def test_an_account_created_with_a_tier_is_limited_by_it(
        limited_trader: LimitedTrader, limited_control: Control) -> None:
    trader = limited_trader("expert", usage_tier="expert")
    assert allowed_until_refused(trader, read_call) == 60  # Expert reads hold 600 tokens
    assert allowed_until_refused(trader, write_call) == 120  # Expert writes hold 1,200
    listed = limited_control.call("GET", "/accounts")["accounts"]
    assert [(a["name"], a["usage_tier"]) for a in listed] == [("expert", "expert")]


def test_unknown_tiers_and_accounts_are_refused(limited_trader: LimitedTrader,
                                                limited_control: Control) -> None:
    trader = limited_trader("trader")
    response = limited_control.http.put(f"/accounts/{trader.account.user_id}/limits",
                                        json={"usage_tier": "gold"})
    assert response.status_code == 400, response.text
    assert "unknown usage tier 'gold'" in response.json()["error"]["details"]
    response = limited_control.http.put(f"/accounts/{some_id()}/limits",
                                        json={"usage_tier": "prime"})
    assert response.status_code == 404, response.text
    response = limited_control.http.post("/accounts", json={"name": "x", "usage_tier": "vip"})
    assert response.status_code == 400, response.text
    names = [a["name"] for a in limited_control.call("GET", "/accounts")["accounts"]]
    assert names == ["trader"]


def test_a_restored_snapshot_brings_back_its_tiers_with_full_buckets(
        limited_trader: LimitedTrader, limited_control: Control) -> None:
    trader = limited_trader("trader", usage_tier="advanced")
    user_id = trader.account.user_id
    snapshot = limited_control.call("POST", "/snapshots", {})
    limited_control.call("PUT", f"/accounts/{user_id}/limits", {"usage_tier": "expert"})
    assert allowed_until_refused(trader, write_call) == 120
    limited_control.call("POST", "/snapshots/restore", snapshot)
    assert trader.get("/account/limits").json()["usage_tier"] == "advanced"
    assert allowed_until_refused(trader, write_call) == 60


def test_a_replay_passes_over_requests_the_limits_refused(
        limited_trader: LimitedTrader, limited_control: Control) -> None:
    requester = limited_trader("requester")
    requester.create_rfq(MARKET)
    assert allowed_until_refused(requester, write_call) == 9
    refused = post_rfq(requester, {"market_ticker": HVM_MARKET, "contracts_fp": "1",
                                   "rest_remainder": False})
    assert_rate_limited(refused)
    journal = limited_control.http.get("/journal").text
    assert '"status":429' in journal.replace(" ", "")

    limited_control.reset()
    response = limited_control.http.post("/journal/replay", content=journal,
                                             headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert response.json()["mismatches"] == []
    rfqs = requester.get(RFQS).json()["rfqs"]
    assert [r["market_ticker"] for r in rfqs] == [MARKET]


# Off -----------------------------------------------------------------------------------------


def test_off_never_limits(new_trader: NewTrader, control: Control) -> None:
    # The shared test server runs with KALSHI_SANDBOX_RATE_LIMIT=off.
    requester = new_trader("requester")
    maker = new_trader("maker")
    rfq_id = requester.create_rfq(MARKET)
    for _ in range(300):  # 30 times Basic's Write bucket, at one instant of a manual clock
        assert post_quote(maker, rfq_id).status_code == 201
    for _ in range(120):
        assert send(requester, write_call()).status_code == 404
        assert send(requester, read_call()).status_code == 200
    assert requester.get("/account/limits").json() == BASIC_LIMITS
    shown = control.call("GET", f"/accounts/{requester.account.user_id}/limits")
    assert (shown["enforced"], shown["usage_tier"]) == (False, "basic")


# The account endpoints -----------------------------------------------------------------------


def test_account_limits_report_the_tier_and_its_buckets(
        limited_trader: LimitedTrader) -> None:
    trader = limited_trader("trader")
    response = trader.get("/account/limits")
    assert response.status_code == 200, response.text
    assert response.json() == BASIC_LIMITS


def test_account_limits_need_a_signature(limited: ServerProcess) -> None:
    response = httpx.get(limited.base_url + "/trade-api/v2/account/limits")
    assert response.status_code == 401, response.text


def test_endpoint_costs_list_the_endpoints_that_cost_other_than_ten(
        limited: ServerProcess) -> None:
    # No signature needed, as Kalshi documents it.
    response = httpx.get(limited.base_url + "/trade-api/v2/account/endpoint_costs")
    assert response.status_code == 200, response.text
    assert response.json() == {"default_cost": 10,
                               "endpoint_costs": ORDER_COSTS + NON_DEFAULT_COSTS}


def test_endpoint_costs_match_what_requests_cost() -> None:
    listed = {(c["method"], c["path"].removeprefix("/trade-api/v2")): c["cost"]
              for c in NON_DEFAULT_COSTS}
    measured = {(method, template.replace("{rfq}", "{rfq_id}").replace("{quote}",
                                                                        "{quote_id}")): tokens
                for _, method, template, _, tokens in ENDPOINTS if tokens != 10}
    assert measured == listed


# A reset ----------------------------------------------------------------------------------------


def test_a_reset_refills_the_demo_accounts_buckets(tmp_path: Path) -> None:
    for server in running(tmp_path / "seeded", "--clock", "manual", "--rate-limit", "basic"):
        demo = {a["name"]: a for a in json.loads(
            (tmp_path / "seeded" / "demo-accounts.json").read_text())}["requester"]
        account = Account(demo["user_id"], "requester", "", demo["key_id"],
                          Path(demo["key_path"]).read_text())
        trader = Trader(server.base_url, account)
        control = Control(server.base_url)
        try:
            assert allowed_until_refused(trader, write_call) == 10
            reseeded = control.call("POST", "/reset", {"seed": True})
            assert [a["user_id"] for a in reseeded["seed"]["accounts"]
                    if a["name"] == "requester"] == [demo["user_id"]]
            assert allowed_until_refused(trader, write_call) == 10
        finally:
            trader.close()
            control.close()


# From the command line ------------------------------------------------------------------------


def test_account_commands_create_show_and_change_tiers(limited_control: Control) -> None:
    def run(*args: str) -> Any:
        result = runner.invoke(app, [*args, "--url", limited_control.base_url, "--json"],
                               env={"KALSHI_SANDBOX_ADMIN_TOKEN": None})
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return json.loads(result.stdout)

    created = run("account", "create", "bot", "--usage-tier", "premier")
    assert created["usage_tier"] == "premier"
    shown = run("account", "limits", created["user_id"])
    assert (shown["usage_tier"], shown["enforced"], shown["write"]["tokens"]) == (
        "premier", True, 2000)
    changed = run("account", "limits", created["user_id"], "--usage-tier", "prime")
    assert (changed["usage_tier"], changed["read"]["refill_rate"]) == ("prime", 4000)
    refused = runner.invoke(app, ["account", "limits", created["user_id"], "--usage-tier",
                                  "gold", "--url", limited_control.base_url])
    assert refused.exit_code == 1
    assert "unknown usage tier 'gold'" in refused.stderr


# Kalshi's official Python SDK ---------------------------------------------------------------


def test_kalshis_python_sdk_sees_the_429_as_kalshi_sends_it(
        limited: ServerProcess, limited_trader: LimitedTrader) -> None:
    client = sdk_client(limited.base_url, limited_trader("sdk").account)
    try:
        for _ in range(10):
            with pytest.raises(sdk.NotFoundException):
                client.delete_rfq(some_id())
        with pytest.raises(sdk.ApiException) as refused:
            client.create_rfq(market_ticker=MARKET, contracts=10, rest_remainder=False)
        assert refused.value.status == 429
        assert json.loads(refused.value.body) == {"error": "too many requests"}
    finally:
        client.rest_client.pool_manager.clear()


def test_the_client_reads_both_account_endpoints_and_raises_on_429(
        limited_control: Control) -> None:
    account = limited_control.account("client")
    with KalshiClient(base_url=limited_control.base_url, key_id=account.key_id,
                      private_key=account.private_key_pem, credentials_from_env=False) as client:
        limits = client.get_account_limits()
        assert (limits.usage_tier, limits.read, limits.write) == (
            "basic", BucketLimit(refill_rate=200, bucket_capacity=400),
            BucketLimit(refill_rate=100, bucket_capacity=100))
        costs = client.get_endpoint_costs()
        assert costs.default_cost == 10
        assert costs.cost("POST", "/trade-api/v2/communications/quotes") == 2
        assert costs.cost("GET", "/trade-api/v2/portfolio/balance") == 10
        # Basic Write holds 100 tokens: ten RFQ creations at 10 each, then a 429.
        for _ in range(10):
            client.create_rfq(MARKET, contracts=Decimal("1"), replace_existing=True)
        with pytest.raises(RateLimitError) as raised:
            client.create_rfq(MARKET, contracts=Decimal("1"), replace_existing=True)
        assert raised.value.status_code == 429
