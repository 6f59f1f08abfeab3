"""Scratch PostgreSQL schemas for tests: one per store a test makes, dropped after the test.

Tests reach the server at ``KALSHI_SANDBOX_TEST_PG`` (default: the ``test`` database on
127.0.0.1:5432 as ``postgres``). If it cannot be reached the PostgreSQL tests skip, saying
why, unless ``KALSHI_SANDBOX_REQUIRE_PG`` is set (CI sets it): then they fail.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest

from tests.support.server import ServerProcess, running

DSN = os.environ.get("KALSHI_SANDBOX_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = "kst_"

T = TypeVar("T")

_counter = itertools.count()
_made: list[str] = []


def _run(work: Callable[[], Awaitable[T]]) -> T:
    """Run ``work`` on an event loop of its own (callers may be inside one)."""

    async def main() -> T:
        return await work()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


@cache
def unreachable() -> str | None:
    """Return why PostgreSQL cannot be used, or None if it can."""

    async def probe() -> None:
        connection = await asyncpg.connect(DSN, timeout=5)
        await connection.close()

    try:
        _run(probe)
    except Exception as exc:  # any failure to connect is a reason to skip
        return f"PostgreSQL is not reachable at {DSN}: {type(exc).__name__}: {exc}"
    return None


def require() -> None:
    """Skip (or, with KALSHI_SANDBOX_REQUIRE_PG, fail) the test if PostgreSQL is down."""
    reason = unreachable()
    if reason is None:
        return
    if os.environ.get("KALSHI_SANDBOX_REQUIRE_PG"):
        pytest.fail(reason)
    pytest.skip(reason)


def skip_if_down() -> pytest.MarkDecorator:
    """Skip a test (or class), saying why, if the server is down; never when
    KALSHI_SANDBOX_REQUIRE_PG is set (the test then fails on connecting)."""
    reason = None if os.environ.get("KALSHI_SANDBOX_REQUIRE_PG") else unreachable()
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def new_schema() -> str:
    """Return the name of a fresh scratch schema (created by the store that opens it)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{PREFIX}{worker}_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    _made.append(name)
    return name


def url(schema: str) -> str:
    """Return a ``--db`` URL that keeps a server's tables in ``schema``."""
    return f"{DSN}?options=-csearch_path%3D{schema}"


def drop(names: list[str]) -> None:
    """Drop the scratch schemas ``names`` (and everything in them)."""
    if not names:
        return

    async def run() -> None:
        connection = await asyncpg.connect(DSN, timeout=10)
        try:
            for name in names:
                await connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            await connection.close()

    _run(run)


def drop_made() -> None:
    """Drop every scratch schema made since the last call."""
    names = list(_made)
    _made.clear()
    drop(names)


def leftovers() -> list[str]:
    """Return the scratch schemas of this process still in the database."""

    async def run() -> list[str]:
        connection = await asyncpg.connect(DSN, timeout=10)
        try:
            rows = await connection.fetch(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
                f"{PREFIX}%_{os.getpid()}_%")
        finally:
            await connection.close()
        return [str(row[0]) for row in rows]

    return _run(run)


def create(schema: str) -> None:
    """Create the scratch schema ``schema`` (for a server given ``url(schema)``)."""

    async def run() -> None:
        connection = await asyncpg.connect(DSN, timeout=10)
        try:
            await connection.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await connection.close()

    _run(run)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""The databases a server-backed fixture runs on (``pytest.fixture(params=BACKENDS)``)."""


def serving(backend: str, data_dir: Path, *args: str, **env: str) -> Iterator[ServerProcess]:
    """Yield a running server on ``backend`` (a scratch schema on PostgreSQL, dropped after)."""
    if backend == "sqlite":
        yield from running(data_dir, *args, **env)
        return
    require()
    schema = new_schema()
    _made.remove(schema)
    create(schema)
    try:
        yield from running(data_dir, *args, "--db", url(schema), **env)
    finally:
        drop([schema])
