"""What lets several sandbox instances serve one PostgreSQL database as one exchange.

``Instance`` holds one instance's part of the coordination protocol of storage/postgres.py;
bootstrap.py joins the sandbox's parts to it:

- events: the exchange writes each transaction's events into it (``Exchange.outbox``) and
  publishes nothing itself; the store's ``EventRelay`` delivers every instance's batches, in
  commit order, to the hub (WebSocket fan-out, market data, journal);
- the order books: forgotten, and rebuilt from the rows, whenever a transaction finds that
  another instance changed something since this one's last transaction;
- timers: each instance fires the timers it created, at their instant; ``TimerSweeper``
  hands an instance the timers that are overdue by ``grace`` (their instance died, or is
  stuck), and deleting the timer row in the transaction that applies it fires each exactly
  once whichever instance gets there first;
- rate limits: token buckets are rows of ``sandbox_buckets``, paid from with one statement
  (``charge``); tiers set through another instance are re-read by the sweeper's round;
- a reset or a restored snapshot: the other instances reload everything they keep in memory
  when their next transaction finds the store's epoch moved.

docs/deploy.md lists what needs a single instance and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from kalshi_sandbox.domain.clock import MICROS, Clock, Instant
from kalshi_sandbox.domain.events import Event
from kalshi_sandbox.domain.limits import MICRO_TOKENS, Limit
from kalshi_sandbox.domain.timer import Timer, TimerKind
from kalshi_sandbox.exchange.ports import StorageError, Transaction
from kalshi_sandbox.exchange.tasks import cancel_task
from kalshi_sandbox.storage.postgres import (
    _DRIVER_ERRORS,
    NO_SCHEMA,
    STARTUP_LOCK,
    EventRelay,
    PgTransaction,
    PostgresStore,
    _storage_error,
    lock_key,
)

log = logging.getLogger(__name__)

_CHARGE = """
INSERT INTO sandbox_buckets AS b (user_id, bucket, tokens, updated, paid)
VALUES ($1, $2, CASE WHEN $3::bigint >= $4::bigint THEN $3::bigint - $4::bigint
                     ELSE $3::bigint END,
        $5::bigint, $3::bigint >= $4::bigint)
ON CONFLICT (user_id, bucket) DO UPDATE SET
    tokens = LEAST($3::bigint, b.tokens + GREATEST($5::bigint - b.updated, 0) * $6::bigint)
             - CASE WHEN LEAST($3::bigint, b.tokens
                               + GREATEST($5::bigint - b.updated, 0) * $6::bigint)
                         >= $4::bigint
                    THEN $4::bigint ELSE 0 END,
    updated = GREATEST(b.updated, $5::bigint),
    paid = LEAST($3::bigint, b.tokens + GREATEST($5::bigint - b.updated, 0) * $6::bigint)
           >= $4::bigint
RETURNING paid
"""
"""Refill a bucket up to now, then take the cost if it holds enough; a new bucket starts
full. Every SET expression reads the row as it was, so ``paid`` says whether this call paid."""

BUCKET_CONNECTIONS = 4
"""Connections each instance pays rate limits through (one statement, autocommit, each)."""


class SharedBuckets:
    """Every user's token buckets, in the database, paid from by any instance."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self._pool: asyncpg.Pool | None = None
        self.charges = 0

    async def charge(self, user_id: str, bucket: str, limit: Limit, micro_tokens: int,
                     now: Instant) -> bool:
        """Pay ``micro_tokens`` from the bucket; return False, taking nothing, if short."""
        try:
            pool = self._pool
            if pool is None:
                pool = self._pool = await self.store.pool(BUCKET_CONNECTIONS)
            # One statement in autocommit: the row's lock orders concurrent payers.
            paid = await pool.fetchval(_CHARGE, user_id, bucket,
                                       limit.capacity * MICRO_TOKENS, micro_tokens, now,
                                       limit.refill_rate)
        except _DRIVER_ERRORS as exc:
            raise _storage_error(exc) from exc
        self.charges += 1
        return bool(paid)

    async def forget(self, user_id: str | None) -> None:
        """Empty one user's buckets (or everyone's): they start full again."""
        async with self.store.transaction() as tx:
            assert isinstance(tx, PgTransaction)
            if user_id is None:
                await tx.pg.execute("DELETE FROM sandbox_buckets")
            else:
                await tx.pg.execute("DELETE FROM sandbox_buckets WHERE user_id = ?", (user_id,))

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            with contextlib.suppress(*_DRIVER_ERRORS):
                await asyncio.wait_for(pool.close(), 5)


class TimerSweeper:
    """Hands the scheduler timers left unfired past their instant by another instance."""

    def __init__(self, store: PostgresStore, clock: Clock,
                 hand_over: Callable[[Iterable[Timer]], None],
                 also: Callable[[], Awaitable[None]] | None = None, *, interval: float = 1.0,
                 grace: float = 2.0) -> None:
        self.store = store
        self.clock = clock
        self.hand_over = hand_over
        """Where overdue timers go (the scheduler's ``add``)."""
        self.also = also
        """Run after each sweep (re-reading the rate-limit tiers)."""
        self.interval = interval
        self.grace = round(grace * MICROS)
        self._handed: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self.swept = 0
        """Timers handed to this instance's scheduler by the sweeps."""

    async def sweep(self) -> int:
        """Hand over the timers overdue by ``grace``; return how many were new here."""
        before = self.clock.now() - self.grace
        async with self.store.transaction() as tx:
            assert isinstance(tx, PgTransaction)
            rows = await tx.pg.fetchall(
                "SELECT due, id, kind, subject FROM timers WHERE due <= ? "
                "ORDER BY due, id LIMIT 1000", (before,))
        timers = [Timer(due=int(r[0]), id=int(r[1]), kind=TimerKind(r[2]), subject=str(r[3]))
                  for r in rows]
        fresh = [t for t in timers if t.id not in self._handed]
        self._handed = {t.id for t in timers}
        if fresh:
            log.warning("firing %d timers another instance left overdue", len(fresh))
            self.hand_over(fresh)
            self.swept += len(fresh)
        return len(fresh)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="sweeper")

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.sweep()
                if self.also is not None:
                    await self.also()
            except StorageError:
                log.warning("sweeping overdue timers failed; retrying", exc_info=True)


class Instance:
    """One instance's share of the exchange (see the module docstring)."""

    def __init__(self, store: PostgresStore, clock: Clock,
                 publish: Callable[[Sequence[Event]], None],
                 hand_over: Callable[[Iterable[Timer]], None], *, shared: bool,
                 rate_limited: bool,
                 refresh_tiers: Callable[[], Awaitable[None]] | None = None) -> None:
        self.store = store
        self.shared = shared
        self.relay = EventRelay(store, publish)
        store.relay = self.relay
        self.buckets = SharedBuckets(store) if shared and rate_limited else None
        self.sweeper = TimerSweeper(store, clock, hand_over,
                                    refresh_tiers if shared else None)

    @staticmethod
    async def outbox(tx: Transaction, events: Sequence[Event]) -> None:
        """Write a transaction's events into it (the exchange's ``outbox``)."""
        assert isinstance(tx, PgTransaction)
        await tx.record_events(events)

    @asynccontextmanager
    async def starting(self) -> AsyncIterator[None]:
        """Hold the start-up lock: instances seed, flush and restore one at a time."""
        connection = await self.store.connect()
        try:
            schema_hash = await connection.fetchval("SELECT hashtext(current_schema())")
            if schema_hash is None:
                raise StorageError(NO_SCHEMA)
            key = lock_key(STARTUP_LOCK, int(schema_hash))
            await connection.execute(f"SELECT pg_advisory_lock({key})")
            yield
        finally:
            with contextlib.suppress(*_DRIVER_ERRORS):
                await connection.close(timeout=5)

    async def start(self) -> None:
        """Follow the other instances' events, and sweep for their overdue timers."""
        await self.relay.start()
        if self.shared:
            self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        await self.relay.stop()
        if self.buckets is not None:
            await self.buckets.close()

    def describe(self) -> dict[str, Any]:
        """Return this instance's coordination counters (the health endpoint shows them)."""
        return {"shared": self.shared, **self.store.stats.as_dict(),
                "foreign_batches": self.relay.foreign_batches,
                "swept_timers": self.sweeper.swept,
                "bucket_charges": 0 if self.buckets is None else self.buckets.charges}


class Nowhere:
    """The exchange's publisher when events travel through the database instead."""

    def publish(self, events: Sequence[Event]) -> None:
        pass


__all__ = ["Instance", "Nowhere", "SharedBuckets", "TimerSweeper"]
