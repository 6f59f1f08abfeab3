"""Due timers fire together, in one commit, ahead of requests, and commits leave the loop.

Commits are counted by a ``CommitObserver`` (the hook the journal uses): ``committing`` is
called once just before each COMMIT that writes something.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from kalshi_sandbox.domain.clock import MICROS, SystemClock
from kalshi_sandbox.domain.rules import Rules
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.commands import CreateRfq
from kalshi_sandbox.exchange.ports import ObservedStore
from kalshi_sandbox.exchange.scheduler import Scheduler
from kalshi_sandbox.storage.sqlite import SqliteStore
from tests.service.harness import make_harness

HANG_GUARD = 30.0


class Commits:
    """Counts the commits that change something."""

    def __init__(self) -> None:
        self.count = 0

    def changed(self) -> None:
        pass

    def committing(self) -> Mapping[str, str]:
        self.count += 1
        return {}

    def committed(self) -> None:
        pass

    def rolled_back(self) -> None:
        pass


async def _store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / "sandbox.db")
    await store.open()
    return store


def test_a_burst_of_timers_due_at_one_instant_commits_once(tmp_path: Path) -> None:
    async def main() -> None:
        harness = await make_harness(Rules(rfq_ttl=60 * MICROS), path=tmp_path / "sandbox.db")
        store, clock, exchange = harness.store, harness.clock, harness.exchange
        scheduler = Scheduler(clock, exchange.fire, batch=store.deferred)
        exchange.timers = scheduler
        market = await harness.market("KXBURST-26DEC31-T1")
        users = [await harness.account(f"u{n}", 10**9) for n in range(300)]  # > GROUP_LIMIT
        for user in users:  # every RFQ opens at one instant: their expiries fall due together
            await exchange.create_rfq(user, CreateRfq(
                market_ticker=market.ticker, rest_remainder=False, contracts=1))
        assert len(scheduler) == len(users)
        commits = Commits()
        assert isinstance(store, ObservedStore)
        store.observe_commits(commits)
        try:
            fired = await scheduler.advance_to(clock.now() + 3_600 * MICROS)
        finally:
            store.observe_commits(None)
            await store.close()
        assert fired == len(users)
        assert commits.count == 1

    asyncio.run(main())


def test_every_timer_overdue_on_a_running_clock_fires_in_one_pass_and_one_commit(
        tmp_path: Path) -> None:
    async def main() -> None:
        store = await _store(tmp_path)
        clock = SystemClock()
        now = clock.now()
        async with store.transaction() as tx:  # due at 600 different instants, all passed
            timers = [await tx.add_timer(TimerKind.EXECUTE, f"q{n}", now - 1_000 * n)
                      for n in range(600)]
        fired: list[int] = []
        done = asyncio.Event()

        async def fire(timer: Timer) -> None:
            async with store.transaction() as tx:
                assert await tx.take_timer(timer.id)
            fired.append(timer.id)
            if len(fired) == len(timers):
                done.set()

        commits = Commits()
        store.observe_commits(commits)
        scheduler = Scheduler(clock, fire, batch=store.deferred)
        scheduler.add(timers)
        scheduler.start()
        try:
            await asyncio.wait_for(done.wait(), HANG_GUARD)
        finally:
            await scheduler.stop()
            store.observe_commits(None)
            await store.close()
        assert fired == [t.id for t in sorted(timers, key=lambda t: (t.due, t.id))]
        assert commits.count == 1

    asyncio.run(main())


def test_a_due_timer_goes_before_requests_already_waiting_for_the_database(
        tmp_path: Path) -> None:
    async def main() -> None:
        store = await _store(tmp_path)
        order: list[str] = []
        held = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with store.transaction():
                held.set()
                await release.wait()

        async def request(name: str) -> None:
            async with store.transaction() as tx:
                order.append(name)
                await tx.set_meta(name, "x")

        async def timer() -> None:
            async with store.deferred(), store.transaction() as tx:
                order.append("timer")
                await tx.set_meta("timer", "x")

        tasks = [asyncio.create_task(holder())]
        await held.wait()
        tasks += [asyncio.create_task(request(f"request{n}")) for n in range(3)]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(timer()))
        await asyncio.sleep(0)
        release.set()
        await asyncio.wait_for(asyncio.gather(*tasks), HANG_GUARD)
        await store.close()
        assert order == ["timer", "request0", "request1", "request2"]

    asyncio.run(main())


@pytest.mark.parametrize("writes", [1, 40])
def test_a_file_database_commits_off_the_event_loop_thread(tmp_path: Path, writes: int) -> None:
    async def main() -> None:
        store = await _store(tmp_path)
        threads: list[str] = []
        connection = store._connection  # the test looks at which thread runs each COMMIT
        assert connection is not None
        connection.set_trace_callback(
            lambda sql: threads.append(threading.current_thread().name)
            if sql == "COMMIT" else None)

        async def write(n: int) -> None:
            async with store.transaction() as tx:
                await tx.set_meta(f"k{n}", "v")

        await asyncio.gather(*(write(n) for n in range(writes)))
        loop_thread = threading.current_thread().name
        await store.close()
        assert threads
        assert loop_thread not in threads

    asyncio.run(main())


def test_a_transaction_cancelled_while_waiting_for_the_database_leaves_the_line_moving(
        tmp_path: Path) -> None:
    async def main() -> None:
        store = await _store(tmp_path)
        held = asyncio.Event()
        release = asyncio.Event()
        done: list[str] = []

        async def holder() -> None:
            async with store.transaction() as tx:
                await tx.set_meta("holder", "x")
                held.set()
                await release.wait()

        async def request(name: str) -> None:
            async with store.transaction() as tx:
                await tx.set_meta(name, "x")
            done.append(name)

        first = asyncio.create_task(holder())
        await held.wait()
        cancelled = asyncio.create_task(request("cancelled"))
        waiting = asyncio.create_task(request("waiting"))
        await asyncio.sleep(0)
        cancelled.cancel()
        release.set()
        await asyncio.wait_for(asyncio.gather(first, waiting), HANG_GUARD)
        assert cancelled.cancelled()
        async with store.transaction() as tx:
            assert await tx.get_meta("waiting") == "x"
            assert await tx.get_meta("cancelled") is None
        await store.close()
        assert done == ["waiting"]

    asyncio.run(main())
