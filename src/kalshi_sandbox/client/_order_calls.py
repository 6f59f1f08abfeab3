"""The order endpoints and market data as data: method, path, query, body, answer reader.

V2 order entry (https://docs.kalshi.com/api-reference/orders/create-order-v2) speaks the
YES book: ``side`` is ``bid`` (buy YES) or ``ask`` (sell YES, which is buying NO at
1 - price), ``price`` is a YES price in dollars, ``count`` a contract count. Both clients
execute these calls (client/_calls.py has the RFQ flow's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from kalshi_sandbox.client._calls import (
    Amount,
    Call,
    Timestamp,
    _items,
    _nothing,
    _page,
    contracts_fp,
    fixed,
    query,
    segment,
    unix_seconds,
)
from kalshi_sandbox.client.book import OrderBook
from kalshi_sandbox.client.models import CENT, Page
from kalshi_sandbox.client.order_models import (
    CancelResult,
    Candlestick,
    DecreaseResult,
    OrderGroup,
    OrderResult,
    QueuePosition,
    Trade,
)

BookSide = Literal["bid", "ask"]
TimeInForce = Literal["good_till_canceled", "immediate_or_cancel", "fill_or_kill"]
SelfTradePrevention = Literal["taker_at_cross", "maker"]

V2 = "/portfolio/events/orders"


@dataclass(frozen=True, slots=True)
class OrderSpec:
    """One order to place (``create_order``'s arguments, for batches)."""

    ticker: str
    side: BookSide
    count: Amount
    price: Amount
    time_in_force: TimeInForce = "good_till_canceled"
    self_trade_prevention: SelfTradePrevention = "taker_at_cross"
    client_order_id: str | None = None
    expiration_time: Timestamp | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    cancel_order_on_pause: bool | None = None
    order_group_id: str | None = None
    subaccount: int | None = None

    def body(self) -> dict[str, Any]:
        """Return the ``CreateOrderV2Request`` body."""
        if self.side not in ("bid", "ask"):
            raise ValueError("side must be 'bid' (buy YES) or 'ask' (sell YES / buy NO)")
        body: dict[str, Any] = {
            "ticker": self.ticker, "side": self.side,
            "count": contracts_fp(self.count, "count"),
            "price": fixed(self.price, 4, "price"),
            "time_in_force": self.time_in_force,
            "self_trade_prevention_type": self.self_trade_prevention,
        }
        for name in ("client_order_id", "post_only", "reduce_only", "cancel_order_on_pause",
                     "order_group_id", "subaccount"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.expiration_time is not None:
            body["expiration_time"] = int(unix_seconds(self.expiration_time))
        return body


def _result(data: Any) -> OrderResult:
    if not isinstance(data, Mapping):
        raise ValueError("the response is not an object")
    return OrderResult.from_wire(data)


def _cancelled(data: Any) -> CancelResult:
    if not isinstance(data, Mapping):
        raise ValueError("the response is not an object")
    return CancelResult.from_wire(data)


def _decreased(data: Any) -> DecreaseResult:
    if not isinstance(data, Mapping):
        raise ValueError("the response is not an object")
    return DecreaseResult.from_wire(data)


def create_order(spec: OrderSpec) -> Call[OrderResult]:
    return Call("POST", V2, _result, body=spec.body(), has_body=True)


def batch_create_orders(specs: Sequence[OrderSpec]) -> Call[list[OrderResult]]:
    if not specs:
        raise ValueError("give at least one order")

    def read(data: Any) -> list[OrderResult]:
        return _items(data, "orders", OrderResult.from_wire)

    return Call("POST", V2 + "/batched", read, body={"orders": [s.body() for s in specs]},
                has_body=True)


def cancel_order(order_id: str, subaccount: int | None) -> Call[CancelResult]:
    return Call("DELETE", f"{V2}/{segment(order_id)}", _cancelled, query(subaccount=subaccount))


def batch_cancel_orders(order_ids: Sequence[str]) -> Call[list[CancelResult]]:
    if not order_ids:
        raise ValueError("give at least one order id")

    def read(data: Any) -> list[CancelResult]:
        return _items(data, "orders", CancelResult.from_wire)

    return Call("DELETE", V2 + "/batched", read,
                body={"orders": [{"order_id": i} for i in order_ids]}, has_body=True)


def cancel_all_orders(subaccount: int | None) -> Call[None]:
    return Call("DELETE", V2, _nothing, query(subaccount=subaccount))


def amend_order(order_id: str, *, ticker: str, side: BookSide, price: Amount, count: Amount,
                client_order_id: str | None, updated_client_order_id: str | None,
                subaccount: int | None) -> Call[OrderResult]:
    body: dict[str, Any] = {"ticker": ticker, "side": side, "price": fixed(price, 4, "price"),
                            "count": contracts_fp(count, "count")}
    if client_order_id is not None:
        body["client_order_id"] = client_order_id
    if updated_client_order_id is not None:
        body["updated_client_order_id"] = updated_client_order_id
    return Call("POST", f"{V2}/{segment(order_id)}/amend", _result, query(subaccount=subaccount),
                body, True)


def decrease_order(order_id: str, *, reduce_by: Amount | None, reduce_to: Amount | None,
                   subaccount: int | None) -> Call[DecreaseResult]:
    if (reduce_by is None) == (reduce_to is None):
        raise ValueError("give exactly one of reduce_by and reduce_to")
    body = ({"reduce_by": contracts_fp(reduce_by, "reduce_by")} if reduce_by is not None
            else {"reduce_to": contracts_fp(reduce_to or 0, "reduce_to")})
    return Call("POST", f"{V2}/{segment(order_id)}/decrease", _decreased,
                query(subaccount=subaccount), body, True)


def queue_position(order_id: str) -> Call[Decimal]:
    def read(data: Any) -> Decimal:
        if not isinstance(data, Mapping):
            raise ValueError("the response is not an object")
        value = data.get("queue_position_fp", data.get("queue_position"))
        if value is None:
            raise ValueError("the response has no queue_position_fp")
        return Decimal(str(value))

    return Call("GET", f"/portfolio/orders/{segment(order_id)}/queue_position", read)


def queue_positions(*, market_tickers: Sequence[str] | None, event_ticker: str | None,
                    subaccount: int | None) -> Call[list[QueuePosition]]:
    if not market_tickers and event_ticker is None:
        raise ValueError("give market_tickers or event_ticker")

    def read(data: Any) -> list[QueuePosition]:
        return _items(data, "queue_positions", QueuePosition.from_wire)

    return Call("GET", "/portfolio/orders/queue_positions", read, query(
        market_tickers=None if not market_tickers else list(market_tickers),
        event_ticker=event_ticker, subaccount=subaccount))


def resting_order_value() -> Call[Decimal]:
    def read(data: Any) -> Decimal:
        if not isinstance(data, Mapping) or data.get("total_resting_order_value") is None:
            raise ValueError("the response has no total_resting_order_value")
        return Decimal(int(data["total_resting_order_value"])) * CENT

    return Call("GET", "/portfolio/summary/total_resting_order_value", read)


# Order groups: https://docs.kalshi.com/getting_started/order_groups -------------------------


def create_order_group(contracts_limit: Amount, subaccount: int | None) -> Call[str]:
    body: dict[str, Any] = {"contracts_limit_fp": contracts_fp(contracts_limit,
                                                               "contracts_limit")}
    if subaccount is not None:
        body["subaccount"] = subaccount

    def read(data: Any) -> str:
        if not isinstance(data, Mapping) or not data.get("order_group_id"):
            raise ValueError("the response has no order_group_id")
        return str(data["order_group_id"])

    return Call("POST", "/portfolio/order_groups/create", read, body=body, has_body=True)


def list_order_groups(subaccount: int | None) -> Call[list[OrderGroup]]:
    def read(data: Any) -> list[OrderGroup]:
        return _items(data, "order_groups", OrderGroup.from_wire)

    return Call("GET", "/portfolio/order_groups", read, query(subaccount=subaccount))


def get_order_group(group_id: str, subaccount: int | None) -> Call[OrderGroup]:
    def read(data: Any) -> OrderGroup:
        if not isinstance(data, Mapping):
            raise ValueError("the response is not an object")
        return OrderGroup.from_wire(data, group_id)

    return Call("GET", f"/portfolio/order_groups/{segment(group_id)}", read,
                query(subaccount=subaccount))


def order_group_action(group_id: str, action: Literal["delete", "reset", "trigger"],
                       subaccount: int | None) -> Call[None]:
    path = f"/portfolio/order_groups/{segment(group_id)}"
    if action == "delete":
        return Call("DELETE", path, _nothing, query(subaccount=subaccount))
    return Call("PUT", f"{path}/{action}", _nothing, query(subaccount=subaccount), {}, True)


def set_order_group_limit(group_id: str, contracts_limit: Amount,
                          subaccount: int | None) -> Call[None]:
    return Call("PUT", f"/portfolio/order_groups/{segment(group_id)}/limit", _nothing,
                query(subaccount=subaccount),
                {"contracts_limit_fp": contracts_fp(contracts_limit, "contracts_limit")}, True)


# Market data: https://docs.kalshi.com/api-reference/market ----------------------------------


def orderbook(ticker: str, depth: int | None) -> Call[OrderBook]:
    def read(data: Any) -> OrderBook:
        if not isinstance(data, Mapping):
            raise ValueError("the response is not an object")
        return OrderBook.from_wire(data, ticker)

    return Call("GET", f"/markets/{segment(ticker)}/orderbook", read, query(depth=depth))


def orderbooks(tickers: Sequence[str]) -> Call[list[OrderBook]]:
    if not tickers:
        raise ValueError("give at least one ticker")

    def read(data: Any) -> list[OrderBook]:
        return _items(data, "orderbooks", OrderBook.from_wire)

    return Call("GET", "/markets/orderbooks", read, query(tickers=list(tickers)))


def trades(*, ticker: str | None, min_ts: Timestamp | None, max_ts: Timestamp | None,
           is_block_trade: bool | None, limit: int | None,
           cursor: str | None) -> Call[Page[Trade]]:
    return Call("GET", "/markets/trades", _page("trades", Trade.from_wire), query(
        ticker=ticker, min_ts=None if min_ts is None else unix_seconds(min_ts),
        max_ts=None if max_ts is None else unix_seconds(max_ts),
        is_block_trade=is_block_trade, limit=limit, cursor=cursor or None))


def candlesticks(series_ticker: str, ticker: str, *, start_ts: Timestamp, end_ts: Timestamp,
                 period_interval: int) -> Call[list[Candlestick]]:
    def read(data: Any) -> list[Candlestick]:
        return _items(data, "candlesticks", Candlestick.from_wire)

    return Call("GET", f"/series/{segment(series_ticker)}/markets/{segment(ticker)}"
                       "/candlesticks", read,
                query(start_ts=unix_seconds(start_ts), end_ts=unix_seconds(end_ts),
                      period_interval=period_interval))


__all__ = ["BookSide", "OrderSpec", "SelfTradePrevention", "TimeInForce"]
