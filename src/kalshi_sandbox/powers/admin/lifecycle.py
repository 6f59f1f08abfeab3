"""Control-plane verbs of a market's life under ``/sandbox/v1``: open, pause, close,
determine and settle a market; set the exchange's maintenance windows; create combo
collections. Every route sits behind the control plane's guard (powers/guard.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api.http import json_response
from kalshi_sandbox.api.requests import Body
from kalshi_sandbox.domain.clock import format_instant, in_range
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.money import parse_price
from kalshi_sandbox.exchange.combos import CollectionSpec, Combos
from kalshi_sandbox.exchange.lifecycle import Lifecycle
from kalshi_sandbox.exchange.schedule import ExchangeSchedule
from kalshi_sandbox.powers.admin.routes import parse_instant_field
from kalshi_sandbox.powers.bounds import read_control_json
from kalshi_sandbox.powers.guard import CONTROL_PREFIX, Handler

MAX_MINUTES = 10 * 366 * 24 * 60
"""The longest maintenance window ``minutes`` may ask for: ten years."""

Guard = Callable[[Handler], Handler]
Render = Callable[[Any], dict[str, Any]]


def _value(body: Body) -> int | None:
    text = body.string("settlement_value_dollars")
    return None if text is None else parse_price(text, what="settlement_value_dollars")


class LifecycleAdminApi:
    """Handlers of the lifecycle, maintenance and collection verbs."""

    def __init__(self, lifecycle: Lifecycle, schedule: ExchangeSchedule, combos: Combos,
                 guard: Guard, render_market: Render) -> None:
        self.lifecycle = lifecycle
        self.schedule = schedule
        self.combos = combos
        self.guard = guard
        self.render_market = render_market

    async def _body(self, request: Request, struct: str) -> Body:
        return Body(await read_control_json(request, struct, allow_empty=True), struct)

    async def open(self, request: Request) -> Response:
        body = await self._body(request, "OpenMarketRequest")
        market = await self.lifecycle.open(
            request.path_params["ticker"],
            close_time=parse_instant_field(body.string("close_time")))
        return json_response(self.render_market(market))

    async def pause(self, request: Request) -> Response:
        await self._body(request, "PauseMarketRequest")
        return json_response(self.render_market(
            await self.lifecycle.pause(request.path_params["ticker"])))

    async def close(self, request: Request) -> Response:
        await self._body(request, "CloseMarketRequest")
        return json_response(self.render_market(
            await self.lifecycle.close(request.path_params["ticker"])))

    async def determine(self, request: Request) -> Response:
        body = await self._body(request, "DetermineMarketRequest")
        market = await self.lifecycle.determine(
            request.path_params["ticker"], body.required_string("result"), _value(body))
        return json_response(self.render_market(market))

    async def settle(self, request: Request) -> Response:
        body = await self._body(request, "SettleMarketRequest")
        market = await self.lifecycle.settle(
            request.path_params["ticker"], body.string("result"), _value(body))
        return json_response(self.render_market(market))

    # Maintenance ---------------------------------------------------------------------------

    def _windows(self) -> dict[str, Any]:
        current = self.schedule.current()
        return {
            "maintenance_windows": [
                {"start": format_instant(w.start), "end": format_instant(w.end),
                 "kind": w.kind} for w in self.schedule.pending()],
            "in_maintenance": current is not None,
            **self.schedule.status(),
        }

    async def get_maintenance(self, request: Request) -> Response:
        return json_response(self._windows())

    async def add_maintenance(self, request: Request) -> Response:
        body = Body(await read_control_json(request, "MaintenanceRequest"),
                    "MaintenanceRequest")
        start = parse_instant_field(body.string("start"))
        end = parse_instant_field(body.string("end"))
        minutes = body.integer("minutes")
        if start is None:
            start = self.schedule.clock.now()
        if end is None:
            if minutes is None or not 0 < minutes <= MAX_MINUTES:
                raise InvalidParameters(f"give end, or minutes between 1 and {MAX_MINUTES}")
            end = start + minutes * 60_000_000
            if not in_range(end):
                raise InvalidParameters("the window would end after the year 9999")
        await self.schedule.add(start, end, body.string("kind") or "trading")
        return json_response(self._windows(), 201)

    async def clear_maintenance(self, request: Request) -> Response:
        await self.schedule.clear()
        return json_response(self._windows())

    # Combo collections ---------------------------------------------------------------------

    async def create_collection(self, request: Request) -> Response:
        data = await read_control_json(request, "CreateCollectionRequest")
        body = Body(data, "CreateCollectionRequest")
        events = data.get("associated_events")
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise InvalidParameters("associated_events must be a list of event tickers")
        collection = await self.combos.create_collection(CollectionSpec(
            collection_ticker=body.required_string("collection_ticker"),
            series_ticker=body.string("series_ticker"),
            title=body.string("title"), description=body.string("description") or "",
            associated_events=tuple(events),
            open_date=parse_instant_field(body.string("open_date")),
            close_date=parse_instant_field(body.string("close_date")),
            is_single_market_per_event=body.boolean("is_single_market_per_event"),
            is_all_yes=body.boolean("is_all_yes") or False,
            size_min=body.integer("size_min") or 2,
            size_max=body.integer("size_max") or 10,
        ))
        return json_response({"collection_ticker": collection.collection_ticker}, 201)

    def routes(self) -> list[BaseRoute]:
        """Return the routes, each behind the guard."""
        g = self.guard
        p = CONTROL_PREFIX
        market = p + "/markets/{ticker}"
        return [
            Route(market + "/open", g(self.open), methods=["POST"]),
            Route(market + "/pause", g(self.pause), methods=["POST"]),
            Route(market + "/close", g(self.close), methods=["POST"]),
            Route(market + "/determine", g(self.determine), methods=["POST"]),
            Route(market + "/settle", g(self.settle), methods=["POST"]),
            Route(p + "/exchange/maintenance", g(self.get_maintenance), methods=["GET"]),
            Route(p + "/exchange/maintenance", g(self.add_maintenance), methods=["POST"]),
            Route(p + "/exchange/maintenance", g(self.clear_maintenance), methods=["DELETE"]),
            Route(p + "/collections", g(self.create_collection), methods=["POST"]),
        ]


__all__ = ["LifecycleAdminApi"]
