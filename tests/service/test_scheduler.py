"""The scheduler fires every timer once, in due order, and never before its due instant.

System-clock tests run the real background task with delays of a few milliseconds and record
``clock.now()`` inside the fire callback: the only property asserted is "not early", judged by
the clock the sandbox itself reads. How late a timer may fire is a matter for benchmarks; the
generous ``wait_for`` timeouts below only keep a broken scheduler from hanging the run.
Manual-clock tests check that ``advance_to`` fires exactly the timers due in the span, with the
clock standing at each timer's own instant.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Iterable

import pytest

from kalshi_sandbox.domain.clock import MICROS, Clock, Instant, ManualClock, SystemClock
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.scheduler import Scheduler

START = 1_767_225_600 * MICROS
"""2026-01-01T00:00:00Z."""

MS = 1_000
"""One millisecond in microseconds."""

HANG_GUARD = 30.0
"""Seconds after which a test gives up waiting (a hang, not a latency bound)."""


class Log:
    """A fire callback that records each timer with the clock reading at the moment it fires."""

    def __init__(self, clock: Clock, expected: int) -> None:
        self.clock = clock
        self.expected = expected
        self.fired: list[tuple[Timer, Instant]] = []
        self.done = asyncio.Event()

    async def __call__(self, timer: Timer) -> None:
        self.fired.append((timer, self.clock.now()))
        if len(self.fired) >= self.expected:
            self.done.set()

    def assert_never_early(self) -> None:
        early = [(t.id, t.due, at) for t, at in self.fired if at < t.due]
        assert early == [], "fired before due (id, due, clock at firing)"

    def assert_each_once(self, timers: Iterable[Timer]) -> None:
        assert sorted(t.id for t, _ in self.fired) == sorted(t.id for t in timers)

    def assert_in_due_order(self) -> None:
        dues = [t.due for t, _ in self.fired]
        assert dues == sorted(dues)


def timers_after(base: Instant, delays: Iterable[int], first_id: int = 1) -> list[Timer]:
    """Return one timer per delay (microseconds after ``base``)."""
    return [Timer(due=base + delay, id=first_id + i, kind=TimerKind.EXECUTE,
                  subject=f"q{first_id + i}")
            for i, delay in enumerate(delays)]


async def run_system(clock: SystemClock, delays: list[int]) -> tuple[Log, list[Timer]]:
    """Start a scheduler on ``clock``, add timers ``delays`` microseconds ahead, wait for all."""
    log = Log(clock, len(delays))
    scheduler = Scheduler(clock, log)
    scheduler.start()
    try:
        timers = timers_after(clock.now(), delays)
        scheduler.add(timers)
        await asyncio.wait_for(log.done.wait(), HANG_GUARD)
    finally:
        await scheduler.stop()
    assert len(scheduler) == 0
    return log, timers


# System clock -------------------------------------------------------------------------------

def test_system_clock_timers_of_a_few_milliseconds_never_fire_before_due() -> None:
    rng = random.Random(20260101)
    delays = [rng.randrange(0, 25 * MS) for _ in range(200)] + [0, 0, 1, 1, 10 * MS, 10 * MS]

    log, timers = asyncio.run(run_system(SystemClock(), delays))

    log.assert_never_early()
    log.assert_each_once(timers)
    log.assert_in_due_order()


def test_system_clock_timers_already_due_fire_once_in_due_order() -> None:
    log, timers = asyncio.run(run_system(SystemClock(), [-5 * MS, -1, 0, -3 * MS]))

    log.assert_never_early()
    log.assert_each_once(timers)
    log.assert_in_due_order()


@pytest.mark.parametrize("speed", [0.5, 7.0, 250.0])
def test_sped_up_system_clock_timers_never_fire_before_due_on_that_clock(speed: float) -> None:
    # Delays on the sandbox clock; at 250x, 1 s of sandbox time is 4 ms of real time.
    scale = max(1, int(speed))
    delays = [d * scale for d in (0, 1 * MS, 2 * MS, 3 * MS, 5 * MS, 8 * MS, 8 * MS, 13 * MS)]

    log, timers = asyncio.run(run_system(SystemClock(speed), delays))

    log.assert_never_early()
    log.assert_each_once(timers)


class EagerClock(SystemClock):
    """A system clock whose scheduler wake-ups come far too early, as a coarse loop's might."""

    def real_delay(self, until: Instant) -> float:
        return super().real_delay(until) / 8


def test_scheduler_woken_early_rechecks_the_clock_instead_of_firing() -> None:
    log, timers = asyncio.run(run_system(EagerClock(), [3 * MS, 6 * MS, 9 * MS, 20 * MS]))

    log.assert_never_early()
    log.assert_each_once(timers)


def test_timer_added_while_sleeping_on_a_later_one_fires_first_and_not_early() -> None:
    async def scenario() -> tuple[Log, list[Timer]]:
        clock = SystemClock()
        log = Log(clock, 2)
        scheduler = Scheduler(clock, log)
        scheduler.start()
        try:
            late = timers_after(clock.now(), [60 * MS], first_id=1)
            scheduler.add(late)
            await asyncio.sleep(0)  # let the task go to sleep until the late timer
            early = timers_after(clock.now(), [2 * MS], first_id=2)
            scheduler.add(early)
            await asyncio.wait_for(log.done.wait(), HANG_GUARD)
        finally:
            await scheduler.stop()
        return log, early + late

    log, timers = asyncio.run(scenario())

    log.assert_never_early()
    log.assert_each_once(timers)
    assert [t.id for t, _ in log.fired] == [2, 1]


def test_dropped_system_clock_timer_never_fires() -> None:
    async def scenario() -> Log:
        clock = SystemClock()
        log = Log(clock, 1)
        scheduler = Scheduler(clock, log)
        scheduler.start()
        try:
            dropped, kept = timers_after(clock.now(), [1 * MS, 5 * MS])
            scheduler.add([dropped, kept])
            scheduler.drop([dropped.id])
            await asyncio.wait_for(log.done.wait(), HANG_GUARD)
        finally:
            await scheduler.stop()
        return log

    log = asyncio.run(scenario())

    assert [t.id for t, _ in log.fired] == [2]
    log.assert_never_early()


# Manual clock -------------------------------------------------------------------------------

def manual(expected: int = 0) -> tuple[ManualClock, Log, Scheduler]:
    clock = ManualClock(START)
    log = Log(clock, expected)
    return clock, log, Scheduler(clock, log)


def test_manual_advance_fires_timers_due_in_span_at_their_own_instants() -> None:
    async def scenario() -> tuple[Log, list[int]]:
        clock, log, scheduler = manual()
        scheduler.add(timers_after(START, [10, 5, 5, 20, 21]))
        counts = [await scheduler.advance_to(START + 10),
                  await scheduler.advance_to(START + 19),
                  await scheduler.advance_to(START + 20)]
        assert clock.now() == START + 20
        return log, counts

    log, counts = asyncio.run(scenario())

    assert counts == [3, 0, 1]
    assert [(t.id, at - START) for t, at in log.fired] == [(2, 5), (3, 5), (1, 10), (4, 20)]


def test_manual_advance_fires_timer_scheduled_by_a_firing_timer_within_the_span() -> None:
    async def scenario() -> list[tuple[str, Instant]]:
        clock = ManualClock(START)
        seen: list[tuple[str, Instant]] = []
        scheduler: Scheduler

        async def fire(timer: Timer) -> None:
            seen.append((timer.subject, clock.now() - START))
            if timer.subject == "confirm":
                scheduler.add(timers_after(clock.now(), [15], first_id=2))

        scheduler = Scheduler(clock, fire)
        scheduler.add([Timer(START + 30, 1, TimerKind.CONFIRM_DEADLINE, "confirm")])
        assert await scheduler.advance_to(START + 100) == 2
        return seen

    assert asyncio.run(scenario()) == [("confirm", 30), ("q2", 45)]


def test_manual_advance_skips_dropped_timers_and_reports_what_moved() -> None:
    async def scenario() -> tuple[Log, list[Instant], int]:
        _, log, scheduler = manual()
        moved: list[Instant] = []

        async def on_moved(instant: Instant) -> None:
            moved.append(instant)

        scheduler.on_moved = on_moved
        timers = timers_after(START, [1, 2, 3])
        scheduler.add(timers)
        scheduler.drop([timers[0].id, timers[2].id])
        return log, moved, await scheduler.advance_to(START + 3)

    log, moved, fired = asyncio.run(scenario())

    assert fired == 1
    assert [t.id for t, _ in log.fired] == [2]
    assert moved == [START + 3]


def test_manual_timer_whose_effect_fails_is_logged_and_the_next_still_fires(
        caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[int]:
        clock = ManualClock(START)
        fired: list[int] = []

        async def fire(timer: Timer) -> None:
            fired.append(timer.id)
            if timer.id == 1:
                raise RuntimeError("boom")

        scheduler = Scheduler(clock, fire)
        scheduler.add(timers_after(START, [1, 2]))
        assert await scheduler.advance_to(START + 2) == 2
        return fired

    with caplog.at_level(logging.ERROR, logger="kalshi_sandbox.exchange.scheduler"):
        assert asyncio.run(scenario()) == [1, 2]
    assert "timer 1" in caplog.text


def test_manual_clock_cannot_be_advanced_backwards() -> None:
    async def scenario() -> None:
        clock, _, scheduler = manual()
        await scheduler.advance_to(START + 10)
        with pytest.raises(ValueError, match="backwards"):
            await scheduler.advance_to(START + 9)
        assert clock.now() == START + 10

    asyncio.run(scenario())


def test_system_clock_scheduler_refuses_to_advance() -> None:
    async def scenario() -> None:
        scheduler = Scheduler(SystemClock(), Log(SystemClock(), 0))
        with pytest.raises(TypeError):
            await scheduler.advance_to(START)

    asyncio.run(scenario())


def test_manual_clock_background_task_fires_nothing_until_advanced() -> None:
    async def scenario() -> tuple[Log, int]:
        _, log, scheduler = manual(expected=1)
        scheduler.start()
        try:
            scheduler.add(timers_after(START, [0, 1]))
            # The timer due now fires by itself; the later one waits for an advance.
            await asyncio.wait_for(log.done.wait(), HANG_GUARD)
            for _ in range(10):
                await asyncio.sleep(0)
            early = len(log.fired)
            await scheduler.advance_to(START + 1)
        finally:
            await scheduler.stop()
        return log, early

    log, early = asyncio.run(scenario())

    assert early == 1
    assert [(t.id, at - START) for t, at in log.fired] == [(1, 0), (2, 1)]


def test_dropping_timers_it_does_not_hold_changes_nothing() -> None:
    """Another instance's timers, or timers already fired, are not this scheduler's to drop."""
    async def main() -> None:
        clock = ManualClock(START)
        log = Log(clock, 2)
        scheduler = Scheduler(clock, log)
        timers = timers_after(START, [1 * MS, 2 * MS])
        scheduler.add(timers)
        scheduler.drop([99, 100])
        assert len(scheduler) == 2
        await scheduler.advance_to(START + 1 * MS)
        scheduler.drop([timers[0].id])  # the fired timer's row is deleted afterwards
        assert len(scheduler) == 1
        scheduler.drop([timers[1].id])
        assert len(scheduler) == 0
        await scheduler.advance_to(START + 5 * MS)
        log.assert_each_once(timers[:1])

    asyncio.run(main())
