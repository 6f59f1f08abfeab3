"""Backends the storage contract suite runs against, one pytest parameter each.

A backend makes a fresh, unopened ``Store`` over a database it owns inside ``tmp_path``;
``persistent`` says whether a second store made over the same ``tmp_path`` sees the data
the first one committed (needed by the reopen and migration tests). A PostgreSQL backend
joins as one more ``pytest.param`` (with ``marks=pytest.mark.postgres``) whose ``make``
points at a scratch database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.storage.sqlite import SqliteStore


@dataclass(frozen=True)
class Backend:
    """A way to make stores of one kind."""

    name: str
    make: Callable[[Path], Store]
    persistent: bool


SQLITE_FILE = Backend("sqlite-file", lambda tmp: SqliteStore(tmp / "sandbox.db"), True)
SQLITE_MEMORY = Backend("sqlite-memory", lambda tmp: SqliteStore(":memory:"), False)

BACKENDS = [
    pytest.param(SQLITE_FILE, id=SQLITE_FILE.name),
    pytest.param(SQLITE_MEMORY, id=SQLITE_MEMORY.name),
]
PERSISTENT_BACKENDS = [p for p in BACKENDS if isinstance(p.values[0], Backend)
                       and p.values[0].persistent]


@pytest.fixture
def anyio_backend() -> str:
    # The stores serialise transactions with asyncio primitives.
    return "asyncio"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    value: Backend = request.param
    return value


@pytest.fixture(params=PERSISTENT_BACKENDS)
def persistent_backend(request: pytest.FixtureRequest) -> Backend:
    value: Backend = request.param
    return value


@pytest.fixture
async def store(backend: Backend, tmp_path: Path) -> AsyncIterator[Store]:
    """An open, empty store of each backend, closed after the test."""
    opened = backend.make(tmp_path)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
