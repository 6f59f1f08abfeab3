"""The storage port: what the service layer needs from a database, and nothing else.

A ``Store`` hands out transactions; everything a use case reads and writes goes through one
``Transaction`` and commits or rolls back as a whole. Backends (in ``kalshi_sandbox.storage``)
translate their driver's errors into ``StorageError`` so no driver type leaks upward.

How a backend gets there is its own business: the SQLite backend, say, keeps an identity map
of the rows it owns and commits the transactions of concurrent requests together. Callers see
only this: a transaction's block runs alone, and when it has exited normally its changes are
durable and its ``on_commit`` callbacks have run, in commit order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable

from kalshi_sandbox.domain.account import Account, ApiKey
from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.orders import OrderGroup
from kalshi_sandbox.domain.portfolio import Fill, Order, Position
from kalshi_sandbox.domain.queries import (
    MarketQuery,
    PortfolioQuery,
    QuoteQuery,
    RfqQuery,
    TradeQuery,
)
from kalshi_sandbox.domain.quote import Quote, QuoteStatus
from kalshi_sandbox.domain.rfq import Rfq
from kalshi_sandbox.domain.timer import Timer, TimerKind


class StorageError(Exception):
    """A database failure the caller cannot fix by changing its request."""


class IntegrityViolation(StorageError):
    """A uniqueness or consistency rule of the schema was broken."""


class InvalidDump(StorageError):
    """A dump given to ``Store.load`` does not fit the schema; nothing was changed."""


Dump = dict[str, list[dict[str, Any]]]
"""Every table's rows: table name -> rows, each a column name -> JSON value mapping."""


class Transaction(Protocol):
    """One unit of work against the database."""

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once this transaction is durably committed; never if it rolls back.

        Callbacks run in commit order (across transactions too) and must not block.
        """
        ...

    # Metadata
    async def get_meta(self, key: str) -> str | None: ...
    async def set_meta(self, key: str, value: str) -> None: ...

    # Accounts and keys
    async def insert_account(self, account: Account) -> None: ...
    async def get_account(self, user_id: str) -> Account | None: ...
    async def list_accounts(self) -> list[Account]: ...
    async def insert_key(self, key: ApiKey) -> None: ...
    async def get_key(self, key_id: str) -> ApiKey | None: ...
    async def keys_of(self, user_id: str) -> list[ApiKey]: ...

    # Balances, in micro-dollars per (user, subaccount)
    async def get_balance(self, user_id: str, subaccount: int) -> int: ...
    async def set_balance(self, user_id: str, subaccount: int, micros: int,
                          now: Instant) -> None: ...
    async def balance_updated_ts(self, user_id: str, subaccount: int) -> Instant | None: ...

    # Markets
    async def insert_market(self, market: Market) -> None: ...
    async def update_market(self, market: Market) -> None: ...
    async def get_market(self, ticker: str) -> Market | None: ...
    async def list_markets(self, query: MarketQuery) -> list[Market]: ...

    # RFQs
    async def insert_rfq(self, rfq: Rfq) -> None: ...
    async def update_rfq(self, rfq: Rfq) -> None: ...
    async def get_rfq(self, rfq_id: str) -> Rfq | None: ...
    async def list_rfqs(self, query: RfqQuery) -> list[Rfq]: ...
    async def open_rfqs_of(self, user_id: str) -> list[Rfq]: ...
    async def open_rfqs_on(self, market_ticker: str) -> list[Rfq]: ...
    async def count_open_rfqs(self, user_id: str) -> int: ...
    async def open_rfq_on_market(self, user_id: str, market_ticker: str) -> Rfq | None: ...

    # Quotes
    async def insert_quote(self, quote: Quote) -> None: ...
    async def update_quote(self, quote: Quote) -> None: ...
    async def get_quote(self, quote_id: str) -> Quote | None: ...
    async def list_quotes(self, query: QuoteQuery) -> list[Quote]: ...
    async def quotes_of_rfq(self, rfq_id: str,
                            statuses: Sequence[QuoteStatus]) -> list[Quote]: ...
    async def delete_quotes_in(self, status: QuoteStatus) -> int: ...

    # Orders, fills, positions
    async def insert_order(self, order: Order) -> None: ...
    async def get_order(self, order_id: str) -> Order | None: ...
    async def list_orders(self, query: PortfolioQuery) -> list[Order]: ...
    async def insert_fill(self, fill: Fill) -> None: ...
    async def list_fills(self, query: PortfolioQuery) -> list[Fill]: ...
    async def get_position(self, user_id: str, subaccount: int,
                           ticker: str) -> Position | None: ...
    async def upsert_position(self, position: Position) -> None: ...
    async def list_positions(self, query: PortfolioQuery) -> list[Position]: ...

    # Timers
    async def add_timer(self, kind: TimerKind, subject: str, due: Instant) -> Timer: ...
    async def take_timer(self, timer_id: int) -> bool:
        """Delete a pending timer; return False if it was already gone."""
        ...
    async def cancel_timers(self, subject: str) -> list[int]:
        """Delete every pending timer of ``subject``; return their ids."""
        ...
    async def pending_timers(self) -> list[Timer]: ...

    # The order book
    async def update_order(self, order: Order) -> None: ...
    async def resting_orders(self, ticker: str | None = None) -> list[Order]:
        """Return the resting orders (of one market), by ticker then time priority."""
        ...
    async def last_priority(self, ticker: str) -> int:
        """Return the highest time priority any order of the market ever had (0 if none)."""
        ...
    async def order_by_client_id(self, user_id: str, client_order_id: str) -> Order | None:
        """Return the user's newest order with this ``client_order_id``."""
        ...
    async def orders_in_group(self, group_id: str) -> list[Order]:
        """Return the resting orders of an order group, by time priority."""
        ...
    async def list_trades(self, query: TradeQuery) -> list[Fill]:
        """Return public trades as their takers' fills, newest first."""
        ...
    async def insert_order_group(self, group: OrderGroup) -> None: ...
    async def update_order_group(self, group: OrderGroup) -> None: ...
    async def get_order_group(self, group_id: str) -> OrderGroup | None: ...
    async def list_order_groups(self, user_id: str,
                                subaccount: int | None = None) -> list[OrderGroup]: ...
    async def delete_order_group(self, group_id: str) -> None: ...


class CommitObserver(Protocol):
    """Hears of a store's commits as they happen (the journal, powers/state/journal.py).

    Called synchronously, in this order for each commit that changes something:
    ``changed`` as each transaction that changed something exits normally (inside that
    transaction's context), ``committing`` just before the COMMIT (its answer is written as
    ``meta`` rows in the same commit), then ``committed`` after it, or ``rolled_back`` if
    the commit failed.
    """

    def changed(self) -> None: ...

    def committing(self) -> Mapping[str, str]: ...

    def committed(self) -> None: ...

    def rolled_back(self) -> None: ...


@runtime_checkable
class ObservedStore(Protocol):
    """A store that tells a ``CommitObserver`` of its commits."""

    def observe_commits(self, observer: CommitObserver | None) -> None:
        """Tell ``observer`` of every commit from now on (None: stop)."""
        ...


class Store(Protocol):
    """A database holding the whole sandbox state."""

    async def open(self) -> None:
        """Connect and bring the schema up to date."""
        ...

    async def close(self) -> None: ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Begin a write transaction; it commits on normal exit, rolls back on error.

        The exit returns once the changes are durable (or raises ``StorageError`` if the
        commit failed). Transactions run one at a time, in the order they were begun.
        """
        ...

    def deferred(self) -> AbstractAsyncContextManager[None]:
        """Let the calling task's transactions in this block exit before they are durable.

        Their ``on_commit`` callbacks still run only after their commit, in order; the block's
        exit waits until every one of them is durable and raises ``StorageError`` if any
        commit failed. For a caller running many transactions in a row (timers firing), so a
        backend can commit them together. A backend may commit each one at once instead.
        """
        ...

    async def wipe(self) -> None:
        """Delete every row of every table (the schema stays)."""
        ...

    async def dump(self) -> Dump:
        """Return every table's rows, in one transaction.

        Tables come in a fixed order, rows in primary-key order, values as JSON types
        (int, str, bool, None), so equal states give equal dumps on every backend.
        """
        ...

    async def load(self, dump: Mapping[str, Any]) -> None:
        """Replace the whole state with ``dump`` (as ``dump`` returns it), in one transaction.

        Raise ``InvalidDump``, changing nothing, if it does not fit this schema version.
        Whatever the backend caches is made to match. Tables absent from the dump end empty.
        """
        ...
