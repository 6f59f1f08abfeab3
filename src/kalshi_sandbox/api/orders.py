"""Kalshi's order endpoints: V2 order entry, the legacy writes, queue positions, order groups.

V2 (``/portfolio/events/orders``) is the order entry Kalshi serves since 2026. The legacy
writes (``/portfolio/orders``) answer Kalshi's 410 ``deprecated_v1_order_endpoint`` unless
the ``legacy_orders`` setting is ``serve``; the legacy reads (``GET /portfolio/orders``)
are api/routes.py's. Token costs: https://docs.kalshi.com/getting_started/rate_limits and
each endpoint's page (V2 cancels 2 tokens; legacy writes 100, legacy cancels 20, since the
2026-06-04 changelog entry).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from kalshi_sandbox.api import orderwire as wire
from kalshi_sandbox.api import render
from kalshi_sandbox.api.http import Handler, empty_response, json_response, read_json
from kalshi_sandbox.api.requests import query_optional_int
from kalshi_sandbox.api.routes import PREFIX, TradeApi
from kalshi_sandbox.domain.errors import (
    DeprecatedOrderEndpoint,
    InvalidParameters,
    RateLimited,
    SandboxError,
)
from kalshi_sandbox.domain.limits import READ, WRITE, Bucket, Cost
from kalshi_sandbox.domain.money import count_to_whole, format_count, money_to_cents
from kalshi_sandbox.domain.orders import OrderRequest
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.exchange.orders import Orders

CANCEL = Cost(Bucket.WRITE, 2)
LEGACY_WRITE = Cost(Bucket.WRITE, 100)
LEGACY_CANCEL = Cost(Bucket.WRITE, 20)
GET_ORDER = Cost(Bucket.READ, 2)
MAX_BATCH = 20
"""Items one batch may carry at most (Kalshi ties it to the caller's Write budget)."""


class OrdersApi:
    """Order entry handlers over one exchange's ``Orders`` use cases."""

    def __init__(self, trade: TradeApi, orders: Orders) -> None:
        self.trade = trade
        self.orders = orders
        self.legacy_served = trade.settings.legacy_orders == "serve"

    def _now_ms(self) -> int:
        return self.trade.exchange.clock.now() // 1000

    async def _charge_more(self, actor: Actor, cost: Cost, items: int) -> None:
        """Charge a batch's items beyond the first (the route charged one)."""
        limiter = self.trade._limiter
        if limiter is None or items <= 1:
            return
        more = Cost(cost.bucket, cost.tokens * (items - 1))
        if not (limiter.allow(actor.user_id, more) if limiter.shared is None
                else await limiter.charge(actor.user_id, more)):
            raise RateLimited()

    def _subaccount(self, request: Request, op: str) -> int | None:
        return query_optional_int(request.query_params, "subaccount", op, low=0, high=63)

    # V2 ------------------------------------------------------------------------------------

    async def create_v2(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        order = wire.parse_create_v2(await read_json(request, "CreateOrderV2Request"))
        submitted = await self.orders.create_order(actor, order)
        return json_response(wire.render_created_v2(submitted, self._now_ms()), 201)

    async def _batch_create(self, actor: Actor, items: list[OrderRequest | SandboxError],
                            ) -> list[Any]:
        requests = [i for i in items if isinstance(i, OrderRequest)]
        results = iter(await self.orders.batch_create(actor, requests))
        return [item if isinstance(item, SandboxError) else next(results) for item in items]

    def _batch_items(self, data: dict[str, Any]) -> list[Any]:
        items = data.get("orders")
        if not isinstance(items, list) or not items:
            raise InvalidParameters("orders must be a non-empty list")
        if len(items) > MAX_BATCH:
            raise InvalidParameters(f"a batch may carry at most {MAX_BATCH} orders")
        return items

    async def batch_create_v2(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        items = self._batch_items(await read_json(request, "BatchCreateOrdersV2Request"))
        await self._charge_more(actor, WRITE, len(items))
        parsed: list[OrderRequest | SandboxError] = []
        for item in items:
            try:
                parsed.append(wire.parse_create_v2(item if isinstance(item, dict) else {}))
            except SandboxError as error:
                parsed.append(error)
        out = []
        for result in await self._batch_create(actor, parsed):
            if isinstance(result, SandboxError):
                out.append({"order_id": "", "error": wire.render_error_item(result)})
            else:
                out.append(wire.render_created_v2(result, self._now_ms()))
        return json_response({"orders": out}, 201)

    async def cancel_v2(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        cancelled = await self.orders.cancel_order(
            actor, request.path_params["order_id"], self._subaccount(request, "CancelOrderV2"))
        data: dict[str, Any] = {"order_id": cancelled.order.order_id,
                                "reduced_by": format_count(cancelled.reduced_by),
                                "ts_ms": self._now_ms()}
        if cancelled.order.client_order_id:
            data["client_order_id"] = cancelled.order.client_order_id
        return json_response(data)

    def _cancel_items(self, data: dict[str, Any]) -> list[tuple[str, int | None]]:
        ids = data.get("ids")
        items = data.get("orders") if ids is None else [{"order_id": i} for i in ids]
        if not isinstance(items, list) or not items:
            raise InvalidParameters("orders must be a non-empty list")
        if len(items) > MAX_BATCH:
            raise InvalidParameters(f"a batch may carry at most {MAX_BATCH} orders")
        out = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("order_id"), str):
                raise InvalidParameters("each order needs an order_id")
            sub = item.get("subaccount")
            out.append((item["order_id"], sub if isinstance(sub, int) else None))
        return out

    async def batch_cancel_v2(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        items = self._cancel_items(await read_json(request, "BatchCancelOrdersV2Request"))
        await self._charge_more(actor, CANCEL, len(items))
        out: list[dict[str, Any]] = []
        for (order_id, _), result in zip(items, await self.orders.batch_cancel(actor, items),
                                         strict=True):
            if isinstance(result, SandboxError):
                out.append({"order_id": order_id, "reduced_by": "0.00",
                            "error": wire.render_error_item(result)})
            else:
                out.append({"order_id": order_id, "reduced_by": format_count(result.reduced_by),
                            "client_order_id": result.order.client_order_id,
                            "ts_ms": self._now_ms()})
        return json_response({"orders": out})

    async def cancel_all(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        await self.orders.cancel_all(actor, self._subaccount(request, "CancelAllOrders"))
        return empty_response()

    async def amend_v2(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        ticker, side, price, total, client_id, new_client_id = wire.parse_amend_v2(
            await read_json(request, "AmendOrderV2Request"))
        amended = await self.orders.amend_order(
            actor, request.path_params["order_id"], ticker=ticker, side=side,
            yes_price=price, total=total, client_order_id=client_id,
            updated_client_order_id=new_client_id,
            subaccount=self._subaccount(request, "AmendOrderV2"))
        return json_response(wire.render_created_v2(amended.submitted, self._now_ms()))

    async def decrease_v2(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        reduce_by, reduce_to = wire.parse_decrease(
            await read_json(request, "DecreaseOrderV2Request"), "DecreaseOrderV2Request")
        order = await self.orders.decrease_order(
            actor, request.path_params["order_id"], reduce_by=reduce_by, reduce_to=reduce_to,
            subaccount=self._subaccount(request, "DecreaseOrderV2"))
        data: dict[str, Any] = {"order_id": order.order_id,
                                "remaining_count": format_count(order.remaining_count),
                                "ts_ms": self._now_ms()}
        if order.client_order_id:
            data["client_order_id"] = order.client_order_id
        return json_response(data)

    # Legacy writes -------------------------------------------------------------------------

    def _legacy(self) -> None:
        if not self.legacy_served:
            raise DeprecatedOrderEndpoint()

    async def create_legacy(self, request: Request) -> Response:
        self._legacy()
        actor = await self.trade.actor(request)
        order = wire.parse_create_legacy(await read_json(request, "CreateOrderRequest"))
        submitted = await self.orders.create_order(actor, order)
        return json_response({"order": render.render_order(submitted.order)}, 201)

    async def batch_create_legacy(self, request: Request) -> Response:
        self._legacy()
        actor = await self.trade.actor(request)
        items = self._batch_items(await read_json(request, "BatchCreateOrdersRequest"))
        await self._charge_more(actor, LEGACY_WRITE, len(items))
        parsed: list[OrderRequest | SandboxError] = []
        for item in items:
            try:
                parsed.append(wire.parse_create_legacy(item if isinstance(item, dict) else {}))
            except SandboxError as error:
                parsed.append(error)
        out = []
        for result in await self._batch_create(actor, parsed):
            if isinstance(result, SandboxError):
                out.append({"error": wire.render_error_item(result)})
            else:
                out.append({"client_order_id": result.order.client_order_id,
                            "order": render.render_order(result.order)})
        return json_response({"orders": out}, 201)

    async def cancel_legacy(self, request: Request) -> Response:
        self._legacy()
        actor = await self.trade.actor(request)
        cancelled = await self.orders.cancel_order(
            actor, request.path_params["order_id"], self._subaccount(request, "CancelOrder"))
        return json_response({"order": render.render_order(cancelled.order),
                              "reduced_by": count_to_whole(cancelled.reduced_by),
                              "reduced_by_fp": format_count(cancelled.reduced_by)})

    async def batch_cancel_legacy(self, request: Request) -> Response:
        self._legacy()
        actor = await self.trade.actor(request)
        items = self._cancel_items(await read_json(request, "BatchCancelOrdersRequest"))
        await self._charge_more(actor, LEGACY_CANCEL, len(items))
        out = []
        for (order_id, _), result in zip(items, await self.orders.batch_cancel(actor, items),
                                         strict=True):
            if isinstance(result, SandboxError):
                out.append({"order_id": order_id, "reduced_by": 0, "reduced_by_fp": "0.00",
                            "error": wire.render_error_item(result)})
            else:
                out.append({"order_id": order_id, "order": render.render_order(result.order),
                            "reduced_by": count_to_whole(result.reduced_by),
                            "reduced_by_fp": format_count(result.reduced_by)})
        return json_response({"orders": out})

    async def amend_legacy(self, request: Request) -> Response:
        self._legacy()
        actor = await self.trade.actor(request)
        data = await read_json(request, "AmendOrderRequest")
        parsed = wire.parse_create_legacy(data)
        amended = await self.orders.amend_order(
            actor, request.path_params["order_id"], ticker=parsed.ticker, side=parsed.side,
            yes_price=parsed.yes_price, total=parsed.count,
            client_order_id=parsed.client_order_id,
            updated_client_order_id=data.get("updated_client_order_id") or None,
            subaccount=self._subaccount(request, "AmendOrder"))
        return json_response({"old_order": render.render_order(amended.old),
                              "order": render.render_order(amended.submitted.order)})

    async def decrease_legacy(self, request: Request) -> Response:
        self._legacy()
        actor = await self.trade.actor(request)
        reduce_by, reduce_to = wire.parse_decrease(
            await read_json(request, "DecreaseOrderRequest"), "DecreaseOrderRequest")
        order = await self.orders.decrease_order(
            actor, request.path_params["order_id"], reduce_by=reduce_by, reduce_to=reduce_to,
            subaccount=self._subaccount(request, "DecreaseOrder"))
        return json_response({"order": render.render_order(order)})

    # Queue positions and resting value -----------------------------------------------------

    async def queue_position(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        ahead = await self.orders.queue_position(actor, request.path_params["order_id"])
        return json_response({"queue_position": count_to_whole(ahead),
                              "queue_position_fp": format_count(ahead)})

    async def queue_positions(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        params = request.query_params
        tickers = [t for t in (params.get("market_tickers") or "").split(",") if t]
        event = params.get("event_ticker") or None
        if not tickers and event is None:
            raise InvalidParameters("market_tickers or event_ticker is required")
        entries = await self.orders.queue_positions(
            actor, tickers, event, self._subaccount(request, "GetOrderQueuePositions"))
        return json_response({"queue_positions": [
            {"order_id": e.order_id, "market_ticker": e.ticker,
             "queue_position": count_to_whole(e.ahead),
             "queue_position_fp": format_count(e.ahead)} for e in entries]})

    async def resting_value(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        micros = await self.orders.resting_value(actor)
        return json_response({"total_resting_order_value": money_to_cents(micros)})

    # Order groups --------------------------------------------------------------------------

    async def create_group(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        data = await read_json(request, "CreateOrderGroupRequest")
        limit = wire.parse_contracts_limit(data, "CreateOrderGroupRequest")
        sub = data.get("subaccount")
        group = await self.orders.create_group(actor, limit, sub if isinstance(sub, int) else 0)
        return json_response({"order_group_id": group.id, "subaccount": group.subaccount,
                              "exchange_index": 0}, 201)

    async def list_groups(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        groups = await self.orders.list_groups(actor, self._subaccount(request,
                                                                       "GetOrderGroups"))
        now = self.trade.exchange.clock.now()
        return json_response({"order_groups": [wire.render_group(g, now) for g in groups]})

    async def get_group(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        group, order_ids = await self.orders.get_group(
            actor, request.path_params["group_id"], self._subaccount(request, "GetOrderGroup"))
        data = wire.render_group(group, self.trade.exchange.clock.now())
        data["orders"] = order_ids
        return json_response(data)

    async def delete_group(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        await self.orders.delete_group(actor, request.path_params["group_id"],
                                       self._subaccount(request, "DeleteOrderGroup"))
        return json_response({})

    async def reset_group(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        await self.orders.reset_group(actor, request.path_params["group_id"],
                                      self._subaccount(request, "ResetOrderGroup"))
        return json_response({})

    async def trigger_group(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        await self.orders.trigger_group(actor, request.path_params["group_id"],
                                        self._subaccount(request, "TriggerOrderGroup"))
        return json_response({})

    async def limit_group(self, request: Request) -> Response:
        actor = await self.trade.actor(request)
        limit = wire.parse_contracts_limit(
            await read_json(request, "UpdateOrderGroupLimitRequest"),
            "UpdateOrderGroupLimitRequest")
        await self.orders.set_group_limit(actor, request.path_params["group_id"], limit,
                                          self._subaccount(request, "UpdateOrderGroupLimit"))
        return json_response({})

    def endpoints(self) -> list[tuple[str, str, Handler, Cost | None]]:
        """Return (method, full path, handler, cost) of every order endpoint, routing order."""
        v2 = PREFIX + "/portfolio/events/orders"
        legacy = PREFIX + "/portfolio/orders"
        groups = PREFIX + "/portfolio/order_groups"
        return [
            ("POST", v2, self.create_v2, WRITE),
            ("DELETE", v2, self.cancel_all, CANCEL),
            ("POST", v2 + "/batched", self.batch_create_v2, WRITE),
            ("DELETE", v2 + "/batched", self.batch_cancel_v2, CANCEL),
            ("DELETE", v2 + "/{order_id}", self.cancel_v2, CANCEL),
            ("POST", v2 + "/{order_id}/amend", self.amend_v2, WRITE),
            ("POST", v2 + "/{order_id}/decrease", self.decrease_v2, WRITE),
            ("GET", legacy + "/queue_positions", self.queue_positions, READ),
            ("POST", legacy, self.create_legacy, LEGACY_WRITE),
            ("POST", legacy + "/batched", self.batch_create_legacy, LEGACY_WRITE),
            ("DELETE", legacy + "/batched", self.batch_cancel_legacy, LEGACY_CANCEL),
            ("DELETE", legacy + "/{order_id}", self.cancel_legacy, LEGACY_CANCEL),
            ("POST", legacy + "/{order_id}/amend", self.amend_legacy, LEGACY_WRITE),
            ("POST", legacy + "/{order_id}/decrease", self.decrease_legacy, LEGACY_WRITE),
            ("GET", legacy + "/{order_id}/queue_position", self.queue_position, READ),
            ("GET", PREFIX + "/portfolio/summary/total_resting_order_value",
             self.resting_value, READ),
            ("POST", groups + "/create", self.create_group, WRITE),
            ("GET", groups, self.list_groups, READ),
            ("GET", groups + "/{group_id}", self.get_group, READ),
            ("DELETE", groups + "/{group_id}", self.delete_group, WRITE),
            ("PUT", groups + "/{group_id}/reset", self.reset_group, WRITE),
            ("PUT", groups + "/{group_id}/trigger", self.trigger_group, WRITE),
            ("PUT", groups + "/{group_id}/limit", self.limit_group, WRITE),
        ]


__all__ = ["GET_ORDER", "OrdersApi"]
