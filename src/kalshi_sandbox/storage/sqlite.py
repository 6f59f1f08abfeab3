"""The embedded SQLite backend.

SQLite calls are fast enough (microseconds) to run directly on the event loop, which avoids
a thread hop per statement; an ``asyncio.Lock`` keeps one transaction at a time on the one
connection. WAL with ``synchronous=NORMAL`` keeps every committed transaction across a
process crash (SIGKILL); only an operating-system crash could lose the last few.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from kalshi_sandbox.service.ports import IntegrityViolation, StorageError, Transaction
from kalshi_sandbox.storage.schema import MIGRATIONS, TABLES
from kalshi_sandbox.storage.sql import SqlTransaction

# sqlite3 raises OverflowError, not one of its own errors, for integers beyond 64 bits.
_DRIVER_ERRORS = (sqlite3.Error, OverflowError)


class _SqliteDriver:
    placeholder = "?"

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
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
        try:
            return self.connection.execute(sql, params).fetchall()
        except _DRIVER_ERRORS as exc:
            raise StorageError(str(exc)) from exc

    async def insert_id(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            cursor = self.connection.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise IntegrityViolation(str(exc)) from exc
        except _DRIVER_ERRORS as exc:
            raise StorageError(str(exc)) from exc
        assert cursor.lastrowid is not None
        return cursor.lastrowid


class SqliteStore:
    """A ``Store`` in one SQLite file (or ``:memory:``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._connection: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self._tx: SqlTransaction | None = None

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
            self._connection = connection
            self._tx = SqlTransaction(_SqliteDriver(connection))
            self._migrate(connection)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open SQLite database {self.path}: {exc}") from exc

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
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        connection, tx = self._connection, self._tx
        if connection is None or tx is None:
            raise StorageError("the store is not open")
        async with self._lock:
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StorageError(str(exc)) from exc
            try:
                yield tx
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            try:
                connection.execute("COMMIT")
            except sqlite3.Error as exc:
                connection.execute("ROLLBACK")
                raise StorageError(str(exc)) from exc

    async def wipe(self) -> None:
        async with self.transaction():
            assert self._connection is not None
            for table in TABLES:
                if table != "meta":
                    self._connection.execute(f"DELETE FROM {table}")
            self._connection.execute("DELETE FROM meta WHERE key <> 'schema_version'")
