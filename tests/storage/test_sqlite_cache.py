"""The SQLite adapter's identity map stays bounded: what it keeps follows what is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from kalshi_sandbox.domain.timer import TimerKind
from kalshi_sandbox.storage.cache import CachingTransaction
from kalshi_sandbox.storage.sqlite import SqliteStore
from tests.storage import entities as e

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_timers_taken_or_cancelled_leave_nothing_in_the_timer_maps(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "sandbox.db")
    await store.open()
    try:
        async with store.transaction() as tx:
            assert isinstance(tx, CachingTransaction)
            timers = [await tx.add_timer(TimerKind.EXECUTE, f"quote-{n}", n) for n in range(300)]
            await tx.add_timer(TimerKind.EXECUTE, "kept", 1)
            await tx.cancel_timers("quote-0")
            for timer in timers[1:]:
                assert await tx.take_timer(timer.id)
            sizes = tx.sizes()
        assert (sizes["timers"], sizes["timer_subjects"]) == (1, 1)
    finally:
        await store.close()


async def test_maps_are_trimmed_back_under_the_limit_after_a_commit(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "sandbox.db")
    await store.open()
    try:
        async with store.transaction() as tx:
            assert isinstance(tx, CachingTransaction)
            tx.limit = 100
            for n in range(250):
                await tx.insert_quote(e.quote(f"quote-{n}"))
        async with store.transaction() as tx:
            assert isinstance(tx, CachingTransaction)
            assert tx.sizes()["quotes"] <= 100
            # What was dropped is read again from the database.
            assert await tx.get_quote("quote-0") == e.quote("quote-0")
    finally:
        await store.close()
