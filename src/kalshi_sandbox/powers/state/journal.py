"""The journal: every request, timer firing and event, in one append-only sequence.

Each entry is one JSON object (one line of JSON Lines) with a ``seq`` (1, 2, ... since the
last reset), a ``type`` and the sandbox ``instant`` (RFC 3339, to the microsecond):

* ``request``: a Kalshi API or control-plane request, written once it has been answered:
  ``api``, ``method``, ``path``, ``query``, ``body``, ``actor`` (the authenticated user id),
  ``status``, and ``faulted`` if an injected fault answered it before any handler ran. The
  instant is when it arrived.
* ``timer``: a timer that fired: ``kind``, ``subject``, ``due``, and ``fired_by``:
  ``request`` when a request moved the clock (``/clock/advance``), ``clock`` otherwise.
* ``event``: an event the exchange published after a commit: ``event`` and ``data``.
* ``start``: the server started (``clock``, and ``flushed_open_quotes`` if a restart forgot
  open quotes); ``seed``: start-up seeded the demo accounts; ``ready``: start-up loaded the
  counterparties (and created the default ones).

An entry also carries what a replay needs to make the same choices again: the ``ids`` its
work drew, the ``keys`` generated for new accounts (private keys included, so a replayed
sandbox accepts the same credentials), and the ``seed`` or ``snapshot`` it applied.

What each piece of work drew is attributed through context variables (powers/state/records.py).

The journal lives in a JSON Lines file beside the database (in memory for an in-memory
database), survives restarts, and is emptied by a reset. Lines are written in batches, at most
``FLUSH_DELAY`` after they were appended (and before any export), so a burst of requests
costs one write; a crash of the process can lose the lines of that last moment.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO

from kalshi_sandbox.domain.clock import MICROS, Clock, Instant, format_instant
from kalshi_sandbox.domain.events import Event
from kalshi_sandbox.domain.timer import Timer
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.powers import Cause
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

log = logging.getLogger(__name__)


FLUSH_DELAY = 0.01
"""Seconds lines wait to be written, so that a burst of requests costs one write."""

MARKER = "journal"
"""Meta key present while the database and the journal file belong together."""

EncodeLines = Callable[[Sequence[Any]], bytes]
"""Turn entries into JSON Lines: one line of JSON per entry, each ending in a newline."""
Fire = Callable[[Timer], Awaitable[None]]


class InstantText:
    """``format_instant``, remembering its last answers (entries come in time order, and on
    a manual clock many share one instant)."""

    __slots__ = ("_base", "_instant", "_second", "_text")

    def __init__(self) -> None:
        self._second = -1
        self._base = ""
        self._instant = -1
        self._text = ""

    def __call__(self, instant: Instant) -> str:
        if instant == self._instant:
            return self._text
        second, micros = divmod(instant, MICROS)
        if second != self._second:
            self._second = second
            self._base = format_instant(second * MICROS)[:-1]
        text = self._base + "Z" if micros == 0 else f"{self._base}.{micros:06d}".rstrip("0") + "Z"
        self._instant, self._text = instant, text
        return text


def _plain(value: Any) -> Any:
    if (is_dataclass(value) and not isinstance(value, type)) or isinstance(value, Enum):
        return render(value)
    return str(value)


def _encode_lines(entries: Sequence[Any]) -> bytes:
    return b"".join(json.dumps(entry, separators=(",", ":"), ensure_ascii=False,
                               default=_plain).encode() + b"\n" for entry in entries)


def render(value: Any) -> Any:
    """Render a domain object as JSON values: dataclasses as objects, enums by value."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: render(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [render(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): render(v) for k, v in value.items()}
    return value


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_NAMES: dict[type, str] = {}


def event_name(event: Event) -> str:
    """Return an event's name in snake case: ``QuoteAccepted`` -> ``quote_accepted``."""
    kind = type(event)
    name = _NAMES.get(kind)
    if name is None:
        name = _NAMES[kind] = _CAMEL.sub("_", kind.__name__).lower()
    return name


class Journal:
    """The append-only journal of one sandbox, kept in ``path`` (in memory if None)."""

    def __init__(self, path: Path | None, clock: Clock, store: Store, *, enabled: bool = True,
                 encode_lines: EncodeLines = _encode_lines) -> None:
        """Keep the journal in ``path``; ``encode_lines`` writes entries as JSON Lines.

        The encoder must render dataclasses as objects and enums by value, as ``render``
        does (msgspec's does, much faster). Entries are encoded in batches, when written.
        """
        self.path = path
        self.clock = clock
        self.store = store
        self.enabled = enabled
        self._encode_lines = encode_lines
        self._seq = 0
        self._pending: list[dict[str, Any]] = []
        self._memory: list[bytes] = []
        self._file: BinaryIO | None = None
        self._flush_scheduled = False
        self._replay_timers: dict[tuple[str, str], deque[Supply]] | None = None
        self.instant_text = InstantText()

    # Lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Open the journal file, continuing its sequence; start afresh if it is stale.

        A journal belongs to the database it was written beside: if the database does not
        carry the journal's marker (it was replaced or deleted meanwhile), the old lines
        describe another state, and are dropped.
        """
        async with self.store.transaction() as tx:
            marked = await tx.get_meta(MARKER) is not None
            if not marked:
                await tx.set_meta(MARKER, "1")
        if self.path is None:
            if not marked:
                self._memory.clear()
                self._seq = 0
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        last = b""
        size = 0
        if self.path.exists():
            with self.path.open("rb") as existing:
                for line in existing:
                    if line.endswith(b"\n"):
                        size += len(line)
                        last = line
        if not marked and size:
            log.warning("the journal %s does not belong to this database; starting a new one",
                        self.path)
            size, last = 0, b""
        self._file = self.path.open("r+b" if self.path.exists() else "w+b")
        # A line cut short by a crash is dropped; everything before it was complete.
        self._file.truncate(size)
        self._file.seek(size)
        self._seq = _seq_of(last) if last else 0

    def close(self) -> None:
        """Write what is pending and close the file."""
        self.flush()
        if self._file is not None:
            self._file.close()
            self._file = None

    async def clear(self) -> None:
        """Empty the journal (after a reset) and mark the wiped database as its own."""
        self._pending.clear()
        self._memory.clear()
        self._seq = 0
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate(0)
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

    # Writing -----------------------------------------------------------------------------

    def append(self, kind: str, data: Mapping[str, Any], instant: Instant | None = None) -> int:
        """Append an entry of type ``kind``; return its ``seq`` (0 if the journal is off)."""
        if not self.enabled:
            return 0
        self._seq += 1
        at = self.clock.now() if instant is None else instant
        entry = {"seq": self._seq, "type": kind, "instant": self.instant_text(at), **data}
        self._pending.append(entry)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            try:
                asyncio.get_running_loop().call_later(FLUSH_DELAY, self.flush)
            except RuntimeError:
                self.flush()
        return self._seq

    def flush(self) -> None:
        """Encode and write the pending entries."""
        self._flush_scheduled = False
        if not self._pending:
            return
        entries, self._pending = self._pending, []
        try:
            data = self._encode_lines(entries)
        except Exception:
            # One odd value must not cost the batch: the plain encoder writes anything.
            log.exception("journal encoder failed; writing the batch with the plain one")
            data = _encode_lines(entries)
        if self.path is None:
            # JSON escapes newlines inside strings: each newline ends an entry.
            self._memory.extend(data.splitlines(keepends=True))
        elif self._file is not None:
            self._file.write(data)
            self._file.flush()

    def lines(self, after: int = 0) -> Iterator[bytes]:
        """Return the journal's lines (each ending in a newline) with a ``seq`` above ``after``.

        What is pending is written first; the lines are read lazily (from any thread).
        """
        self.flush()
        if self.path is None:
            return iter([line for line in self._memory if not after or _seq_of(line) > after])
        return _read_lines(self.path, after)

    @property
    def last_seq(self) -> int:
        """Return the ``seq`` of the latest entry."""
        return self._seq

    # Recording ---------------------------------------------------------------------------

    def listen(self, events: Sequence[Event]) -> None:
        """Journal a committed batch of events (a hub listener)."""
        if not self.enabled:
            return
        for event in events:
            # Events are frozen: the encoder renders them (as ``render`` would) when the
            # line is written.
            self.append("event", {"event": event_name(event), "data": event})

    def timers(self, fire: Fire) -> Fire:
        """Wrap a scheduler's ``fire`` so each firing is journaled with what it drew."""

        async def fire_journaled(timer: Timer) -> None:
            outer = current_record()
            record = Record("timer")
            undo_record = set_record(record)
            undo_supply = set_supply(self._timer_supply(timer))
            try:
                await fire(timer)
            finally:
                undo_supply()
                undo_record()
                fired_by = "request" if outer is not None and outer.kind == "request" else "clock"
                self.append("timer", {
                    "kind": str(timer.kind), "subject": timer.subject,
                    "due": format_instant(timer.due), "timer_id": timer.id,
                    "fired_by": fired_by, **record.entry_fields(),
                })

        return fire_journaled

    def key_pairs(self, generate: Callable[[], KeyPair]) -> Callable[[], KeyPair]:
        """Wrap a key-pair generator so generated pairs are recorded or taken from a supply."""
        return drawn_key_pairs(generate)

    def note(self, name: str, value: Any) -> None:
        """Attach ``value`` to the current record's entry as ``name`` (a replay needs it)."""
        record = current_record()
        if record is not None:
            record.effects[name] = value

    def started(self, clock_mode: str, flushed_open_quotes: int) -> None:
        """Journal a server start."""
        data: dict[str, Any] = {"clock": clock_mode}
        if flushed_open_quotes:
            data["flushed_open_quotes"] = flushed_open_quotes
        self.append("start", data)

    async def recorded(self, kind: str, work: Callable[[], Awaitable[Any]]) -> None:
        """Run ``work`` as a piece of work of its own; journal it as ``kind`` with its draws."""
        record = Record(kind)
        undo = set_record(record)
        try:
            await work()
        finally:
            undo()
        self.append(kind, record.entry_fields())

    def seeded(self, accounts: list[dict[str, Any]], record: Record) -> None:
        """Journal a seed run outside any request, with the ids it drew."""
        self.append("seed", {"accounts": accounts, **record.entry_fields()})

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


def _read_lines(path: Path, after: int) -> Iterator[bytes]:
    if not path.exists():
        return
    with path.open("rb") as file:
        for line in file:
            if line.endswith(b"\n") and (not after or _seq_of(line) > after):
                yield line


def _seq_of(line: bytes) -> int:
    prefix = b'{"seq":'
    if line.startswith(prefix):
        end = line.find(b",", len(prefix))
        if end > 0:
            try:
                return int(line[len(prefix):end])
            except ValueError:
                pass
    try:
        value = json.loads(line)
    except ValueError:
        return 0
    seq = value.get("seq") if isinstance(value, dict) else None
    return seq if isinstance(seq, int) else 0


def parse_lines(text: str | bytes) -> list[dict[str, Any]]:
    """Parse JSON Lines into journal entries; raise ``ValueError`` naming a bad line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    entries: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"line {number} is not JSON: {exc}") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
            raise ValueError(f"line {number} is not a journal entry (an object with a type)")
        entries.append(entry)
    return entries


__all__ = [
    "MARKER",
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
