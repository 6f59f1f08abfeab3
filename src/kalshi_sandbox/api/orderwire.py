"""Order entry's wire formats: V2 and legacy requests parsed, V2 responses rendered.

V2 (https://docs.kalshi.com/api-reference/orders/create-order-v2) speaks the YES book:
``side`` ``bid``/``ask``, ``price`` a dollar string, ``count`` a count string, and requires
``time_in_force`` and ``self_trade_prevention_type``. The legacy form
(https://docs.kalshi.com/api-reference/orders/create-order, served only with
``legacy_orders = serve``) speaks ``side`` yes/no and ``action`` buy/sell with cent or dollar
prices; it maps onto the YES book as https://docs.kalshi.com/getting_started/order_direction
shows (buy NO at q is an ask at 1 - q).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kalshi_sandbox.api.requests import Body, check_subaccount_value
from kalshi_sandbox.domain.book import SelfTradePrevention
from kalshi_sandbox.domain.clock import MICROS
from kalshi_sandbox.domain.errors import InvalidOrder, InvalidParameters, SandboxError
from kalshi_sandbox.domain.money import (
    MONEY_SCALE,
    ONE_DOLLAR,
    count_to_whole,
    format_count,
    format_money,
    format_price,
    parse_count,
    parse_price,
)
from kalshi_sandbox.domain.orders import OrderGroup, OrderRequest
from kalshi_sandbox.domain.portfolio import TimeInForce
from kalshi_sandbox.domain.quote import Side
from kalshi_sandbox.exchange.matching import Submitted

BOOK_SIDES = {"bid": Side.YES, "ask": Side.NO}
TIME_IN_FORCE = {t.value: t for t in TimeInForce}
STP = {s.value: s for s in SelfTradePrevention}


def _choice(body: Body, name: str, choices: Mapping[str, Any], *, required: bool) -> Any:
    value = body.string(name)
    if value is None or value == "":
        if required:
            raise InvalidParameters(f"{name} is required")
        return None
    if value not in choices:
        raise InvalidParameters(f"{name} must be one of {', '.join(choices)}")
    return choices[value]


def _count(body: Body, name: str, *, required: bool = True) -> int | None:
    value = body.data.get(name)
    if value is None:
        if required:
            raise InvalidParameters(f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidParameters(f"{name} must be a count string such as \"10.00\"")
    return parse_count(str(value), what=name)


def _seconds(body: Body, name: str) -> int | None:
    value = body.integer(name)
    return None if value is None or value == 0 else value * MICROS


def parse_create_v2(data: Mapping[str, Any]) -> OrderRequest:
    """Parse a ``CreateOrderV2Request``."""
    body = Body(data, "CreateOrderV2Request")
    ticker = body.required_string("ticker")
    side = _choice(body, "side", BOOK_SIDES, required=True)
    count = _count(body, "count")
    assert count is not None
    price = parse_price(body.required_string("price"), what="price")
    return OrderRequest(
        ticker=ticker, side=side, yes_price=price, count=count,
        time_in_force=_choice(body, "time_in_force", TIME_IN_FORCE, required=True),
        self_trade_prevention=_choice(body, "self_trade_prevention_type", STP,
                                      required=True),
        client_order_id=body.string("client_order_id") or None,
        expiration_ts=_seconds(body, "expiration_time"),
        post_only=bool(body.boolean("post_only")),
        reduce_only=bool(body.boolean("reduce_only")),
        cancel_order_on_pause=bool(body.boolean("cancel_order_on_pause")),
        subaccount=check_subaccount_value(body.integer("subaccount")),
        order_group_id=body.string("order_group_id") or None,
    )


def parse_create_legacy(data: Mapping[str, Any]) -> OrderRequest:
    """Parse a legacy ``CreateOrderRequest`` onto the YES book."""
    body = Body(data, "CreateOrderRequest")
    ticker = body.required_string("ticker")
    outcome = _choice(body, "side", {"yes": Side.YES, "no": Side.NO}, required=True)
    action = _choice(body, "action", {"buy": "buy", "sell": "sell"}, required=True)
    kind = body.string("type")
    if kind not in (None, "", "limit"):
        raise InvalidOrder("only limit orders are supported")
    whole = body.integer("count")
    count = _count(body, "count_fp", required=False)
    if whole is not None:
        if count is not None and count != whole * 100:
            raise InvalidParameters("count and count_fp disagree")
        count = whole * 100
    if count is None:
        raise InvalidParameters("count is required")
    yes_price = _legacy_price(body, "yes")
    no_price = _legacy_price(body, "no")
    if (yes_price is None) == (no_price is None):
        raise InvalidParameters("exactly one of yes_price and no_price is required")
    price = yes_price if yes_price is not None else ONE_DOLLAR - (no_price or 0)
    # buy YES / sell NO are YES bids; buy NO / sell YES are YES asks.
    side = Side.YES if (outcome is Side.YES) == (action == "buy") else Side.NO
    floor = body.integer("sell_position_floor")
    if floor not in (None, 0):
        raise InvalidParameters("sell_position_floor accepts only 0; use reduce_only")
    max_cost = body.integer("buy_max_cost")
    return OrderRequest(
        ticker=ticker, side=side, yes_price=price, count=count,
        time_in_force=_choice(body, "time_in_force", TIME_IN_FORCE, required=False)
        or TimeInForce.GOOD_TILL_CANCELED,
        self_trade_prevention=_choice(body, "self_trade_prevention_type", STP,
                                      required=False) or SelfTradePrevention.TAKER_AT_CROSS,
        client_order_id=body.string("client_order_id") or None,
        expiration_ts=_seconds(body, "expiration_ts"),
        post_only=bool(body.boolean("post_only")),
        reduce_only=bool(body.boolean("reduce_only")),
        cancel_order_on_pause=bool(body.boolean("cancel_order_on_pause")),
        subaccount=check_subaccount_value(body.integer("subaccount")),
        order_group_id=body.string("order_group_id") or None,
        buy_max_cost=None if max_cost is None else max_cost * MONEY_SCALE // 100,
        wire_side=outcome.value, wire_action=action,
    )


def _legacy_price(body: Body, leg: str) -> int | None:
    cents = body.integer(f"{leg}_price")
    dollars = body.string(f"{leg}_price_dollars")
    if cents is not None:
        if not 1 <= cents <= 99:
            raise InvalidParameters(f"{leg}_price must be between 1 and 99 cents")
        return cents * 100
    if dollars:
        return parse_price(dollars, what=f"{leg}_price_dollars")
    return None


def parse_amend_v2(data: Mapping[str, Any]) -> tuple[str, Side, int, int, str | None,
                                                      str | None]:
    """Parse an ``AmendOrderV2Request``: ticker, side, YES price, total count, client ids."""
    body = Body(data, "AmendOrderV2Request")
    count = _count(body, "count")
    assert count is not None
    return (body.required_string("ticker"), _choice(body, "side", BOOK_SIDES, required=True),
            parse_price(body.required_string("price"), what="price"), count,
            body.string("client_order_id") or None,
            body.string("updated_client_order_id") or None)


def parse_decrease(data: Mapping[str, Any], struct: str) -> tuple[int | None, int | None]:
    """Parse a decrease body: (reduce_by, reduce_to) in 0.01-contract units."""
    body = Body(data, struct)
    reduce_by = _count(body, "reduce_by_fp", required=False)
    reduce_to = _count(body, "reduce_to_fp", required=False)
    for name in ("reduce_by", "reduce_to"):
        value = body.data.get(name)
        if value is None:
            continue
        parsed = (value * 100 if isinstance(value, int) and not isinstance(value, bool)
                  else _count(body, name))
        if name == "reduce_by":
            reduce_by = parsed
        else:
            reduce_to = parsed
    return reduce_by, reduce_to


def parse_contracts_limit(data: Mapping[str, Any], struct: str) -> int:
    """Parse an order group's ``contracts_limit`` (int) or ``contracts_limit_fp``."""
    body = Body(data, struct)
    whole = body.integer("contracts_limit")
    fp = _count(body, "contracts_limit_fp", required=False)
    if whole is not None and fp is not None and fp != whole * 100:
        raise InvalidParameters("contracts_limit and contracts_limit_fp disagree")
    if whole is None and fp is None:
        raise InvalidParameters("contracts_limit is required")
    return whole * 100 if whole is not None else (fp or 0)


# Responses ---------------------------------------------------------------------------------


def render_created_v2(submitted: Submitted, ts_ms: int) -> dict[str, Any]:
    """Render a ``CreateOrderV2Response`` (and an amend's, which has the same fields)."""
    order = submitted.order
    data: dict[str, Any] = {
        "order_id": order.order_id,
        "fill_count": format_count(sum(f.count for f in submitted.fills)),
        "remaining_count": format_count(order.remaining_count),
        "ts_ms": ts_ms,
    }
    if order.client_order_id:
        data["client_order_id"] = order.client_order_id
    average = submitted.average_price()
    if average is not None:
        data["average_fill_price"] = format_price(average)
        fee = submitted.average_fee()
        data["average_fee_paid"] = format_money(fee or 0, 6)
    return data


def render_error_item(error: SandboxError) -> dict[str, Any]:
    """Render a batch item's ``error`` object."""
    item: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        item["details"] = error.details
    return item


def render_group(group: OrderGroup, now: int) -> dict[str, Any]:
    """Render an order group as ``GET /portfolio/order_groups`` lists it."""
    return {
        "id": group.id,
        "order_group_id": group.id,
        "contracts_limit": count_to_whole(group.contracts_limit),
        "contracts_limit_fp": format_count(group.contracts_limit),
        "is_auto_cancel_enabled": not group.triggered,
        "subaccount": group.subaccount,
        "exchange_index": 0,
    }


__all__ = [
    "parse_amend_v2",
    "parse_contracts_limit",
    "parse_create_legacy",
    "parse_create_v2",
    "parse_decrease",
    "render_created_v2",
    "render_error_item",
    "render_group",
]
