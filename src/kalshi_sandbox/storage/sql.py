"""The ``Transaction`` port implemented once in portable SQL over a minimal driver.

Past 500 lines on purpose: one class implements the whole ``Transaction`` port, a method per
port method; splitting it by table would split one transaction's SQL across modules.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from itertools import islice
from typing import Any, Protocol, TypeVar

from kalshi_sandbox.domain.account import Account, ApiKey
from kalshi_sandbox.domain.blocktrade import BlockTrade
from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.combos import Collection
from kalshi_sandbox.domain.lifecycle import MarketEvent, Series, Settlement
from kalshi_sandbox.domain.market import SETTLED_STATUSES, Market
from kalshi_sandbox.domain.orders import OrderGroup
from kalshi_sandbox.domain.portfolio import Fill, Order, OrderStatus, Position
from kalshi_sandbox.domain.queries import (
    BlockTradeQuery,
    CollectionQuery,
    Cursor,
    EventQuery,
    MarketQuery,
    PortfolioQuery,
    QuoteQuery,
    RfqQuery,
    SeriesQuery,
    TradeQuery,
)
from kalshi_sandbox.domain.quote import Quote, QuoteStatus
from kalshi_sandbox.domain.rfq import Rfq, RfqStatus
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.ports import InvalidDump
from kalshi_sandbox.storage.rows import RowMapper
from kalshi_sandbox.storage.schema import MIGRATIONS, SCHEMA, Table

T = TypeVar("T")

ACCOUNTS = RowMapper(Account, "accounts")
KEYS = RowMapper(ApiKey, "api_keys")
MARKETS = RowMapper(Market, "markets")
RFQS = RowMapper(Rfq, "rfqs")
QUOTES = RowMapper(Quote, "quotes")
ORDERS = RowMapper(Order, "orders")
FILLS = RowMapper(Fill, "fills")
POSITIONS = RowMapper(Position, "positions")
ORDER_GROUPS = RowMapper(OrderGroup, "order_groups")
SERIES = RowMapper(Series, "series")
EVENTS = RowMapper(MarketEvent, "events")
SETTLEMENTS = RowMapper(Settlement, "settlements")
COLLECTIONS = RowMapper(Collection, "collections")
BLOCK_TRADES = RowMapper(BlockTrade, "block_trades")


def _list_key(quote: Quote) -> tuple[int, str]:
    """A quote list's order (descending): created_ts, then id."""
    return quote.created_ts, quote.id


class Driver(Protocol):
    """The few operations the SQL layer needs from a database connection."""

    placeholder: str

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; return the number of rows it changed."""
        ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Any] | None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]: ...

    async def insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT into a table with an integer key; return the new key."""
        ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row of parameters."""
        ...


class _Where:
    """Accumulates WHERE clauses and their parameters."""

    def __init__(self, placeholder: str) -> None:
        self.ph = placeholder
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause.replace("?", self.ph))
        self.params.extend(params)

    def keyset(self, ts_column: str, id_column: str, after: Cursor | None) -> None:
        """Continue a newest-first listing after ``after``.

        The plain ``ts <= ?`` bound repeats what the disjunction says, so that the database
        starts the index range at the cursor instead of reading every row before it.
        """
        if after is not None:
            ts, key = after
            self.add(f"{ts_column} <= ?", ts)
            self.add(f"({ts_column} < ? OR ({ts_column} = ? AND {id_column} < ?))", ts, ts, key)

    def copy(self) -> _Where:
        where = _Where(self.ph)
        where.clauses = list(self.clauses)
        where.params = list(self.params)
        return where

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.clauses)) if self.clauses else ""


class SqlTransaction:
    """Every storage operation, in SQL that SQLite and PostgreSQL both accept."""

    def __init__(self, driver: Driver) -> None:
        self.db = driver
        ph = driver.placeholder
        self.ph = ph
        self.callbacks: list[Callable[[], None]] = []
        """What ``on_commit`` collected; the store runs and clears it."""
        self._rfq_insert = RFQS.insert_sql(ph)
        self._rfq_update = RFQS.update_sql(ph, ("id",))
        self._quote_insert = QUOTES.insert_sql(ph)
        self._quote_update = QUOTES.update_sql(ph, ("id",))
        self._market_update = MARKETS.update_sql(ph, ("ticker",))

    def _q(self, sql: str) -> str:
        return sql if self.ph == "?" else sql.replace("?", self.ph)

    def on_commit(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    async def _update(self, mapper: RowMapper[T], old: T | None, new: T,
                      key: Sequence[str]) -> None:
        """Update ``new``'s row: only the changed columns when the stored ``old`` is known."""
        if old is None:
            await self.db.execute(mapper.update_sql(self.ph, key), mapper.update_params(new, key))
            return
        change = mapper.changes(old, new, key, self.ph)
        if change is not None:
            await self.db.execute(*change)

    # Metadata ----------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        row = await self.db.fetchone(self._q("SELECT value FROM meta WHERE key = ?"), (key,))
        return None if row is None else str(row[0])

    async def set_meta(self, key: str, value: str) -> None:
        if await self.db.execute(self._q("UPDATE meta SET value = ? WHERE key = ?"),
                                 (value, key)) == 0:
            await self.db.execute(self._q("INSERT INTO meta (key, value) VALUES (?, ?)"),
                                  (key, value))

    # Accounts ----------------------------------------------------------------------------

    async def insert_account(self, account: Account) -> None:
        await self.db.execute(ACCOUNTS.insert_sql(self.ph), ACCOUNTS.to_row(account))

    async def get_account(self, user_id: str) -> Account | None:
        row = await self.db.fetchone(self._q(ACCOUNTS.select + " WHERE user_id = ?"), (user_id,))
        return None if row is None else ACCOUNTS.from_row(row)

    async def list_accounts(self) -> list[Account]:
        rows = await self.db.fetchall(ACCOUNTS.select + " ORDER BY created_ts, user_id")
        return [ACCOUNTS.from_row(r) for r in rows]

    async def insert_key(self, key: ApiKey) -> None:
        await self.db.execute(KEYS.insert_sql(self.ph), KEYS.to_row(key))

    async def get_key(self, key_id: str) -> ApiKey | None:
        row = await self.db.fetchone(self._q(KEYS.select + " WHERE key_id = ?"), (key_id,))
        return None if row is None else KEYS.from_row(row)

    async def keys_of(self, user_id: str) -> list[ApiKey]:
        rows = await self.db.fetchall(
            self._q(KEYS.select + " WHERE user_id = ? ORDER BY created_ts, key_id"), (user_id,)
        )
        return [KEYS.from_row(r) for r in rows]

    # Balances ----------------------------------------------------------------------------

    async def get_balance(self, user_id: str, subaccount: int) -> int:
        row = await self.db.fetchone(
            self._q("SELECT micros FROM balances WHERE user_id = ? AND subaccount = ?"),
            (user_id, subaccount),
        )
        return 0 if row is None else int(row[0])

    async def set_balance(self, user_id: str, subaccount: int, micros: int,
                          now: Instant) -> None:
        changed = await self.db.execute(
            self._q("UPDATE balances SET micros = ?, updated_ts = ? "
                    "WHERE user_id = ? AND subaccount = ?"),
            (micros, now, user_id, subaccount),
        )
        if changed == 0:
            await self.db.execute(
                self._q("INSERT INTO balances (user_id, subaccount, micros, updated_ts) "
                        "VALUES (?, ?, ?, ?)"),
                (user_id, subaccount, micros, now),
            )

    async def balance_updated_ts(self, user_id: str, subaccount: int) -> Instant | None:
        row = await self.db.fetchone(
            self._q("SELECT updated_ts FROM balances WHERE user_id = ? AND subaccount = ?"),
            (user_id, subaccount),
        )
        return None if row is None else int(row[0])

    # Markets -----------------------------------------------------------------------------

    async def insert_market(self, market: Market) -> None:
        await self.db.execute(MARKETS.insert_sql(self.ph), MARKETS.to_row(market))

    async def update_market(self, market: Market) -> None:
        await self.db.execute(self._market_update, MARKETS.update_params(market, ("ticker",)))

    async def get_market(self, ticker: str) -> Market | None:
        row = await self.db.fetchone(self._q(MARKETS.select + " WHERE ticker = ?"), (ticker,))
        return None if row is None else MARKETS.from_row(row)

    async def list_markets(self, query: MarketQuery) -> list[Market]:
        where = _Where(self.ph)
        if query.after is not None:
            where.add("ticker > ?", query.after)
        if query.event_ticker is not None:
            where.add("event_ticker = ?", query.event_ticker)
        if query.series_ticker is not None:
            where.add("series_ticker = ?", query.series_ticker)
        if query.statuses is not None:
            where.add(f"status IN ({', '.join(['?'] * len(query.statuses))})", *query.statuses)
        if query.tickers is not None:
            where.add(f"ticker IN ({', '.join(['?'] * len(query.tickers))})", *query.tickers)
        if query.mve is True:
            where.add("mve_collection_ticker IS NOT NULL")
        elif query.mve is False:
            where.add("mve_collection_ticker IS NULL")
        for column, low, high in (("created_ts", query.min_created, query.max_created),
                                  ("updated_ts", query.min_updated, None),
                                  ("close_time", query.min_close, query.max_close)):
            if low is not None:
                where.add(f"{column} >= ?", low)
            if high is not None:
                where.add(f"{column} <= ?", high)
        if query.min_settled is not None or query.max_settled is not None:
            settled = [s.value for s in SETTLED_STATUSES]
            where.add(f"status IN ({', '.join(['?'] * len(settled))})", *settled)
            if query.min_settled is not None:
                where.add("updated_ts >= ?", query.min_settled)
            if query.max_settled is not None:
                where.add("updated_ts <= ?", query.max_settled)
        sql = f"{MARKETS.select}{where.sql()} ORDER BY ticker LIMIT {int(query.limit)}"
        return [MARKETS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    # RFQs --------------------------------------------------------------------------------

    async def insert_rfq(self, rfq: Rfq) -> None:
        await self.db.execute(self._rfq_insert, RFQS.to_row(rfq))

    async def update_rfq(self, rfq: Rfq) -> None:
        await self.db.execute(self._rfq_update, RFQS.update_params(rfq, ("id",)))

    async def get_rfq(self, rfq_id: str) -> Rfq | None:
        row = await self.db.fetchone(self._q(RFQS.select + " WHERE id = ?"), (rfq_id,))
        return None if row is None else RFQS.from_row(row)

    async def list_rfqs(self, query: RfqQuery) -> list[Rfq]:
        where = _Where(self.ph)
        where.keyset("created_ts", "id", query.after)
        if query.market_ticker is not None:
            where.add("market_ticker = ?", query.market_ticker)
        if query.event_ticker is not None:
            where.add("event_ticker = ?", query.event_ticker)
        if query.status is not None:
            where.add("status = ?", query.status.value)
        if query.creator_user_id is not None:
            where.add("creator_user_id = ?", query.creator_user_id)
        if query.subaccount is not None:
            where.add("creator_subaccount = ?", query.subaccount)
        if query.hide_obscured:
            where.add("obscure_creator_id = ?", False)
        if query.closed_since is not None:
            where.add("(status = ? OR updated_ts >= ?)", RfqStatus.OPEN.value, query.closed_since)
        sql = (f"{RFQS.select}{where.sql()} ORDER BY created_ts DESC, id DESC "
               f"LIMIT {int(query.limit)}")
        return [RFQS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    async def open_rfqs_of(self, user_id: str) -> list[Rfq]:
        rows = await self.db.fetchall(
            self._q(RFQS.select + " WHERE creator_user_id = ? AND status = ? "
                    "ORDER BY created_ts, id"),
            (user_id, RfqStatus.OPEN.value),
        )
        return [RFQS.from_row(r) for r in rows]

    async def open_rfqs_on(self, market_ticker: str) -> list[Rfq]:
        rows = await self.db.fetchall(
            self._q(RFQS.select + " WHERE market_ticker = ? AND status = ? "
                    "ORDER BY created_ts, id"),
            (market_ticker, RfqStatus.OPEN.value),
        )
        return [RFQS.from_row(r) for r in rows]

    async def count_open_rfqs(self, user_id: str) -> int:
        row = await self.db.fetchone(
            self._q("SELECT COUNT(*) FROM rfqs WHERE creator_user_id = ? AND status = ?"),
            (user_id, RfqStatus.OPEN.value),
        )
        return 0 if row is None else int(row[0])

    async def open_rfq_on_market(self, user_id: str, market_ticker: str) -> Rfq | None:
        row = await self.db.fetchone(
            self._q(RFQS.select + " WHERE creator_user_id = ? AND status = ? "
                    "AND market_ticker = ?"),
            (user_id, RfqStatus.OPEN.value, market_ticker),
        )
        return None if row is None else RFQS.from_row(row)

    # Quotes ------------------------------------------------------------------------------

    async def insert_quote(self, quote: Quote) -> None:
        await self.db.execute(self._quote_insert, QUOTES.to_row(quote))

    async def update_quote(self, quote: Quote) -> None:
        await self.db.execute(self._quote_update, QUOTES.update_params(quote, ("id",)))

    async def get_quote(self, quote_id: str) -> Quote | None:
        row = await self.db.fetchone(self._q(QUOTES.select + " WHERE id = ?"), (quote_id,))
        return None if row is None else QUOTES.from_row(row)

    async def list_quotes(self, query: QuoteQuery) -> list[Quote]:
        """The viewer's quotes and the quotes on the viewer's RFQs, newest first.

        The two sets are disjoint ranges of two indexes in list order (quotes_creator and
        quotes_rfq_creator), each read for one page and merged here, where one query with an
        OR would collect every visible quote and sort them all for each page.
        """
        viewer = query.viewer_user_id
        where = _Where(self.ph)
        where.keyset("created_ts", "id", query.after)
        if query.status is not None:
            where.add("status = ?", query.status.value)
        if query.rfq_id is not None:
            where.add("rfq_id = ?", query.rfq_id)
        if query.min_updated is not None:
            where.add("updated_ts > ?", query.min_updated)
        if query.max_updated is not None:
            where.add("updated_ts < ?", query.max_updated)
        if query.cancelled_since is not None:
            where.add("(status <> ? OR updated_ts >= ?)",
                      QuoteStatus.CANCELLED.value, query.cancelled_since)
        maker = query.creator_user_id
        requester = query.rfq_creator_user_id
        ranges: list[_Where] = []
        if maker in (None, viewer):  # the viewer's own quotes
            own = where.copy()
            own.add("creator_user_id = ?", viewer)
            if requester is not None:
                own.add("rfq_creator_user_id = ?", requester)
            ranges.append(own)
        if maker != viewer and requester in (None, viewer):  # others' quotes on their RFQs
            theirs = where.copy()
            theirs.add("rfq_creator_user_id = ?", viewer)
            theirs.add("creator_user_id <> ?", viewer)
            if maker is not None:
                theirs.add("creator_user_id = ?", maker)
            ranges.append(theirs)
        limit = int(query.limit)
        pages = [[QUOTES.from_row(r) for r in await self.db.fetchall(
                     f"{QUOTES.select}{w.sql()} ORDER BY created_ts DESC, id DESC "
                     f"LIMIT {limit}", w.params)]
                 for w in ranges]
        if len(pages) == 1:
            return pages[0]
        return list(islice(heapq.merge(*pages, key=_list_key, reverse=True), limit))

    async def quotes_of_rfq(self, rfq_id: str, statuses: Sequence[QuoteStatus]) -> list[Quote]:
        marks = ", ".join(["?"] * len(statuses))
        rows = await self.db.fetchall(
            self._q(f"{QUOTES.select} WHERE rfq_id = ? AND status IN ({marks}) "
                    "ORDER BY created_ts, id"),
            (rfq_id, *(s.value for s in statuses)),
        )
        return [QUOTES.from_row(r) for r in rows]

    async def delete_quotes_in(self, status: QuoteStatus) -> int:
        return await self.db.execute(self._q("DELETE FROM quotes WHERE status = ?"),
                                     (status.value,))

    # Orders, fills, positions ------------------------------------------------------------

    async def insert_order(self, order: Order) -> None:
        await self.db.execute(ORDERS.insert_sql(self.ph), ORDERS.to_row(order))

    async def get_order(self, order_id: str) -> Order | None:
        row = await self.db.fetchone(self._q(ORDERS.select + " WHERE order_id = ?"),
                                     (order_id,))
        return None if row is None else ORDERS.from_row(row)

    def _portfolio_where(self, query: PortfolioQuery, ts: str, key: str) -> _Where:
        where = _Where(self.ph)
        where.add("user_id = ?", query.user_id)
        where.keyset(ts, key, query.after)
        if query.ticker is not None:
            where.add("ticker = ?", query.ticker)
        if query.subaccount is not None:
            where.add("subaccount = ?", query.subaccount)
        if query.min_ts is not None:
            where.add(f"{ts} >= ?", query.min_ts)
        if query.max_ts is not None:
            where.add(f"{ts} <= ?", query.max_ts)
        return where

    async def list_orders(self, query: PortfolioQuery) -> list[Order]:
        where = self._portfolio_where(query, "created_ts", "order_id")
        if query.status is not None:
            where.add("status = ?", query.status)
        if query.event_ticker is not None:
            events = query.event_ticker.split(",")
            where.add("ticker IN (SELECT ticker FROM markets WHERE event_ticker IN "
                      f"({', '.join(['?'] * len(events))}))", *events)
        sql = (f"{ORDERS.select}{where.sql()} ORDER BY created_ts DESC, order_id DESC "
               f"LIMIT {int(query.limit)}")
        return [ORDERS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    async def insert_fill(self, fill: Fill) -> None:
        await self.db.execute(FILLS.insert_sql(self.ph), FILLS.to_row(fill))

    async def list_fills(self, query: PortfolioQuery) -> list[Fill]:
        where = self._portfolio_where(query, "created_ts", "fill_id")
        if query.order_id is not None:
            where.add("order_id = ?", query.order_id)
        sql = (f"{FILLS.select}{where.sql()} ORDER BY created_ts DESC, fill_id DESC "
               f"LIMIT {int(query.limit)}")
        return [FILLS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    async def get_position(self, user_id: str, subaccount: int, ticker: str) -> Position | None:
        row = await self.db.fetchone(
            self._q(POSITIONS.select + " WHERE user_id = ? AND subaccount = ? AND ticker = ?"),
            (user_id, subaccount, ticker),
        )
        return None if row is None else POSITIONS.from_row(row)

    async def upsert_position(self, position: Position) -> None:
        key = ("user_id", "subaccount", "ticker")
        changed = await self.db.execute(POSITIONS.update_sql(self.ph, key),
                                        POSITIONS.update_params(position, key))
        if changed == 0:
            await self.db.execute(POSITIONS.insert_sql(self.ph), POSITIONS.to_row(position))

    async def list_positions(self, query: PortfolioQuery) -> list[Position]:
        where = _Where(self.ph)
        where.add("user_id = ?", query.user_id)
        if query.after is not None:
            subaccount, ticker = query.after
            where.add("(ticker > ? OR (ticker = ? AND subaccount > ?))", ticker, ticker,
                      subaccount)
        if query.ticker is not None:
            where.add("ticker = ?", query.ticker)
        if query.subaccount is not None:
            where.add("subaccount = ?", query.subaccount)
        if query.event_ticker is not None:
            events = query.event_ticker.split(",")
            where.add("ticker IN (SELECT ticker FROM markets WHERE event_ticker IN "
                      f"({', '.join(['?'] * len(events))}))", *events)
        sql = (f"{POSITIONS.select}{where.sql()} ORDER BY ticker, subaccount "
               f"LIMIT {int(query.limit)}")
        return [POSITIONS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    # Timers ------------------------------------------------------------------------------

    async def add_timer(self, kind: TimerKind, subject: str, due: Instant) -> Timer:
        timer_id = await self.db.insert_id(
            self._q("INSERT INTO timers (kind, subject, due) VALUES (?, ?, ?)"),
            (kind.value, subject, due),
        )
        return Timer(due=due, id=timer_id, kind=kind, subject=subject)

    async def take_timer(self, timer_id: int) -> bool:
        return await self.db.execute(self._q("DELETE FROM timers WHERE id = ?"),
                                     (timer_id,)) > 0

    async def cancel_timers(self, subject: str) -> list[int]:
        rows = await self.db.fetchall(
            self._q("DELETE FROM timers WHERE subject = ? RETURNING id"), (subject,))
        return sorted(int(r[0]) for r in rows)

    async def pending_timers(self) -> list[Timer]:
        rows = await self.db.fetchall("SELECT due, id, kind, subject FROM timers ORDER BY due, id")
        return [Timer(due=int(r[0]), id=int(r[1]), kind=TimerKind(r[2]), subject=str(r[3]))
                for r in rows]

    # Whole state -------------------------------------------------------------------------

    async def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Return every table's rows as JSON values, each table in primary-key order."""
        result: dict[str, list[dict[str, Any]]] = {}
        for table in SCHEMA.values():
            names = [c.name for c in table.columns]
            booleans = [i for i, c in enumerate(table.columns) if c.kind == "bool"]
            rows = await self.db.fetchall(
                f"SELECT {', '.join(names)} FROM {table.name} ORDER BY {', '.join(table.key)}")
            items = []
            for row in rows:
                values = list(row)
                for index in booleans:
                    if values[index] is not None:
                        values[index] = bool(values[index])
                items.append(dict(zip(names, values, strict=True)))
            result[table.name] = items
        return result

    async def load(self, dump: Mapping[str, Any]) -> None:
        """Replace every table's rows with those of ``dump`` (checked before any change)."""
        rows = check_dump(dump)
        for table in SCHEMA.values():
            await self.db.execute(f"DELETE FROM {table.name}")
        for table in SCHEMA.values():
            if rows[table.name]:
                names = [c.name for c in table.columns]
                marks = ", ".join([self.ph] * len(names))
                await self.db.executemany(
                    f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})",
                    rows[table.name])

    # The order book ------------------------------------------------------------------------

    async def update_order(self, order: Order) -> None:
        key = ("order_id",)
        await self.db.execute(ORDERS.update_sql(self.ph, key), ORDERS.update_params(order, key))

    async def resting_orders(self, ticker: str | None = None) -> list[Order]:
        where = _Where(self.ph)
        where.add("status = ?", "resting")
        if ticker is not None:
            where.add("ticker = ?", ticker)
        rows = await self.db.fetchall(
            f"{ORDERS.select}{where.sql()} ORDER BY ticker, priority, order_id", where.params)
        return [ORDERS.from_row(r) for r in rows]

    async def last_priority(self, ticker: str) -> int:
        # One seek per status through orders_resting (status, ticker, priority).
        best = 0
        for status in OrderStatus:
            row = await self.db.fetchone(
                self._q("SELECT MAX(priority) FROM orders WHERE status = ? AND ticker = ?"),
                (status.value, ticker))
            if row is not None and row[0] is not None:
                best = max(best, int(row[0]))
        return best

    async def order_by_client_id(self, user_id: str, client_order_id: str) -> Order | None:
        row = await self.db.fetchone(
            self._q(ORDERS.select + " WHERE user_id = ? AND client_order_id = ? "
                    "ORDER BY created_ts DESC LIMIT 1"), (user_id, client_order_id))
        return None if row is None else ORDERS.from_row(row)

    async def orders_in_group(self, group_id: str) -> list[Order]:
        rows = await self.db.fetchall(
            self._q(ORDERS.select + " WHERE order_group_id = ? AND status = ? "
                    "ORDER BY priority, order_id"), (group_id, "resting"))
        return [ORDERS.from_row(r) for r in rows]

    async def list_trades(self, query: TradeQuery) -> list[Fill]:
        where = _Where(self.ph)
        where.add("is_taker = ?", True)
        where.keyset("created_ts", "fill_id", query.after)
        if query.ticker is not None:
            where.add("ticker = ?", query.ticker)
        if query.min_ts is not None:
            where.add("created_ts >= ?", query.min_ts)
        if query.max_ts is not None:
            where.add("created_ts <= ?", query.max_ts)
        if query.is_block_trade is not None:
            where.add("is_block_trade = ?", query.is_block_trade)
        sql = (f"{FILLS.select}{where.sql()} ORDER BY created_ts DESC, fill_id DESC "
               f"LIMIT {int(query.limit)}")
        return [FILLS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    async def insert_order_group(self, group: OrderGroup) -> None:
        await self.db.execute(ORDER_GROUPS.insert_sql(self.ph), ORDER_GROUPS.to_row(group))

    async def update_order_group(self, group: OrderGroup) -> None:
        await self.db.execute(ORDER_GROUPS.update_sql(self.ph, ("id",)),
                              ORDER_GROUPS.update_params(group, ("id",)))

    async def get_order_group(self, group_id: str) -> OrderGroup | None:
        row = await self.db.fetchone(self._q(ORDER_GROUPS.select + " WHERE id = ?"),
                                     (group_id,))
        return None if row is None else ORDER_GROUPS.from_row(row)

    async def list_order_groups(self, user_id: str,
                                subaccount: int | None = None) -> list[OrderGroup]:
        where = _Where(self.ph)
        where.add("user_id = ?", user_id)
        if subaccount is not None:
            where.add("subaccount = ?", subaccount)
        rows = await self.db.fetchall(
            f"{ORDER_GROUPS.select}{where.sql()} ORDER BY created_ts, id", where.params)
        return [ORDER_GROUPS.from_row(r) for r in rows]

    async def delete_order_group(self, group_id: str) -> None:
        await self.db.execute(self._q("DELETE FROM order_groups WHERE id = ?"), (group_id,))

    # A market's life: series, events, settlements, collections, block trades -------------
    # Every list reads its page through an index whose order is the ORDER BY (keyset).

    async def insert_series(self, series: Series) -> None:
        await self.db.execute(SERIES.insert_sql(self.ph), SERIES.to_row(series))

    async def get_series(self, ticker: str) -> Series | None:
        row = await self.db.fetchone(self._q(SERIES.select + " WHERE ticker = ?"), (ticker,))
        return None if row is None else SERIES.from_row(row)

    async def list_series(self, query: SeriesQuery) -> list[Series]:
        where = _Where(self.ph)
        if query.after is not None:
            where.add("ticker > ?", query.after)
        if query.category is not None:
            where.add("category = ?", query.category)
        for tag in query.tags or ():
            where.add("(',' || tags || ',') LIKE ?", f"%,{tag},%")
        if query.min_updated is not None:
            where.add("updated_ts >= ?", query.min_updated)
        sql = f"{SERIES.select}{where.sql()} ORDER BY ticker LIMIT {int(query.limit)}"
        return [SERIES.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    async def insert_event(self, event: MarketEvent) -> None:
        await self.db.execute(EVENTS.insert_sql(self.ph), EVENTS.to_row(event))

    async def update_event(self, event: MarketEvent) -> None:
        await self.db.execute(EVENTS.update_sql(self.ph, ("event_ticker",)),
                              EVENTS.update_params(event, ("event_ticker",)))

    async def get_event(self, event_ticker: str) -> MarketEvent | None:
        row = await self.db.fetchone(self._q(EVENTS.select + " WHERE event_ticker = ?"),
                                     (event_ticker,))
        return None if row is None else EVENTS.from_row(row)

    async def list_events(self, query: EventQuery) -> list[MarketEvent]:
        where = _Where(self.ph)
        if query.after is not None:
            where.add("event_ticker > ?", query.after)
        if query.series_ticker is not None:
            where.add("series_ticker = ?", query.series_ticker)
        if query.tickers is not None:
            where.add(f"event_ticker IN ({', '.join(['?'] * len(query.tickers))})",
                      *query.tickers)
        where.add("mve_collection_ticker IS NOT NULL" if query.mve
                  else "mve_collection_ticker IS NULL")
        if query.collection_ticker is not None:
            where.add("mve_collection_ticker = ?", query.collection_ticker)
        if query.min_updated is not None:
            where.add("updated_ts >= ?", query.min_updated)
        market: list[str] = []
        params: list[Any] = []
        if query.statuses is not None:
            market.append(f"m.status IN ({', '.join(['?'] * len(query.statuses))})")
            params.extend(query.statuses)
        if query.min_close is not None:
            market.append("m.close_time >= ?")
            params.append(query.min_close)
        if market:
            where.add("EXISTS (SELECT 1 FROM markets m WHERE m.event_ticker = "
                      f"events.event_ticker AND {' AND '.join(market)})", *params)
        sql = f"{EVENTS.select}{where.sql()} ORDER BY event_ticker LIMIT {int(query.limit)}"
        return [EVENTS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    async def markets_of_events(self, event_tickers: Sequence[str]) -> list[Market]:
        if not event_tickers:
            return []
        marks = ", ".join(["?"] * len(event_tickers))
        rows = await self.db.fetchall(
            self._q(f"{MARKETS.select} WHERE event_ticker IN ({marks}) "
                    "ORDER BY event_ticker, ticker"), tuple(event_tickers))
        return [MARKETS.from_row(r) for r in rows]

    async def insert_settlement(self, settlement: Settlement) -> None:
        await self.insert_settlements((settlement,))

    async def insert_settlements(self, settlements: Sequence[Settlement]) -> None:
        if settlements:
            await self.db.executemany(SETTLEMENTS.insert_sql(self.ph),
                                      [SETTLEMENTS.to_row(s) for s in settlements])

    async def list_settlements(self, query: PortfolioQuery) -> list[Settlement]:
        where = self._portfolio_where(query, "settled_ts", "id")
        if query.event_ticker is not None:
            where.add("event_ticker = ?", query.event_ticker)
        sql = (f"{SETTLEMENTS.select}{where.sql()} ORDER BY settled_ts DESC, id DESC "
               f"LIMIT {int(query.limit)}")
        return [SETTLEMENTS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    async def positions_on(self, ticker: str) -> list[Position]:
        rows = await self.db.fetchall(
            self._q(POSITIONS.select + " WHERE ticker = ? ORDER BY user_id, subaccount"),
            (ticker,))
        return [POSITIONS.from_row(r) for r in rows]

    async def delete_positions_on(self, ticker: str) -> None:
        await self.db.execute(self._q("DELETE FROM positions WHERE ticker = ?"), (ticker,))

    async def delete_position(self, user_id: str, subaccount: int, ticker: str) -> None:
        await self.db.execute(
            self._q("DELETE FROM positions WHERE user_id = ? AND subaccount = ? AND ticker = ?"),
            (user_id, subaccount, ticker))

    async def insert_collection(self, collection: Collection) -> None:
        await self.db.execute(COLLECTIONS.insert_sql(self.ph), COLLECTIONS.to_row(collection))

    async def get_collection(self, ticker: str) -> Collection | None:
        row = await self.db.fetchone(
            self._q(COLLECTIONS.select + " WHERE collection_ticker = ?"), (ticker,))
        return None if row is None else COLLECTIONS.from_row(row)

    async def list_collections(self, query: CollectionQuery) -> list[Collection]:
        where = _Where(self.ph)
        if query.after is not None:
            where.add("collection_ticker > ?", query.after)
        if query.series_ticker is not None:
            where.add("series_ticker = ?", query.series_ticker)
        if query.associated_event is not None:
            where.add("(',' || associated_events || ',') LIKE ?",
                      f"%,{query.associated_event},%")
        if query.status is not None and query.open_at is not None:
            at = query.open_at
            if query.status == "unopened":
                where.add("open_date > ?", at)
            elif query.status == "open":
                where.add("open_date <= ? AND close_date > ?", at, at)
            else:
                where.add("close_date <= ?", at)
        sql = (f"{COLLECTIONS.select}{where.sql()} ORDER BY collection_ticker "
               f"LIMIT {int(query.limit)}")
        return [COLLECTIONS.from_row(r) for r in await self.db.fetchall(sql, where.params)]

    async def insert_block_trade(self, trade: BlockTrade) -> None:
        await self.db.execute(BLOCK_TRADES.insert_sql(self.ph), BLOCK_TRADES.to_row(trade))

    async def update_block_trade(self, trade: BlockTrade) -> None:
        await self.db.execute(BLOCK_TRADES.update_sql(self.ph, ("id",)),
                              BLOCK_TRADES.update_params(trade, ("id",)))

    async def get_block_trade(self, trade_id: str) -> BlockTrade | None:
        row = await self.db.fetchone(self._q(BLOCK_TRADES.select + " WHERE id = ?"),
                                     (trade_id,))
        return None if row is None else BLOCK_TRADES.from_row(row)

    async def list_block_trades(self, query: BlockTradeQuery) -> list[BlockTrade]:
        where = _Where(self.ph)
        viewer = query.viewer_user_id
        where.add("(proposer_user_id = ? OR buyer_user_id = ? OR seller_user_id = ?)",
                  viewer, viewer, viewer)
        where.keyset("created_ts", "id", query.after)
        if query.market_ticker is not None:
            where.add("market_ticker = ?", query.market_ticker)
        if query.status is not None:
            where.add("status = ?", query.status)
        sql = (f"{BLOCK_TRADES.select}{where.sql()} ORDER BY created_ts DESC, id DESC "
               f"LIMIT {int(query.limit)}")
        return [BLOCK_TRADES.from_row(r) for r in await self.db.fetchall(sql, where.params)]


_JSON_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "bool": (bool,), "str": (str,)}
_INT64 = range(-(2**63), 2**63)


def check_dump(dump: Mapping[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Check a dump against the schema; return each table's rows as tuples in column order.

    The dump must come from this schema version: its tables and columns exactly, each value
    of its column's type (or null where the column allows it). Tables it leaves out load
    empty. ``meta``'s schema version, if present, must be the current one.
    """
    if not isinstance(dump, Mapping):
        raise InvalidDump("a dump is an object of tables")
    unknown = sorted(set(dump) - set(SCHEMA))
    if unknown:
        raise InvalidDump(f"unknown tables in the dump: {', '.join(map(str, unknown))}")
    result: dict[str, list[tuple[Any, ...]]] = {}
    for table in SCHEMA.values():
        items = dump.get(table.name, [])
        if not isinstance(items, list):
            raise InvalidDump(f"table {table.name}: expected a list of rows")
        result[table.name] = [_check_row(table, number, item)
                              for number, item in enumerate(items)]
        keys = {tuple(row[i] for i, c in enumerate(table.columns) if c.name in table.key)
                for row in result[table.name]}
        if len(keys) != len(result[table.name]):
            raise InvalidDump(f"table {table.name}: duplicate primary keys")
    version = str(len(MIGRATIONS))
    meta = {row[0]: row[1] for row in result["meta"]}
    if meta.get("schema_version", version) != version:
        raise InvalidDump(f"the dump is of schema version {meta['schema_version']}; this "
                          f"sandbox reads version {version} only")
    if "schema_version" not in meta:
        result["meta"].append(("schema_version", version))
    return result


def _check_row(table: Table, number: int, item: Any) -> tuple[Any, ...]:
    where = f"table {table.name}, row {number}"
    if not isinstance(item, Mapping):
        raise InvalidDump(f"{where}: expected an object of columns")
    names = [c.name for c in table.columns]
    if set(item) != set(names):
        missing = sorted(set(names) - set(item))
        extra = sorted(set(map(str, item)) - set(names))
        raise InvalidDump(f"{where}: missing columns {missing}, unknown columns {extra}")
    values = []
    for column in table.columns:
        value = item[column.name]
        if value is None:
            if not column.nullable:
                raise InvalidDump(f"{where}: column {column.name} must not be null")
        elif not isinstance(value, _JSON_TYPES[column.kind]) or (
                column.kind == "int" and isinstance(value, bool)):
            raise InvalidDump(f"{where}: column {column.name} must be of type {column.kind}")
        elif column.kind == "int" and value not in _INT64:
            raise InvalidDump(f"{where}: column {column.name} is out of the 64-bit range")
        values.append(value)
    return tuple(values)
