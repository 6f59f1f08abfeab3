"""An identity map over the SQL transaction, for a backend whose one process owns the database.

The embedded SQLite backend is the only writer of its file, so it can remember what it read
and wrote: point lookups (a quote, its RFQ, the market, a balance, a position) are answered
from memory, and updates write only the columns that changed. The hot queries of the RFQ
flow are answered from small indexes of live state (a user's open RFQs; an RFQ's open,
accepted and confirmed quotes; the pending timers by subject), each loaded from the database
on first use and then kept up to date by the writes that pass through here. Everything else
is read from the database, which is always current: every write is executed at once, the
cache only saves reads.

Every change to the cache inside a transaction is journaled; the store undoes the journal
when the transaction rolls back and forgets everything when a commit fails. A backend shared
by several processes (PostgreSQL) uses ``SqlTransaction`` without this layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import Enum
from typing import Any, TypeVar

from kalshi_sandbox.domain.account import Account, ApiKey
from kalshi_sandbox.domain.clock import Instant
from kalshi_sandbox.domain.market import Market
from kalshi_sandbox.domain.portfolio import Position
from kalshi_sandbox.domain.quote import Quote, QuoteStatus
from kalshi_sandbox.domain.rfq import Rfq, RfqStatus
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.storage.sql import (
    ACCOUNTS,
    KEYS,
    MARKETS,
    POSITIONS,
    QUOTES,
    RFQS,
    Driver,
    SqlTransaction,
)

K = TypeVar("K")
V = TypeVar("V")


class _Missing(Enum):
    MISSING = 0


MISSING = _Missing.MISSING
"""Not in the cache (as opposed to None: known not to exist)."""


class _Reset(Enum):
    RESET = 0


RESET = _Reset.RESET
"""A journal key: undoing the entry empties the whole dict (it was empty before a load)."""

LIVE = frozenset((QuoteStatus.OPEN, QuoteStatus.ACCEPTED, QuoteStatus.CONFIRMED))
_LIVE_SQL = ", ".join(f"'{s.value}'" for s in sorted(LIVE))
_ID = ("id",)
_TICKER = ("ticker",)
_POSITION_KEY = ("user_id", "subaccount", "ticker")

Entry = tuple[dict[Any, Any], Any, Any]
"""A journal entry: the dict, the key, and the value before the change (or MISSING)."""


class CachingTransaction(SqlTransaction):
    """``SqlTransaction`` with an identity map and live-state indexes in front of it."""

    def __init__(self, driver: Driver, limit: int = 50_000) -> None:
        super().__init__(driver)
        self.limit = limit
        self._journal: list[Entry] = []
        self._accounts: dict[str, Account | None] = {}
        self._keys: dict[str, ApiKey | None] = {}
        self._balances: dict[tuple[str, int], tuple[int, Instant] | None] = {}
        self._markets: dict[str, Market | None] = {}
        self._rfqs: dict[str, Rfq | None] = {}
        self._quotes: dict[str, Quote | None] = {}
        self._positions: dict[tuple[str, int, str], Position | None] = {}
        self._meta: dict[str, str | None] = {}
        self._open_rfqs: dict[str, dict[str, str]] = {}
        """user id -> {id: market ticker} of every open RFQ of the user."""
        self._live_quotes: dict[str, dict[str, None]] = {}
        """RFQ id -> ids of every open, accepted or confirmed quote on it."""
        self._known: dict[str, bool] = {}
        """Facts about whole tables: ``timers`` (the two timer maps are complete) and
        ``orphans`` (some quote may name an RFQ that does not exist)."""
        self._timers: dict[str, dict[int, None]] = {}
        """Subject -> ids of its pending timers; every pending timer, once ``timers`` is known."""
        self._timer_subjects: dict[int, str] = {}
        """Timer id -> subject, for every pending timer once ``timers`` is known."""
        self._maps: tuple[dict[Any, Any], ...] = (
            self._accounts, self._keys, self._balances, self._markets, self._rfqs,
            self._quotes, self._positions, self._meta, self._open_rfqs, self._live_quotes)
        self._complete: tuple[dict[Any, Any], ...] = (
            self._known, self._timers, self._timer_subjects)
        """Maps that are whole or empty: never trimmed, forgotten together."""
        self._select_balance = self._q(
            "SELECT micros, updated_ts FROM balances WHERE user_id = ? AND subaccount = ?")
        self._insert_balance = self._q(
            "INSERT INTO balances (user_id, subaccount, micros, updated_ts) VALUES (?, ?, ?, ?)")
        self._update_balance = self._q(
            "UPDATE balances SET micros = ?, updated_ts = ? WHERE user_id = ? AND subaccount = ?")
        self._insert_position = POSITIONS.insert_sql(self.ph)
        self._open_rfq_ids = self._q(
            "SELECT id, market_ticker FROM rfqs WHERE creator_user_id = ? AND status = ? "
            "ORDER BY created_ts, id")
        self._live_quote_rows = self._q(
            f"{QUOTES.select} WHERE rfq_id = ? AND status IN ({_LIVE_SQL}) "
            "ORDER BY created_ts, id")

    # Journal -----------------------------------------------------------------------------

    def _put(self, cache: dict[K, V], key: K, value: V) -> None:
        self._journal.append((cache, key, cache.get(key, MISSING)))
        cache[key] = value

    def _drop(self, cache: dict[K, V], key: K) -> None:
        old = cache.pop(key, MISSING)
        if old is not MISSING:
            self._journal.append((cache, key, old))

    def keep(self) -> None:
        """Keep the cache changes of the transaction that just ended well."""
        self._journal.clear()

    def undo(self) -> None:
        """Undo the cache changes of the transaction that just rolled back."""
        journal = self._journal
        while journal:
            cache, key, old = journal.pop()
            if key is RESET:
                cache.clear()
            elif old is MISSING:
                cache.pop(key, None)
            else:
                cache[key] = old

    def forget(self) -> None:
        """Forget everything (the database changed behind the cache, or a commit failed)."""
        for cache in (*self._maps, *self._complete):
            cache.clear()

    def sizes(self) -> dict[str, int]:
        """Return how many entries each map holds (for diagnostics and tests)."""
        names = ("accounts", "keys", "balances", "markets", "rfqs", "quotes", "positions",
                 "meta", "open_rfqs", "live_quotes", "known", "timers", "timer_subjects")
        return dict(zip(names, map(len, (*self._maps, *self._complete)), strict=True))

    def trim(self) -> None:
        """Bound memory: drop the oldest entries of any map grown past the limit.

        Call between transactions only; dropping an entry is always safe, since a miss
        reads the database.
        """
        for cache in self._maps:
            excess = len(cache) - self.limit
            if excess > 0:
                excess += self.limit // 4
                for key in [k for k, _ in zip(cache, range(excess), strict=False)]:
                    del cache[key]

    # Metadata ----------------------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        value = self._meta.get(key, MISSING)
        if value is MISSING:
            value = await super().get_meta(key)
            self._put(self._meta, key, value)
        return value

    async def set_meta(self, key: str, value: str) -> None:
        old = await self.get_meta(key)
        if old == value:
            return
        if old is None:
            await self.db.execute(self._q("INSERT INTO meta (key, value) VALUES (?, ?)"),
                                  (key, value))
        else:
            await self.db.execute(self._q("UPDATE meta SET value = ? WHERE key = ?"),
                                  (value, key))
        self._put(self._meta, key, value)

    # Accounts and keys -------------------------------------------------------------------

    async def insert_account(self, account: Account) -> None:
        await self.db.execute(ACCOUNTS.insert_sql(self.ph), ACCOUNTS.to_row(account))
        self._put(self._accounts, account.user_id, account)

    async def get_account(self, user_id: str) -> Account | None:
        account = self._accounts.get(user_id, MISSING)
        if account is MISSING:
            account = await super().get_account(user_id)
            self._put(self._accounts, user_id, account)
        return account

    async def insert_key(self, key: ApiKey) -> None:
        await self.db.execute(KEYS.insert_sql(self.ph), KEYS.to_row(key))
        self._put(self._keys, key.key_id, key)

    async def get_key(self, key_id: str) -> ApiKey | None:
        key = self._keys.get(key_id, MISSING)
        if key is MISSING:
            key = await super().get_key(key_id)
            self._put(self._keys, key_id, key)
        return key

    # Balances ----------------------------------------------------------------------------

    async def _balance(self, user_id: str, subaccount: int) -> tuple[int, Instant] | None:
        entry = self._balances.get((user_id, subaccount), MISSING)
        if entry is MISSING:
            row = await self.db.fetchone(self._select_balance, (user_id, subaccount))
            entry = None if row is None else (int(row[0]), int(row[1]))
            self._put(self._balances, (user_id, subaccount), entry)
        return entry

    async def get_balance(self, user_id: str, subaccount: int) -> int:
        entry = await self._balance(user_id, subaccount)
        return 0 if entry is None else entry[0]

    async def balance_updated_ts(self, user_id: str, subaccount: int) -> Instant | None:
        entry = await self._balance(user_id, subaccount)
        return None if entry is None else entry[1]

    async def set_balance(self, user_id: str, subaccount: int, micros: int,
                          now: Instant) -> None:
        if await self._balance(user_id, subaccount) is None:
            await self.db.execute(self._insert_balance, (user_id, subaccount, micros, now))
        else:
            await self.db.execute(self._update_balance, (micros, now, user_id, subaccount))
        self._put(self._balances, (user_id, subaccount), (micros, now))

    # Markets -----------------------------------------------------------------------------

    async def insert_market(self, market: Market) -> None:
        await super().insert_market(market)
        self._put(self._markets, market.ticker, market)

    async def get_market(self, ticker: str) -> Market | None:
        market = self._markets.get(ticker, MISSING)
        if market is MISSING:
            market = await super().get_market(ticker)
            self._put(self._markets, ticker, market)
        return market

    async def update_market(self, market: Market) -> None:
        old = await self.get_market(market.ticker)
        if old is None:
            return  # no such row: nothing to update
        await self._update(MARKETS, old, market, _TICKER)
        self._put(self._markets, market.ticker, market)

    # RFQs --------------------------------------------------------------------------------

    async def insert_rfq(self, rfq: Rfq) -> None:
        # Asked before the insert: until then no quote can name the new id, unless some
        # quote names an RFQ that does not exist.
        without_quotes = not await self._orphans_possible()
        await self.db.execute(self._rfq_insert, RFQS.to_row(rfq))
        self._put(self._rfqs, rfq.id, rfq)
        index = self._open_rfqs.get(rfq.creator_user_id)
        if index is not None and rfq.status is RfqStatus.OPEN:
            self._put(index, rfq.id, rfq.market_ticker)
        if without_quotes:
            self._put(self._live_quotes, rfq.id, {})

    async def _orphans_possible(self) -> bool:
        """Return True if a stored quote may name an RFQ that does not exist."""
        known = self._known.get("orphans")
        if known is None:
            row = await self.db.fetchone(
                "SELECT 1 FROM quotes WHERE rfq_id NOT IN (SELECT id FROM rfqs) LIMIT 1")
            known = row is not None
            self._put(self._known, "orphans", known)
        return known

    async def get_rfq(self, rfq_id: str) -> Rfq | None:
        rfq = self._rfqs.get(rfq_id, MISSING)
        if rfq is MISSING:
            rfq = await super().get_rfq(rfq_id)
            self._put(self._rfqs, rfq_id, rfq)
        return rfq

    async def update_rfq(self, rfq: Rfq) -> None:
        old = await self.get_rfq(rfq.id)
        if old is None:
            return
        await self._update(RFQS, old, rfq, _ID)
        self._put(self._rfqs, rfq.id, rfq)
        if old.creator_user_id != rfq.creator_user_id:
            index = self._open_rfqs.get(old.creator_user_id)
            if index is not None:
                self._drop(index, rfq.id)
        index = self._open_rfqs.get(rfq.creator_user_id)
        if index is not None:
            if rfq.status is RfqStatus.OPEN:
                if index.get(rfq.id) != rfq.market_ticker:
                    self._put(index, rfq.id, rfq.market_ticker)
            else:
                self._drop(index, rfq.id)

    async def _open_rfq_index(self, user_id: str) -> dict[str, str]:
        index = self._open_rfqs.get(user_id)
        if index is None:
            rows = await self.db.fetchall(self._open_rfq_ids, (user_id, RfqStatus.OPEN.value))
            index = {str(r[0]): str(r[1]) for r in rows}
            self._put(self._open_rfqs, user_id, index)
        return index

    async def _rfqs_of(self, ids: Sequence[str]) -> list[Rfq]:
        found = [await self.get_rfq(i) for i in ids]
        return sorted((r for r in found if r is not None), key=lambda r: (r.created_ts, r.id))

    async def open_rfqs_of(self, user_id: str) -> list[Rfq]:
        return await self._rfqs_of(list(await self._open_rfq_index(user_id)))

    async def count_open_rfqs(self, user_id: str) -> int:
        return len(await self._open_rfq_index(user_id))

    async def open_rfq_on_market(self, user_id: str, market_ticker: str) -> Rfq | None:
        index = await self._open_rfq_index(user_id)
        found = await self._rfqs_of([i for i, m in index.items() if m == market_ticker])
        return found[0] if found else None

    # Quotes ------------------------------------------------------------------------------

    async def insert_quote(self, quote: Quote) -> None:
        await self.db.execute(self._quote_insert, QUOTES.to_row(quote))
        self._put(self._quotes, quote.id, quote)
        if self._known.get("orphans") is False and await self.get_rfq(quote.rfq_id) is None:
            self._put(self._known, "orphans", True)
        index = self._live_quotes.get(quote.rfq_id)
        if index is not None and quote.status in LIVE:
            self._put(index, quote.id, None)

    async def get_quote(self, quote_id: str) -> Quote | None:
        quote = self._quotes.get(quote_id, MISSING)
        if quote is MISSING:
            quote = await super().get_quote(quote_id)
            self._put(self._quotes, quote_id, quote)
        return quote

    async def update_quote(self, quote: Quote) -> None:
        old = await self.get_quote(quote.id)
        if old is None:
            return
        await self._update(QUOTES, old, quote, _ID)
        self._put(self._quotes, quote.id, quote)
        if old.rfq_id != quote.rfq_id:
            index = self._live_quotes.get(old.rfq_id)
            if index is not None:
                self._drop(index, quote.id)
            if self._known.get("orphans") is False and await self.get_rfq(quote.rfq_id) is None:
                self._put(self._known, "orphans", True)
        index = self._live_quotes.get(quote.rfq_id)
        if index is not None:
            if quote.status not in LIVE:
                self._drop(index, quote.id)
            elif quote.id not in index:
                self._put(index, quote.id, None)

    async def quotes_of_rfq(self, rfq_id: str, statuses: Sequence[QuoteStatus]) -> list[Quote]:
        if not LIVE.issuperset(statuses):
            return await super().quotes_of_rfq(rfq_id, statuses)
        index = self._live_quotes.get(rfq_id)
        if index is None:
            rows = await self.db.fetchall(self._live_quote_rows, (rfq_id,))
            index = {}
            for row in rows:
                quote = QUOTES.from_row(row)
                # The cached version, where there is one, is the same row already decoded.
                if self._quotes.get(quote.id, MISSING) is MISSING:
                    self._put(self._quotes, quote.id, quote)
                index[quote.id] = None
            self._put(self._live_quotes, rfq_id, index)
        wanted = set(statuses)
        found = [q for i in index if (q := await self.get_quote(i)) is not None
                 and q.status in wanted]
        found.sort(key=lambda q: (q.created_ts, q.id))
        return found

    async def delete_quotes_in(self, status: QuoteStatus) -> int:
        deleted = await super().delete_quotes_in(status)
        if deleted:
            # Rare (start-up): rather than find what went, forget every quote.
            self._quotes.clear()
            self._live_quotes.clear()
        return deleted

    # Positions ---------------------------------------------------------------------------

    async def get_position(self, user_id: str, subaccount: int, ticker: str) -> Position | None:
        key = (user_id, subaccount, ticker)
        position = self._positions.get(key, MISSING)
        if position is MISSING:
            position = await super().get_position(user_id, subaccount, ticker)
            self._put(self._positions, key, position)
        return position

    async def upsert_position(self, position: Position) -> None:
        key = (position.user_id, position.subaccount, position.ticker)
        old = await self.get_position(*key)
        if old is None:
            await self.db.execute(self._insert_position, POSITIONS.to_row(position))
        else:
            await self._update(POSITIONS, old, position, _POSITION_KEY)
        self._put(self._positions, key, position)

    async def delete_positions_on(self, ticker: str) -> None:
        await super().delete_positions_on(ticker)
        for key in [key for key in self._positions if key[2] == ticker]:
            self._put(self._positions, key, None)

    async def delete_position(self, user_id: str, subaccount: int, ticker: str) -> None:
        await super().delete_position(user_id, subaccount, ticker)
        self._put(self._positions, (user_id, subaccount, ticker), None)

    # Timers ------------------------------------------------------------------------------

    async def _timer_maps(self) -> None:
        """Load every pending timer's id and subject (pending timers are few)."""
        if self._known.get("timers"):
            return
        rows = await self.db.fetchall("SELECT id, subject FROM timers")
        for timer_id, subject in rows:
            index = self._timers.get(subject)
            if index is None:
                index = self._timers[subject] = {}
            index[int(timer_id)] = None
            self._timer_subjects[int(timer_id)] = str(subject)
        # Journaled as a whole: undone, both maps are emptied and "timers" is unknown again.
        self._journal.append((self._timers, RESET, MISSING))
        self._journal.append((self._timer_subjects, RESET, MISSING))
        self._put(self._known, "timers", True)

    async def add_timer(self, kind: TimerKind, subject: str, due: Instant) -> Timer:
        timer = await super().add_timer(kind, subject, due)
        if self._known.get("timers"):
            index = self._timers.get(subject)
            if index is None:
                index = {}
                self._put(self._timers, subject, index)
            self._put(index, timer.id, None)
            self._put(self._timer_subjects, timer.id, subject)
        return timer

    async def take_timer(self, timer_id: int) -> bool:
        await self._timer_maps()
        subject = self._timer_subjects.get(timer_id)
        if subject is None:
            return False
        taken = await super().take_timer(timer_id)
        self._drop(self._timer_subjects, timer_id)
        index = self._timers.get(subject)
        if index is not None:
            self._drop(index, timer_id)
            if not index:
                # These maps are never trimmed: a subject without timers leaves no trace.
                self._drop(self._timers, subject)
        return taken

    async def cancel_timers(self, subject: str) -> list[int]:
        await self._timer_maps()
        index = self._timers.get(subject)
        if not index:
            return []
        ids = sorted(index)
        marks = ", ".join([self.ph] * len(ids))
        await self.db.execute(f"DELETE FROM timers WHERE id IN ({marks})", ids)
        self._drop(self._timers, subject)
        for timer_id in ids:
            self._drop(self._timer_subjects, timer_id)
        return ids

    # Whole state -------------------------------------------------------------------------

    async def load(self, dump: Mapping[str, Any]) -> None:
        await super().load(dump)
        self.forget()
