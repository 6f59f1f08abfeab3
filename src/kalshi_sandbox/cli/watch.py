"""``kalshi-sandbox watch``: a live view of the WebSocket channels on a terminal.

The communications and private channels show as a table of the latest messages;
``orderbook_delta`` as a live price ladder per market (cli/ladder.py).
"""

from __future__ import annotations

import asyncio
import json
import sys
from contextlib import suppress
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from kalshi_sandbox.cli.connection import Role, Target, _plain, connected, failures
from kalshi_sandbox.cli.ladder import LadderView
from kalshi_sandbox.cli.options import console
from kalshi_sandbox.cli.output import _size, _table, _text
from kalshi_sandbox.client import (
    DataMessage,
    FillMessage,
    MarketPositionMessage,
    OrderbookDelta,
    OrderbookSnapshot,
    QuoteAccepted,
    QuoteCreated,
    QuoteExecuted,
    Reconnected,
    RfqCreated,
    RfqDeleted,
    SequenceGap,
    StreamEvent,
    Subscribed,
    SubscriptionDropped,
    TickerMessage,
    TradeMessage,
    UnknownMessage,
    UserOrderMessage,
)


def _event_json(event: StreamEvent) -> dict[str, Any]:
    if isinstance(event, Subscribed):
        return {"event": "subscribed", "channel": event.channel, "sid": event.sid}
    if isinstance(event, SequenceGap):
        return {"event": "gap", "sid": event.sid, "expected": event.expected,
                "received": event.received}
    if isinstance(event, SubscriptionDropped):
        return {"event": "dropped", "channel": event.channel, "sid": event.sid,
                "code": event.code, "message": event.message}
    if isinstance(event, Reconnected):
        return {"event": "reconnected", "attempts": event.attempts, "reason": event.reason}
    return {"type": event.type, "sid": event.sid, "seq": event.seq,
            "sending_ts_ms": event.sending_ts_ms, "msg": dict(event.raw)}


def _event_row(event: DataMessage) -> list[Any]:
    """Return an event's cells under ``WATCH_COLUMNS``: each id in its own column."""
    if isinstance(event, RfqCreated):
        return [event.seq, event.type, event.market_ticker, event.id, "-", "",
                _size(event.contracts, event.target_cost), "", ""]
    if isinstance(event, RfqDeleted):
        return [event.seq, event.type, event.market_ticker, event.id, "-", "", "", "", ""]
    if isinstance(event, QuoteCreated):
        return [event.seq, event.type, event.market_ticker, event.rfq_id, event.quote_id, "",
                "", f"{event.yes_bid} / {event.no_bid}", ""]
    if isinstance(event, QuoteAccepted):
        return [event.seq, event.type, event.market_ticker, event.rfq_id, event.quote_id, "",
                event.contracts_accepted, f"{event.yes_bid} / {event.no_bid}",
                event.accepted_side]
    if isinstance(event, QuoteExecuted):
        return [event.seq, event.type, event.market_ticker, event.rfq_id, event.quote_id,
                event.order_id, "", "", ""]
    if isinstance(event, FillMessage):
        return [event.seq, event.type, event.market_ticker, "-", "-", event.order_id,
                event.count, f"yes {event.yes_price}", event.side]
    if isinstance(event, UserOrderMessage):
        return [event.seq, event.type, event.ticker, "-", "-", event.order_id,
                event.initial_count, f"yes {event.yes_price} ({event.status})", event.side]
    if isinstance(event, OrderbookSnapshot):
        return [event.seq, event.type, event.market_ticker, "-", "-", "",
                f"{len(event.yes)} yes / {len(event.no)} no levels", "", ""]
    if isinstance(event, OrderbookDelta):
        sign = "+" if event.delta > 0 else ""
        return [event.seq, event.type, event.market_ticker, "-", "-", "",
                f"{sign}{event.delta}", f"{event.side.value} bid {event.price}", event.side]
    if isinstance(event, TickerMessage):
        return [event.seq, event.type, event.market_ticker, "-", "-", "", event.volume,
                f"{event.yes_bid} / {event.yes_ask} last {event.price}", ""]
    if isinstance(event, TradeMessage):
        return [event.seq, event.type, event.market_ticker, "-", "-", f"trade {event.trade_id}",
                event.count, f"yes {event.yes_price}", event.taker_side]
    if isinstance(event, MarketPositionMessage):
        return [event.seq, event.type, event.market_ticker, "-", "-", "", event.position,
                f"cost {event.position_cost}", ""]
    assert isinstance(event, UnknownMessage)
    return [event.seq, event.type, "", "", "", "", "", event.error or "", ""]


def _event_line(event: StreamEvent) -> str:
    if isinstance(event, Subscribed):
        return f"subscribed to {event.channel} (sid {event.sid})"
    if isinstance(event, SequenceGap):
        return (f"gap on sid {event.sid}: {event.missed} message(s) lost "
                f"(seq {event.expected} expected, {event.received} received)")
    if isinstance(event, SubscriptionDropped):
        return (f"sid {event.sid} dropped by the server ({event.code} {event.message}); "
                f"subscribing to {event.channel} again, messages were lost")
    if isinstance(event, Reconnected):
        return f"reconnected after {event.attempts} attempt(s): {event.reason}"
    market = _market_line(event)
    if market is not None:
        return "  ".join(f"{k}={_text(v)}" for k, v in market.items() if v is not None)
    cells = [_text(v) for v in _event_row(event)]
    return "  ".join(f"{name}={cell}" for name, cell in zip(WATCH_COLUMNS, cells, strict=True)
                     if cell not in ("", "-"))


def _market_line(event: DataMessage) -> dict[str, Any] | None:
    """Return the fields of a market-data message's line (None for other messages)."""
    head = {"seq": event.seq, "type": event.type}
    if isinstance(event, OrderbookSnapshot):
        return {**head, "market": event.market_ticker, "yes_levels": len(event.yes),
                "no_levels": len(event.no)}
    if isinstance(event, OrderbookDelta):
        sign = "+" if event.delta > 0 else ""
        return {**head, "market": event.market_ticker, "side": event.side.value,
                "price": event.price, "delta": f"{sign}{event.delta}",
                "client_order_id": event.client_order_id}
    if isinstance(event, TickerMessage):
        return {**head, "market": event.market_ticker, "yes_bid": event.yes_bid,
                "yes_ask": event.yes_ask, "last": event.price, "volume": event.volume}
    if isinstance(event, TradeMessage):
        return {**head, "market": event.market_ticker, "count": event.count,
                "yes_price": event.yes_price, "taker": event.taker_side,
                "trade": event.trade_id}
    if isinstance(event, MarketPositionMessage):
        return {**head, "market": event.market_ticker, "position": event.position,
                "cost": event.position_cost}
    return None


WATCH_COLUMNS = ["seq", "type", "market", "rfq", "quote", "order", "size", "price", "side"]
"""The columns of the communications table, and the names of a piped line's fields (a
quote's price is its YES / NO bids)."""


class WatchView:
    """The live table: the latest messages, and the connection's state underneath."""

    def __init__(self, rows: int) -> None:
        self.rows: list[list[Any]] = []
        self.limit = rows
        self.status = "connecting"

    def add(self, event: StreamEvent) -> None:
        if isinstance(event, Subscribed):
            self.status = f"subscribed to {event.channel} (sid {event.sid})"
        elif isinstance(event, SequenceGap):
            self.rows.append(["", "[red]gap[/red]", "", "", "",
                              f"{event.missed} lost", f"seq {event.expected}->{event.received}",
                              ""])
        elif isinstance(event, SubscriptionDropped):
            self.rows.append(["", "[red]dropped[/red]", "", "", "", "",
                              f"{event.code} {event.message}", ""])
        elif isinstance(event, Reconnected):
            self.rows.append(["", "[yellow]reconnected[/yellow]", "", "", "", "",
                              event.reason, ""])
        else:
            self.rows.append(_event_row(event))
        del self.rows[:-self.limit]

    def render(self) -> Table:
        table = _table("communications", WATCH_COLUMNS, self.rows)
        table.caption = self.status
        return table


@connected(Role.REQUESTER)
def watch(
    mine: Annotated[bool, typer.Option(
        "--mine", help="Only RFQ events of your own RFQs (user_filter=self).")] = False,
    count: Annotated[int | None, typer.Option(
        "--count", min=1, show_default=False,
        help="Stop after this many messages (default: run until Ctrl-C).")] = None,
    rows: Annotated[int, typer.Option("--rows", min=1, help="Rows kept in the table.")] = 20,
    channels: Annotated[list[str] | None, typer.Option(
        "--channel", show_default=False,
        help="A channel to stream; repeat for several (default: communications). "
             "fill, user_orders and market_positions show your own; orderbook_delta draws a "
             "live ladder of each --market; ticker and trade follow the markets.")] = None,
    markets: Annotated[list[str] | None, typer.Option(
        "--market", show_default=False,
        help="A market ticker for the market channels; repeat for several (orderbook_delta "
             "needs at least one).")] = None,
    *, target: Target,
) -> None:
    """Stream WebSocket channels live: communications by default (JSON: one object per line).

    With --channel orderbook_delta, a terminal shows each --market's book as a price ladder
    redrawn as the deltas arrive. The stream reconnects and resubscribes by itself after a
    dropped connection and reports gaps in the message sequence.
    """
    chosen = tuple(channels or ["communications"])
    if "orderbook_delta" in chosen and not markets:
        raise typer.BadParameter("orderbook_delta needs at least one --market",
                                 param_hint="--market")
    with failures(target), suppress(KeyboardInterrupt):
        asyncio.run(_watch(target, mine, count, rows, chosen, tuple(markets or ())))


async def _watch(target: Target, mine: bool, count: int | None, rows: int,
                 channels: tuple[str, ...], markets: tuple[str, ...] = ()) -> None:
    async with target.async_client() as client:
        subscription = client.subscribe(*channels, user_filter="self" if mine else None,
                                        market_tickers=markets or None)
        seen = 0
        if target.as_json:
            async with subscription:
                async for event in subscription:
                    sys.stdout.write(json.dumps(_plain(_event_json(event))) + "\n")
                    sys.stdout.flush()
                    seen += not isinstance(event, Subscribed | SequenceGap | Reconnected)
                    if count is not None and seen >= count:
                        return
            return
        if not console.is_interactive:
            # Piped to a file or a log: a redrawn table would only show at exit, so print
            # one line per event instead.
            async with subscription:
                async for event in subscription:
                    console.print(_event_line(event), highlight=False, markup=False)
                    seen += not isinstance(event, Subscribed | SequenceGap | Reconnected)
                    if count is not None and seen >= count:
                        return
            return
        if "orderbook_delta" in channels:
            ladders = LadderView(markets, rows)
            with Live(ladders.render(), console=console, auto_refresh=False) as live:
                async with subscription:
                    async for event in subscription:
                        ladders.add(event, None if isinstance(
                            event, OrderbookSnapshot | OrderbookDelta) else _event_line(event))
                        live.update(ladders.render(), refresh=True)
                        seen += not isinstance(event, Subscribed | SequenceGap | Reconnected)
                        if count is not None and seen >= count:
                            return
            return
        view = WatchView(rows)
        with Live(view.render(), console=console, auto_refresh=False) as live:
            async with subscription:
                async for event in subscription:
                    view.add(event)
                    live.update(view.render(), refresh=True)
                    seen += not isinstance(event, Subscribed | SequenceGap | Reconnected)
                    if count is not None and seen >= count:
                        return
