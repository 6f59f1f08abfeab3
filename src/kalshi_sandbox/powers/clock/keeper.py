"""Where a manual clock stands, remembered in the database across restarts and resets."""

from __future__ import annotations

from kalshi_sandbox.domain.clock import Clock, ManualClock, SystemClock
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.powers import Cause

CLOCK_KEY = "manual_clock"
UNPLACED = 0
"""The instant of a manual clock that start-up has yet to place."""


class ClockKeeper:
    """Keeps a manual clock's instant in the ``meta`` table (a system clock needs nothing)."""

    def __init__(self, clock: Clock, store: Store) -> None:
        self.clock = clock
        self.store = store

    async def restore(self) -> None:
        """Put a manual clock back where it stopped (or later, at ``clock_start``).

        A clock left unplaced starts at the current time on a fresh database. The instant is
        stored at once, so a restart before any advance resumes it instead of skipping the
        real time that passed meanwhile.
        """
        if isinstance(self.clock, ManualClock):
            async with self.store.transaction() as tx:
                stored = await tx.get_meta(CLOCK_KEY)
            if stored is not None and int(stored) > self.clock.now():
                self.clock.set(int(stored))
            elif self.clock.now() == UNPLACED:
                self.clock.set(SystemClock().now())
            await self.remember()

    async def remember(self) -> None:
        """Store where a manual clock stands now."""
        if isinstance(self.clock, ManualClock):
            await self.save(self.clock.now())

    async def save(self, instant: int) -> None:
        """Remember that a manual clock stands at ``instant`` (the scheduler moved it)."""
        async with self.store.transaction() as tx:
            await tx.set_meta(CLOCK_KEY, str(instant))

    async def reload(self, cause: Cause) -> None:
        """The replaced state has no clock of its own: store where the clock stands."""
        await self.remember()


__all__ = ["CLOCK_KEY", "UNPLACED", "ClockKeeper"]
