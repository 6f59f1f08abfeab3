"""The unit of work: one transaction, and what it hands on once committed.

A use case runs inside ``UnitOfWork``: it reads and writes through the transaction, and
collects the events it published and the timers it started or stopped. They are handed on
(events to the publisher, timers to the scheduler) only after the transaction commits, so a
subscriber never hears of a change that was rolled back and a timer never fires for one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

from kalshi_sandbox.domain.clock import Clock, Instant
from kalshi_sandbox.domain.events import Event
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.bus import Publisher
from kalshi_sandbox.exchange.ports import Store, Transaction


class TimerSink(Protocol):
    """Receives the timers of committed transactions (the scheduler)."""

    def add(self, timers: Iterable[Timer]) -> None: ...

    def drop(self, timer_ids: Iterable[int]) -> None: ...


class NoTimers:
    """A sink for an exchange without a scheduler: timers stay in the database only."""

    def add(self, timers: Iterable[Timer]) -> None:
        pass

    def drop(self, timer_ids: Iterable[int]) -> None:
        pass


@dataclass(slots=True)
class UnitOfWork:
    """The state of one transaction in progress."""

    tx: Transaction
    now: Instant
    events: list[Event] = field(default_factory=list)
    new_timers: list[Timer] = field(default_factory=list)
    dropped_timers: list[int] = field(default_factory=list)
    rollbacks: list[Callable[[], None]] = field(default_factory=list)
    """Called if the transaction rolls back or its commit fails: memory kept beside the
    database (the order books) forgets what this transaction did to it."""

    async def add_timer(self, kind: TimerKind, subject: str, due: Instant) -> None:
        """Start a timer; it reaches the scheduler when the transaction commits."""
        self.new_timers.append(await self.tx.add_timer(kind, subject, due))

    async def cancel_timers(self, subject: str) -> None:
        """Stop every pending timer of ``subject``."""
        self.dropped_timers.extend(await self.tx.cancel_timers(subject))


Outbox = Callable[[Transaction, Sequence[Event]], Awaitable[None]]
"""Writes a transaction's events into that transaction, before it commits (instances sharing
one database hand them on to each other that way: storage/postgres.py)."""


class UnitParts(Protocol):
    """What a unit of work needs: the store, the clock, and where committed work goes."""

    store: Store
    clock: Clock
    publisher: Publisher
    timers: TimerSink
    outbox: Outbox | None


class UnitOfWorkScope:
    """A transaction that hands its events and timers on once committed (``Exchange.work``).

    A class rather than a generator-based context manager: it runs on every request.
    """

    __slots__ = ("_parts", "_transaction", "_work")

    def __init__(self, parts: UnitParts) -> None:
        self._parts = parts
        self._transaction: AbstractAsyncContextManager[Transaction] | None = None
        self._work: UnitOfWork | None = None

    async def __aenter__(self) -> UnitOfWork:
        parts = self._parts
        transaction = self._transaction = parts.store.transaction()
        tx = await transaction.__aenter__()
        try:
            work = self._work = UnitOfWork(tx, parts.clock.now())
            tx.on_commit(self._committed)
        except BaseException as exc:
            await transaction.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return work

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> bool | None:
        transaction, self._transaction = self._transaction, None
        assert transaction is not None
        work = self._work
        outbox = self._parts.outbox
        failed: BaseException | None = None
        if outbox is not None and kind is None and work is not None and work.events:
            try:
                await outbox(work.tx, work.events)
            except BaseException as exc:
                failed = exc
                kind, error, traceback = type(exc), exc, exc.__traceback__
        try:
            suppressed = await transaction.__aexit__(kind, error, traceback)
        except BaseException:
            self._rolled_back(work)
            raise
        if kind is not None and not suppressed:
            self._rolled_back(work)
            if failed is not None:
                raise failed
        return suppressed

    @staticmethod
    def _rolled_back(work: UnitOfWork | None) -> None:
        if work is not None:
            for undo in work.rollbacks:
                undo()

    def _committed(self) -> None:
        work, parts = self._work, self._parts
        self._work = None
        assert work is not None
        if work.dropped_timers:
            parts.timers.drop(work.dropped_timers)
        if work.new_timers:
            parts.timers.add(work.new_timers)
        if work.events:
            parts.publisher.publish(work.events)


__all__ = ["NoTimers", "Outbox", "TimerSink", "UnitOfWork", "UnitOfWorkScope", "UnitParts"]
