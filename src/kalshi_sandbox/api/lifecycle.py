"""Kalshi's endpoints of a market's life: series, events, settlements and the exchange schedule.

Series, events and the schedule are public (a request may be signed or not); settlements are
the caller's own. Shapes follow https://docs.kalshi.com/api-reference/events/get-events,
/series/get-series-list, /portfolio/get-settlements and /exchange/get-exchange-schedule, with
the integer twins kalshi-python 3.2.0 still requires (docs/behaviour.md, "Lifecycle").
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kalshi_sandbox.api import requests as wire
from kalshi_sandbox.api.http import Handler, json_response
from kalshi_sandbox.api.render import render_market
from kalshi_sandbox.api.routes import PREFIX, TradeApi, market_for
from kalshi_sandbox.domain.clock import format_instant
from kalshi_sandbox.domain.errors import QueryValidationError
from kalshi_sandbox.domain.lifecycle import MarketEvent, Series, Settlement
from kalshi_sandbox.domain.limits import READ, Cost
from kalshi_sandbox.domain.market import Market, MarketStatus
from kalshi_sandbox.domain.money import count_to_whole, format_count, format_money, money_to_cents
from kalshi_sandbox.domain.queries import EventQuery, PortfolioQuery, SeriesQuery
from kalshi_sandbox.exchange.catalog import Catalog, EventView
from kalshi_sandbox.exchange.schedule import ExchangeSchedule

EVENT_STATUS_FILTER: dict[str, tuple[str, ...]] = {
    "unopened": (MarketStatus.INITIALIZED.value,),
    "open": (MarketStatus.ACTIVE.value,),
    "closed": (MarketStatus.CLOSED.value, MarketStatus.DETERMINED.value,
               MarketStatus.DISPUTED.value, MarketStatus.AMENDED.value),
    "settled": (MarketStatus.FINALIZED.value,),
}
"""``GET /events?status=``: an event matches if any of its markets is in one of these."""

MAX_TICKERS = 200
"""The most event tickers one ``tickers`` filter may list."""


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() else value


def render_series(series: Series) -> dict[str, Any]:
    """Render a series."""
    return {
        "ticker": series.ticker,
        "frequency": series.frequency,
        "title": series.title,
        "category": series.category,
        "categories": [series.category],
        "tags": [t for t in series.tags.split(",") if t],
        "settlement_sources": [],
        "contract_url": "",
        "contract_terms_url": "",
        "fee_type": series.fee_type,
        "fee_multiplier": _number(series.fee_multiplier),
        "additional_prohibitions": [],
        "product_metadata": {},
        "last_updated_ts": format_instant(series.updated_ts),
        "exchange_index": 0,
    }


def render_event(event: MarketEvent, markets: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Render an event; ``markets`` (rendered) only when nested markets were asked for."""
    data: dict[str, Any] = {
        "event_ticker": event.event_ticker,
        "series_ticker": event.series_ticker,
        "title": event.title,
        "sub_title": event.sub_title,
        "collateral_return_type": "MECNET" if event.mutually_exclusive else "",
        "mutually_exclusive": event.mutually_exclusive,
        "settlement_sources": [],
        "available_on_brokers": False,
        "category": "",
        "product_metadata": {},
        "last_updated_ts": format_instant(event.updated_ts),
        "exchange_index": 0,
    }
    if event.strike_date is not None:
        data["strike_date"] = format_instant(event.strike_date)
    if markets is not None:
        data["markets"] = markets
    return data


def render_settlement(settlement: Settlement) -> dict[str, Any]:
    """Render a settlement, with the integer fields kalshi-python 3.2.0 requires."""
    value = settlement.value
    return {
        "ticker": settlement.ticker,
        "exchange_index": 0,
        "event_ticker": settlement.event_ticker,
        "market_result": settlement.market_result,
        "yes_count": count_to_whole(settlement.yes_count),
        "yes_count_fp": format_count(settlement.yes_count),
        "yes_total_cost": money_to_cents(settlement.yes_total_cost),
        "yes_total_cost_dollars": format_money(settlement.yes_total_cost),
        "no_count": count_to_whole(settlement.no_count),
        "no_count_fp": format_count(settlement.no_count),
        "no_total_cost": money_to_cents(settlement.no_total_cost),
        "no_total_cost_dollars": format_money(settlement.no_total_cost),
        "revenue": money_to_cents(settlement.revenue),
        "settled_time": format_instant(settlement.settled_ts),
        "fee_cost": format_money(settlement.fee_cost),
        "value": None if value is None else value // 100,
    }


class LifecycleApi:
    """Handlers of the series, events, settlements and schedule endpoints."""

    def __init__(self, trade: TradeApi, catalog: Catalog, schedule: ExchangeSchedule) -> None:
        self.trade = trade
        self.catalog = catalog
        self.schedule = schedule
        self.data = trade.exchange.marketdata

    def _market(self, request: Request, market: Market) -> dict[str, Any]:
        return market_for(request, render_market(market, self.data.top(market.ticker)))

    def _event(self, request: Request, view: EventView, nested: bool) -> dict[str, Any]:
        markets = [self._market(request, m) for m in view.markets] if nested else None
        return render_event(view.event, markets)

    # Series --------------------------------------------------------------------------------

    async def list_series(self, request: Request) -> Response:
        params = request.query_params
        op = "GetSeriesList"
        tags = params.get("tags")
        page = await self.catalog.list_series(SeriesQuery(
            limit=wire.query_int(params, "limit", op, default=1000, low=1, high=1000),
            after=ticker_after(params, op), category=params.get("category") or None,
            tags=tuple(t for t in tags.split(",") if t) if tags else None,
            min_updated=wire.unix_seconds(params, "min_updated_ts", op)))
        return json_response({"series": [render_series(s) for s in page.items],
                              "cursor": wire.next_cursor(page)})

    async def get_series(self, request: Request) -> Response:
        series = await self.catalog.series(request.path_params["series_ticker"])
        return json_response({"series": render_series(series)})

    # Events --------------------------------------------------------------------------------

    def _event_query(self, request: Request, op: str, default: int, *,
                     mve: bool) -> tuple[EventQuery, bool]:
        params = request.query_params
        nested = wire.query_choice(params, "with_nested_markets", op,
                                   ("true", "false")) == "true"
        status = wire.query_choice(params, "status", op, tuple(EVENT_STATUS_FILTER))
        tickers = params.get("tickers")
        if tickers and tickers.count(",") >= MAX_TICKERS:
            raise QueryValidationError(f"Parameter validation failed for {op}: at most "
                                       f"{MAX_TICKERS} tickers")
        series = params.get("series_ticker") or None
        collection = params.get("collection_ticker") or None
        if series is not None and collection is not None:
            raise QueryValidationError(f"Parameter validation failed for {op}: "
                                       "series_ticker and collection_ticker exclude each other")
        return EventQuery(
            limit=wire.query_int(params, "limit", op, default=default, low=1, high=200),
            after=ticker_after(params, op), series_ticker=series,
            tickers=tuple(t for t in tickers.split(",") if t) if tickers else None,
            statuses=EVENT_STATUS_FILTER[status] if status else None, mve=mve,
            collection_ticker=collection,
            min_close=wire.unix_seconds(params, "min_close_ts", op),
            min_updated=wire.unix_seconds(params, "min_updated_ts", op),
        ), nested

    async def list_events(self, request: Request) -> Response:
        query, nested = self._event_query(request, "GetEvents", 200, mve=False)
        page = await self.catalog.list_events(query, nested=nested)
        return json_response({"events": [self._event(request, v, nested) for v in page.items],
                              "milestones": [], "cursor": wire.next_cursor(page)})

    async def list_multivariate_events(self, request: Request) -> Response:
        query, nested = self._event_query(request, "GetMultivariateEvents", 100, mve=True)
        page = await self.catalog.list_events(query, nested=nested)
        return json_response({"events": [self._event(request, v, nested) for v in page.items],
                              "cursor": wire.next_cursor(page)})

    async def get_event(self, request: Request) -> Response:
        nested = wire.query_choice(request.query_params, "with_nested_markets", "GetEvent",
                                   ("true", "false")) == "true"
        view = await self.catalog.event(request.path_params["event_ticker"])
        markets = [self._market(request, m) for m in view.markets]
        return json_response({"event": render_event(view.event, markets if nested else None),
                              "markets": markets})

    # Settlements ---------------------------------------------------------------------------

    async def settlements(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        params = request.query_params
        op = "GetSettlements"
        query = PortfolioQuery(
            user_id=actor.user_id,
            limit=wire.query_int(params, "limit", op, default=100, low=1, high=1000),
            after=wire.decode_cursor(params, op), ticker=params.get("ticker") or None,
            event_ticker=params.get("event_ticker") or None,
            subaccount=wire.query_optional_int(params, "subaccount", op, low=0, high=63),
            min_ts=wire.unix_seconds(params, "min_ts", op),
            max_ts=wire.unix_seconds(params, "max_ts", op),
        )
        page = await self.catalog.settlements(actor, query)
        return json_response({"settlements": [render_settlement(s) for s in page.items],
                              "cursor": wire.next_cursor(page)})

    # Exchange ------------------------------------------------------------------------------

    async def exchange_schedule(self, request: Request) -> Response:
        return json_response({"schedule": self.schedule.render()})

    async def exchange_status(self, request: Request) -> Response:
        return json_response(self.schedule.status())

    def endpoints(self) -> list[tuple[str, str, Handler, Cost | None]]:
        """Return (method, full path, handler, cost) of every endpoint, in routing order."""
        return [
            ("GET", PREFIX + "/series", self.list_series, None),
            ("GET", PREFIX + "/series/{series_ticker}", self.get_series, None),
            ("GET", PREFIX + "/events", self.list_events, None),
            ("GET", PREFIX + "/events/multivariate", self.list_multivariate_events, None),
            ("GET", PREFIX + "/events/{event_ticker}", self.get_event, None),
            ("GET", PREFIX + "/portfolio/settlements", self.settlements, READ),
            ("GET", PREFIX + "/exchange/schedule", self.exchange_schedule, None),
            ("GET", PREFIX + "/exchange/status", self.exchange_status, None),
        ]


def ticker_after(params: Any, op: str) -> str | None:
    """Return the ticker a ticker-ordered page continues after (a garbage cursor: the start,
    as ``GET /markets`` answers it)."""
    try:
        position = wire.decode_cursor(params, op)
    except QueryValidationError:
        return None
    return None if position is None else position[1]


__all__ = ["LifecycleApi", "render_event", "render_series", "render_settlement",
           "ticker_after"]
