"""Replay: rebuild the state a journal describes, in a fresh sandbox.

The replay walks the journal in order and does again what changed state: every request
that got to a handler (through the app, in process, as its recorded actor, with no
signature), every timer the clock fired, every seed and every restart's flush of open quotes.
Reads, requests refused before a handler (bad signature, injected fault), fault rules and
the journal's own endpoints are passed over: they changed nothing.

Each piece of work draws the same identifiers and keys it drew the first time (the journal
recorded them), so the replayed sandbox has the same RFQ, quote, order, fill and account ids.
On a manual clock, the replay moves the clock to each request's instant before sending it,
so timestamps, windows and timer firings come out the same too (a fresh sandbox's manual
clock is first put back to the journal's first instant). On a system clock, time cannot be
moved: requests run now, and the timers the journal shows firing are fired when the replay
reaches them.

The replay reports each request whose status differs from the recorded one, and how many
identifiers or keys it had to make up because the journal held none for them: either means
the replayed state may differ from the original.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kalshi_sandbox.domain.clock import Clock, Instant, ManualClock, format_instant, parse_instant
from kalshi_sandbox.domain.errors import Conflict, NotFound
from kalshi_sandbox.domain.queries import MarketQuery
from kalshi_sandbox.domain.quote import QuoteStatus
from kalshi_sandbox.domain.timer import Timer
from kalshi_sandbox.exchange.accounts import Accounts
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.exchange.scheduler import Scheduler
from kalshi_sandbox.powers.state.journal import Journal, Supply, set_record, set_supply

CONTROL = "/sandbox/v1"
READS = ("GET", "HEAD", "OPTIONS")
REFUSED = (401, 403, 429)
"""Statuses of requests refused before they changed anything: a bad signature, a guard, an
empty token bucket."""
PASSED_OVER = ("/journal", "/faults", "/health", "/clock")
"""Control-plane paths (under /sandbox/v1) whose requests change no replayable state."""

Dispatch = Callable[[str, str, str, bytes, Actor | None], Awaitable[int]]
"""Send (method, path, query, body, actor) through the app; return the status."""
Fire = Callable[[Timer], Awaitable[None]]


@dataclass
class ReplayResult:
    """What a replay did."""

    entries: int
    replayed: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    made_up: int = 0
    """Identifiers or keys drawn beyond those the journal recorded."""

    def as_json(self) -> dict[str, Any]:
        """Return the result as the control plane reports it."""
        return {"replayed": self.replayed, "entries": self.entries,
                "mismatches": self.mismatches, "made_up": self.made_up}


class Replayer:
    """Replays journals into the sandbox it is wired to."""

    def __init__(self, journal: Journal, store: Store, clock: Clock, scheduler: Scheduler,
                 accounts: Accounts, fire: Fire, dispatch: Dispatch, *,
                 prepare_seed: Callable[[Sequence[Mapping[str, Any]]], None] | None = None,
                 seed: Callable[[], Awaitable[Any]] | None = None,
                 ready: Callable[[], Awaitable[Any]] | None = None) -> None:
        self.journal = journal
        self.store = store
        self.clock = clock
        self.scheduler = scheduler
        self.accounts = accounts
        self.fire = fire
        self.dispatch = dispatch
        self.prepare_seed = prepare_seed
        self.seed = seed
        self.ready = ready

    async def replay(self, entries: Sequence[Mapping[str, Any]]) -> ReplayResult:
        """Rebuild ``entries``' state here; raise ``Conflict`` unless the sandbox is fresh."""
        await self._check_fresh()
        result = ReplayResult(len(entries))
        clock = self.clock
        if isinstance(clock, ManualClock):
            first = next((i for i in map(_instant, entries) if i is not None), None)
            if first is not None:
                # Nothing is stored yet, so nothing can disagree with an earlier instant.
                clock.rewind(first)
                await self.scheduler.advance_to(first)
        # The replay's own clock moves are no request's: the timers they fire are the clock's.
        undo_record = set_record(None)
        self.journal.expect_timers(entries)
        try:
            for entry in entries:
                kind = entry.get("type")
                if kind == "request":
                    await self._request(entry, result)
                elif kind == "timer":
                    await self._timer(entry, result)
                elif kind == "seed":
                    await self._seed(entry, result)
                elif kind == "start":
                    await self._start(entry, result)
                elif kind == "ready":
                    await self._ready(entry, result)
        finally:
            self.journal.stop_expecting()
            undo_record()
        return result

    async def _check_fresh(self) -> None:
        async with self.store.transaction() as tx:
            busy = (await tx.list_accounts() or await tx.list_markets(MarketQuery(limit=1))
                    or await tx.pending_timers())
        if busy:
            raise Conflict("a replay needs a fresh sandbox: reset it first "
                           "(POST /sandbox/v1/reset with {\"seed\": false})")

    async def _move_to(self, instant: Instant | None) -> Instant | None:
        """On a manual clock, move to ``instant``, firing every timer due by then.

        Timers already due fire too: the original fired them as soon as they were due (a
        delay of 0), before its next request could arrive. Return where the clock stands.
        """
        clock = self.clock
        if not isinstance(clock, ManualClock):
            return None
        if instant is not None and instant > clock.now():
            await self.scheduler.advance_to(instant)
        else:
            await self.scheduler.fire_overdue()
        return clock.now()

    async def _request(self, entry: Mapping[str, Any], result: ReplayResult) -> None:
        method = str(entry.get("method", ""))
        path = str(entry.get("path", ""))
        recorded = entry.get("status")
        if method in READS or entry.get("faulted") or recorded in REFUSED:
            return
        body = _body(entry)
        sub = path[len(CONTROL):] if path.startswith(CONTROL) else None
        if sub == "/clock/advance":
            if not isinstance(self.clock, ManualClock):
                return  # the timers it fired come as lines of their own
            body = await self._advance(entry, body)
        elif sub is not None and (sub.startswith(PASSED_OVER) or sub == "/snapshots"):
            return
        else:
            if sub == "/snapshots/restore" and "snapshot" in entry:
                body = json.dumps(entry["snapshot"]).encode()
            elif sub == "/reset" and entry.get("seed") and self.prepare_seed is not None:
                self.prepare_seed(entry["seed"])
            await self._move_to(_instant(entry))
        actor = await self._actor(entry)
        supply = Supply.of(entry)
        undo = set_supply(supply)
        try:
            status = await self.dispatch(method, path, str(entry.get("query", "")), body, actor)
        finally:
            undo()
        result.replayed += 1
        result.made_up += supply.shortfall
        if status != recorded:
            result.mismatches.append({"seq": entry.get("seq"), "method": method, "path": path,
                                      "recorded": recorded, "replayed": status})

    async def _advance(self, entry: Mapping[str, Any], body: bytes) -> bytes:
        """Move to where an advance started; return the body that ends it where it ended."""
        start = _instant(entry)
        now = await self._move_to(start)
        answered = _instant(entry, "answered")
        if now is not None and answered is not None and now != start:
            # Something moved the clock past the advance's start already (it ran alongside
            # other requests): go to where the advance ended rather than as far again.
            return json.dumps({"to": format_instant(max(answered, now))}).encode()
        return body

    async def _actor(self, entry: Mapping[str, Any]) -> Actor | None:
        user_id = entry.get("actor")
        if entry.get("api") != "trade" or not isinstance(user_id, str):
            return None
        try:
            view = await self.accounts.get_account(user_id)
        except NotFound:
            return None
        return Actor(view.account.user_id, view.account.communications_id)

    async def _timer(self, entry: Mapping[str, Any], result: ReplayResult) -> None:
        manual = isinstance(self.clock, ManualClock)
        if manual and entry.get("fired_by") == "request":
            return  # the replayed request that moved the clock fires it
        await self._move_to(_instant(entry))
        kind, subject = str(entry.get("kind")), str(entry.get("subject"))
        async with self.store.transaction() as tx:
            pending = [t for t in await tx.pending_timers()
                       if t.kind == kind and t.subject == subject]
        if not pending:
            return  # fired already, as the clock moved to its instant
        timer = min(pending)
        await self.fire(timer)
        self.scheduler.drop([timer.id])
        result.replayed += 1

    async def _seed(self, entry: Mapping[str, Any], result: ReplayResult) -> None:
        if self.seed is None or self.prepare_seed is None:
            result.mismatches.append({"seq": entry.get("seq"), "type": "seed",
                                      "error": "this sandbox cannot seed demo data"})
            return
        await self._move_to(_instant(entry))
        accounts = entry.get("accounts") or []
        self.prepare_seed(accounts)
        supply = Supply.of(entry)
        undo = set_supply(supply)
        try:
            await self.seed()
        finally:
            undo()
        result.replayed += 1
        result.made_up += supply.shortfall

    async def _start(self, entry: Mapping[str, Any], result: ReplayResult) -> None:
        await self._move_to(_instant(entry))
        flushed = 0
        if entry.get("flushed_open_quotes"):
            # A restart forgot the open quotes; forget the same ones.
            async with self.store.transaction() as tx:
                flushed = await tx.delete_quotes_in(QuoteStatus.OPEN)
            result.replayed += 1
        self.journal.started("manual" if self.clock.manual else "system", flushed)


    async def _ready(self, entry: Mapping[str, Any], result: ReplayResult) -> None:
        if self.ready is None:
            return
        await self._move_to(_instant(entry))
        supply = Supply.of(entry)
        undo = set_supply(supply)
        try:
            # As after a restart: counterparties reloaded, pending reactions forgotten.
            await self.journal.recorded("ready", self.ready)
        finally:
            undo()
        result.replayed += 1
        result.made_up += supply.shortfall


def _instant(entry: Mapping[str, Any], name: str = "instant") -> Instant | None:
    text = entry.get(name)
    if not isinstance(text, str):
        return None
    try:
        return parse_instant(text)
    except ValueError:
        return None


def _body(entry: Mapping[str, Any]) -> bytes:
    text = entry.get("body_text")
    if isinstance(text, str):
        return text.encode()
    body = entry.get("body")
    return b"" if body is None else json.dumps(body).encode()


__all__ = ["Dispatch", "ReplayResult", "Replayer"]
