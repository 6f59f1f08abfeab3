"""Fires timers when their instant comes, never before it.

The database holds every pending timer; this scheduler keeps an in-memory heap of them so it
knows when to wake. Firing a timer is the exchange's business: it deletes the timer row in the
same transaction as the effect, so a timer fires exactly once even across crashes, and a heap
entry whose row is gone is skipped.

With the system clock a background task sleeps until the earliest timer and re-checks the clock
on waking, since event loops may wake a little early. With a manual clock nothing fires until
``advance_to`` moves the clock, which fires every timer due in the span, in order, with the
clock standing at each timer's own instant while it fires.

Timers fire inside ``batch`` (the store's ``deferred``): each firing is still its own
transaction, but they need not wait for one another's commit, so a store can commit them
together, and a store may let them go before requests waiting for the database. On a running
clock every timer due by now fires in one pass (one commit); ``advance_to`` fires the timers
due at each instant together and returns once all of them are durable.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import Awaitable, Callable, Iterable
from contextlib import AbstractAsyncContextManager, nullcontext

from kalshi_sandbox.domain.clock import Clock, Instant, ManualClock, SystemClock
from kalshi_sandbox.domain.timer import Timer
from kalshi_sandbox.exchange.tasks import cancel_task

log = logging.getLogger(__name__)

Fire = Callable[[Timer], Awaitable[None]]
Moved = Callable[[Instant], Awaitable[None]]
Batch = Callable[[], AbstractAsyncContextManager[None]]


def _no_batch() -> AbstractAsyncContextManager[None]:
    return nullcontext()


class Scheduler:
    """Keeps pending timers in due order and fires them through ``fire``."""

    def __init__(self, clock: Clock, fire: Fire, on_moved: Moved | None = None,
                 batch: Batch = _no_batch) -> None:
        self.clock = clock
        self._fire = fire
        self.on_moved = on_moved
        self._batch = batch
        self._heap: list[tuple[Instant, int, Timer]] = []
        """(due, id, timer): tuples compare in C, where Timer's generated ordering runs
        Python for every comparison of every push and pop."""
        self._dropped: set[int] = set()
        self._held: set[int] = set()
        """Ids in the heap: only these can be dropped (another instance's timers are not)."""
        self._wakeup: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._firing = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._heap) - len(self._dropped)

    def add(self, timers: Iterable[Timer]) -> None:
        """Track newly committed timers."""
        heap = self._heap
        for timer in timers:
            earliest = heap[0][0] if heap else None
            heapq.heappush(heap, (timer.due, timer.id, timer))
            self._held.add(timer.id)
            if earliest is None or timer.due < earliest:
                self._wake()

    def drop(self, timer_ids: Iterable[int]) -> None:
        """Forget timers whose rows were deleted by a committed transaction."""
        held = self._held
        self._dropped.update(i for i in timer_ids if i in held)

    def clear(self) -> None:
        """Forget every timer (after a reset)."""
        self._heap.clear()
        self._dropped.clear()
        self._held.clear()
        self._wake()

    def next_due(self) -> Instant | None:
        """Return the instant of the earliest pending timer."""
        self._discard_dropped()
        return self._heap[0][0] if self._heap else None

    def start(self) -> None:
        """Start the background task that fires timers."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="timers")

    async def stop(self) -> None:
        """Stop the background task."""
        await cancel_task(self._task)
        self._task = None

    async def advance_to(self, target: Instant) -> int:
        """Move a manual clock to ``target``, firing every timer due by then; return how many."""
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise TypeError("only a manual clock can be advanced")
        if target < clock.now():
            raise ValueError("the clock cannot move backwards")
        fired = 0
        async with self._firing:
            while True:
                batch = await self._fire_batch(target, move=True)
                if not batch:
                    break
                fired += batch
            clock.set(target)
            if self.on_moved is not None:
                await self.on_moved(target)
        return fired

    async def fire_overdue(self) -> int:
        """Fire every timer already due by the clock's current instant."""
        fired = 0
        async with self._firing:
            while batch := await self._fire_batch(self.clock.now(), move=False):
                fired += batch
        return fired

    async def _fire_batch(self, limit: Instant, *, move: bool) -> int:
        """Fire the timers due by ``limit`` in one batch; return how many fired.

        Timers that the batch's own commits hand on arrive after it, so callers repeat
        until a batch finds nothing due.
        """
        clock = self.clock
        fired = 0
        try:
            async with self._batch():
                while (timer := self._pop_due(limit)) is not None:
                    if move:
                        assert isinstance(clock, ManualClock)
                        clock.set(max(clock.now(), timer.due))
                    await self._fire_one(timer)
                    fired += 1
                    if move:
                        # Moving a manual clock, only timers due at one instant share a
                        # batch: a reaction to this one (a counterparty's, scheduled when
                        # its commit is published) may fall due before a later timer, so
                        # the batch commits before time moves on. On a running clock every
                        # reaction falls due after now, so all that is due fires at once.
                        limit = timer.due
        except Exception:
            log.exception("committing %d fired timers failed", fired)
        return fired

    def _pop_due(self, limit: Instant) -> Timer | None:
        self._discard_dropped()
        if self._heap and self._heap[0][0] <= limit:
            timer = heapq.heappop(self._heap)[2]
            self._held.discard(timer.id)
            return timer
        return None

    def _discard_dropped(self) -> None:
        heap, dropped = self._heap, self._dropped
        while heap and heap[0][1] in dropped:
            timer_id = heapq.heappop(heap)[1]
            dropped.discard(timer_id)
            self._held.discard(timer_id)

    async def _fire_one(self, timer: Timer) -> None:
        try:
            await self._fire(timer)
        except Exception:
            log.exception("timer %s (%s %s) failed", timer.id, timer.kind, timer.subject)

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _sleep(self, delay: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._wakeup = loop.create_future()
        handle = None
        if delay is not None:
            handle = loop.call_later(delay, self._wake)
        try:
            await self._wakeup
        finally:
            if handle is not None:
                handle.cancel()
            self._wakeup = None

    async def _run(self) -> None:
        while True:
            due = self.next_due()
            if due is None:
                await self._sleep(None)
                continue
            clock = self.clock
            if isinstance(clock, SystemClock):
                delay = clock.real_delay(due)
                if delay > 0:
                    # Re-check after waking: the loop may wake before the clock reads `due`.
                    await self._sleep(delay)
                    continue
            elif due > clock.now():
                await self._sleep(None)
                continue
            await self.fire_overdue()
