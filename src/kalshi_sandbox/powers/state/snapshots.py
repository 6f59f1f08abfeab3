"""Snapshots: the whole sandbox state as one JSON document, and back.

A snapshot holds every table of the database (``Store.dump``) and the sandbox instant it was
taken at. Restoring it replaces the whole state in one transaction (``Store.load``), then
brings everything kept in memory back in line: the scheduler's timers, cached keys, the
manual clock.

The clock: a manual clock is put at the snapshot's instant, backwards if need be, since the
state it returns to was consistent with that instant (its timers due after it, its
timestamps before it). A system clock reads the wall clock and is not moved: timers of the
snapshot that fell due meanwhile fire at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kalshi_sandbox.domain.clock import Clock, Instant, ManualClock, format_instant, parse_instant
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.exchange.ports import InvalidDump, Store
from kalshi_sandbox.powers import Cause
from kalshi_sandbox.powers.state.journal import POSITION

FORMAT = "kalshi-sandbox-snapshot"
VERSION = 1

Reload = Callable[[Cause], Awaitable[None]]


async def _nothing(cause: Cause) -> None:
    return None


class Snapshots:
    """Take and restore snapshots of one sandbox.

    ``reload`` (set when the sandbox is wired) brings every part's memory back in line with
    the restored state, once the clock stands at the snapshot's instant.
    """

    def __init__(self, store: Store, clock: Clock, reload: Reload = _nothing) -> None:
        self.store = store
        self.clock = clock
        self.reload = reload

    async def take(self) -> dict[str, Any]:
        """Return a snapshot of the whole state."""
        instant = self.clock.now()
        tables = await self.store.dump()
        # Where the journal's files stood says nothing about the state.
        tables["meta"] = [row for row in tables.get("meta", []) if row.get("key") != POSITION]
        return {
            "format": FORMAT,
            "version": VERSION,
            "instant": format_instant(instant),
            "clock": "manual" if self.clock.manual else "system",
            "tables": tables,
        }

    async def restore(self, snapshot: Mapping[str, Any]) -> Instant:
        """Replace the whole state with ``snapshot``'s; return the snapshot's instant.

        Raise ``InvalidParameters``, changing nothing, if it is not a snapshot this sandbox
        can load.
        """
        instant = check(snapshot)
        try:
            await self.store.load(snapshot["tables"])
        except InvalidDump as exc:
            raise InvalidParameters(f"the snapshot does not fit this sandbox: {exc}") from None
        if isinstance(self.clock, ManualClock):
            self.clock.rewind(instant)
        await self.reload(Cause.RESTORE)
        return instant


def check(snapshot: Any) -> Instant:
    """Check a snapshot's envelope; return its instant."""
    if not isinstance(snapshot, Mapping):
        raise InvalidParameters("a snapshot is a JSON object")
    if snapshot.get("format") != FORMAT:
        raise InvalidParameters(f"not a snapshot: format must be {FORMAT!r}")
    if snapshot.get("version") != VERSION:
        raise InvalidParameters(f"snapshot version {snapshot.get('version')!r} is not "
                                f"supported; this sandbox reads version {VERSION}")
    text = snapshot.get("instant")
    if not isinstance(text, str):
        raise InvalidParameters("the snapshot's instant must be an RFC 3339 timestamp")
    try:
        instant = parse_instant(text)
    except ValueError:
        raise InvalidParameters(f"the snapshot's instant {text!r} is not an RFC 3339 "
                                "timestamp") from None
    if not isinstance(snapshot.get("tables"), Mapping):
        raise InvalidParameters("the snapshot has no tables")
    return instant


__all__ = ["FORMAT", "VERSION", "Snapshots", "check"]
