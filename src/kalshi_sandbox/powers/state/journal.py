"""The journal: every request, timer firing and event, in one append-only sequence.

Each entry is one JSON object (one line of JSON Lines) with a ``seq``, a ``type`` and the
sandbox ``instant`` (RFC 3339, to the microsecond). Fields that would say nothing are left out
(an empty ``query``, a request without a ``body`` or ``actor``):

* ``request``: a Kalshi API or control-plane request, written once it has been answered:
  ``method``, ``path``, ``query``, ``body``, ``actor`` (the authenticated user id),
  ``status``, and ``faulted`` if an injected fault answered it before any handler ran. The
  instant is when it arrived. Of a request that was not authenticated (no valid signature,
  refused by the control plane's guard), only this metadata is kept, never its body.
* ``timer``: a timer that fired: ``kind``, ``subject``, ``timer_id``, ``due`` (if it fired
  later than due), ``fired_by: "request"`` if a request moved the clock (``/clock/advance``).
* ``event``: an event the exchange published after a commit: ``event`` and, as
  ``journal_events`` says, the ids of what it is about (``ids``, the default), the whole
  objects (``full``), or no line at all (``off``). A replay makes events again; it needs
  none of them.
* ``start``: the server started (``clock``; ``flushed_open_quotes`` if a restart forgot
  open quotes; ``unclean``, ``recovered`` and ``lost`` after a crash, below); ``seed``:
  start-up seeded the demo accounts; ``ready``: start-up loaded the counterparties.

An entry also carries what a replay needs to make the same choices again: the ``ids`` its
work drew, the ``keys`` generated for new accounts (private keys: a replayed sandbox accepts
the same credentials), and the ``seed`` or ``snapshot`` it applied. What each piece of work
drew is attributed through context variables (powers/state/records.py).

``seq`` orders entries by when their work first changed something (drawn then), or, for
work that changed nothing, by when it ended. Lines are written in ``seq`` order: a line
waits for the lines of lower seqs, whose work may still run (past ``HOLD_LIMIT`` waiting
lines, they are written as they come and a replay, which orders entries by ``seq``, sorts
them).

Crash safety: the journal never silently diverges from the database
--------------------------------------------------------------------
The database commits a change before the request that made it is answered, and the
request's line can only be written after that (it holds the status). A process killed between
the COMMIT and the write would leave a change the journal does not show. Three rules close
the gap (``CommitObserver`` in exchange/ports.py is how the store tells the journal):

1. Every commit that changes something also writes, in the same transaction, the journal's
   position (``meta`` row ``journal_position``): the segment and byte offset written so far,
   the last ``seq`` and the last one below which every line is written or described, and
   a description of each piece of work whose changes are in this
   commit or an earlier one but whose line is not written yet: its request (method, path,
   body, actor, instant) and everything it drew so far. That is all a replay needs.
2. A line is written only once every change of its work is committed: the line of work
   whose changes wait for their COMMIT waits with them. So the file never shows a change
   the database does not hold, whenever the process dies.
3. Start-up reads the position back and the files from there on (only that tail, never the
   whole journal), drops a line cut short, and writes each described piece of work that
   has no line as a ``recovered`` line (no status: it was never answered, or its answer was
   not written). The ``start`` entry says the stop was ``unclean`` and lists the
   ``recovered`` seqs, and the ``lost`` ones: lines of work that changed nothing committed
   (reads, refusals) that died with the process. A replay reports both, and every other gap
   in the sequence.

So after any crash of the process the journal has a line for every committed change, and a
replay into a fresh sandbox rebuilds the same database (tests/state/test_crash.py kills a
server mid-run to show it). An operating-system crash can lose what was not yet on disk, of
the database (``synchronous=NORMAL``) and the journal alike; start-up then finds the journal
shorter than the position says, and its ``start`` entry reports ``truncated``.

The files (powers/state/segments.py) are segments of JSON Lines beside the database,
compressed once full and dropped past ``journal_retention_mb``; an in-memory database keeps
its journal in memory. A reset empties the journal. Lines are written in batches, at most
``FLUSH_DELAY`` after their work ended (and before any export).

Past 500 lines on purpose: writing lines, observing the store's commits and recovering after
a crash share the pending lines and the work in flight, and are correct only together (the
stored position's format and the recovery arithmetic are in powers/state/position.py, the
files in powers/state/segments.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from kalshi_sandbox.domain.clock import Clock, Instant, format_instant
from kalshi_sandbox.domain.events import Event
from kalshi_sandbox.domain.timer import Timer
from kalshi_sandbox.exchange.ports import ObservedStore, Store
from kalshi_sandbox.powers import Cause
from kalshi_sandbox.powers.state.entries import (
    EncodeLines,
    InstantText,
    encode_lines,
    event_fields,
    event_name,
    parse_lines,
    render,
    split_lines,
)
from kalshi_sandbox.powers.state.position import (
    POSITION,
    encode_position,
    parse_position,
    recover,
)
from kalshi_sandbox.powers.state.records import (
    JournalIds,
    KeyPair,
    Record,
    Supply,
    current_record,
    drawn_key_pairs,
    set_record,
    set_supply,
)
from kalshi_sandbox.powers.state.segments import Position, Segments

log = logging.getLogger(__name__)


FLUSH_DELAY = 0.01
"""Seconds lines wait to be written, so that a burst of requests costs one write."""

MARKER = "journal"
"""Meta key present while the database and the journal file belong together."""
EVENTS = ("ids", "full", "off")
POSITION_EVERY = 1 << 20
"""Bytes written without a commit after which the position is stored anyway, so that
start-up after a crash never reads much more than this (reads make no commits)."""
RECENT = 50
"""Entries the journal keeps in memory for its tail."""
HOLD_LIMIT = 50_000
"""Lines that may wait for a line of a lower seq before they are written out of order."""

Fire = Callable[[Timer], Awaitable[None]]


class Journal:
    """The append-only journal of one sandbox, kept in files beside ``path`` (in memory if
    None); also the store's ``CommitObserver``."""

    def __init__(self, path: Path | None, clock: Clock, store: Store, *, enabled: bool = True,
                 encode: EncodeLines = encode_lines, events: str = "ids",
                 segment_bytes: int = 4 << 20, retention_bytes: int = 0) -> None:
        """Keep the journal in segments named after ``path``; ``encode`` writes entries as
        JSON Lines (it must render dataclasses as objects and enums by value, as
        ``render`` does; msgspec's does, much faster)."""
        if events not in EVENTS:
            raise ValueError(f"journal_events must be one of {', '.join(EVENTS)}")
        self.path = path
        self.clock = clock
        self.store = store
        self.enabled = enabled
        self.events = events
        self._encode = encode
        self._seq = 0
        self._pending: list[tuple[Record | None, dict[str, Any]]] = []
        self._open: dict[int, Record] = {}
        """Work with changes (committed or about to be) whose line is not written yet."""
        self._changing: list[Record] = []
        """Work with changes waiting for the next COMMIT."""
        self._memory: list[bytes] = []
        self.segments = None if path is None else Segments(
            path, segment_bytes=segment_bytes, retention_bytes=retention_bytes)
        self._flush_scheduled = False
        self._complete = 0
        """Every seq up to this one is written, or described in the position."""
        self._stored_at = Position(0, 0)
        self._storing: asyncio.Task[None] | None = None
        self._closing = False
        self._crash: dict[str, Any] = {}
        """What start-up found of an unclean stop, for the next ``start`` entry."""
        self._replay_timers: dict[tuple[str, str], deque[Supply]] | None = None
        self.instant_text = InstantText()
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        """The last entries appended, newest last (the dashboard's journal tail)."""
        self.on_append: Callable[[], None] | None = None
        """Called after every entry is appended (the dashboard's feed listens)."""

    # Lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the journal where the database says it stopped; recover what a crash lost.

        A journal belongs to the database it was written beside: if the database does not
        carry the journal's marker (it was replaced or deleted meanwhile), the old lines
        describe another state, and are dropped.
        """
        async with self.store.transaction() as tx:
            marked = await tx.get_meta(MARKER) is not None
            stored = await tx.get_meta(POSITION)
        position = parse_position(stored) if marked else None
        if self.segments is not None:
            at = None if position is None else Position(int(position.get("segment", 0)),
                                                        int(position.get("offset", 0)))
            tail, exact = await asyncio.to_thread(self.segments.open, at)
            if not marked and (tail or self.segments.offset or self.segments.active > 1):
                log.warning("the journal %s does not belong to this database; starting a "
                            "new one", self.path)
                await asyncio.to_thread(self.segments.clear)
                tail = b""
            self._recover(position if exact else None, tail, truncated=(
                position is not None and not exact))
        elif not marked:
            self._memory.clear()
            self._seq = 0
        if self.enabled and isinstance(self.store, ObservedStore):
            self.store.observe_commits(self)
        await self.adopt()

    def _recover(self, position: Mapping[str, Any] | None, tail: bytes, *,
                 truncated: bool) -> None:
        """Continue the sequence after ``tail``; write lines for work described in
        ``position`` that has none (see the module docstring)."""
        found = recover(position, tail, truncated=truncated)
        self._seq = found.seq
        self._crash = found.crash
        if found.recovered:
            assert self.segments is not None
            self.segments.write(self._encode(found.recovered))
        if found.recovered or found.crash.get("lost"):
            log.warning("the sandbox stopped uncleanly: %d journal lines recovered from the "
                        "database, %d lines of work that changed nothing lost",
                        len(found.recovered), len(found.crash.get("lost", ())))

    async def close(self) -> None:
        """Write what is pending, remember a clean stop, and close the files."""
        if self._storing is not None:
            with contextlib.suppress(Exception):
                await self._storing
        self._write(everything=True)
        self._closing = True
        if self.enabled and self.segments is not None:
            try:
                async with self.store.transaction() as tx:
                    await tx.set_meta(POSITION, self._position_text())
            except Exception:
                log.exception("could not store the journal's position")
        if isinstance(self.store, ObservedStore):
            self.store.observe_commits(None)
        if self.segments is not None:
            await asyncio.to_thread(self.segments.close)

    async def clear(self) -> None:
        """Empty the journal (after a reset) and mark the wiped database as its own.

        Work still under way keeps its place, numbered from 1 again (the reset first).
        """
        written = {id(record) for record, _ in self._pending if record is not None}
        in_flight = sorted((r for r in self._open.values() if id(r) not in written),
                           key=lambda r: r.seq)
        self._pending.clear()
        self._memory.clear()
        self._open.clear()
        self._seq = 0
        for record in in_flight:
            record.seq = self._next()
            self._open[record.seq] = record
        if self.segments is not None:
            await asyncio.to_thread(self.segments.clear)
        await self.adopt()

    async def reload(self, cause: Cause) -> None:
        """After a reset, start an empty journal; after a restore, keep it and go on."""
        if cause is Cause.RESET:
            await self.clear()
        else:
            await self.adopt()

    async def adopt(self) -> None:
        """Mark the database as belonging to this journal (after a reset or a restore)."""
        async with self.store.transaction() as tx:
            await tx.set_meta(MARKER, "1")
            await tx.set_meta(POSITION, self._position_text())

    # The store's commits (CommitObserver) ------------------------------------------------

    def changed(self) -> None:
        """A transaction of the current work changed something: its line waits for it."""
        record = current_record()
        if record is None or record.written:
            return
        if not record.seq:
            record.seq = self._next()
        if not record.uncommitted:
            record.uncommitted = True
            self._changing.append(record)
        self._open[record.seq] = record

    def committing(self) -> Mapping[str, str]:
        """Write the lines that may be written; return the position to commit with them."""
        self._write()
        if self.segments is None:
            return {}
        self._stored_at = self.segments.position()
        return {POSITION: self._position_text()}

    def committed(self) -> None:
        """The changes waiting for their COMMIT are durable: their lines may follow."""
        for record in self._changing:
            record.uncommitted = False
            record.committed = True
        self._changing.clear()
        if self._pending:
            self._schedule_flush()

    def rolled_back(self) -> None:
        """The changes waiting for their COMMIT are gone."""
        for record in self._changing:
            record.uncommitted = False
            if not record.committed:
                self._open.pop(record.seq, None)
        self._changing.clear()

    def _position_text(self) -> str:
        at = self.segments.position() if self.segments is not None else Position(0, 0)
        return encode_position(at, self._seq, self._complete, self._closing,
                               [self.describe(record) for record in self._open.values()])

    def describe(self, record: Record) -> dict[str, Any]:
        """Return the entry of ``record`` as far as it is known (no status yet)."""
        entry: dict[str, Any] = {"seq": record.seq, "type": record.kind}
        if record.instant is not None:
            entry["instant"] = self.instant_text(record.instant)
        entry.update(record.describe())
        return entry

    # Writing -----------------------------------------------------------------------------

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def append(self, kind: str, data: Mapping[str, Any], instant: Instant | None = None,
               record: Record | None = None) -> int:
        """Append an entry of type ``kind``; return its ``seq`` (0 if the journal is off).

        The entry of ``record``'s work keeps the seq drawn when it first changed something,
        and waits to be written until its changes are committed.
        """
        if not self.enabled:
            return 0
        if record is not None and record.seq:
            seq = record.seq
        else:
            seq = self._next()
            if record is not None:
                record.seq = seq
        at = self.clock.now() if instant is None else instant
        entry = {"seq": seq, "type": kind, "instant": self.instant_text(at), **data}
        if record is not None:
            record.appended = True
        self._pending.append((record, entry))
        self.recent.append(entry)
        self._schedule_flush()
        if self.on_append is not None:
            self.on_append()
        return seq

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            try:
                # In a context of its own: not the record of whichever work scheduled it.
                asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush,
                                                      context=contextvars.Context())
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        """Write the pending lines whose work is committed (or changed nothing)."""
        self._flush_scheduled = False
        self._write()

    def _write(self, *, everything: bool = False) -> None:
        """Write, in seq order, the pending lines whose work is committed (or changed
        nothing) and that no line of a lower seq still waits for."""
        if not self._pending:
            self._complete = self._barrier() - 1
            return
        barrier = 1 << 62 if everything else self._barrier()
        ready: list[tuple[Record | None, dict[str, Any]]] = []
        waiting: list[tuple[Record | None, dict[str, Any]]] = []
        for item in self._pending:
            record, entry = item
            if not everything and ((record is not None and record.uncommitted)
                                   or entry["seq"] > barrier):
                waiting.append(item)
            else:
                ready.append(item)
        if len(waiting) > HOLD_LIMIT:
            log.warning("%d journal lines waited for earlier work; writing them out of order",
                        len(waiting))
            ready += [item for item in waiting if item[0] is None or not item[0].uncommitted]
            waiting = [item for item in waiting if item[0] is not None and item[0].uncommitted]
        if ready:
            ready.sort(key=lambda item: item[1]["seq"])
            entries = [entry for _, entry in ready]
            try:
                data = self._encode(entries)
            except Exception:
                # One odd value must not cost the batch: the plain encoder writes anything.
                log.exception("journal encoder failed; writing the batch with the plain one")
                data = encode_lines(entries)
            if self.segments is None:
                # JSON escapes newlines inside strings: each newline ends an entry.
                self._memory.extend(data.splitlines(keepends=True))
            else:
                try:
                    self.segments.write(data)
                except OSError:
                    log.exception("cannot write the journal; its lines wait in memory")
                    return
            self._pending = waiting
            for record, _ in ready:
                if record is not None:
                    record.written = True
                    if self._open.get(record.seq) is record:
                        del self._open[record.seq]
        lowest = min((entry["seq"] for _, entry in waiting), default=self._seq + 1)
        self._complete = min(lowest, self._barrier()) - 1
        if self.segments is not None and self._storing is None and self.enabled and (
                self.segments.active != self._stored_at.segment
                or self.segments.offset - self._stored_at.offset >= POSITION_EVERY):
            with contextlib.suppress(RuntimeError):  # no loop: closing
                self._storing = asyncio.get_running_loop().create_task(
                    self._store(), context=contextvars.Context())

    async def _store(self) -> None:
        """Store the position in a commit of its own (after many lines without one)."""
        try:
            async with self.store.transaction() as tx:
                await tx.set_meta(POSITION, self._position_text())
        except Exception:
            log.exception("could not store the journal's position")
        finally:
            self._storing = None

    def _barrier(self) -> int:
        """Return the lowest seq of work with changes whose line cannot be written yet."""
        return min((r.seq for r in self._open.values() if r.uncommitted or not r.appended),
                   default=self._seq + 1)

    def lines(self, after: int = 0) -> Iterator[bytes]:
        """Return the journal's lines (each ending in a newline) with a ``seq`` above ``after``.

        What may be written is written first; the lines are read lazily (from any thread).
        """
        self.flush()
        if self.segments is None:
            return split_lines(list(self._memory), after)
        return split_lines(self.segments.chunks(self.segments.position()), after)

    @property
    def last_seq(self) -> int:
        """Return the ``seq`` drawn last."""
        return self._seq

    # Recording ---------------------------------------------------------------------------

    def listen(self, events: Sequence[Event]) -> None:
        """Journal a committed batch of events (a hub listener)."""
        if not self.enabled or self.events == "off":
            return
        full = self.events == "full"
        for event in events:
            # Events are frozen: the encoder renders them (as ``render`` would) when the
            # line is written.
            self.append("event", {"event": event_name(event), "data": event} if full
                        else event_fields(event))

    def timers(self, fire: Fire) -> Fire:
        """Wrap a scheduler's ``fire`` so each firing is journaled with what it drew."""

        async def fire_journaled(timer: Timer) -> None:
            outer = current_record()
            at = self.clock.now()
            head: dict[str, Any] = {"kind": str(timer.kind), "subject": timer.subject,
                                    "timer_id": timer.id}
            if timer.due != at:
                head["due"] = format_instant(timer.due)
            if outer is not None and outer.kind == "request":
                head["fired_by"] = "request"
            record = Record("timer", head=head, instant=at)
            undo_record = set_record(record)
            undo_supply = set_supply(self._timer_supply(timer))
            try:
                await fire(timer)
            finally:
                undo_supply()
                undo_record()
                self.append("timer", record.describe(), at, record)

        return fire_journaled

    def key_pairs(self, generate: Callable[[], KeyPair]) -> Callable[[], KeyPair]:
        """Wrap a key-pair generator so generated pairs are recorded or taken from a supply."""
        return drawn_key_pairs(generate)

    def note(self, name: str, value: Any) -> None:
        """Attach ``value`` to the current record's entry as ``name`` (a replay needs it).

        Note it before the change it explains is committed: a crash right after the
        commit leaves only what was noted by then.
        """
        record = current_record()
        if record is not None:
            record.effects[name] = value

    async def recorded(self, kind: str, work: Callable[[], Awaitable[Any]],
                       head: dict[str, Any] | None = None) -> Record:
        """Run ``work`` as a piece of work of its own; journal it as ``kind`` with its draws."""
        record = Record(kind, head=head, instant=self.clock.now())
        undo = set_record(record)
        try:
            await work()
        finally:
            undo()
            self.append(kind, record.describe(), record.instant, record)
        return record

    async def start(self, clock_mode: str, flush: Callable[[], Awaitable[int]]) -> int:
        """Journal a server start, running ``flush`` (forgetting open quotes) as its work.

        The entry reports an unclean stop before it, as start-up found it.
        """
        flushed = 0

        async def work() -> None:
            nonlocal flushed
            flushed = await flush()
            if flushed:
                self.note("flushed_open_quotes", flushed)

        head: dict[str, Any] = {"clock": clock_mode, **self._crash}
        self._crash = {}
        await self.recorded("start", work, head)
        return flushed

    # Replay support ----------------------------------------------------------------------

    def expect_timers(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """Hand each timer firing during a replay the ids its journal entry recorded."""
        index: dict[tuple[str, str], deque[Supply]] = {}
        for entry in entries:
            if entry.get("type") == "timer":
                key = (str(entry.get("kind")), str(entry.get("subject")))
                index.setdefault(key, deque()).append(Supply.of(entry))
        self._replay_timers = index

    def stop_expecting(self) -> None:
        """End a replay: timers draw fresh ids again."""
        self._replay_timers = None

    def _timer_supply(self, timer: Timer) -> Supply | None:
        if self._replay_timers is None:
            return None
        queue = self._replay_timers.get((str(timer.kind), timer.subject))
        return queue.popleft() if queue else Supply()


__all__ = [
    "MARKER",
    "POSITION",
    "Journal",
    "JournalIds",
    "KeyPair",
    "Record",
    "Supply",
    "current_record",
    "event_name",
    "parse_lines",
    "render",
    "set_record",
    "set_supply",
]
