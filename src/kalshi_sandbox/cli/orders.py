"""Order commands (V2 order entry) and book views: ``order ...``, ``market book``,
``market trades``.

Like every trading command they use only :mod:`kalshi_sandbox.client`, so they work against
the sandbox, Kalshi's demo and production alike. Orders speak the YES book: ``--side bid``
buys YES at ``--price``; ``--side ask`` sells YES at ``--price``, which buys NO at 1 - price
(https://docs.kalshi.com/getting_started/order_direction).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from kalshi_sandbox.cli.connection import (
    AllOption,
    CursorOption,
    LimitOption,
    Role,
    SubaccountOption,
    Target,
    connected,
    emit,
    failures,
)
from kalshi_sandbox.cli.ladder import ladder_table
from kalshi_sandbox.cli.options import console
from kalshi_sandbox.cli.output import (
    ORDER_COLUMNS,
    _details,
    _done,
    _listing,
    _order_row,
)
from kalshi_sandbox.client import Order, OrderResult, Trade

order_app = typer.Typer(help="Place, amend, decrease, cancel and list orders on the book.",
                        no_args_is_help=True)


class BookSideChoice(StrEnum):
    """A side of the YES book."""

    BID = "bid"
    ASK = "ask"


class TimeInForceChoice(StrEnum):
    """How long an order may rest."""

    GTC = "good_till_canceled"
    IOC = "immediate_or_cancel"
    FOK = "fill_or_kill"


class StpChoice(StrEnum):
    """Self-trade prevention."""

    TAKER_AT_CROSS = "taker_at_cross"
    MAKER = "maker"


SideOption = Annotated[BookSideChoice, typer.Option(
    "--side", help="bid buys YES at --price; ask sells YES at --price (buys NO at 1 - price).")]
PriceOption = Annotated[str, typer.Option("--price", help="YES price in dollars, e.g. 0.45.")]
CountOption = Annotated[str, typer.Option("--count", help="Contracts (0.01 steps).")]
OrderIdArgument = Annotated[str, typer.Argument(help="Order id.")]


def _result(target: Target, result: OrderResult, verb: str) -> None:
    if target.as_json:
        emit(dict(result.raw))
        return
    text = (f"{verb} order {result.order_id}: {result.fill_count} filled, "
            f"{result.remaining_count} resting")
    if result.average_fill_price is not None:
        text += f" (average price {result.average_fill_price}, fee {result.average_fee_paid}"
        text += " per contract)"
    console.print(text, highlight=False)


@order_app.command("place")
@connected(Role.REQUESTER)
def order_place(
    ticker: Annotated[str, typer.Argument(help="Market ticker.")],
    side: SideOption, count: CountOption, price: PriceOption,
    time_in_force: Annotated[TimeInForceChoice, typer.Option(
        "--time-in-force", help="good_till_canceled rests the remainder; immediate_or_cancel "
                                "cancels it; fill_or_kill fills all or nothing.")
    ] = TimeInForceChoice.GTC,
    stp: Annotated[StpChoice, typer.Option(
        "--stp", help="Self-trade prevention: taker_at_cross cancels this order when it would "
                      "meet your own; maker cancels your resting one.")
    ] = StpChoice.TAKER_AT_CROSS,
    post_only: Annotated[bool, typer.Option(
        "--post-only", help="Refuse the order if it would take liquidity.")] = False,
    reduce_only: Annotated[bool, typer.Option(
        "--reduce-only", help="Only reduce your position.")] = False,
    client_order_id: Annotated[str | None, typer.Option(
        "--client-order-id", show_default=False, help="Your own id for the order.")] = None,
    expiration_time: Annotated[int | None, typer.Option(
        "--expiration-time", show_default=False,
        help="Unix seconds when a resting order is cancelled (good_till_canceled only).")
    ] = None,
    order_group: Annotated[str | None, typer.Option(
        "--order-group", show_default=False, help="Order group id.")] = None,
    subaccount: SubaccountOption = None,
    *, target: Target,
) -> None:
    """Place an order; print what filled and what rests."""
    with failures(target), target.client() as client:
        result = client.create_order(
            ticker, side.value, count, price, time_in_force=time_in_force.value,
            self_trade_prevention=stp.value, client_order_id=client_order_id,
            expiration_time=expiration_time, post_only=post_only or None,
            reduce_only=reduce_only or None, order_group_id=order_group,
            subaccount=subaccount)
        _result(target, result, "placed")


@order_app.command("cancel")
@connected(Role.REQUESTER)
def order_cancel(order_id: OrderIdArgument, subaccount: SubaccountOption = None,
                 *, target: Target) -> None:
    """Cancel your resting order."""
    with failures(target), target.client() as client:
        result = client.cancel_order(order_id, subaccount=subaccount)
        _done(target, dict(result.raw),
              f"cancelled order {order_id}: {result.reduced_by} contracts off the book")


@order_app.command("cancel-all")
@connected(Role.REQUESTER)
def order_cancel_all(subaccount: SubaccountOption = None, *, target: Target) -> None:
    """Cancel every resting order of yours."""
    with failures(target), target.client() as client:
        client.cancel_all_orders(subaccount=subaccount)
        _done(target, {"cancelled": "all"}, "cancelled every resting order")


@order_app.command("amend")
@connected(Role.REQUESTER)
def order_amend(
    order_id: OrderIdArgument, price: PriceOption,
    count: Annotated[str, typer.Option(
        "--count", help="The new total: contracts filled plus contracts to rest.")],
    subaccount: SubaccountOption = None,
    *, target: Target,
) -> None:
    """Change a resting order's price and total count; it may trade at once."""
    with failures(target), target.client() as client:
        order = client.get_order(order_id)
        result = client.amend_order(order_id, ticker=order.ticker,
                                    side="ask" if order.book_side == "ask" else "bid",
                                    price=price, count=count, subaccount=subaccount)
        _result(target, result, "amended")


@order_app.command("decrease")
@connected(Role.REQUESTER)
def order_decrease(
    order_id: OrderIdArgument,
    by: Annotated[str | None, typer.Option(
        "--by", show_default=False, help="Contracts to take off.")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", show_default=False, help="Contracts to leave resting (0 cancels).")] = None,
    subaccount: SubaccountOption = None,
    *, target: Target,
) -> None:
    """Lower a resting order's count, keeping its place in the queue."""
    with failures(target), target.client() as client:
        result = client.decrease_order(order_id, reduce_by=by, reduce_to=to,
                                       subaccount=subaccount)
        _done(target, dict(result.raw),
              f"order {order_id}: {result.remaining_count} contracts resting")


@order_app.command("list")
@connected(Role.REQUESTER)
def order_list(
    ticker: Annotated[str | None, typer.Option(
        "--ticker", show_default=False, help="Only this market.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False, help="resting, canceled or executed.")] = None,
    subaccount: SubaccountOption = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    *, target: Target,
) -> None:
    """List your orders, newest first."""
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"ticker": ticker, "status": status,
                                   "subaccount": subaccount, "limit": limit}

        def page() -> tuple[list[Order], str]:
            result = client.list_orders(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "orders", page, lambda: client.iter_orders(**options), fetch_all,
                 "Orders", ORDER_COLUMNS, _order_row)


@order_app.command("get")
@connected(Role.REQUESTER)
def order_get(order_id: OrderIdArgument, *, target: Target) -> None:
    """Show one order, with its place in the queue while it rests."""
    with failures(target), target.client() as client:
        order = client.get_order(order_id)
        ahead = client.get_queue_position(order_id) if order.status == "resting" else None
        if target.as_json:
            emit({"order": dict(order.raw), "queue_position_fp": None if ahead is None
                  else str(ahead)})
            return
        _details(f"Order {order.order_id}", {
            "market": order.ticker, "status": order.status, "book side": order.book_side,
            "outcome": order.side, "yes price": order.yes_price, "count": order.initial_count,
            "filled": order.fill_count, "resting": order.remaining_count,
            "ahead in queue": ahead, "time in force": order.time_in_force,
            "expires": order.expiration_time, "client order id": order.client_order_id,
            "created": order.created_time, "updated": order.last_update_time,
            "reason": order.last_update_reason})


# Book views -------------------------------------------------------------------------------


@connected(Role.REQUESTER)
def market_book(
    ticker: Annotated[str, typer.Argument(help="Market ticker.")],
    depth: Annotated[int | None, typer.Option(
        "--depth", min=1, max=100, show_default=False,
        help="Price levels on each side (default: all, drawn 10 deep).")] = None,
    *, target: Target,
) -> None:
    """Show a market's order book as a price ladder (public: no key needed)."""
    with failures(target), target.client(required=False) as client:
        book = client.get_orderbook(ticker, depth=depth)
        if target.as_json:
            emit({"ticker": ticker,
                  "yes": [[str(p), str(c)] for p, c in book.yes],
                  "no": [[str(p), str(c)] for p, c in book.no]})
            return
        console.print(ladder_table(book, depth or 10))


def _trade_row(t: Trade) -> list[Any]:
    return [t.created_time, t.ticker, t.count, t.yes_price, t.taker_side,
            "block" if t.is_block_trade else "", t.trade_id]


TRADE_COLUMNS = ["time", "ticker", "count", "yes price", "taker bought", "", "trade"]


@connected(Role.REQUESTER)
def market_trades(
    ticker: Annotated[str | None, typer.Argument(help="Market ticker (default: all).")
                      ] = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    *, target: Target,
) -> None:
    """List public trades, newest first (public: no key needed)."""
    with failures(target), target.client(required=False) as client:
        def page() -> tuple[list[Trade], str]:
            result = client.list_trades(ticker=ticker, limit=limit, cursor=cursor)
            return result.items, result.cursor

        _listing(target, "trades", page,
                 lambda: client.iter_trades(ticker=ticker, limit=limit), fetch_all, "Trades",
                 TRADE_COLUMNS, _trade_row)


__all__ = ["market_book", "market_trades", "order_app"]
