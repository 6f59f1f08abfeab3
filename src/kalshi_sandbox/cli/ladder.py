"""An order book drawn as a price ladder: asks above, bids below, the spread between.

``market book`` prints one; ``watch --channel orderbook_delta`` redraws one per market as the
deltas arrive (:class:`LadderView`). Prices are YES prices: a NO bid at q shows as a YES ask
at 1 - q, as a trader reads a book.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.table import Table

from kalshi_sandbox.client import (
    LiveBook,
    OrderBook,
    OrderbookDelta,
    OrderbookSnapshot,
    SequenceGap,
    StreamEvent,
    Subscribed,
)


def ladder_rows(book: OrderBook, rows: int) -> list[tuple[str, str, str]]:
    """Return (bid size, YES price, ask size) rows: the ``rows`` best asks (highest first),
    a spread row, then the ``rows`` best bids (highest first)."""
    asks = list(book.yes_asks[:rows])
    bids = list(reversed(book.yes))[:rows]
    out = [("", str(price), str(size)) for price, size in reversed(asks)]
    spread = book.spread
    out.append(("", "-" * 6 if spread is None else f"spread {spread}", ""))
    out.extend((str(size), str(price), "") for price, size in bids)
    return out


def ladder_table(book: OrderBook, rows: int = 10, caption: str | None = None) -> Table:
    """Return ``book`` as a rich table: bids left, YES prices in the middle, asks right."""
    table = Table(title=book.ticker, title_justify="left", header_style="bold",
                  caption=caption, caption_justify="left")
    table.add_column("bids", justify="right", style="green")
    table.add_column("yes price", justify="center")
    table.add_column("asks", justify="left", style="red")
    for bid, price, ask in ladder_rows(book, rows):
        table.add_row(bid, price, ask)
    return table


def ladder_lines(book: OrderBook, rows: int = 10) -> list[str]:
    """Return ``book`` as plain lines (for a pipe or a log)."""
    return [f"{bid:>12}  {price:^14}  {ask:<12}".rstrip()
            for bid, price, ask in ladder_rows(book, rows)]


class LadderView:
    """Live ladders of the markets an ``orderbook_delta`` subscription follows."""

    def __init__(self, tickers: Sequence[str], rows: int, *, use_yes_price: bool = False
                 ) -> None:
        self.books = {t: LiveBook(t, use_yes_price=use_yes_price) for t in tickers}
        self.rows = rows
        self.status = "connecting"
        self.last: dict[str, str] = {}
        self.others: list[str] = []

    def add(self, event: StreamEvent, line: str | None = None) -> None:
        """Apply one event; ``line`` describes an event of another channel."""
        if isinstance(event, Subscribed):
            self.status = f"subscribed to {event.channel} (sid {event.sid})"
        elif isinstance(event, SequenceGap):
            for live in self.books.values():
                live.invalidate()
            self.status = (f"gap: {event.missed} message(s) lost; the book is stale until "
                           "the next snapshot")
        elif isinstance(event, OrderbookSnapshot | OrderbookDelta):
            found = self.books.get(event.market_ticker)
            if found is not None and found.apply(event):
                self.last[event.market_ticker] = _describe(event)
        elif line:
            self.others.append(line)
            del self.others[:-5]

    def render(self) -> Any:
        """Return the ladders (and the latest other events) as one renderable."""
        parts: list[Any] = []
        for ticker, live in self.books.items():
            caption = (self.last.get(ticker, "snapshot") if live.ready
                       else "waiting for a snapshot")
            parts.append(ladder_table(live.book(), self.rows, caption))
        parts.extend(self.others)
        parts.append(self.status)
        return Group(*parts)


def _describe(event: OrderbookSnapshot | OrderbookDelta) -> str:
    if isinstance(event, OrderbookSnapshot):
        return f"seq {event.seq}: snapshot"
    sign = "+" if event.delta > 0 else ""
    return f"seq {event.seq}: {event.side.value} bid {event.price} {sign}{event.delta}"


__all__ = ["LadderView", "ladder_lines", "ladder_rows", "ladder_table"]
