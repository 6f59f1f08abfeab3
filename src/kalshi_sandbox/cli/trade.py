"""Trading commands: RFQs, quotes, markets, portfolio and a live ``communications`` stream.

They use only :mod:`kalshi_sandbox.client`, so they work the same against the sandbox, Kalshi's
demo and Kalshi's production (``--env`` or ``--url``). Credentials come from
``--key-id``/``--private-key`` or ``KALSHI_API_KEY_ID``/``KALSHI_PRIVATE_KEY_PATH``; against
the sandbox, with neither given, from the demo accounts ``serve`` seeded (``--as``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from kalshi_sandbox.cli.connection import (
    AllOption,
    CursorOption,
    LimitOption,
    RfqScopeOption,
    Role,
    SideChoice,
    SubaccountOption,
    Target,
    connected,
    emit,
    failures,
)
from kalshi_sandbox.cli.output import (
    FILL_COLUMNS,
    MARKET_COLUMNS,
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    QUOTE_COLUMNS,
    RFQ_COLUMNS,
    _created,
    _details,
    _done,
    _fill_row,
    _listing,
    _market_row,
    _order_row,
    _position_row,
    _quote_row,
    _rfq_row,
    _show_quote,
    _show_rfq,
)
from kalshi_sandbox.client import (
    Fill,
    Market,
    Order,
    Position,
    Quote,
    Rfq,
)

rfq_app = typer.Typer(help="Create, list, read and delete RFQs (requests for quote).",
                      no_args_is_help=True)
quote_app = typer.Typer(help="Quote RFQs as a maker; accept (requester) and confirm (maker).",
                        no_args_is_help=True)
portfolio_app = typer.Typer(help="Your balance, positions, fills and orders.",
                            no_args_is_help=True)


# rfq ----------------------------------------------------------------------------------------


@rfq_app.command("create")
@connected(Role.REQUESTER)
def rfq_create(
    market_ticker: Annotated[str, typer.Argument(help="Market to ask quotes for.")],
    contracts: Annotated[str | None, typer.Option(
        "--contracts", show_default=False, help="Size in contracts (0.01 steps).")] = None,
    target_cost: Annotated[str | None, typer.Option(
        "--target-cost", show_default=False, help="Size as a dollar amount instead.")] = None,
    rest_remainder: Annotated[bool, typer.Option(
        "--rest-remainder", help="Let your unfilled remainder rest on the book.")] = False,
    replace_existing: Annotated[bool, typer.Option(
        "--replace-existing", help="Close your open RFQs as part of creating this one.")
    ] = False,
    subaccount: SubaccountOption = None,
    *, target: Target,
) -> None:
    """Create an RFQ for --contracts or --target-cost; print its id."""
    with failures(target), target.client() as client:
        rfq_id = client.create_rfq(market_ticker, contracts=contracts, target_cost=target_cost,
                                   rest_remainder=rest_remainder,
                                   replace_existing=replace_existing, subaccount=subaccount)
        _created(target, {"id": rfq_id}, f"created RFQ {rfq_id} on {market_ticker}")


@rfq_app.command("list")
@connected(Role.REQUESTER)
def rfq_list(
    market: Annotated[str | None, typer.Option(
        "--market", show_default=False, help="Only this market.")] = None,
    event: Annotated[str | None, typer.Option(
        "--event", show_default=False, help="Only this event.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False, help="open or closed.")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only RFQs you created.")] = False,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    *, target: Target,
) -> None:
    """List RFQs, newest first (everyone's: RFQs are public so makers can answer them)."""
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"market_ticker": market, "event_ticker": event,
                                   "status": status, "limit": limit,
                                   "user_filter": "self" if mine else None}

        def page() -> tuple[list[Rfq], str]:
            result = client.list_rfqs(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "rfqs", page, lambda: client.iter_rfqs(**options), fetch_all, "RFQs",
                 RFQ_COLUMNS, _rfq_row)


@rfq_app.command("get")
@connected(Role.REQUESTER)
def rfq_get(
    rfq_id: Annotated[str, typer.Argument(help="RFQ id.")],
    *, target: Target,
) -> None:
    """Show one RFQ."""
    with failures(target), target.client() as client:
        _show_rfq(target, client.get_rfq(rfq_id))


@rfq_app.command("delete")
@connected(Role.REQUESTER)
def rfq_delete(
    rfq_id: Annotated[str, typer.Argument(help="RFQ id.")],
    *, target: Target,
) -> None:
    """Close your RFQ; its open quotes are cancelled."""
    with failures(target), target.client() as client:
        client.delete_rfq(rfq_id)
        _done(target, {"id": rfq_id, "deleted": True}, f"deleted RFQ {rfq_id}")


# quote --------------------------------------------------------------------------------------


@quote_app.command("create")
@connected(Role.MAKER)
def quote_create(
    rfq_id: Annotated[str, typer.Argument(help="RFQ to quote.")],
    yes_bid: Annotated[str, typer.Option(
        "--yes-bid", help="Your bid for YES in dollars, e.g. 0.40 (0 declines the side).")],
    no_bid: Annotated[str, typer.Option(
        "--no-bid", help="Your bid for NO in dollars, e.g. 0.55 (0 declines the side).")],
    rest_remainder: Annotated[bool, typer.Option(
        "--rest-remainder", help="Let your unfilled remainder rest on the book.")] = False,
    post_only: Annotated[bool | None, typer.Option(
        "--post-only/--no-post-only", show_default=False,
        help="Cancel instead of taking liquidity at execution.")] = None,
    subaccount: SubaccountOption = None,
    *, target: Target,
) -> None:
    """Quote an RFQ with two bids; replaces your previous open quote on it. Print its id."""
    with failures(target), target.client() as client:
        quote_id = client.create_quote(rfq_id, yes_bid, no_bid, rest_remainder=rest_remainder,
                                       post_only=post_only, subaccount=subaccount)
        _created(target, {"id": quote_id, "rfq_id": rfq_id},
                 f"created quote {quote_id} on RFQ {rfq_id}")


@quote_app.command("list")
@connected(Role.REQUESTER)
def quote_list(
    rfq: Annotated[str | None, typer.Option(
        "--rfq", show_default=False, help="Only quotes on this RFQ.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False,
        help="open, accepted, confirmed, executed or cancelled.")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Only quotes you made.")] = False,
    on_my_rfqs: Annotated[bool, typer.Option(
        "--on-my-rfqs", help="Only quotes on RFQs you created.")] = False,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    *, target: Target,
) -> None:
    """List quotes you made and quotes on your RFQs."""
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"rfq_id": rfq, "status": status, "limit": limit,
                                   "user_filter": "self" if mine else None,
                                   "rfq_user_filter": "self" if on_my_rfqs else None}

        def page() -> tuple[list[Quote], str]:
            result = client.list_quotes(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "quotes", page, lambda: client.iter_quotes(**options), fetch_all,
                 "Quotes", QUOTE_COLUMNS, _quote_row)


@quote_app.command("get")
@connected(Role.REQUESTER)
def quote_get(
    quote_id: Annotated[str, typer.Argument(help="Quote id.")],
    rfq: RfqScopeOption = None,
    *, target: Target,
) -> None:
    """Show one quote (visible to its maker and the RFQ's requester)."""
    with failures(target), target.client() as client:
        _show_quote(target, client.get_quote(rfq, quote_id))


@quote_app.command("delete")
@connected(Role.MAKER)
def quote_delete(
    quote_id: Annotated[str, typer.Argument(help="Quote id.")],
    rfq: RfqScopeOption = None,
    *, target: Target,
) -> None:
    """Withdraw your quote (possible until it is confirmed)."""
    with failures(target), target.client() as client:
        client.delete_quote(rfq, quote_id)
        _done(target, {"id": quote_id, "deleted": True}, f"deleted quote {quote_id}")


@quote_app.command("accept")
@connected(Role.REQUESTER)
def quote_accept(
    quote_id: Annotated[str, typer.Argument(help="Quote id.")],
    side: Annotated[SideChoice, typer.Option(
        "--side", help="The side you (the requester) end up holding.")],
    rfq: RfqScopeOption = None,
    *, target: Target,
) -> None:
    """Accept a quote on your RFQ; the maker then has to confirm it."""
    with failures(target), target.client() as client:
        client.accept_quote(rfq, quote_id, side.value)
        _done(target, {"id": quote_id, "accepted_side": side.value},
              f"accepted quote {quote_id} ({side.value}); waiting for the maker to confirm")


@quote_app.command("confirm")
@connected(Role.MAKER)
def quote_confirm(
    quote_id: Annotated[str, typer.Argument(help="Quote id.")],
    rfq: RfqScopeOption = None,
    *, target: Target,
) -> None:
    """Confirm your accepted quote inside the window; the orders follow after a delay."""
    with failures(target), target.client() as client:
        client.confirm_quote(rfq, quote_id)
        _done(target, {"id": quote_id, "confirmed": True},
              f"confirmed quote {quote_id}; it executes when the execution timer ends")


# market -------------------------------------------------------------------------------------


@connected(Role.REQUESTER)
def market_list(
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False, help="unopened, open, closed or settled.")] = None,
    event: Annotated[str | None, typer.Option(
        "--event", show_default=False, help="Only this event.")] = None,
    series: Annotated[str | None, typer.Option(
        "--series", show_default=False, help="Only this series.")] = None,
    tickers: Annotated[str | None, typer.Option(
        "--tickers", show_default=False, help="Comma-separated tickers.")] = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    *, target: Target,
) -> None:
    """List markets (public: no key needed)."""
    with failures(target), target.client(required=False) as client:
        options: dict[str, Any] = {
            "status": status, "event_ticker": event, "series_ticker": series, "limit": limit,
            "tickers": None if tickers is None else [t for t in tickers.split(",") if t]}

        def page() -> tuple[list[Market], str]:
            result = client.list_markets(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "markets", page, lambda: client.iter_markets(**options), fetch_all,
                 "Markets", MARKET_COLUMNS, _market_row)


@connected(Role.REQUESTER)
def market_get(
    ticker: Annotated[str, typer.Argument(help="Market ticker.")],
    *, target: Target,
) -> None:
    """Show one market and its price grid."""
    with failures(target), target.client(required=False) as client:
        market = client.get_market(ticker)
        if target.as_json:
            emit({"market": dict(market.raw)})
            return
        grid = "; ".join(f"{r.start}-{r.end} step {r.step}" for r in market.price_ranges)
        _details(f"Market {market.ticker}", {
            "title": market.title, "event": market.event_ticker, "status": market.status,
            "opens": market.open_time, "closes": market.close_time,
            "price levels": market.price_level_structure, "grid": grid,
            "yes bid": market.yes_bid, "yes ask": market.yes_ask, "last": market.last_price,
            "volume": market.volume, "open interest": market.open_interest,
            "result": market.result})


# portfolio ----------------------------------------------------------------------------------


@portfolio_app.command("balance")
@connected(Role.REQUESTER)
def portfolio_balance(
    subaccount: SubaccountOption = None,
    *, target: Target,
) -> None:
    """Show your cash balance and portfolio value."""
    with failures(target), target.client() as client:
        balance = client.get_balance(subaccount=subaccount)
        if target.as_json:
            emit(dict(balance.raw))
            return
        _details("Balance", {"balance": f"${balance.balance}",
                             "portfolio value": None if balance.portfolio_value is None
                             else f"${balance.portfolio_value}",
                             "updated": balance.updated_ts})


@portfolio_app.command("positions")
@connected(Role.REQUESTER)
def portfolio_positions(
    ticker: Annotated[str | None, typer.Option(
        "--ticker", show_default=False, help="Only this market.")] = None,
    event: Annotated[str | None, typer.Option(
        "--event", show_default=False, help="Only this event.")] = None,
    subaccount: SubaccountOption = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    *, target: Target,
) -> None:
    """List your market positions (+ YES, - NO)."""
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"ticker": ticker, "event_ticker": event,
                                   "subaccount": subaccount, "limit": limit}

        def page() -> tuple[list[Position], str]:
            result = client.get_positions(cursor=cursor, **options)
            return result.market_positions, result.cursor

        _listing(target, "market_positions", page, lambda: client.iter_positions(**options),
                 fetch_all, "Positions", POSITION_COLUMNS, _position_row)


@portfolio_app.command("fills")
@connected(Role.REQUESTER)
def portfolio_fills(
    ticker: Annotated[str | None, typer.Option(
        "--ticker", show_default=False, help="Only this market.")] = None,
    order_id: Annotated[str | None, typer.Option(
        "--order-id", show_default=False,
        help="Only fills of this order (a quote's creator_order_id / rfq_creator_order_id).")
    ] = None,
    subaccount: SubaccountOption = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    *, target: Target,
) -> None:
    """List your fills, newest first."""
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"ticker": ticker, "order_id": order_id,
                                   "subaccount": subaccount, "limit": limit}

        def page() -> tuple[list[Fill], str]:
            result = client.list_fills(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "fills", page, lambda: client.iter_fills(**options), fetch_all,
                 "Fills", FILL_COLUMNS, _fill_row)


@portfolio_app.command("orders")
@connected(Role.REQUESTER)
def portfolio_orders(
    ticker: Annotated[str | None, typer.Option(
        "--ticker", show_default=False, help="Only this market.")] = None,
    status: Annotated[str | None, typer.Option(
        "--status", show_default=False, help="resting, canceled or executed.")] = None,
    subaccount: SubaccountOption = None,
    limit: LimitOption = None, cursor: CursorOption = None, fetch_all: AllOption = False,
    *, target: Target,
) -> None:
    """List your orders (an RFQ execution places one for each party), newest first."""
    with failures(target), target.client() as client:
        options: dict[str, Any] = {"ticker": ticker, "status": status,
                                   "subaccount": subaccount, "limit": limit}

        def page() -> tuple[list[Order], str]:
            result = client.list_orders(cursor=cursor, **options)
            return result.items, result.cursor

        _listing(target, "orders", page, lambda: client.iter_orders(**options), fetch_all,
                 "Orders", ORDER_COLUMNS, _order_row)


