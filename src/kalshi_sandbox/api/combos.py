"""Kalshi's multivariate event collection endpoints
(https://docs.kalshi.com/api-reference/multivariate/get-multivariate-event-collections).

Listing and reading collections is public; creating a combo market from legs needs a signed
request. Refusals carry Kalshi's documented codes: ``duplicated_legs``,
``conflicting_leg_outcomes`` and ``invalid_market_combination``, with ``details`` listing
the offending market tickers.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kalshi_sandbox.api import requests as wire
from kalshi_sandbox.api.http import Handler, json_response, read_json
from kalshi_sandbox.api.lifecycle import ticker_after
from kalshi_sandbox.api.render import render_market
from kalshi_sandbox.api.routes import PREFIX, TradeApi
from kalshi_sandbox.domain.clock import format_instant
from kalshi_sandbox.domain.combos import Collection
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.lifecycle import Leg
from kalshi_sandbox.domain.limits import WRITE, Cost
from kalshi_sandbox.domain.queries import CollectionQuery
from kalshi_sandbox.exchange.catalog import Catalog
from kalshi_sandbox.exchange.combos import MAX_LEGS, Combos


def render_collection(collection: Collection) -> dict[str, Any]:
    """Render a collection, with the deprecated fields kalshi-python 3.2.0 requires."""
    events = collection.events
    return {
        "collection_ticker": collection.collection_ticker,
        "series_ticker": collection.series_ticker,
        "exchange_index": 0,
        "title": collection.title,
        "description": collection.description,
        "open_date": format_instant(collection.open_date),
        "close_date": format_instant(collection.close_date),
        "associated_events": [{"ticker": e, "is_yes_only": collection.is_all_yes,
                               "active_quoters": []} for e in events],
        "associated_event_tickers": list(events),
        "is_ordered": False,
        "is_single_market_per_event": collection.is_single_market_per_event,
        "is_all_yes": collection.is_all_yes,
        "size_min": collection.size_min,
        "size_max": collection.size_max,
        "functional_description": "Every leg must resolve to its chosen side for YES.",
    }


def parse_legs(data: dict[str, Any]) -> tuple[Leg, ...]:
    """Parse ``selected_markets`` of a create-market request."""
    items = data.get("selected_markets")
    if not isinstance(items, list) or not items:
        raise InvalidParameters("selected_markets must be a non-empty list")
    if len(items) > MAX_LEGS:
        raise InvalidParameters(f"at most {MAX_LEGS} selected_markets")
    legs = []
    for item in items:
        if not isinstance(item, dict):
            raise InvalidParameters("each selected market is an object")
        body = wire.Body(item, "TickerPair")
        side = body.required_string("side")
        if side not in ("yes", "no"):
            raise InvalidParameters("side must be yes or no")
        legs.append(Leg(body.required_string("event_ticker"),
                        body.required_string("market_ticker"), side))
    return tuple(legs)


class CombosApi:
    """Handlers of the collection endpoints."""

    def __init__(self, trade: TradeApi, catalog: Catalog, combos: Combos) -> None:
        self.trade = trade
        self.catalog = catalog
        self.combos = combos

    async def list_collections(self, request: Request) -> Response:
        params = request.query_params
        op = "GetMultivariateEventCollections"
        page = await self.catalog.list_collections(CollectionQuery(
            limit=wire.query_int(params, "limit", op, default=100, low=1, high=200),
            after=ticker_after(params, op), series_ticker=params.get("series_ticker") or None,
            associated_event=params.get("associated_event_ticker") or None,
            status=wire.query_choice(params, "status", op, ("unopened", "open", "closed"))))
        return json_response({"multivariate_contracts": [render_collection(c)
                                                         for c in page.items],
                              "cursor": wire.next_cursor(page)})

    async def get_collection(self, request: Request) -> Response:
        collection = await self.catalog.collection(request.path_params["collection_ticker"])
        return json_response({"multivariate_contract": render_collection(collection)})

    async def create_market(self, request: Request) -> Response:
        await self.trade.actor(request)
        data = await read_json(request, "CreateMarketInMultivariateEventCollectionRequest")
        legs = parse_legs(data)
        market = await self.combos.create_market(request.path_params["collection_ticker"],
                                                 legs)
        body: dict[str, Any] = {"event_ticker": market.event_ticker,
                                "market_ticker": market.ticker}
        if data.get("with_market_payload") is True:
            body["market"] = render_market(market)
        return json_response(body)

    def endpoints(self) -> list[tuple[str, str, Handler, Cost | None]]:
        """Return (method, full path, handler, cost) of every endpoint, in routing order."""
        base = PREFIX + "/multivariate_event_collections"
        return [
            ("GET", base, self.list_collections, None),
            ("GET", base + "/{collection_ticker}", self.get_collection, None),
            ("POST", base + "/{collection_ticker}", self.create_market, WRITE),
        ]


__all__ = ["CombosApi", "parse_legs", "render_collection"]
