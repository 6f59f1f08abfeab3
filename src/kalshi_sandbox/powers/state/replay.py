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

Entries are replayed in ``seq`` order, the order in which their work first changed
something. A timer is fired when its entry comes (after moving a manual clock to its
instant), whatever fired it first: a request that moved the clock, or the clock.

The replay reports each request whose status differs from the recorded one, and how many
identifiers or keys it had to make up because the journal held none for them: either means
the replayed state may differ from the original. It also reports what a crash did to the
journal (powers/state/journal.py): the ``recovered`` entries (work whose changes were
committed but whose line a crash cut off: replayed, with no status to compare), the
``lost`` seqs (lines of work that changed nothing, cut off), and every other gap in the
sequence as ``missing`` (a journal exported from a later seq, or whose oldest segments
were dropped by ``journal_retention_mb``).
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
TRADE = "/trade-api/"
READS = ("GET", "HEAD", "OPTIONS")
REFUSED = (401, 403, 429)
"""Statuses of requests refused before they changed anything: a bad signature, a guard, an
empty token bucket."""
PASSED_OVER = ("/journal", "/faults", "/health", "/clock")
"""Control-plane paths (under /sandbox/v1) whose requests change no replayable state."""

Dispatch = Callable[[str, str, str, bytes, Actor | None], Awaitable[int]]
"""Send (method, path, query, body, actor) through the app; return the status."""
Fire = Callable[[Timer], Awaitable[None]]
PrepareSeed = Callable[[Sequence[Mapping[str, Any]]], Awaitable[None]]
"""Lay out the demo keys a journaled seed found on disk (powers/admin/seed.py)."""


@dataclass
class ReplayResult:
    """What a replay did."""

    entries: int
    replayed: int = 0
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    made_up: int = 0
    """Identifiers or keys drawn beyond those the journal recorded."""
    recovered: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    missing: list[list[int]] = field(default_factory=list)
    """Ranges [first, last] of seqs absent from the journal and not reported lost."""

    def as_json(self) -> dict[str, Any]:
        """Return the result as the control plane reports it."""
        return {"replayed": self.replayed, "entries": self.entries,
                "mismatches": self.mismatches, "made_up": self.made_up,
                "recovered": self.recovered, "lost": self.lost, "missing": self.missing}


class Replayer:
    """Replays journals into the sandbox it is wired to."""

    def __init__(self, journal: Journal, store: Store, clock: Clock, scheduler: Scheduler,
                 accounts: Accounts, fire: Fire, dispatch: Dispatch, *,
                 prepare_seed: PrepareSeed | None = None,
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
        entries = in_order(entries)
        result = ReplayResult(len(entries))
        _gaps(entries, result)
        clock = self.clock
        # The replay's own clock moves are no request's: the timers they fire are the clock's,
        # and the replay request itself changes nothing of its own (its requests are
        # journaled one by one).
        undo_record = set_record(None)
        try:
            if isinstance(clock, ManualClock):
                # The earliest instant, not the first entry's: a replay request is journaled
                # at its arrival, before the earlier instants of the entries it replayed.
                first = min((i for i in map(_instant, entries) if i is not None), default=None)
                if first is not None:
                    # Nothing is stored yet, so nothing can disagree with an earlier instant.
                    clock.rewind(first)
                    await self.scheduler.advance_to(first)
            self.journal.expect_timers(entries)
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
        if entry.get("recovered"):
            result.recovered.append(_seq(entry))
            if entry.get("incomplete"):
                result.mismatches.append({"seq": entry.get("seq"), "method": method,
                                          "path": path, "error": "the crash left only its "
                                          "request line: its body was too large to keep"})
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
            elif sub == "/reset" and isinstance(entry.get("seed"), list) \
                    and self.prepare_seed is not None:
                await self.prepare_seed(entry["seed"])
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
        if recorded is not None and status != recorded:
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
        if not str(entry.get("path", "")).startswith(TRADE) or not isinstance(user_id, str):
            return None
        try:
            view = await self.accounts.get_account(user_id)
        except NotFound:
            return None
        return Actor(view.account.user_id, view.account.communications_id)

    async def _timer(self, entry: Mapping[str, Any], result: ReplayResult) -> None:
        if entry.get("recovered"):
            result.recovered.append(_seq(entry))
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
        if entry.get("recovered"):
            result.recovered.append(_seq(entry))
        await self._move_to(_instant(entry))
        accounts = entry.get("seed") or entry.get("accounts") or []
        await self.prepare_seed(accounts if isinstance(accounts, list) else [])
        supply = Supply.of(entry)
        undo = set_supply(supply)
        try:
            await self.seed()
        finally:
            undo()
        result.replayed += 1
        result.made_up += supply.shortfall

    async def _start(self, entry: Mapping[str, Any], result: ReplayResult) -> None:
        instant = _instant(entry)
        clock = self.clock
        if isinstance(clock, ManualClock) and instant is not None and instant < clock.now():
            # The original stood here after its restart: it had stored where its clock
            # stood before a crash cut an advance short (timers of which had fired).
            clock.rewind(instant)
        await self._move_to(instant)
        lost = entry.get("lost")
        if isinstance(lost, list):
            result.lost.extend(s for s in lost if isinstance(s, int))
        if entry.get("recovered") is True:
            result.recovered.append(_seq(entry))

        async def flush() -> int:
            if not entry.get("flushed_open_quotes"):
                return 0
            # A restart forgot the open quotes; forget the same ones.
            async with self.store.transaction() as tx:
                return await tx.delete_quotes_in(QuoteStatus.OPEN)

        if await self.journal.start("manual" if clock.manual else "system", flush):
            result.replayed += 1

    async def _ready(self, entry: Mapping[str, Any], result: ReplayResult) -> None:
        if self.ready is None:
            return
        if entry.get("recovered"):
            result.recovered.append(_seq(entry))
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


def in_order(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Return ``entries`` in ``seq`` order (entries without one keep their place at the end)."""
    return sorted(entries, key=_seq_key)


def _seq_key(entry: Mapping[str, Any]) -> int:
    seq = entry.get("seq")
    return seq if isinstance(seq, int) else 1 << 62


def _seq(entry: Mapping[str, Any]) -> int:
    seq = entry.get("seq")
    return seq if isinstance(seq, int) else 0


def _gaps(entries: Sequence[Mapping[str, Any]], result: ReplayResult) -> None:
    """Note the ranges of seqs absent from ``entries`` that no start entry reports lost."""
    explained: set[int] = set()
    for entry in entries:
        lost = entry.get("lost") if entry.get("type") == "start" else None
        if isinstance(lost, list):
            explained.update(s for s in lost if isinstance(s, int))
    present = {_seq(e) for e in entries} - {0}
    expected = 1
    for seq in sorted(present | explained):
        if seq > expected:
            result.missing.append([expected, seq - 1])
        expected = seq + 1


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


__all__ = ["Dispatch", "ReplayResult", "Replayer", "in_order"]
