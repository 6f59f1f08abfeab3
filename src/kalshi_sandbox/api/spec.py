"""What the OpenAPI document of Kalshi's API says beyond the route table: per endpoint, a
summary, Kalshi's operation id, query parameters and request body fields
(https://docs.kalshi.com/api-reference). The routes themselves (method, path, whether a
request is signed) come from the served app (web/openapi.py), so an endpoint missing here
is still documented, generically.

Plain data: (method, path relative to ``/trade-api/v2``) -> fields of an ``Operation``.
"""

from __future__ import annotations

from typing import Any

Spec = dict[str, Any]

STRING: Spec = {"type": "string"}
INTEGER: Spec = {"type": "integer"}
BOOLEAN: Spec = {"type": "boolean"}
DOLLARS: Spec = {"type": "string", "description": "Dollars as a decimal string, e.g. \"0.45\""}
COUNT_FP: Spec = {"type": "string", "description": "Contracts as a decimal string, e.g. \"10\""}
UUID: Spec = {"type": "string", "format": "uuid"}
SIDE: Spec = {"type": "string", "enum": ["yes", "no"]}


def obj(required: tuple[str, ...] = (), **properties: Spec) -> Spec:
    """Return the JSON Schema of an object with these properties."""
    schema: Spec = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def q(name: str, schema: Spec | None = None, description: str = "") -> tuple[str, Spec, str]:
    """A query parameter: name, schema, description."""
    return (name, schema or STRING, description)


LIMIT = q("limit", INTEGER, "Page size")
CURSOR = q("cursor", STRING, "Cursor of the next page")
PORTFOLIO_QUERY = (LIMIT, CURSOR, q("ticker"), q("event_ticker"), q("order_id"),
                   q("subaccount", INTEGER), q("min_ts", INTEGER), q("max_ts", INTEGER))

CREATE_RFQ = obj(
    ("market_ticker", "rest_remainder"),
    market_ticker=STRING, rest_remainder=BOOLEAN, contracts=INTEGER, contracts_fp=COUNT_FP,
    target_cost_centi_cents=INTEGER, target_cost_dollars=DOLLARS,
    target_cost_excludes_fees=BOOLEAN, replace_existing=BOOLEAN, subtrader_id=STRING,
    subaccount=INTEGER, obscure_creator_id=BOOLEAN,
)
CREATE_QUOTE = obj(("rfq_id", "rest_remainder"), rfq_id=UUID, yes_bid=DOLLARS, no_bid=DOLLARS,
                   rest_remainder=BOOLEAN, post_only=BOOLEAN, subaccount=INTEGER)
ACCEPT_QUOTE = obj(("accepted_side",), accepted_side=SIDE)
V2_ORDER = obj(
    ("ticker", "side", "price"),
    ticker=STRING, side={"type": "string", "enum": ["bid", "ask"]}, price=DOLLARS,
    count=COUNT_FP, client_order_id=STRING, time_in_force=STRING, post_only=BOOLEAN,
    reduce_only=BOOLEAN, cancel_order_on_pause=BOOLEAN, subaccount=INTEGER,
    order_group_id=STRING, expiration_ts=INTEGER,
)
LEGACY_ORDER = obj(
    ("ticker", "action", "side"),
    ticker=STRING, action={"type": "string", "enum": ["buy", "sell"]}, side=SIDE,
    type=STRING, count=INTEGER, count_fp=COUNT_FP, yes_price=INTEGER, no_price=INTEGER,
    yes_price_dollars=DOLLARS, no_price_dollars=DOLLARS, client_order_id=STRING,
    time_in_force=STRING, post_only=BOOLEAN, reduce_only=BOOLEAN, subaccount=INTEGER,
)

COMM = "/communications"
SCOPED = COMM + "/rfqs/{rfq_id}/quotes/{quote_id}"
BARE = COMM + "/quotes/{quote_id}"
V2 = "/portfolio/events/orders"
LEGACY = "/portfolio/orders"
GROUPS = "/portfolio/order_groups"
IDS = {"rfq_id": UUID, "quote_id": UUID}


def _quote_operations(prefix: str, suffix: str) -> dict[tuple[str, str], Spec]:
    """The quote endpoints, served both under an RFQ and bare."""
    return {
        ("GET", prefix): {"summary": "Get a quote", "operation_id": "GetQuote" + suffix,
                          "tag": "communications", "path_schemas": IDS},
        ("DELETE", prefix): {"summary": "Delete a quote", "operation_id": "DeleteQuote" + suffix,
                             "tag": "communications", "path_schemas": IDS,
                             "responses": {204: "Deleted"}},
        ("PUT", prefix + "/accept"): {
            "summary": "Accept one side of a quote (kalshi-python 3.2.0 sends "
                       "'true'/'false'; docs/behaviour.md)",
            "operation_id": "AcceptQuote" + suffix, "tag": "communications",
            "path_schemas": IDS, "body": ACCEPT_QUOTE, "responses": {204: "Accepted"}},
        ("PUT", prefix + "/confirm"): {
            "summary": "Confirm an accepted quote", "operation_id": "ConfirmQuote" + suffix,
            "tag": "communications", "path_schemas": IDS, "body": {"type": "object"},
            "body_required": False, "responses": {204: "Confirmed"}},
    }


TRADE_OPERATIONS: dict[tuple[str, str], Spec] = {
    ("GET", COMM + "/id"): {
        "summary": "Get the caller's communications id", "operation_id": "GetCommunicationsID",
        "tag": "communications"},
    ("GET", COMM + "/rfqs"): {
        "summary": "List RFQs", "operation_id": "GetRFQs", "tag": "communications",
        "query": (LIMIT, CURSOR, q("market_ticker"), q("event_ticker"),
               q("status", {"type": "string", "enum": ["open", "closed"]}),
               q("creator_user_id"), q("user_filter", {"type": "string", "enum": ["self"]}),
               q("subaccount", INTEGER))},
    ("POST", COMM + "/rfqs"): {
        "summary": "Create an RFQ", "operation_id": "CreateRFQ", "tag": "communications",
        "body": CREATE_RFQ, "responses": {201: "Created: {id}"}},
    ("GET", COMM + "/rfqs/{rfq_id}"): {
        "summary": "Get an RFQ", "operation_id": "GetRFQ", "tag": "communications",
        "path_schemas": IDS},
    ("DELETE", COMM + "/rfqs/{rfq_id}"): {
        "summary": "Delete an RFQ", "operation_id": "DeleteRFQ", "tag": "communications",
        "path_schemas": IDS, "responses": {204: "Deleted"}},
    ("GET", COMM + "/quotes"): {
        "summary": "List quotes", "operation_id": "GetQuotes", "tag": "communications",
        "query": (LIMIT, CURSOR, q("rfq_id"),
               q("status", {"type": "string", "enum": ["open", "accepted", "confirmed",
                                                       "executed", "cancelled"]}),
               q("user_filter", {"type": "string", "enum": ["self"]}),
               q("rfq_user_filter", {"type": "string", "enum": ["self"]}),
               q("quote_creator_user_id"), q("rfq_creator_user_id"),
               q("min_ts", INTEGER), q("max_ts", INTEGER))},
    ("POST", COMM + "/quotes"): {
        "summary": "Create a quote", "operation_id": "CreateQuote", "tag": "communications",
        "body": CREATE_QUOTE, "responses": {201: "Created: {id}"}},
    **_quote_operations(SCOPED, "InRFQ"),
    **_quote_operations(BARE, ""),
    ("GET", "/account/limits"): {
        "summary": "The caller's rate-limit tier and budgets",
        "operation_id": "GetAccountApiLimits",
        "tag": "account"},
    ("GET", "/account/endpoint_costs"): {
        "summary": "Endpoints that cost more or less than the default",
        "operation_id": "GetEndpointCosts", "tag": "account"},
    ("GET", "/markets"): {
        "summary": "List markets", "operation_id": "GetMarkets", "tag": "markets",
        "query": (LIMIT, CURSOR, q("event_ticker"), q("series_ticker"), q("tickers"),
               q("status", {"type": "string",
                            "enum": ["unopened", "open", "paused", "closed", "settled"]}),
               q("mve_filter", {"type": "string", "enum": ["only", "exclude"]}),
               q("min_created_ts", INTEGER), q("max_created_ts", INTEGER),
               q("min_close_ts", INTEGER), q("max_close_ts", INTEGER))},
    ("GET", "/markets/{ticker}"): {"summary": "Get a market", "operation_id": "GetMarket",
                                       "tag": "markets"},
    ("GET", "/exchange/status"): {"summary": "Exchange status",
                                      "operation_id": "GetExchangeStatus", "tag": "exchange"},
    ("GET", "/markets/{ticker}/orderbook"): {
        "summary": "A market's order book", "operation_id": "GetMarketOrderbook", "tag": "markets",
        "query": (q("depth", INTEGER),)},
    ("GET", "/markets/orderbooks"): {
        "summary": "Order books of several markets", "operation_id": "GetMarketOrderbooks",
        "tag": "markets", "query": (q("tickers"),)},
    ("GET", "/markets/trades"): {
        "summary": "Public trades", "operation_id": "GetTrades", "tag": "markets",
        "query": (LIMIT, CURSOR, q("ticker"), q("min_ts", INTEGER), q("max_ts", INTEGER),
               q("is_block_trade", {"type": "string", "enum": ["true", "false"]}))},
    ("GET", "/markets/candlesticks"): {
        "summary": "Candlesticks of several markets", "operation_id": "BatchGetMarketCandlesticks",
        "tag": "markets",
        "query": (q("market_tickers"), q("start_ts", INTEGER), q("end_ts", INTEGER),
               q("period_interval", INTEGER))},
    ("GET", "/series/{series_ticker}/markets/{ticker}/candlesticks"): {
        "summary": "A market's candlesticks", "operation_id": "GetMarketCandlesticks",
        "tag": "markets",
        "query": (q("start_ts", INTEGER), q("end_ts", INTEGER), q("period_interval", INTEGER))},
    ("GET", "/portfolio/balance"): {"summary": "The caller's balance",
                                        "operation_id": "GetBalance", "tag": "portfolio",
                                        "query": (q("subaccount", INTEGER),)},
    ("GET", "/portfolio/positions"): {
        "summary": "The caller's positions", "operation_id": "GetPositions", "tag": "portfolio",
        "query": (*PORTFOLIO_QUERY, q("count_filter"))},
    ("GET", "/portfolio/fills"): {"summary": "The caller's fills", "operation_id": "GetFills",
                                      "tag": "portfolio", "query": PORTFOLIO_QUERY},
    ("GET", LEGACY): {
        "summary": "The caller's orders", "operation_id": "GetOrders", "tag": "orders",
        "query": (*PORTFOLIO_QUERY,
               q("status", {"type": "string", "enum": ["resting", "canceled", "executed"]}))},
    ("GET", LEGACY + "/{order_id}"): {"summary": "Get an order", "operation_id": "GetOrder",
                                          "tag": "orders"},
    ("POST", V2): {"summary": "Create an order (V2)", "operation_id": "CreateOrderV2",
                       "tag": "orders", "body": V2_ORDER, "responses": {201: "Created"}},
    ("DELETE", V2): {"summary": "Cancel every order (V2)", "operation_id": "CancelAllOrdersV2",
                         "tag": "orders"},
    ("POST", V2 + "/batched"): {
        "summary": "Create orders in a batch (V2)", "operation_id": "BatchCreateOrdersV2",
        "tag": "orders", "body": obj(("orders",), orders={"type": "array", "items": V2_ORDER}),
        "responses": {201: "Created"}},
    ("DELETE", V2 + "/batched"): {
        "summary": "Cancel orders in a batch (V2)", "operation_id": "BatchCancelOrdersV2",
        "tag": "orders", "body": obj(("orders",), orders={"type": "array", "items": obj(
            ("order_id",), order_id=STRING)})},
    ("DELETE", V2 + "/{order_id}"): {"summary": "Cancel an order (V2)",
                                         "operation_id": "CancelOrderV2", "tag": "orders"},
    ("POST", V2 + "/{order_id}/amend"): {
        "summary": "Amend an order's price or size (V2)", "operation_id": "AmendOrderV2",
        "tag": "orders", "body": obj(("ticker", "side", "price"), ticker=STRING,
                               side={"type": "string", "enum": ["bid", "ask"]},
                               price=DOLLARS, count=COUNT_FP)},
    ("POST", V2 + "/{order_id}/decrease"): {
        "summary": "Decrease an order (V2)", "operation_id": "DecreaseOrderV2", "tag": "orders",
        "body": obj(reduce_by=COUNT_FP, reduce_to=COUNT_FP)},
    ("POST", LEGACY): {
        "summary": "Create an order (legacy: 410 unless --legacy-orders serve)",
        "operation_id": "CreateOrder", "tag": "orders", "body": LEGACY_ORDER,
        "responses": {201: "Created", 410: "deprecated_v1_order_endpoint"}},
    ("POST", GROUPS + "/create"): {
        "summary": "Create an order group", "operation_id": "CreateOrderGroup",
        "tag": "order groups",
        "body": obj(contracts_limit=INTEGER, contracts_limit_fp=COUNT_FP, subaccount=INTEGER),
        "responses": {201: "Created"}},
    ("GET", GROUPS): {"summary": "List order groups", "operation_id": "GetOrderGroups",
                          "tag": "order groups", "query": (q("subaccount", INTEGER),)},
    ("GET", GROUPS + "/{group_id}"): {"summary": "Get an order group",
                                          "operation_id": "GetOrderGroup", "tag": "order groups"},
}
"""Metadata of Kalshi's endpoints, by (method, path under ``/trade-api/v2``)."""

SECURITY = {
    "KalshiAccessKey": {"type": "apiKey", "in": "header", "name": "KALSHI-ACCESS-KEY"},
    "KalshiAccessSignature": {
        "type": "apiKey", "in": "header", "name": "KALSHI-ACCESS-SIGNATURE",
        "description": "base64 RSA-PSS (SHA-256) signature of timestamp + METHOD + path "
                       "(with /trade-api/v2, without the query string)"},
    "KalshiAccessTimestamp": {"type": "apiKey", "in": "header",
                              "name": "KALSHI-ACCESS-TIMESTAMP",
                              "description": "milliseconds since the epoch"},
}
"""Kalshi's three signing headers (https://docs.kalshi.com/getting_started/api_keys)."""

__all__ = ["SECURITY", "TRADE_OPERATIONS"]
