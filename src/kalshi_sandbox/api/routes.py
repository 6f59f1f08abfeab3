"""Kalshi's Trade API v2 endpoints that the RFQ flow uses, under ``/trade-api/v2``.

A handler parses (api/requests.py), calls one use case of the exchange, and renders
(api/render.py); it decides nothing itself. Every authenticated endpoint names what a request
to it costs (docs/behaviour.md, "Rate limits"): the bucket, Read or Write, and the tokens.
Authentication charges the caller's bucket before the handler reads its body or starts a
transaction, so a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api import render
from kalshi_sandbox.api import requests as wire
from kalshi_sandbox.api.auth import Authenticator, signature_headers
from kalshi_sandbox.api.http import Endpoint, Handler, empty_response, json_response, read_json
from kalshi_sandbox.domain.errors import QueryValidationError, RateLimited
from kalshi_sandbox.domain.limits import DEFAULT_COST, READ, WRITE, Bucket, Cost
from kalshi_sandbox.domain.market import SETTLED_STATUSES, MarketStatus
from kalshi_sandbox.domain.queries import MarketQuery, PortfolioQuery
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.rfq import RfqStatus
from kalshi_sandbox.exchange.commands import Actor, QuoteFilters, RfqFilters
from kalshi_sandbox.exchange.engine import Exchange
from kalshi_sandbox.exchange.ratelimits import RateLimits
from kalshi_sandbox.settings import Settings

PREFIX = "/trade-api/v2"
LEGACY_USER_AGENT = "OpenAPI-Generator/3.2.0/python"

QUOTE_READ = Cost(Bucket.READ, 2)
QUOTE_WRITE = Cost(Bucket.WRITE, 2)
"""Creating, deleting and getting a quote cost 2 tokens (https://docs.kalshi.com/getting_started/rate_limits)."""

MARKET_STATUS_FILTER: dict[str, tuple[str, ...]] = {
    "unopened": (MarketStatus.INITIALIZED.value, MarketStatus.INACTIVE.value),
    "open": (MarketStatus.ACTIVE.value,),
    "paused": (),
    "closed": (MarketStatus.CLOSED.value,),
    "settled": tuple(s.value for s in SETTLED_STATUSES),
}


LEGACY_STATUS = {"finalized": "settled", "amended": "determined", "disputed": "determined",
                 "inactive": "active"}
"""Market statuses kalshi-python 3.2.0 refuses, as the nearest one it accepts."""


def market_for(request: Request, data: dict[str, Any]) -> dict[str, Any]:
    """Return a rendered market as the caller's client can read it: kalshi-python 3.2.0
    (by its User-Agent) gets ``LEGACY_STATUS`` in place of the statuses it refuses."""
    if request.headers.get("user-agent", "").startswith(LEGACY_USER_AGENT):
        data["status"] = LEGACY_STATUS.get(data["status"], data["status"])
    return data


class Charged(Endpoint):
    """An endpoint whose authenticated requests cost ``cost``; None if it needs no key."""

    __slots__ = ("cost",)

    def __init__(self, handler: Handler, cost: Cost | None) -> None:
        super().__init__(handler)
        self.cost = cost


class TradeApi:
    """Request handlers bound to one exchange.

    With ``enforce`` false (a replay's own copy of the routes), nothing is rate limited.
    """

    def __init__(self, exchange: Exchange, authenticator: Authenticator,
                 settings: Settings, limits: RateLimits, *, enforce: bool = True) -> None:
        self.exchange = exchange
        self.auth = authenticator
        self.settings = settings
        self.limits = limits
        self._limiter = limits if enforce and limits.enforced else None
        self.extensions: list[Callable[[], list[tuple[str, str, Handler, Cost | None]]]] = []
        """More endpoints (orders, market data), routed before these."""

    async def actor(self, request: Request) -> Actor:
        """Authenticate a request by its signature over the path as sent on the wire.

        Then charge the endpoint's cost to the actor's bucket; raise ``RateLimited``,
        charging nothing, if the bucket cannot pay.
        """
        scope = request.scope
        raw_path = scope.get("raw_path") or scope["path"].encode()
        actor = await self.auth.authenticate(
            signature_headers(scope["headers"]), scope["method"], raw_path.decode("latin-1"),
            scope["query_string"].decode("latin-1"),
        )
        limiter = self._limiter
        if limiter is not None:
            cost = scope["endpoint"].cost
            if limiter.shared is None:
                if not limiter.allow(actor.user_id, cost):
                    raise RateLimited()
            elif not await limiter.charge(actor.user_id, cost):
                raise RateLimited()
        return actor

    def legacy(self, request: Request) -> bool:
        """Return True if ``accepted_side`` should be rendered for kalshi-python 3.2.0."""
        mode = self.settings.legacy_accepted_side
        if mode == "auto":
            return request.headers.get("user-agent", "").startswith(LEGACY_USER_AGENT)
        return mode == "always"

    # Identity -------------------------------------------------------------------------------

    async def communications_id(self, request: Request) -> Response:
        actor = await self.actor(request)
        return json_response({"communications_id": actor.communications_id})

    # RFQs -----------------------------------------------------------------------------------

    async def create_rfq(self, request: Request) -> Response:
        actor = await self.actor(request)
        cmd = wire.parse_create_rfq(await read_json(request, "CreateRFQRequest"),
                                    whole_contracts=self.settings.whole_contracts)
        rfq = await self.exchange.create_rfq(actor, cmd)
        return json_response({"id": rfq.id}, 201)

    async def list_rfqs(self, request: Request) -> Response:
        actor = await self.actor(request)
        params = request.query_params
        op = "GetRFQs"
        limit = wire.query_int(params, "limit", op, default=100, low=1, high=100)
        status = wire.query_choice(params, "status", op, wire.RFQ_STATUSES)
        user_filter = wire.query_choice(params, "user_filter", op, ("self",))
        creator = params.get("creator_user_id") or None
        if creator is not None:
            wire.check_uuid(creator, "creator_user_id")
        filters = RfqFilters(
            limit=limit, after=wire.decode_cursor(params, op),
            market_ticker=params.get("market_ticker") or None,
            event_ticker=params.get("event_ticker") or None,
            status=RfqStatus(status) if status else None, creator_user_id=creator,
            subaccount=wire.query_optional_int(params, "subaccount", op, low=0, high=63),
            only_mine=user_filter == "self",
        )
        page = await self.exchange.list_rfqs(actor, filters)
        return json_response({"rfqs": [render.render_rfq(r, actor.user_id) for r in page.items],
                              "cursor": wire.next_cursor(page)})

    async def get_rfq(self, request: Request) -> Response:
        actor = await self.actor(request)
        rfq_id = wire.check_uuid(request.path_params["rfq_id"], "rfq_id")
        rfq = await self.exchange.get_rfq(actor, rfq_id)
        return json_response({"rfq": render.render_rfq(rfq, actor.user_id)})

    async def delete_rfq(self, request: Request) -> Response:
        actor = await self.actor(request)
        rfq_id = wire.check_uuid(request.path_params["rfq_id"], "rfq_id")
        await self.exchange.delete_rfq(actor, rfq_id)
        return empty_response()

    # Quotes ---------------------------------------------------------------------------------

    async def create_quote(self, request: Request) -> Response:
        actor = await self.actor(request)
        cmd = wire.parse_create_quote(await read_json(request, "CreateQuoteRequest"))
        quote = await self.exchange.create_quote(actor, cmd)
        return json_response({"id": quote.id}, 201)

    async def list_quotes(self, request: Request) -> Response:
        actor = await self.actor(request)
        params = request.query_params
        op = "GetQuotes"
        limit = wire.query_int(params, "limit", op, default=500, low=1, high=500)
        status = wire.query_choice(params, "status", op, wire.QUOTE_STATUSES)
        rfq_id = params.get("rfq_id") or None
        if rfq_id is not None:
            wire.check_uuid(rfq_id, "rfq_id")
        filters = QuoteFilters(
            limit=limit, after=wire.decode_cursor(params, op),
            status=QuoteStatus(status) if status else None, rfq_id=rfq_id,
            only_mine=wire.query_choice(params, "user_filter", op, ("self",)) == "self",
            only_my_rfqs=wire.query_choice(params, "rfq_user_filter", op,
                                           ("self",)) == "self",
            legacy_creator_user_id=params.get("quote_creator_user_id") or None,
            legacy_rfq_creator_user_id=params.get("rfq_creator_user_id") or None,
            min_updated=wire.unix_seconds(params, "min_ts", op),
            max_updated=wire.unix_seconds(params, "max_ts", op),
        )
        page = await self.exchange.list_quotes(actor, filters)
        legacy = self.legacy(request)
        return json_response({
            "quotes": [render.render_quote(q, actor.user_id, legacy=legacy)
                       for q in page.items],
            "cursor": wire.next_cursor(page),
        })

    def _ids(self, request: Request) -> tuple[str, str | None]:
        params = request.path_params
        quote_id = wire.check_uuid(params["quote_id"], "quote_id")
        rfq_id = params.get("rfq_id")
        return quote_id, None if rfq_id is None else wire.check_uuid(rfq_id, "rfq_id")

    async def get_quote(self, request: Request) -> Response:
        actor = await self.actor(request)
        quote_id, rfq_id = self._ids(request)
        quote = await self.exchange.get_quote(actor, quote_id, rfq_id)
        return json_response({"quote": render.render_quote(quote, actor.user_id,
                                                           legacy=self.legacy(request))})

    async def delete_quote(self, request: Request) -> Response:
        actor = await self.actor(request)
        quote_id, rfq_id = self._ids(request)
        await self.exchange.delete_quote(actor, quote_id, rfq_id)
        return empty_response()

    async def accept_quote(self, request: Request) -> Response:
        actor = await self.actor(request)
        quote_id, rfq_id = self._ids(request)
        side = wire.parse_accepted_side(await read_json(request, "AcceptQuoteRequest"))
        await self.exchange.accept_quote(actor, quote_id, side, rfq_id)
        return empty_response()

    async def confirm_quote(self, request: Request) -> Response:
        actor = await self.actor(request)
        quote_id, rfq_id = self._ids(request)
        # The body is optional and ignored: empty, {} or any JSON object.
        await read_json(request, "ConfirmQuoteRequest", allow_empty=True)
        await self.exchange.confirm_quote(actor, quote_id, rfq_id)
        return empty_response()

    # Account --------------------------------------------------------------------------------

    async def account_limits(self, request: Request) -> Response:
        actor = await self.actor(request)
        return json_response(render.render_account_limits(self.limits.tier_of(actor.user_id)))

    async def endpoint_costs(self, request: Request) -> Response:
        return json_response(self.endpoint_cost_list())

    # Markets and exchange -------------------------------------------------------------------

    async def list_markets(self, request: Request) -> Response:
        params = request.query_params
        op = "GetMarkets"
        limit = wire.query_int(params, "limit", op, default=100, low=1, high=1000)
        try:
            position = wire.decode_cursor(params, op)
        except QueryValidationError:
            position = None  # Kalshi answers a garbage cursor here with the first page
        status = wire.query_choice(params, "status", op, tuple(MARKET_STATUS_FILTER))
        mve = wire.query_choice(params, "mve_filter", op, ("only", "exclude"))
        tickers = params.get("tickers")
        query = MarketQuery(
            limit=limit,
            after=position[1] if position else None,
            event_ticker=params.get("event_ticker") or None,
            series_ticker=params.get("series_ticker") or None,
            statuses=MARKET_STATUS_FILTER[status] if status else None,
            tickers=tuple(t for t in tickers.split(",") if t) if tickers else None,
            mve=None if mve is None else mve == "only",
            min_created=wire.unix_seconds(params, "min_created_ts", op),
            max_created=wire.unix_seconds(params, "max_created_ts", op),
            min_updated=wire.unix_seconds(params, "min_updated_ts", op),
            min_close=wire.unix_seconds(params, "min_close_ts", op),
            max_close=wire.unix_seconds(params, "max_close_ts", op),
            min_settled=wire.unix_seconds(params, "min_settled_ts", op),
            max_settled=wire.unix_seconds(params, "max_settled_ts", op),
        )
        page = await self.exchange.list_markets(query)
        data = self.exchange.marketdata
        return json_response({"markets": [market_for(request,
                                                     render.render_market(m, data.top(m.ticker)))
                                          for m in page.items],
                              "cursor": wire.next_cursor(page)})

    async def get_market(self, request: Request) -> Response:
        market = await self.exchange.get_market(request.path_params["ticker"])
        top = self.exchange.marketdata.top(market.ticker)
        return json_response({"market": market_for(request, render.render_market(market, top))})

    async def exchange_status(self, request: Request) -> Response:
        return json_response({"exchange_active": True, "trading_active": True,
                              "intra_exchange_transfers_active": True})

    # Portfolio ------------------------------------------------------------------------------

    def _portfolio_query(self, request: Request, actor: Actor, op: str) -> PortfolioQuery:
        params = request.query_params
        limit = wire.query_int(params, "limit", op, default=100, low=1, high=1000)
        return PortfolioQuery(
            user_id=actor.user_id, limit=limit, after=wire.decode_cursor(params, op),
            ticker=params.get("ticker") or None,
            event_ticker=params.get("event_ticker") or None,
            order_id=params.get("order_id") or None,
            subaccount=wire.query_optional_int(params, "subaccount", op, low=0, high=63),
            min_ts=wire.unix_seconds(params, "min_ts", op),
            max_ts=wire.unix_seconds(params, "max_ts", op),
        )

    async def balance(self, request: Request) -> Response:
        actor = await self.actor(request)
        subaccount = wire.query_int(request.query_params, "subaccount", "GetBalance",
                                    default=0, low=0, high=63)
        micros, value, updated = await self.exchange.balance(actor, subaccount)
        return json_response(render.render_balance(micros, value, updated))

    async def positions(self, request: Request) -> Response:
        actor = await self.actor(request)
        query = self._portfolio_query(request, actor, "GetPositions")
        count_filter = request.query_params.get("count_filter")
        counted: frozenset[str] = frozenset()
        if count_filter:
            counted = frozenset(count_filter.split(","))
            if not counted <= {"position", "total_traded"}:
                raise QueryValidationError(
                    "Parameter validation failed for GetPositions: count_filter must "
                    "list position and/or total_traded"
                )
        page = await self.exchange.positions(actor, query, counted)
        events = await self.exchange.events_of({p.ticker for p in page.items})
        return json_response({
            "market_positions": [render.render_position(p) for p in page.items],
            "event_positions": render.render_event_positions(list(page.items), events),
            "cursor": wire.next_cursor(page),
        })

    async def fills(self, request: Request) -> Response:
        actor = await self.actor(request)
        page = await self.exchange.fills(actor, self._portfolio_query(request, actor,
                                                                      "GetFills"))
        return json_response({"fills": [render.render_fill(f) for f in page.items],
                              "cursor": wire.next_cursor(page)})

    async def orders(self, request: Request) -> Response:
        actor = await self.actor(request)
        query = self._portfolio_query(request, actor, "GetOrders")
        status = wire.query_choice(request.query_params, "status", "GetOrders",
                                   ("resting", "canceled", "executed"))
        if status is not None:
            query = replace(query, status=status)
        page = await self.exchange.orders(actor, query)
        return json_response({"orders": [render.render_order(o) for o in page.items],
                              "cursor": wire.next_cursor(page)})

    async def order(self, request: Request) -> Response:
        actor = await self.actor(request)
        order = await self.exchange.order(actor, request.path_params["order_id"])
        return json_response({"order": render.render_order(order)})

    def endpoints(self) -> list[tuple[str, str, Handler, Cost | None]]:
        """Return (method, full path, handler, cost) of every endpoint, in routing order."""
        comm = PREFIX + "/communications"
        scoped = comm + "/rfqs/{rfq_id}/quotes/{quote_id}"
        bare = comm + "/quotes/{quote_id}"
        extra = [endpoint for more in self.extensions for endpoint in more()]
        return [
            *extra,
            ("GET", comm + "/id", self.communications_id, READ),
            ("GET", comm + "/rfqs", self.list_rfqs, READ),
            ("POST", comm + "/rfqs", self.create_rfq, WRITE),
            ("GET", comm + "/rfqs/{rfq_id}", self.get_rfq, READ),
            ("DELETE", comm + "/rfqs/{rfq_id}", self.delete_rfq, WRITE),
            ("GET", scoped, self.get_quote, QUOTE_READ),
            ("DELETE", scoped, self.delete_quote, QUOTE_WRITE),
            ("PUT", scoped + "/accept", self.accept_quote, WRITE),
            ("PUT", scoped + "/confirm", self.confirm_quote, WRITE),
            ("GET", comm + "/quotes", self.list_quotes, READ),
            ("POST", comm + "/quotes", self.create_quote, QUOTE_WRITE),
            ("GET", bare, self.get_quote, QUOTE_READ),
            ("DELETE", bare, self.delete_quote, QUOTE_WRITE),
            ("PUT", bare + "/accept", self.accept_quote, WRITE),
            ("PUT", bare + "/confirm", self.confirm_quote, WRITE),
            ("GET", PREFIX + "/account/limits", self.account_limits, READ),
            ("GET", PREFIX + "/account/endpoint_costs", self.endpoint_costs, None),
            ("GET", PREFIX + "/markets", self.list_markets, None),
            ("GET", PREFIX + "/markets/{ticker}", self.get_market, None),
            ("GET", PREFIX + "/exchange/status", self.exchange_status, None),
            ("GET", PREFIX + "/portfolio/balance", self.balance, READ),
            ("GET", PREFIX + "/portfolio/positions", self.positions, READ),
            ("GET", PREFIX + "/portfolio/fills", self.fills, READ),
            ("GET", PREFIX + "/portfolio/orders", self.orders, READ),
            ("GET", PREFIX + "/portfolio/orders/{order_id}", self.order, READ),
        ]

    def endpoint_cost_list(self) -> dict[str, Any]:
        """Render ``GET /account/endpoint_costs``: the endpoints not costing the default."""
        return {"default_cost": DEFAULT_COST, "endpoint_costs": [
            {"method": method, "path": path, "cost": cost.tokens}
            for method, path, _, cost in self.endpoints()
            if cost is not None and cost.tokens != DEFAULT_COST]}

    def routes(self) -> list[BaseRoute]:
        """Return every route with its full path (handlers as lean ASGI endpoints)."""
        return [Route(path, Charged(handler, cost), methods=[method])
                for method, path, handler, cost in self.endpoints()]
