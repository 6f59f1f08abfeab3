"""Fuzzing the control plane and Kalshi's API through a real server: no request gets a 5xx.

Hypothesis builds single requests: a method and a known path (its ids drawn from real ids,
UUIDs, junk and traversal attempts) or an unknown one, a query string, headers (content types,
origins, hosts, signatures and Kalshi's headers, with latin-1 and UTF-8 junk), and a body
(JSON built from each endpoint's field names, arbitrary JSON, deep nesting, raw bytes, bodies
over the size cap). Trade requests are signed with a real key half of the time, so they get
past authentication. After each request the state a request may leave behind and that would
slow the next ones is swept away (fault rules, counterparties); a reset or restore is followed
by re-creating the signing account.

The example count is bounded (``KALSHI_SANDBOX_FUZZ_EXAMPLES``, default 400 per API) and the
examples are derandomized, so ``make test`` runs the same requests every time;
``KALSHI_SANDBOX_FUZZ_RANDOM=1`` draws new ones.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalshi_sandbox.client.auth import KalshiAuth
from tests.support.server import ServerProcess

EXAMPLES = int(os.environ.get("KALSHI_SANDBOX_FUZZ_EXAMPLES", "400"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                derandomize=os.environ.get("KALSHI_SANDBOX_FUZZ_RANDOM", "") != "1",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
MARKET = "KXFUZZ-26DEC31-T50"
REPLAY = "/sandbox/v1/journal/replay"
CAP = 1 << 20

CONTROL_ROUTES = [
    ("GET", "/sandbox/v1/health"), ("POST", "/sandbox/v1/accounts"),
    ("GET", "/sandbox/v1/accounts"), ("GET", "/sandbox/v1/accounts/{user}"),
    ("POST", "/sandbox/v1/accounts/{user}/keys"), ("PUT", "/sandbox/v1/accounts/{user}/balance"),
    ("GET", "/sandbox/v1/accounts/{user}/limits"), ("PUT", "/sandbox/v1/accounts/{user}/limits"),
    ("POST", "/sandbox/v1/markets"), ("GET", "/sandbox/v1/markets"),
    ("PATCH", "/sandbox/v1/markets/{ticker}"), ("GET", "/sandbox/v1/clock"),
    ("POST", "/sandbox/v1/clock/advance"), ("POST", "/sandbox/v1/clock/speed"),
    ("POST", "/sandbox/v1/reset"), ("POST", "/sandbox/v1/faults"),
    ("GET", "/sandbox/v1/faults"), ("DELETE", "/sandbox/v1/faults"),
    ("GET", "/sandbox/v1/faults/{id}"), ("DELETE", "/sandbox/v1/faults/{id}"),
    ("GET", "/sandbox/v1/counterparties"), ("POST", "/sandbox/v1/counterparties/makers"),
    ("POST", "/sandbox/v1/counterparties/requesters"),
    ("POST", "/sandbox/v1/counterparties/requesters/{id}/rfqs"),
    ("GET", "/sandbox/v1/counterparties/{id}"), ("PATCH", "/sandbox/v1/counterparties/{id}"),
    ("DELETE", "/sandbox/v1/counterparties/{id}"), ("POST", "/sandbox/v1/snapshots"),
    ("POST", "/sandbox/v1/snapshots/restore"), ("GET", "/sandbox/v1/journal"),
    ("POST", "/sandbox/v1/journal/replay"),
    ("POST", "/sandbox/v1/markets/{ticker}/open"), ("POST", "/sandbox/v1/markets/{ticker}/pause"),
    ("POST", "/sandbox/v1/markets/{ticker}/close"),
    ("POST", "/sandbox/v1/markets/{ticker}/determine"),
    ("POST", "/sandbox/v1/markets/{ticker}/settle"),
    ("GET", "/sandbox/v1/exchange/maintenance"), ("POST", "/sandbox/v1/exchange/maintenance"),
    ("DELETE", "/sandbox/v1/exchange/maintenance"), ("POST", "/sandbox/v1/collections"),
]
TRADE_ROUTES = [
    ("GET", "/trade-api/v2/communications/id"), ("POST", "/trade-api/v2/communications/rfqs"),
    ("GET", "/trade-api/v2/communications/rfqs"),
    ("GET", "/trade-api/v2/communications/rfqs/{rfq}"),
    ("DELETE", "/trade-api/v2/communications/rfqs/{rfq}"),
    ("POST", "/trade-api/v2/communications/quotes"),
    ("GET", "/trade-api/v2/communications/quotes"),
    ("GET", "/trade-api/v2/communications/quotes/{quote}"),
    ("DELETE", "/trade-api/v2/communications/quotes/{quote}"),
    ("PUT", "/trade-api/v2/communications/quotes/{quote}/accept"),
    ("PUT", "/trade-api/v2/communications/quotes/{quote}/confirm"),
    ("GET", "/trade-api/v2/communications/rfqs/{rfq}/quotes/{quote}"),
    ("PUT", "/trade-api/v2/communications/rfqs/{rfq}/quotes/{quote}/accept"),
    ("PUT", "/trade-api/v2/communications/rfqs/{rfq}/quotes/{quote}/confirm"),
    ("GET", "/trade-api/v2/markets"), ("GET", "/trade-api/v2/markets/{ticker}"),
    ("GET", "/trade-api/v2/exchange/status"), ("GET", "/trade-api/v2/portfolio/balance"),
    ("GET", "/trade-api/v2/portfolio/positions"), ("GET", "/trade-api/v2/portfolio/fills"),
    ("GET", "/trade-api/v2/portfolio/orders"),
    ("GET", "/trade-api/v2/portfolio/orders/{order}"),
    ("GET", "/trade-api/v2/account/limits"), ("GET", "/trade-api/v2/account/endpoint_costs"),
    ("GET", "/trade-api/v2/series"), ("GET", "/trade-api/v2/series/{ticker}"),
    ("GET", "/trade-api/v2/events"), ("GET", "/trade-api/v2/events/{ticker}"),
    ("GET", "/trade-api/v2/events/multivariate"), ("GET", "/trade-api/v2/exchange/schedule"),
    ("GET", "/trade-api/v2/portfolio/settlements"),
    ("GET", "/trade-api/v2/multivariate_event_collections"),
    ("GET", "/trade-api/v2/multivariate_event_collections/{ticker}"),
    ("POST", "/trade-api/v2/multivariate_event_collections/{ticker}"),
    ("GET", "/trade-api/v2/communications/block-trade-proposals"),
    ("POST", "/trade-api/v2/communications/block-trade-proposals"),
    ("POST", "/trade-api/v2/communications/block-trade-proposals/{id}/accept"),
]
FIELDS = [
    # control plane
    "name", "balance_dollars", "public_key_pem", "usage_tier", "key_id", "subaccount",
    "ticker", "hvm", "status", "result", "price_level_structure", "price_ranges", "start",
    "end", "step", "open_time", "close_time", "title", "seconds", "to", "speed", "seed",
    "match", "action", "method", "account", "market", "type", "code", "message", "details",
    "probability", "count", "markets", "quote_delay", "fair_price", "spread", "confirm",
    "policy", "delay", "late_by", "contracts", "accept", "side", "delete_probability",
    "active", "tables", "instant",
    # Kalshi's API
    "market_ticker", "contracts_fp", "rest_remainder", "target_cost_dollars",
    "target_cost_centi_cents", "target_cost_excludes_fees", "replace_existing",
    "obscure_creator_id", "rfq_id", "yes_bid", "no_bid", "post_only", "accepted_side",
    # a market's life
    "settlement_value_dollars", "minutes", "kind", "collection_ticker", "associated_events",
    "size_min", "size_max", "is_all_yes", "event_ticker", "series_ticker", "event_title",
    "settlement_timer_seconds", "selected_markets", "with_market_payload", "buyer_user_id",
    "seller_user_id", "price_centi_cents", "centicount", "maker_side", "expiration_ts",
    "buyer_subaccount", "seller_subaccount", "subtrader_id",
]
"""Field names the endpoints read. Left out on purpose: ``path`` (a snapshot written to a
random file is the file-system half of the hardening, tested on its own) and ``interval``
(an auto-requester firing every 0.1 s over a random clock advance would only be slow)."""
WORDS = ["yes", "no", "true", "false", "open", "closed", "active", "settled", "always",
         "never", "probability", "late", "best", "error", "rate_limit", "ws_drop", "ws_close",
         "basic", "prime", "self", "linear_cent", "deci_cent", MARKET, "0", "0.5", "1",
         "0.40", "0.55", "10", "-1", "1e9", "NaN", "9" * 40, "2026-12-31T00:00:00Z",
         "9999-12-31T23:59:59Z", "../../etc/passwd", "", " ", "é", "\u0000"]
QUERY_NAMES = ["limit", "cursor", "status", "user_filter", "rfq_user_filter", "subaccount",
               "min_ts", "max_ts", "creator_user_id", "market_ticker", "event_ticker",
               "rfq_id", "tickers", "mve_filter", "count_filter", "after", "ticker",
               "order_id", "quote_creator_user_id", "with_nested_markets", "series_ticker",
               "collection_ticker", "min_close_ts", "min_updated_ts", "category", "tags",
               "associated_event_ticker"]
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain",
                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/x-ndjson", "application/jsonx", ""]
FAULT_HEADERS = ["error=400", "error=404:not_found", "error=429", "rate_limit",
                 "latency=1", "error=", "error=abc", "latency=-1", "error=400,rate_limit"]

# Strategies -----------------------------------------------------------------------------------

header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF,
                                    exclude_characters="\x7f"), max_size=40)
header_value = st.one_of(
    header_text.map(lambda text: text.strip().encode("latin-1")),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=20).map(
        lambda text: text.strip().encode()),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(WORDS),
    st.text(max_size=30),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), children,
                        max_size=5)),
    max_leaves=20)
objects = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
ids = st.one_of(st.sampled_from(["{real}", "{real_user}", MARKET]), st.uuids().map(str),
                st.sampled_from(["..", "%2e%2e", "%2F", "%00", "a" * 300, "é", "%ff",
                                 "auto-maker-1", "-1", "0"]),
                st.text(max_size=12).map(lambda text: quote(text, safe="")))


@dataclass
class Fuzzed:
    """One request to send."""

    method: str
    path: str
    query: str
    headers: dict[str, bytes] = field(default_factory=dict)
    body: bytes = b""
    signed: bool = False


@st.composite
def requests(draw: st.DrawFn, routes: list[tuple[str, str]]) -> Fuzzed:
    if draw(st.integers(0, 19)) == 0:
        method = draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS",
                                       "HEAD"]))
        prefix = routes[0][1].split("/")[1]
        path = f"/{prefix}/" + "/".join(draw(st.lists(ids, min_size=0, max_size=4)))
    else:
        method, template = draw(st.sampled_from(routes))
        path = template
        for slot in ("{user}", "{ticker}", "{id}", "{rfq}", "{quote}", "{order}"):
            while slot in path:
                path = path.replace(slot, draw(ids), 1)
    query = urlencode(draw(st.dictionaries(
        st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=6)),
        st.one_of(st.sampled_from(WORDS), st.integers(-(2**70), 2**70).map(str),
                  st.text(max_size=20)), max_size=4)))
    headers: dict[str, bytes] = {}
    # Mostly JSON, so that most bodies get past the content-type check to the handlers.
    content_type = draw(st.one_of(st.just("application/json"), st.just("application/json"),
                                  st.none(), st.sampled_from(CONTENT_TYPES), header_value))
    if content_type is not None:
        headers["Content-Type"] = (content_type if isinstance(content_type, bytes)
                                   else content_type.encode())
    extra = draw(st.lists(st.sampled_from([
        "Origin", "Sec-Fetch-Site", "Authorization", "X-Sandbox-Fault", "User-Agent",
        "KALSHI-ACCESS-KEY", "KALSHI-ACCESS-TIMESTAMP", "KALSHI-ACCESS-SIGNATURE",
        "X-Forwarded-For", "Accept"]), max_size=2, unique=True))
    for name in extra if draw(st.booleans()) else []:
        if name == "X-Sandbox-Fault":
            headers[name] = draw(st.one_of(st.sampled_from(FAULT_HEADERS).map(str.encode),
                                           header_value))
        else:
            headers[name] = draw(header_value)
    body = draw(st.one_of(
        st.just(b""),
        objects.map(msgspec.json.encode),
        objects.map(msgspec.json.encode),
        objects.map(msgspec.json.encode),
        json_values.map(msgspec.json.encode),
        st.binary(max_size=64),
        st.sampled_from([30, 2_000, 100_000]).map(lambda depth: b"[" * depth),
        st.sampled_from([30, 2_000, 50_000]).map(lambda depth: b'{"a":' * depth),
        st.sampled_from([CAP + 1, 3 * CAP]).map(lambda size: b"x" * size),
    ))
    if "/snapshots" in path and b'"path"' in body:
        body = b"{}"
    return Fuzzed(method, path, query, headers, body, draw(st.booleans()))


# The server and its state ----------------------------------------------------------------------


class Target:
    """A sandbox under fuzzing, with one account whose key signs trade requests."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base_url, timeout=60)
        self.ids: dict[str, str] = {}
        self.auth: KalshiAuth | None = None
        self.prepare()

    def prepare(self) -> None:
        """Create the signing account, a market, an RFQ and a quote (after any reset)."""
        self.http.post("/sandbox/v1/markets", json={"ticker": MARKET})
        made = self.http.post("/sandbox/v1/accounts",
                              json={"name": "fuzzer", "balance_dollars": "100000"})
        assert made.status_code == 201, made.text
        account = made.json()
        self.auth = KalshiAuth(account["key_id"], account["private_key_pem"])
        self.ids["{real_user}"] = account["user_id"]
        rfq = self.http.post("/trade-api/v2/communications/rfqs", auth=self.auth, json={
            "market_ticker": MARKET, "contracts_fp": "10", "rest_remainder": False})
        self.ids["{real}"] = rfq.json().get("id", "") if rfq.status_code == 201 else ""

    def send(self, request: Fuzzed) -> httpx.Response:
        path = request.path
        for placeholder, value in self.ids.items():
            path = path.replace(placeholder, value)
        url = path + ("?" + request.query if request.query else "")
        auth = self.auth if request.signed and path.startswith("/trade-api/") else None
        headers = {name.encode(): value for name, value in request.headers.items()}
        return self.http.request(request.method, url, content=request.body,
                                 headers=headers, auth=auth)

    def sweep(self, request: Fuzzed, response: httpx.Response) -> None:
        """Undo what would slow the next requests, and re-create what a wipe removed."""
        if not 200 <= response.status_code < 300:
            return
        path = request.path
        if path.startswith("/sandbox/v1/faults") and request.method == "POST":
            self.http.delete("/sandbox/v1/faults")
        if path.startswith("/sandbox/v1/counterparties") and request.method in ("POST",
                                                                              "PATCH"):
            for bot in self.http.get("/sandbox/v1/counterparties").json()["counterparties"]:
                self.http.delete(f"/sandbox/v1/counterparties/{bot['name']}")
        if path in ("/sandbox/v1/reset", "/sandbox/v1/snapshots/restore",
                    "/sandbox/v1/journal/replay"):
            self.http.post("/sandbox/v1/clock/advance", json={"seconds": 0})
            self.prepare()

    def check(self, request: Fuzzed) -> None:
        try:
            response = self.send(request)
        except httpx.TransportError as exc:
            pytest.fail(f"{request.method} {request.path}: the server dropped the request "
                        f"({exc!r}); log:\n{self.server.log_text()[-3000:]}")
        assert response.status_code < 500, (
            f"{request.method} {request.path}?{request.query} {request.headers} "
            f"{request.body[:300]!r} -> {response.status_code} {response.text[:500]}")
        self.sweep(request, response)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """A sandbox process of its own, working in a directory of its own."""
    home: Path = tmp_path_factory.mktemp("fuzz")
    server = ServerProcess(home / "data", cwd=home).start()
    target = Target(server)
    yield target
    target.http.close()
    alive = httpx.get(server.base_url + "/sandbox/v1/health")
    server.stop()
    assert alive.status_code == 200


@FUZZ
@given(request=requests(CONTROL_ROUTES))
def test_no_control_plane_request_gets_a_5xx(target: Target, request: Fuzzed) -> None:
    target.check(request)


@FUZZ
@given(request=requests(TRADE_ROUTES))
def test_no_trade_api_request_gets_a_5xx(target: Target, request: Fuzzed) -> None:
    target.check(request)
