"""The matching books of every market, kept in memory beside the resting orders' rows.

The rows are the truth: a market's book is built from its resting orders the first time a
transaction needs it, and every change a transaction makes to a book it also makes to the
rows. If the transaction rolls back (or its commit fails) the book is forgotten and built
again from the rows next time, so the book and the rows never disagree after a commit. One
process owns the database (the embedded SQLite store), so no other writer can change the
rows behind the books.
"""

from __future__ import annotations

from kalshi_sandbox.domain.book import Book
from kalshi_sandbox.domain.orders import resting
from kalshi_sandbox.exchange.unit import UnitOfWork


class Books:
    """Every market's book, built on demand from storage."""

    def __init__(self) -> None:
        self._books: dict[str, Book] = {}

    async def open(self, w: UnitOfWork, ticker: str) -> Book:
        """Return ``ticker``'s book for a transaction that may change it.

        If the transaction does not commit, the book is dropped and rebuilt later.
        """
        book = self._books.get(ticker)
        if book is None:
            book = Book(ticker)
            for order in await w.tx.resting_orders(ticker):
                book.add(resting(order))
            # Orders that filled or were cancelled drew priorities too: go on after them.
            book.continue_after(await w.tx.last_priority(ticker))
            book.drain()
            self._books[ticker] = book
        w.rollbacks.append(lambda: self.forget(ticker))
        return book

    def peek(self, ticker: str) -> Book | None:
        """Return ``ticker``'s book if it is in memory (read it only inside a transaction)."""
        return self._books.get(ticker)

    def forget(self, ticker: str | None = None) -> None:
        """Drop one market's book, or every book (the state was replaced)."""
        if ticker is None:
            self._books.clear()
        else:
            self._books.pop(ticker, None)


__all__ = ["Books"]
