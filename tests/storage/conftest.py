"""Backends the storage contract suite runs against, one pytest parameter each.

A backend makes a fresh, unopened ``Store`` over a database it owns inside ``tmp_path``;
``persistent`` says whether a second store made over the same ``tmp_path`` sees the data
the first one committed (needed by the reopen and migration tests). The PostgreSQL backend
(marked ``postgres``) gives each ``tmp_path`` a scratch schema of its own, dropped after the
test (tests/support/postgres.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.storage.postgres import PostgresStore
from kalshi_sandbox.storage.sqlite import SqliteStore
from tests.support import postgres


@dataclass(frozen=True)
class Backend:
    """A way to make stores of one kind."""

    name: str
    make: Callable[[Path], Store]
    persistent: bool


SQLITE_FILE = Backend("sqlite-file", lambda tmp: SqliteStore(tmp / "sandbox.db"), True)
SQLITE_MEMORY = Backend("sqlite-memory", lambda tmp: SqliteStore(":memory:"), False)

_schemas: dict[Path, str] = {}


def _postgres(tmp: Path) -> Store:
    postgres.require()
    schema = _schemas.get(tmp)
    if schema is None:
        schema = _schemas[tmp] = postgres.new_schema()
    return PostgresStore(postgres.DSN, schema=schema, create_schema=True)


POSTGRES = Backend("postgres", _postgres, True)

BACKENDS = [
    pytest.param(SQLITE_FILE, id=SQLITE_FILE.name),
    pytest.param(SQLITE_MEMORY, id=SQLITE_MEMORY.name),
    pytest.param(POSTGRES, id=POSTGRES.name, marks=pytest.mark.postgres),
]
PERSISTENT_BACKENDS = [p for p in BACKENDS if isinstance(p.values[0], Backend)
                       and p.values[0].persistent]


@pytest.fixture
def anyio_backend() -> str:
    # The stores serialise transactions with asyncio primitives.
    return "asyncio"


@pytest.fixture(autouse=True)
def _drop_scratch_schemas() -> Iterator[None]:
    """Drop the PostgreSQL schemas a test made, whatever its outcome."""
    yield
    _schemas.clear()
    postgres.drop_made()


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
