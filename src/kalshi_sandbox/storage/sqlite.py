"""The embedded SQLite backend.

SQLite statements are fast enough (microseconds) to run directly on the event loop, which
avoids a thread hop per statement; a COMMIT, which writes the WAL and may wait on the disk,
runs on a thread of its own for a file database (``_Committer``), the connection's lock held
until it is done, so a slow write never stalls the loop. One connection serves every
transaction, one at a time (``_Lock``: first come, first served, except that transactions in
a ``deferred`` block, the timers firing, go before those waiting). WAL with
``synchronous=NORMAL`` keeps every committed transaction across a process crash (SIGKILL);
only an operating-system crash could lose the last few.

Group commit: a transaction runs inside a database transaction that is shared by every
transaction that runs before the event loop gets round to committing it, which happens as
soon as the transactions ready to run have run (or after ``GROUP_LIMIT`` of them). Each
transaction's block still commits or rolls back alone: one that fails after writing rolls
the group back and the writes of the group's finished transactions run again (the driver
notes them), so the cost of a commit (writing the WAL) is paid once per group and no
savepoint is paid per transaction. A transaction that changed
something, or that read what an earlier member of its group changed, does not leave its
``async with`` block until the group's COMMIT has succeeded, so no response can announce a
change that is not yet durable; ``on_commit`` callbacks run right after that COMMIT, in order.
If the COMMIT fails, every member of the group fails with ``StorageError``. A
``CommitObserver`` (``observe_commits``) hears of each transaction that changed something,
and just before each COMMIT gives ``meta`` rows to write in it (the journal's position).

The process is the database's only writer, so the transaction object keeps an identity map
(storage/cache.py) that turns most reads into dictionary lookups.

Checkpoints (copying the WAL back into the database file) run on a thread of their own with
a second connection, after enough changes or once the sandbox falls idle, instead of inside
whichever commit crosses SQLite's automatic threshold and stalls every request behind it.

Past 500 lines on purpose: group commit, the lock that orders transactions and commits, the
committer thread, the driver that notes writes for a rerun, and the checkpointer share one
connection's state and are correct only together.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from queue import SimpleQueue
from types import TracebackType
from typing import Any

from kalshi_sandbox.exchange.ports import (
    CommitObserver,
    Dump,
    IntegrityViolation,
    StorageError,
    Transaction,
)
from kalshi_sandbox.storage.cache import CachingTransaction
from kalshi_sandbox.storage.schema import MIGRATIONS, TABLES

log = logging.getLogger(__name__)

# sqlite3 raises OverflowError, not one of its own errors, for integers beyond 64 bits.
_DRIVER_ERRORS = (sqlite3.Error, OverflowError)

# sqlite3 binds exact ints, floats and strs directly but sends None through its adaptation
# protocol, which probes None for two hooks and formats an AttributeError for each: a
# registered adapter (None stays None) is found first, at a fraction of the cost.
sqlite3.register_adapter(type(None), lambda value: value)

GROUP_LIMIT = 256
"""Commit a group once it holds this many transactions, ready or not."""
DEFERRED_GROUP_LIMIT = 4_096
"""The same for a group of ``deferred`` transactions (timers due at once commit together)."""
CHECKPOINT_CHANGES = 20_000
"""Checkpoint in the background after this many changed rows."""
CHECKPOINT_IDLE = 1.0
"""...or this many seconds after the last commit, if anything changed since the last one."""
AUTOCHECKPOINT_PAGES = 20_000
"""SQLite's own (blocking) checkpoint, kept only as a backstop should the thread fall behind."""


_SET_META = ("INSERT INTO meta (key, value) VALUES (?, ?) "
             "ON CONFLICT (key) DO UPDATE SET value = excluded.value")

Statement = tuple[str, Sequence[Any], bool]
"""A write as the driver ran it: SQL, parameters, and whether they are many rows."""


class _SqliteDriver:
    """Runs statements on the connection, noting each write of the running transaction.

    The notes let the store undo one transaction of a group without a savepoint per
    transaction (see ``SqliteStore._undo_unit``).
    """

    placeholder = "?"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.writes: list[Statement] = []

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.writes.append((sql, params, False))
        try:
            return self.connection.execute(sql, params).rowcount
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc
        except _DRIVER_ERRORS as exc:
            raise StorageError(str(exc)) from exc

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Sequence[Any] | None:
        try:
            row: Sequence[Any] | None = self.connection.execute(sql, params).fetchone()
        except _DRIVER_ERRORS as exc:
            raise StorageError(str(exc)) from exc
        return row

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Sequence[Any]]:
        if not sql.startswith("SELECT"):  # DELETE ... RETURNING, say
            self.writes.append((sql, params, False))
        try:
            return self.connection.execute(sql, params).fetchall()
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc
        except _DRIVER_ERRORS as exc:
            raise StorageError(str(exc)) from exc

    async def insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        self.writes.append((sql, params, False))
        try:
            cursor = self.connection.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc
        except _DRIVER_ERRORS as exc:
            raise StorageError(str(exc)) from exc
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.writes.append((sql, rows, True))
        try:
            self.connection.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc
        except _DRIVER_ERRORS as exc:
            raise StorageError(str(exc)) from exc

    def replay(self, writes: Sequence[Statement]) -> None:
        """Run ``writes`` again, as they ran the first time."""
        connection = self.connection
        for sql, params, many in writes:
            if many:
                connection.executemany(sql, params)
            else:
                connection.execute(sql, params)


class _Group:
    """Transactions sharing one database transaction, committed together."""

    __slots__ = ("callbacks", "dirty", "done", "error", "finished", "size", "urgent",
                 "waiters", "writes")

    def __init__(self) -> None:
        self.size = 0
        self.dirty = False
        self.urgent = False
        """A deferred transaction (a timer firing) is in it: it commits ahead of requests."""
        self.writes: list[Statement] = []
        """Every write of the group's finished transactions, in order."""
        self.callbacks: list[Callable[[], None]] = []
        self.waiters: list[asyncio.Future[None]] = []
        self.done: asyncio.Future[None] | None = None
        self.finished = False
        self.error: StorageError | None = None


_DEFERRING: contextvars.ContextVar[list[_Group] | None] = contextvars.ContextVar(
    "kalshi_sandbox_sqlite_deferring", default=None)


class _Lock:
    """The connection's lock: FIFO, except that urgent acquirers (timers) go first.

    An urgent acquirer takes a free lock even while others queue for it, and is handed the
    lock before any of them. An urgent holder's release hands the lock to the next in line
    only on the loop's next turn, so a task firing many timers in a row (each its own
    transaction, none awaiting anything between them) keeps the lock for its whole pass
    instead of handing it to a request between each two.
    """

    __slots__ = ("_handing", "_locked", "_loop", "_urgent", "_waiters")

    def __init__(self) -> None:
        self._locked = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._handing = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def locked(self) -> bool:
        return self._locked

    def try_acquire(self) -> bool:
        """Take the lock if it is free and nobody queues for it."""
        if self._locked or self._waiters or self._urgent:
            return False
        self._locked = True
        return True

    async def acquire(self, urgent: bool = False) -> None:
        if not self._locked and (urgent or not (self._waiters or self._urgent)):
            self._locked = True
            return
        loop = self._loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        queue = self._urgent if urgent else self._waiters
        queue.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the lock, then cancelled: pass it on
            elif waiter in queue:
                queue.remove(waiter)
            raise

    def release(self, linger: bool = False) -> None:
        """Hand the lock to the next urgent acquirer, else the next in line.

        ``linger``: the holder (a timer firing) may take it again on this turn of the loop,
        so the next in line gets it only on the next turn, unless the holder has taken it
        again by then.
        """
        urgent = self._urgent
        while urgent:
            waiter = urgent.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the lock stays taken, by its new owner
                return
        if not linger:
            waiters = self._waiters
            while waiters:
                waiter = waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._locked = False
        if self._waiters and not self._handing:
            self._handing = True
            loop = self._loop or asyncio.get_running_loop()
            loop.call_soon(self._hand_on)

    def _hand_on(self) -> None:
        self._handing = False
        if self._locked:
            return  # taken by an urgent acquirer meanwhile; its release hands on
        queue = self._urgent or self._waiters
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                self._locked = True
                waiter.set_result(None)
                return


class _Committer:
    """Runs each COMMIT on a thread of its own, so writing the WAL never stalls the loop.

    The store's lock stays taken until the COMMIT has finished, so no other statement runs on
    the connection meanwhile; the event loop goes on with everything else (reading and
    verifying requests, WebSocket fan-out). ``done`` is called back on the loop with the
    error, if any.
    """

    def __init__(self, connection: sqlite3.Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._connection = connection
        self._loop = loop
        self._queue: SimpleQueue[Callable[[BaseException | None], None] | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite-commit", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (done := self._queue.get()) is not None:
            error: BaseException | None = None
            try:
                self._connection.execute("COMMIT")
            except BaseException as exc:  # handed back to the loop, which fails the group
                error = exc
            try:
                self._loop.call_soon_threadsafe(done, error)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                return

    def commit(self, done: Callable[[BaseException | None], None]) -> None:
        self._queue.put(done)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


class _Checkpointer:
    """Runs passive WAL checkpoints on a thread with a connection of its own."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._connection: sqlite3.Connection | None = None
        self._running: asyncio.Future[None] | None = None
        self._closed = threading.Event()

    def _run(self) -> None:
        if self._closed.is_set():
            return
        if self._connection is None:
            self._connection = sqlite3.connect(self.path, isolation_level=None,
                                               check_same_thread=False)
            self._connection.execute("PRAGMA busy_timeout=5000")
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start a checkpoint unless one is running."""
        if self._running is not None and not self._running.done():
            return
        self._running = asyncio.wrap_future(self._executor.submit(self._run), loop=loop)
        self._running.add_done_callback(self._finished)

    @staticmethod
    def _finished(future: asyncio.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.warning("background checkpoint failed: %s", future.exception())

    def close(self) -> None:
        """Wait for a running checkpoint, then close the thread's connection."""
        self._closed.set()

        def shut() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        self._executor.submit(shut).result()
        self._executor.shutdown(wait=True)


class _Unit:
    """One transaction of the current group (see the module docstring)."""

    __slots__ = ("_changes", "_group", "_store")

    def __init__(self, store: SqliteStore) -> None:
        self._store = store
        self._group: _Group | None = None
        self._changes = 0

    async def __aenter__(self) -> Transaction:
        store = self._store
        connection = store._connection
        if connection is None:
            raise StorageError("the store is not open")
        await store._lock.acquire(_DEFERRING.get() is not None)
        try:
            group = store._group
            if group is None:
                # Deferred: a group of reads takes no write lock (the process is the only
                # writer, so its first write never finds a newer snapshot than its own).
                connection.execute("BEGIN")
                group = store._group = _Group()
                store._loop().call_soon(store._commit_soon, group)
        except sqlite3.Error as exc:
            store._fail_group(StorageError(str(exc)))
            store._lock.release()
            raise StorageError(str(exc)) from exc
        except BaseException:
            store._lock.release()
            raise
        self._group = group
        self._changes = connection.total_changes
        store._driver.writes.clear()
        return store._tx

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        store = self._store
        connection = store._connection
        group, self._group = self._group, None
        tx = store._tx
        assert connection is not None
        assert group is not None
        writes = store._driver.writes
        if kind is not None:
            tx.callbacks.clear()
            store._undo_unit(group, changed=connection.total_changes != self._changes)
            writes.clear()
            store._lock.release()
            return
        tx.keep()
        group.size += 1
        if tx.callbacks:
            group.callbacks.extend(tx.callbacks)
            tx.callbacks.clear()
        if connection.total_changes != self._changes:
            group.dirty = True
            if store._observer is not None:
                store._observer.changed()
        if writes:
            group.writes.extend(writes)
            writes.clear()
        waiter: asyncio.Future[None] | None = None
        deferring = _DEFERRING.get()
        if deferring is not None:
            group.urgent = True
        if group.dirty:
            if deferring is None:
                waiter = store._loop().create_future()
                group.waiters.append(waiter)
            elif not deferring or deferring[-1] is not group:
                deferring.append(group)
        if group.size >= (GROUP_LIMIT if deferring is None else DEFERRED_GROUP_LIMIT):
            store._commit(group)  # releases the lock once committed
        else:
            store._lock.release(linger=deferring is not None)
        if waiter is not None:
            await waiter


class SqliteStore:
    """A ``Store`` in one SQLite file (or ``:memory:``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = _Lock()
        self._committer: _Committer | None = None
        self._driver = _SqliteDriver(_closed_connection())
        self._tx: CachingTransaction = CachingTransaction(self._driver)
        self._group: _Group | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._checkpointer: _Checkpointer | None = None
        self._checkpointed_changes = 0
        self._idle_timer: asyncio.TimerHandle | None = None
        self._observer: CommitObserver | None = None

    def observe_commits(self, observer: CommitObserver | None) -> None:
        """Tell ``observer`` of every commit that changes something (see the docstring)."""
        self._observer = observer

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(self.path, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=5000")
            connection.execute("PRAGMA temp_store=MEMORY")
            connection.execute("PRAGMA cache_size=-16384")
            self._migrate(connection)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._connection = connection
        self._driver = _SqliteDriver(connection)
        self._tx = CachingTransaction(self._driver)
        self._event_loop = asyncio.get_running_loop()
        if self.path != ":memory:":
            connection.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            self._checkpointer = _Checkpointer(self.path)
            self._committer = _Committer(connection, self._event_loop)
        self._checkpointed_changes = connection.total_changes

    def _migrate(self, connection: sqlite3.Connection) -> None:
        version = 0
        exists = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if exists:
            row = connection.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'"
            ).fetchone()
            version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StorageError(
                f"database schema version {version} is newer than this sandbox "
                f"({len(MIGRATIONS)}); upgrade kalshi-sandbox"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in script.format(id="INTEGER PRIMARY KEY AUTOINCREMENT").split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(number),),
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        if self._connection is None:
            return
        await self._lock.acquire()
        while (group := self._group) is not None:
            # Transactions waiting for the lock may start another group meanwhile.
            if group.done is None:
                group.done = self._loop().create_future()
            self._commit(group)  # releases the lock once committed
            await asyncio.shield(group.done)
            await self._lock.acquire()
        try:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
            if self._committer is not None:
                committer, self._committer = self._committer, None
                committer.close()
            if self._checkpointer is not None:
                checkpointer, self._checkpointer = self._checkpointer, None
                await asyncio.get_running_loop().run_in_executor(None, checkpointer.close)
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()
            self._driver = _SqliteDriver(_closed_connection())
            self._tx = CachingTransaction(self._driver)
        finally:
            self._lock.release()

    def transaction(self) -> _Unit:
        """Begin a transaction (see the module docstring for how it commits)."""
        return _Unit(self)

    @asynccontextmanager
    async def deferred(self) -> AsyncIterator[None]:
        groups: list[_Group] = []
        token = _DEFERRING.set(groups)
        try:
            yield
        finally:
            _DEFERRING.reset(token)
        for group in groups:
            if not group.finished:
                if group.done is None:
                    group.done = self._loop().create_future()
                await asyncio.shield(group.done)
            if group.error is not None:
                raise group.error

    async def wipe(self) -> None:
        async with self.transaction():
            for table in TABLES:
                if table != "meta":
                    await self._driver.execute(f"DELETE FROM {table}")
            await self._driver.execute("DELETE FROM meta WHERE key <> 'schema_version'")
            self._tx.forget()

    async def dump(self) -> Dump:
        async with self.transaction() as tx:
            assert isinstance(tx, CachingTransaction)
            return await tx.dump()

    async def load(self, dump: Mapping[str, Any]) -> None:
        async with self.transaction() as tx:
            assert isinstance(tx, CachingTransaction)
            await tx.load(dump)

    # Group commit ------------------------------------------------------------------------

    def _loop(self) -> asyncio.AbstractEventLoop:
        loop = self._event_loop
        if loop is None or loop.is_closed():
            loop = self._event_loop = asyncio.get_running_loop()
        return loop

    def _undo_unit(self, group: _Group, *, changed: bool) -> None:
        """Undo the transaction that just failed, keeping the rest of its group.

        Rather than a savepoint around every transaction (two statements each, nearly always
        for nothing), a failure after writes rolls the whole group back and runs the writes
        of its finished transactions again: the same statements on the same state, this
        process being the database's only writer, give the same rows and the same ids.
        """
        self._tx.undo()
        connection = self._connection
        assert connection is not None
        if not connection.in_transaction:  # SQLite rolled it all back (a full disk, say)
            self._fail_group(StorageError("the database rolled the transaction back"))
            return
        if not changed:
            return
        try:
            connection.execute("ROLLBACK")
            connection.execute("BEGIN")
            self._driver.replay(group.writes)
        except _DRIVER_ERRORS as exc:
            self._fail_group(StorageError(f"cannot restore the other transactions: {exc}"))

    def _commit_soon(self, group: _Group) -> None:
        """Commit ``group`` now, or once the transaction running inside it has finished."""
        if group is not self._group:
            return
        if self._lock.try_acquire():
            self._commit(group)
        else:
            self._loop().create_task(self._commit_when_free(group))

    async def _commit_when_free(self, group: _Group) -> None:
        await self._lock.acquire(group.urgent)
        if group is self._group:
            self._commit(group)
        else:
            self._lock.release()

    def _commit(self, group: _Group) -> None:
        """COMMIT ``group``, whose caller holds the lock; release it once committed.

        A group that changed something commits on the committer's thread (file databases);
        the lock stays taken until then, and ``_committed`` resolves the group's members.
        """
        connection = self._connection
        self._group = None
        assert connection is not None
        observer = self._observer if group.dirty else None
        committer = self._committer if group.dirty else None
        try:
            if observer is not None:
                for key, value in observer.committing().items():
                    connection.execute(_SET_META, (key, value))
            if committer is None:
                connection.execute("COMMIT")
        except sqlite3.Error as exc:
            self._fail_group(StorageError(str(exc)), group)
            self._lock.release()
            return
        if committer is not None:
            committer.commit(lambda error: self._committed(group, observer, error))
        else:
            self._committed(group, observer, None)

    def _committed(self, group: _Group, observer: CommitObserver | None,
                   error: BaseException | None) -> None:
        """Resolve ``group``'s members after its COMMIT (``error`` if it failed); unlock."""
        try:
            if error is not None:
                self._fail_group(StorageError(str(error)), group)
                return
            if observer is not None:
                observer.committed()
            group.finished = True
            # Emptied as they run: a callback may refer back to its transaction's context.
            callbacks, group.callbacks = group.callbacks, []
            for callback in callbacks:
                try:
                    callback()
                except Exception:
                    log.exception("on-commit callback failed")
            for waiter in group.waiters:
                if not waiter.done():
                    waiter.set_result(None)
            if group.done is not None and not group.done.done():
                group.done.set_result(None)
            self._tx.trim()
            connection = self._connection
            if group.dirty and connection is not None:
                self._after_changes(connection)
        finally:
            self._lock.release()

    def _fail_group(self, error: StorageError, group: _Group | None = None) -> None:
        """Roll the whole group back (the current one by default) and fail its members."""
        connection = self._connection
        if group is None:
            group = self._group
        self._group = None
        if connection is not None and connection.in_transaction:
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")
        self._tx.forget()
        self._tx.keep()
        if group is None:
            return
        if group.dirty and self._observer is not None:
            self._observer.rolled_back()
        group.finished = True
        group.error = error
        group.callbacks = []
        group.writes = []
        for waiter in group.waiters:
            if not waiter.done():
                waiter.set_exception(error)
        if group.done is not None and not group.done.done():
            group.done.set_result(None)

    # Checkpoints -------------------------------------------------------------------------

    def _after_changes(self, connection: sqlite3.Connection) -> None:
        checkpointer = self._checkpointer
        if checkpointer is None:
            return
        if connection.total_changes - self._checkpointed_changes >= CHECKPOINT_CHANGES:
            self._checkpoint()
        elif self._idle_timer is None:
            self._idle_timer = self._loop().call_later(CHECKPOINT_IDLE, self._when_idle)

    def _when_idle(self) -> None:
        self._idle_timer = None
        connection = self._connection
        if connection is not None and connection.total_changes != self._checkpointed_changes:
            self._checkpoint()

    def _checkpoint(self) -> None:
        connection = self._connection
        if self._checkpointer is None or connection is None:
            return
        self._checkpointed_changes = connection.total_changes
        self._checkpointer.start(self._loop())


def _closed_connection() -> sqlite3.Connection:
    """Return a closed connection: a driver over it fails every call with StorageError."""
    connection = sqlite3.connect(":memory:")
    connection.close()
    return connection
