"""The PostgreSQL backend: one exchange shared by any number of sandbox instances.

Driver: asyncpg. It speaks PostgreSQL's binary protocol from an asyncio-native core written
in Cython, prepares and caches every statement per connection, and costs several times less
CPU per query than psycopg 3's async mode, which matters because the sandbox runs a few short
statements per transaction on the event loop's thread. The sandbox needs none of psycopg's
extras (server-side cursors, COPY adaptation, a sync API).

Serialisation across instances. Every transaction, read or write, first takes one
transaction-scoped advisory lock (``pg_advisory_xact_lock``) on the exchange, then runs at
READ COMMITTED: transactions of every instance run one at a time, each seeing everything
committed before it, and the lock is released by its COMMIT or ROLLBACK (or by the server
when an instance dies mid-transaction). This is the store port's own contract ("a
transaction's block runs alone"), held across processes: no use case needs row locks,
retries or a changed read pattern, and no anomaly of weaker isolation can reach it. The
price is that database work does not overlap between instances; the HTTP stack, signature
checks and rendering, most of a request's CPU, do (docs/deploy.md, bench/PERFLOG.md).
``stats`` counts the transactions that found the lock taken (lock waits) and the ones run
again after a lost connection (retries: none are, a failed commit raises).

Each transaction starts with one call of ``sandbox_begin()``: take the lock (counting a
wait if it was taken), then read the ``sandbox_sync`` row: a version that every committing
transaction that changed something moves on, the sequence number of the last committed
event batch, and an epoch that moves when an instance replaces the whole state (a reset, a
restored snapshot: ``announce_replaced``), on which the others call ``on_foreign_replace``.
An instance that finds the version moved by someone else calls its
``on_foreign_change`` hooks (the in-memory order books forget themselves) and delivers the
other instances' event batches it has not delivered yet (``EventRelay``) before its own.
Event batches are rows of ``sandbox_events`` numbered under the lock, so in commit order and
without gaps; a NOTIFY at commit wakes the other instances' relays.

The identity map of the SQLite backend (storage/cache.py) is not used: another instance may
change any row between two transactions. Past 500 lines on purpose: the coordination
protocol (begin, commit, relay) and the driver share one connection's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

import asyncpg

from kalshi_sandbox.domain.events import Event
from kalshi_sandbox.exchange.ports import (
    CommitObserver,
    Dump,
    IntegrityViolation,
    StorageError,
    Transaction,
)
from kalshi_sandbox.exchange.tasks import cancel_task
from kalshi_sandbox.storage.eventcodec import decode_batch, encode_batch
from kalshi_sandbox.storage.schema import MIGRATIONS, TABLES
from kalshi_sandbox.storage.sql import SqlTransaction

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x6B73  # "ks"
"""The high 16 bits of the sandbox's advisory lock keys."""
TRANSACTION_LOCK = 1
"""The advisory lock every transaction takes (per schema: see ``lock_key``)."""
MIGRATION_LOCK = 2
"""Held while an instance brings the schema up to date, so two never migrate at once."""
STARTUP_LOCK = 3
"""Held (per session) while an instance starts: seeding and restoring run one at a time."""


def lock_key(kind: int, schema_hash: int) -> int:
    """Return the advisory lock key of ``kind`` for the schema whose ``hashtext`` is given.

    Advisory locks are per database; keying them by schema lets sandboxes in different
    schemas of one database (tests, say) run without waiting for one another. Two schemas
    whose names hash alike would share their locks: slower, never wrong.
    """
    return (LOCK_NAMESPACE << 48) | ((kind & 0xFFFF) << 32) | (schema_hash & 0xFFFF_FFFF)

STATEMENT_CACHE = 2048
"""Prepared statements kept per connection: listings build many distinct WHERE clauses."""

COORDINATION = """
CREATE TABLE IF NOT EXISTS sandbox_sync (
    id INTEGER PRIMARY KEY,
    version BIGINT NOT NULL,
    last_event BIGINT NOT NULL,
    epoch BIGINT NOT NULL DEFAULT 0
);
INSERT INTO sandbox_sync (id, version, last_event) VALUES (1, 0, 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS sandbox_events (
    seq BIGINT PRIMARY KEY,
    payload BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS sandbox_buckets (
    user_id TEXT NOT NULL,
    bucket TEXT NOT NULL,
    tokens BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    paid BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, bucket)
);
CREATE OR REPLACE FUNCTION sandbox_begin(lock_key BIGINT, OUT waited BOOLEAN,
                                         OUT version BIGINT, OUT last_event BIGINT,
                                         OUT epoch BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    waited := NOT pg_try_advisory_xact_lock(lock_key);
    IF waited THEN
        PERFORM pg_advisory_xact_lock(lock_key);
    END IF;
    -- A new statement, so a new snapshot: it sees every commit made before the lock.
    SELECT s.version, s.last_event, s.epoch INTO version, last_event, epoch
    FROM sandbox_sync s WHERE id = 1;
END $$;
"""
"""Tables and the begin function of the coordination protocol (PostgreSQL only, idempotent).

They are not part of the sandbox's state: no dump, wipe or snapshot touches them."""

EVENTS_CHANNEL = "sandbox_events"
EVENTS_KEPT = 100_000
"""Event batches kept for instances catching up; older ones are deleted as new ones come."""

NO_SCHEMA = ("no schema of the search_path exists in the database: create it (CREATE SCHEMA) "
             "or name an existing one in the URL's options=-csearch_path%3D<schema>")

_PLACEHOLDER = re.compile(r"\?")


def _numbered(sql: str) -> str:
    """Rewrite the portable ``?`` placeholders as PostgreSQL's ``$1, $2, ...``."""
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


def _rowcount(status: str) -> int:
    tail = status.rsplit(" ", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _storage_error(exc: BaseException) -> StorageError:
    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityViolation(str(exc))
    return StorageError(f"{type(exc).__name__}: {exc}")


_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, OverflowError,
                  asyncio.TimeoutError)


def _encode_bool(value: Any) -> bytes:
    # The row mapper hands booleans to drivers as 0 and 1 (sqlite3 binds ints fastest).
    return b"\x01" if value else b"\x00"


def _decode_bool(data: bytes) -> bool:
    return data == b"\x01"


class _PgDriver:
    """The SQL layer's ``Driver`` over one asyncpg connection."""

    placeholder = "?"

    def __init__(self) -> None:
        self.connection: asyncpg.Connection | None = None
        self._sql: dict[str, str] = {}
        self.changed = False
        """Whether the running transaction executed a write."""

    def _conn(self, sql: str) -> tuple[asyncpg.Connection, str]:
        connection = self.connection
        if connection is None:
            raise StorageError("the store is not open")
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = _numbered(sql)
        return connection, text

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        connection, text = self._conn(sql)
        self.changed = True
        try:
            return _rowcount(await connection.execute(text, *params))
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Any] | None:
        connection, text = self._conn(sql)
        if not sql.startswith("SELECT"):
            self.changed = True
        try:
            row = await connection.fetchrow(text, *params)
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc
        return cast("Sequence[Any] | None", row)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        connection, text = self._conn(sql)
        if not sql.startswith("SELECT"):
            self.changed = True
        try:
            return cast("list[Sequence[Any]]", await connection.fetch(text, *params))
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc

    async def insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        connection, text = self._conn(sql + " RETURNING id")
        self.changed = True
        try:
            value = await connection.fetchval(text, *params)
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc
        return int(value)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        connection, text = self._conn(sql)
        self.changed = True
        try:
            await connection.executemany(text, rows)
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc


class PgTransaction(SqlTransaction):
    """``SqlTransaction`` that also records the transaction's events for every instance."""

    def __init__(self, driver: _PgDriver) -> None:
        super().__init__(driver)
        self.pg = driver
        self.last_event = 0
        """The last event batch committed before this transaction (read under the lock)."""
        self.recorded: list[tuple[int, Sequence[Event]]] = []
        self.payloads: list[str] = []
        """The recorded batches, encoded, in hexadecimal (safe to write into SQL text)."""

    async def record_events(self, events: Sequence[Event]) -> None:
        """Store ``events`` as the next batch; every instance's relay delivers it.

        The row is written by the COMMIT's own round trip (``PostgresStore._commit``).
        """
        seq = self.last_event + len(self.recorded) + 1
        self.recorded.append((seq, events))
        self.payloads.append(encode_batch(events).hex())
        self.pg.changed = True


@dataclass
class PgStats:
    """Counters of the coordination protocol, for ``make bench`` and diagnostics."""

    transactions: int = 0
    lock_waits: int = 0
    """Transactions that found the exchange lock held by another instance's transaction."""
    foreign_changes: int = 0
    """Transactions that found changes committed by another instance since this one's last."""
    retries: int = 0
    """Transactions run again (never: a failed transaction raises; kept for the bench)."""
    held_seconds: float = 0.0
    """Time the exchange lock was held by this instance's transactions, by the event loop's
    monotonic clock (diagnostics only: nothing is decided by it)."""

    def as_dict(self) -> dict[str, float]:
        return {"transactions": self.transactions, "lock_waits": self.lock_waits,
                "foreign_changes": self.foreign_changes, "retries": self.retries,
                "held_seconds": self.held_seconds}


class _Unit:
    """One transaction (see the module docstring)."""

    __slots__ = ("_store",)

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def __aenter__(self) -> Transaction:
        return await self._store._begin()

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self._store._end(kind is None)


class PostgresStore:
    """A ``Store`` in a PostgreSQL database (optionally in one schema of it)."""

    def __init__(self, dsn: str, *, schema: str | None = None,
                 create_schema: bool = False) -> None:
        self.dsn = dsn
        self.schema = schema
        self.create_schema = create_schema
        self.stats = PgStats()
        self.on_foreign_change: list[Callable[[], None]] = []
        """Called (inside a transaction) when another instance changed something since this
        instance's last transaction: memory kept beside the database forgets itself."""
        self.on_foreign_replace: list[Callable[[], None]] = []
        """Called (inside a transaction) when another instance replaced the whole state
        (a reset, a restored snapshot) since this instance's last transaction."""
        self.relay: EventRelay | None = None
        """Set to deliver every instance's event batches in order (``EventRelay``)."""
        self._driver = _PgDriver()
        self._tx = PgTransaction(self._driver)
        self._lock = asyncio.Lock()
        self._version = -1
        self._epoch = -1
        self._observer: CommitObserver | None = None
        self._schema_hash = 0
        self._held_since = 0.0

    def observe_commits(self, observer: CommitObserver | None) -> None:
        """Tell ``observer`` of every commit that changes something."""
        self._observer = observer

    def _server_settings(self) -> dict[str, str]:
        settings = {"application_name": "kalshi-sandbox"}
        if self.schema is not None:
            settings["search_path"] = self.schema
        return settings

    async def pool(self, size: int) -> asyncpg.Pool:
        """Open a pool of ``size`` connections to the store's database and schema."""
        try:
            pool: asyncpg.Pool = await asyncpg.create_pool(
                self.dsn, min_size=1, max_size=size, statement_cache_size=STATEMENT_CACHE,
                server_settings=self._server_settings())
        except (*_DRIVER_ERRORS, ValueError) as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {redact(self.dsn)}: "
                               f"{exc}") from exc
        return pool

    async def connect(self) -> asyncpg.Connection:
        """Open a new connection to the store's database and schema."""
        settings = self._server_settings()
        try:
            connection: asyncpg.Connection = await asyncpg.connect(
                self.dsn, statement_cache_size=STATEMENT_CACHE, server_settings=settings)
        except (*_DRIVER_ERRORS, ValueError) as exc:
            raise StorageError(f"cannot connect to PostgreSQL at {redact(self.dsn)}: "
                               f"{exc}") from exc
        await connection.set_type_codec("bool", schema="pg_catalog", encoder=_encode_bool,
                                        decoder=_decode_bool, format="binary")
        return connection

    async def open(self) -> None:
        if self.create_schema and self.schema is not None:
            bootstrap = await PostgresStore(self.dsn).connect()
            try:
                await bootstrap.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            finally:
                await bootstrap.close()
        connection = await self.connect()
        try:
            await self._migrate(connection)
        except BaseException:
            await connection.close()
            raise
        self._driver.connection = connection
        self._version = -1
        if self.relay is not None:
            self.relay.delivered = -1

    def lock_key(self, kind: int) -> int:
        """Return this store's advisory lock key of ``kind`` (known once opened)."""
        return lock_key(kind, self._schema_hash)

    async def _migrate(self, connection: asyncpg.Connection) -> None:
        try:
            schema_hash = await connection.fetchval("SELECT hashtext(current_schema())")
            if schema_hash is None:
                raise StorageError(NO_SCHEMA)
            self._schema_hash = int(schema_hash)
            async with connection.transaction():
                await connection.execute(
                    f"SELECT pg_advisory_xact_lock({self.lock_key(MIGRATION_LOCK)})")
                exists = await connection.fetchval("SELECT to_regclass('meta') IS NOT NULL")
                version = 0
                if exists:
                    value = await connection.fetchval(
                        "SELECT value FROM meta WHERE key = 'schema_version'")
                    version = int(value) if value is not None else 0
                if version > len(MIGRATIONS):
                    raise StorageError(
                        f"database schema version {version} is newer than this sandbox "
                        f"({len(MIGRATIONS)}); upgrade kalshi-sandbox")
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    await connection.execute(script.format(id="BIGSERIAL PRIMARY KEY"))
                    await connection.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', $1) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", str(number))
                await connection.execute(COORDINATION)
        except _DRIVER_ERRORS as exc:
            raise StorageError(f"cannot migrate the PostgreSQL database: {exc}") from exc

    async def close(self) -> None:
        async with self._lock:
            connection, self._driver.connection = self._driver.connection, None
            if connection is not None:
                with contextlib.suppress(*_DRIVER_ERRORS):
                    await connection.close(timeout=5)

    def transaction(self) -> _Unit:
        """Begin a transaction: one at a time here, one at a time across instances."""
        return _Unit(self)

    @asynccontextmanager
    async def deferred(self) -> AsyncIterator[None]:
        # Each transaction commits at its own exit: there is no group to wait for.
        yield

    # The transaction protocol ----------------------------------------------------------

    async def _begin(self) -> PgTransaction:
        await self._lock.acquire()
        try:
            connection = self._driver.connection
            if connection is None or connection.is_closed():
                if connection is None:
                    raise StorageError("the store is not open")
                self._driver.connection = connection = await self.connect()
            try:
                await connection.execute("BEGIN")
                row = await connection.fetchrow(
                    "SELECT waited, version, last_event, epoch FROM sandbox_begin($1)",
                    self.lock_key(TRANSACTION_LOCK))
                assert row is not None
                waited, version, last_event, epoch = row
            except _DRIVER_ERRORS as exc:
                await self._rollback_quietly()
                raise _storage_error(exc) from exc
            stats = self.stats
            stats.transactions += 1
            if waited:
                stats.lock_waits += 1
            self._held_since = asyncio.get_running_loop().time()
            tx = self._tx
            tx.last_event = last_event
            tx.recorded.clear()
            tx.payloads.clear()
            tx.callbacks.clear()
            self._driver.changed = False
            if epoch != self._epoch:
                if self._epoch >= 0:
                    for replaced in self.on_foreign_replace:
                        replaced()
                self._epoch = epoch
            if version != self._version:
                if self._version >= 0:
                    stats.foreign_changes += 1
                for hook in self.on_foreign_change:
                    hook()
                self._version = version
            relay = self.relay
            if relay is not None:
                if relay.delivered < 0:
                    # The first transaction since opening: follow what commits from now on.
                    relay.delivered = last_event
                elif relay.delivered < last_event:
                    await relay.catch_up(connection, last_event)
            return tx
        except BaseException:
            self._lock.release()
            raise

    async def _end(self, success: bool) -> None:
        tx = self._tx
        try:
            if not success:
                tx.callbacks.clear()
                await self._rollback_quietly()
                return
            await self._commit(tx)
        finally:
            tx.recorded = []
            tx.payloads = []
            self.stats.held_seconds += asyncio.get_running_loop().time() - self._held_since
            self._lock.release()

    async def _commit(self, tx: PgTransaction) -> None:
        connection = self._driver.connection
        assert connection is not None
        changed = self._driver.changed
        observer = self._observer if changed else None
        try:
            if changed:
                if observer is not None:
                    observer.changed()
                    for key, value in observer.committing().items():
                        await tx.set_meta(key, value)
                last = tx.last_event + len(tx.recorded)
                self._version += 1
                # One round trip: the event rows, the sync row, the NOTIFY and the COMMIT.
                # Every value written into the text is an int or hexadecimal digits.
                rows = "".join(
                    f"INSERT INTO sandbox_events (seq, payload) VALUES "
                    f"({seq}, decode('{payload}', 'hex')); "
                    for (seq, _), payload in zip(tx.recorded, tx.payloads, strict=True))
                notify = f"; NOTIFY {EVENTS_CHANNEL}, '{last}'" if tx.recorded else ""
                prune = (f"; DELETE FROM sandbox_events WHERE seq <= {last - EVENTS_KEPT}"
                         if tx.recorded and last % 1000 == 0 else "")
                await connection.execute(
                    f"{rows}UPDATE sandbox_sync SET version = {self._version}, "
                    f"last_event = {last} WHERE id = 1{notify}{prune}; COMMIT")
            else:
                await connection.execute("COMMIT")
        except _DRIVER_ERRORS as exc:
            self._version = -1
            tx.callbacks.clear()
            await self._rollback_quietly()
            if observer is not None:
                observer.rolled_back()
            raise _storage_error(exc) from exc
        except BaseException:
            self._version = -1
            tx.callbacks.clear()
            await self._rollback_quietly()
            if observer is not None:
                observer.rolled_back()
            raise
        if observer is not None:
            observer.committed()
        relay = self.relay
        if relay is not None:
            for seq, batch in tx.recorded:
                relay.deliver(seq, batch)
        callbacks, tx.callbacks = tx.callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("on-commit callback failed")

    async def _rollback_quietly(self) -> None:
        connection = self._driver.connection
        if connection is None or connection.is_closed():
            return
        try:
            await connection.execute("ROLLBACK")
        except _DRIVER_ERRORS:
            # The connection is unusable: drop it; the next transaction reconnects.
            log.warning("rollback failed; reconnecting")
            connection.terminate()

    async def announce_replaced(self) -> None:
        """Tell the other instances that this one replaced the whole state (they reload)."""
        async with self.transaction():
            value = await self._tx.pg.fetchone(
                "UPDATE sandbox_sync SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch")
            assert value is not None
            self._epoch = int(value[0])

    # Whole state -----------------------------------------------------------------------

    async def wipe(self) -> None:
        async with self.transaction():
            for table in TABLES:
                if table != "meta":
                    await self._driver.execute(f"DELETE FROM {table}")
            await self._driver.execute("DELETE FROM meta WHERE key <> 'schema_version'")

    async def dump(self) -> Dump:
        async with self.transaction() as tx:
            assert isinstance(tx, PgTransaction)
            return await tx.dump()

    async def load(self, dump: Mapping[str, Any]) -> None:
        async with self.transaction() as tx:
            assert isinstance(tx, PgTransaction)
            await tx.load(dump)
            # Loaded timers keep their ids: new ones must be numbered after them.
            await self._driver.execute(
                "SELECT setval(pg_get_serial_sequence('timers', 'id'), "
                "GREATEST((SELECT MAX(id) FROM timers), 1), "
                "(SELECT MAX(id) FROM timers) IS NOT NULL)")


class EventRelay:
    """Delivers every instance's committed event batches to this instance, in order, once.

    Batches carry their sequence number; one is handed to ``publish`` only after every
    lower one, so listeners (the WebSocket fan-out, market data) see one history, the same
    on every instance. This instance's own batches arrive from its commits; the others'
    are read from ``sandbox_events`` when a transaction begins behind them, or when a
    NOTIFY (or, should one be missed, the poll) wakes the listening connection.
    """

    def __init__(self, store: PostgresStore, publish: Callable[[Sequence[Event]], None],
                 *, poll: float = 1.0) -> None:
        self.store = store
        self.publish = publish
        self.poll = poll
        self.delivered = -1
        """The last batch delivered here (-1: none yet; the store's first transaction sets
        it to the last one committed, the history before is not delivered)."""
        self._pending: dict[int, Sequence[Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wakeup = asyncio.Event()
        self._connection: asyncpg.Connection | None = None
        self.foreign_batches = 0
        """Batches committed by other instances and delivered here."""

    async def start(self) -> None:
        """Follow the batches other instances commit, even while this one is idle."""
        async with self.store.transaction():
            pass  # places ``delivered`` if no transaction has yet
        self._connection = await self.store.connect()
        await self._connection.add_listener(EVENTS_CHANNEL, self._notified)
        self._task = asyncio.get_running_loop().create_task(self._follow(),
                                                            name="event-relay")

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None
        if self._connection is not None:
            with contextlib.suppress(*_DRIVER_ERRORS):
                await self._connection.close(timeout=5)
            self._connection = None

    def _notified(self, connection: object, pid: int, channel: str, payload: object) -> None:
        if isinstance(payload, str) and payload.isdigit() and int(payload) > self.delivered:
            self._wakeup.set()

    def deliver(self, seq: int, events: Sequence[Event]) -> None:
        """Deliver batch ``seq`` now if it is next, else once the ones before it are."""
        if seq <= self.delivered:
            return
        if seq != self.delivered + 1:
            self._pending[seq] = events
            self._wakeup.set()
            return
        self._publish(seq, events)
        pending = self._pending
        while pending:
            following = pending.pop(self.delivered + 1, None)
            if following is None:
                break
            self._publish(self.delivered + 1, following)

    def _publish(self, seq: int, events: Sequence[Event]) -> None:
        self.delivered = seq
        try:
            self.publish(events)
        except Exception:
            log.exception("delivering event batch %d failed", seq)

    async def catch_up(self, connection: asyncpg.Connection, upto: int) -> None:
        """Deliver every batch up to ``upto`` not delivered yet, reading them on ``connection``."""
        while self.delivered < upto:
            start = self.delivered
            try:
                rows = await connection.fetch(
                    "SELECT seq, payload FROM sandbox_events WHERE seq > $1 AND seq <= $2 "
                    "ORDER BY seq LIMIT 1000", start, upto)
            except _DRIVER_ERRORS as exc:
                raise _storage_error(exc) from exc
            if not rows:
                if start == self.delivered:
                    # Pruned (this instance was away for a long time): skip what is gone.
                    log.warning("event batches %d..%d are gone; skipping them", start + 1,
                                upto)
                    self.delivered = upto
                break
            if rows[0]["seq"] != start + 1 and start == self.delivered:
                log.warning("event batches %d..%d are gone; skipping them", start + 1,
                            rows[0]["seq"] - 1)
                self.delivered = rows[0]["seq"] - 1
            for row in rows:
                if row["seq"] > self.delivered:
                    self.foreign_batches += 1
                    self.deliver(row["seq"], decode_batch(row["payload"]))

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.poll)
            self._wakeup.clear()
            connection = self._connection
            try:
                if connection is None or connection.is_closed():
                    connection = self._connection = await self.store.connect()
                    await connection.add_listener(EVENTS_CHANNEL, self._notified)
                last = await connection.fetchval(
                    "SELECT last_event FROM sandbox_sync WHERE id = 1")
                if last is not None and last > self.delivered:
                    await self.catch_up(connection, int(last))
            except (StorageError, *_DRIVER_ERRORS):
                log.warning("the event relay lost its connection; retrying", exc_info=True)
                self._connection = None
                await asyncio.sleep(self.poll)


def is_postgres_url(db: str) -> bool:
    """Return whether ``--db`` names a PostgreSQL database rather than a SQLite file."""
    return db.startswith(("postgresql://", "postgres://"))


def redact(dsn: str) -> str:
    """Return ``dsn`` without its password, for messages."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", dsn)


__all__ = ["NO_SCHEMA", "STARTUP_LOCK", "TRANSACTION_LOCK", "EventRelay", "PgStats",
           "PgTransaction", "PostgresStore", "is_postgres_url", "lock_key", "redact"]
