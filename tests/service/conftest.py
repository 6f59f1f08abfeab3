"""Fixtures for in-process service tests: an exchange over an in-memory SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.service.harness import Harness, make_harness


@pytest.fixture
def anyio_backend() -> str:
    # The store and the scheduler use asyncio primitives.
    return "asyncio"


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """An exchange with default rules, a manual clock at 2026-01-01 and no accounts yet."""
    built = await make_harness()
    try:
        yield built
    finally:
        await built.store.close()
