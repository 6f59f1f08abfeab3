"""How the trading commands print: tables on a terminal, JSON with ``--json``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from rich.table import Table

from kalshi_sandbox.cli.connection import Target, emit
from kalshi_sandbox.cli.options import console
from kalshi_sandbox.client import (
    Fill,
    Market,
    Order,
    Position,
    Quote,
    Rfq,
)

T = TypeVar("T")


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


def _table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_text(v) for v in row))
    return table


def _details(title: str, fields: Mapping[str, Any]) -> None:
    table = Table(title=title, title_justify="left", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for name, value in fields.items():
        if value is not None and value != ():
            table.add_row(name, _text(value))
    console.print(table)


def _size(contracts: Decimal | None, target: Decimal | None) -> str:
    if target is not None:
        return f"${target}"
    return "-" if contracts is None else str(contracts)


def _rfq_row(r: Rfq) -> list[Any]:
    return [r.id, r.market_ticker, _size(r.contracts, r.target_cost), r.status,
            r.created_ts, r.creator_id[:12]]


RFQ_COLUMNS = ["id", "market", "size", "status", "created", "creator"]


def _quote_row(q: Quote) -> list[Any]:
    return [q.id, q.rfq_id, q.market_ticker, q.yes_bid, q.no_bid, q.contracts, q.status,
            q.accepted_side]


QUOTE_COLUMNS = ["id", "rfq", "market", "yes bid", "no bid", "contracts", "status", "accepted"]


def _market_row(m: Market) -> list[Any]:
    step = ",".join(str(r.step) for r in m.price_ranges)
    return [m.ticker, m.status, m.title, m.yes_bid, m.yes_ask, m.last_price, step]


MARKET_COLUMNS = ["ticker", "status", "title", "yes bid", "yes ask", "last", "tick"]


def _position_row(p: Position) -> list[Any]:
    return [p.ticker, p.position, p.market_exposure, p.total_traded, p.realized_pnl,
            p.fees_paid]


POSITION_COLUMNS = ["ticker", "position", "exposure", "traded", "realized pnl", "fees"]


def _fill_row(f: Fill) -> list[Any]:
    own = f.yes_price if f.side is not None and f.side.value == "yes" else f.no_price
    return [f.created_time, f.ticker, f.side, f.count, own, f.fee_cost,
            "taker" if f.is_taker else "maker", f.order_id]


def _order_row(o: Order) -> list[Any]:
    return [o.created_time, o.ticker, o.side, o.yes_price, o.initial_count, o.fill_count,
            o.status, o.client_order_id, o.order_id]


ORDER_COLUMNS = ["time", "ticker", "side", "yes price", "count", "filled", "status",
                 "client order id", "order"]


FILL_COLUMNS = ["time", "ticker", "side", "count", "price", "fee", "role", "order"]


def _listing(target: Target, key: str, page: Callable[[], tuple[list[T], str]],
             every: Callable[[], Iterator[T]], fetch_all: bool, title: str,
             columns: Sequence[str], row: Callable[[T], list[Any]]) -> None:
    cursor = ""
    if fetch_all:
        items = list(every())
    else:
        items, cursor = page()
    if target.as_json:
        data: dict[str, Any] = {key: [dict(getattr(i, "raw", {})) for i in items]}
        if not fetch_all:
            data["cursor"] = cursor
        emit(data)
        return
    console.print(_table(title, columns, (row(i) for i in items)))
    if cursor:
        console.print(f"more: --cursor {cursor}", highlight=False)


def _show_rfq(target: Target, rfq: Rfq) -> None:
    if target.as_json:
        emit({"rfq": dict(rfq.raw)})
        return
    _details(f"RFQ {rfq.id}", {
        "market": rfq.market_ticker, "status": rfq.status, "contracts": rfq.contracts,
        "target cost": rfq.target_cost, "rest remainder": rfq.rest_remainder,
        "creator": rfq.creator_id, "created": rfq.created_ts, "updated": rfq.updated_ts,
        "cancelled": rfq.cancelled_ts, "reason": rfq.cancellation_reason})


def _show_quote(target: Target, quote: Quote) -> None:
    if target.as_json:
        emit({"quote": dict(quote.raw)})
        return
    _details(f"Quote {quote.id}", {
        "rfq": quote.rfq_id, "market": quote.market_ticker, "status": quote.status,
        "yes bid": quote.yes_bid, "no bid": quote.no_bid, "contracts": quote.contracts,
        "yes contracts": quote.yes_contracts, "no contracts": quote.no_contracts,
        "accepted side": quote.accepted_side, "maker": quote.creator_id,
        "requester": quote.rfq_creator_id, "created": quote.created_ts,
        "accepted": quote.accepted_ts, "confirmed": quote.confirmed_ts,
        "executed": quote.executed_ts, "cancelled": quote.cancelled_ts,
        "reason": quote.cancellation_reason, "my order": quote.creator_order_id
        or quote.rfq_creator_order_id})


def _done(target: Target, data: dict[str, Any], text: str) -> None:
    if target.as_json:
        emit(data)
    else:
        console.print(text, highlight=False)


def _created(target: Target, data: dict[str, Any], text: str) -> None:
    """Report a created RFQ or quote: a sentence on a terminal, the bare id when the output
    is read by a script (``ID=$(kalshi-sandbox quote create ...)``), JSON with ``--json``."""
    if target.as_json:
        emit(data)
    elif console.is_terminal:
        console.print(text, highlight=False)
    else:
        sys.stdout.write(f"{data['id']}\n")
        sys.stdout.flush()


