"""The journal's files: numbered segments of JSON Lines, compressed once full, kept for a while.

Beside the database ``sandbox.db`` the journal is ``sandbox.journal.000001.jsonl.gz``,
``sandbox.journal.000002.jsonl.gz``, ..., and the segment being written,
``sandbox.journal.000003.jsonl``. Once the active segment passes ``segment_bytes`` it is
closed and a worker thread compresses it (gzip; JSON Lines of one sandbox repeat themselves,
so it shrinks several times over), then deletes the oldest compressed segments while they
hold more than ``retention_bytes`` (0 keeps them all).

Where writing stopped is a ``Position``: a segment and a byte offset in it. Start-up reads
only from the position the database remembered (powers/state/journal.py) to the end, not the
files before it; without one, only the last ``TAIL_WINDOW`` bytes. A line cut short at the
end of the active segment (the process died while writing it) is cut off.
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, cast

log = logging.getLogger(__name__)

TAIL_WINDOW = 1 << 20
"""Bytes read from the end of the active segment when no position is known."""
COMPRESS_LEVEL = 3
"""gzip level: on a sandbox's journal, 3 keeps within 12% of 9's size at a quarter of its CPU."""

_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class Position:
    """Where the journal's files end: a segment's number and a byte offset in it."""

    segment: int
    offset: int


class Segments:
    """The journal's segment files, named ``<base>.NNNNNN.jsonl[.gz]``."""

    def __init__(self, base: Path, *, segment_bytes: int = 4 << 20,
                 retention_bytes: int = 0) -> None:
        self.base = base
        self.segment_bytes = segment_bytes
        self.retention_bytes = retention_bytes
        self.active = 1
        self.offset = 0
        self.bytes_read = 0
        """Bytes the last ``open`` read from the files (for tests and the bench)."""
        self._fd: int | None = None
        self._pattern = re.compile(re.escape(base.name) + r"\.(\d{6,})\.jsonl(\.gz)?$")
        self._lock = threading.Lock()
        self._generation = 0
        self._executor: ThreadPoolExecutor | None = None
        self._jobs: list[Future[None]] = []

    # Names -------------------------------------------------------------------------------

    def path(self, number: int, *, compressed: bool = False) -> Path:
        return self.base.with_name(f"{self.base.name}.{number:06d}.jsonl"
                                   + (".gz" if compressed else ""))

    def _listing(self) -> dict[int, tuple[bool, bool]]:
        """Return number -> (plain file exists, compressed file exists)."""
        found: dict[int, tuple[bool, bool]] = {}
        directory = self.base.parent
        if not directory.is_dir():
            return found
        for entry in os.scandir(directory):
            match = self._pattern.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            number = int(match.group(1))
            plain, packed = found.get(number, (False, False))
            found[number] = (plain or not match.group(2), packed or bool(match.group(2)))
        return found

    # Opening -----------------------------------------------------------------------------

    def open(self, position: Position | None) -> tuple[bytes, bool]:
        """Open the active segment; return the complete lines after ``position``.

        Return (lines, exact): ``exact`` is False when ``position`` was None or no longer
        matches the files, and the lines are then those of the last ``TAIL_WINDOW`` bytes
        (the first, partial one left out).
        """
        self.base.parent.mkdir(parents=True, exist_ok=True)
        self.bytes_read = 0
        for leftover in self.base.parent.glob(self.base.name + ".*.partial"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        legacy = self.base.with_name(self.base.name + ".jsonl")
        listing = self._listing()
        if legacy.is_file() and not listing:
            os.replace(legacy, self.path(1))
            listing = {1: (True, False)}
        plain = [n for n, (p, _) in listing.items() if p]
        highest = max(listing, default=0)
        # The highest segment is the active one unless it was compressed already.
        self.active = highest if highest in plain else highest + 1
        for number in plain:
            if number != self.active:
                self._compress_later(number)
        self._fd = os.open(self.path(self.active), os.O_RDWR | os.O_CREAT | _O_CLOEXEC, 0o600)
        size = os.fstat(self._fd).st_size
        exact = (position is not None and position.segment <= self.active
                 and (position.segment < self.active or position.offset <= size))
        data = b""
        if exact:
            assert position is not None
            try:
                data = self._read_from(position, size)
            except OSError:
                exact = False
        if not exact:
            data = self._read_window(size)
        # Cut a line the process died writing; everything before it was complete.
        end = data.rfind(b"\n") + 1
        cut = len(data) - end
        if cut:
            size -= cut
            os.ftruncate(self._fd, size)
            data = data[:end]
        self.offset = size
        return data, exact

    def _read_from(self, position: Position, size: int) -> bytes:
        chunks = []
        for number in range(position.segment, self.active + 1):
            start = position.offset if number == position.segment else 0
            if number == self.active:
                chunks.append(self._pread(start, size - start))
                continue
            plain = self.path(number)
            try:
                with plain.open("rb") as file:
                    file.seek(start)
                    chunk = file.read()
            except FileNotFoundError:
                with gzip.open(self.path(number, compressed=True), "rb") as packed:
                    chunk = packed.read()[start:]
            self.bytes_read += len(chunk)
            chunks.append(chunk)
        return b"".join(chunks)

    def _read_window(self, size: int) -> bytes:
        window = TAIL_WINDOW
        while True:
            start = max(0, size - window)
            data = self._pread(start, size - start)
            if start == 0:
                return data
            first = data.find(b"\n")
            if first >= 0 and first + 1 < len(data):
                return data[first + 1:]
            window *= 4

    def _pread(self, start: int, length: int) -> bytes:
        assert self._fd is not None
        chunks = []
        while length > 0:
            chunk = os.pread(self._fd, min(length, 1 << 24), start)
            if not chunk:
                break
            chunks.append(chunk)
            start += len(chunk)
            length -= len(chunk)
            self.bytes_read += len(chunk)
        return b"".join(chunks)

    # Writing -----------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Append ``data`` (whole lines) to the active segment; rotate once it is full."""
        fd = self._fd
        if fd is None:
            raise OSError("the journal is closed")
        view = memoryview(data)
        while view:
            written = os.pwrite(fd, view, self.offset)
            self.offset += written
            view = view[written:]
        if self.offset >= self.segment_bytes:
            self._rotate()

    def position(self) -> Position:
        return Position(self.active, self.offset)

    def _rotate(self) -> None:
        assert self._fd is not None
        os.close(self._fd)
        self._fd = None
        self._compress_later(self.active)
        self.active += 1
        self.offset = 0
        self._fd = os.open(self.path(self.active), os.O_RDWR | os.O_CREAT | os.O_TRUNC
                           | _O_CLOEXEC, 0o600)

    def clear(self) -> None:
        """Delete every segment and start again at segment 1 (after a reset)."""
        with self._lock:
            self._generation += 1
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            for number, (plain, packed) in self._listing().items():
                for exists, path in ((plain, self.path(number)),
                                     (packed, self.path(number, compressed=True))):
                    if exists:
                        with contextlib.suppress(OSError):
                            path.unlink()
            self.active, self.offset = 1, 0
            self._fd = os.open(self.path(1), os.O_RDWR | os.O_CREAT | os.O_TRUNC | _O_CLOEXEC,
                               0o600)

    def close(self) -> None:
        """Close the active segment; wait for compressions under way."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # Compression and retention (a worker thread) -----------------------------------------

    def _compress_later(self, number: int) -> None:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="journal-segments")
        self._jobs = [job for job in self._jobs if not job.done()]
        self._jobs.append(self._executor.submit(self._compress, number, self._generation))

    def wait(self) -> None:
        """Wait for the compressions under way (tests, the bench)."""
        for job in list(self._jobs):
            job.result()

    def _compress(self, number: int, generation: int) -> None:
        source = self.path(number)
        target = self.path(number, compressed=True)
        partial = target.with_name(target.name + ".partial")
        if generation != self._generation:
            return
        try:
            with source.open("rb") as plain, open(partial, "wb") as raw:
                with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=COMPRESS_LEVEL,
                                   mtime=0) as packed:
                    shutil.copyfileobj(plain, packed, 1 << 20)
                raw.flush()
                os.fsync(raw.fileno())
            with self._lock:
                if generation != self._generation:
                    partial.unlink()
                    return
                os.replace(partial, target)
                source.unlink()
                self._retain()
        except FileNotFoundError:
            pass  # cleared meanwhile (a reset)
        except OSError:
            log.exception("compressing journal segment %s failed; it stays as it is", source)
            with contextlib.suppress(OSError):
                partial.unlink()

    def _retain(self) -> None:
        if not self.retention_bytes:
            return
        packed = sorted((n, self.path(n, compressed=True))
                        for n, (_, p) in self._listing().items() if p and n != self.active)
        sizes = {n: path.stat().st_size for n, path in packed}
        total = sum(sizes.values())
        for number, path in packed:
            if total <= self.retention_bytes:
                break
            path.unlink()
            total -= sizes[number]
            log.info("journal segment %s dropped (journal_retention_mb)", path.name)

    # Reading -----------------------------------------------------------------------------

    def total_bytes(self) -> int:
        """Bytes the journal's files take on disk."""
        total = 0
        for number, (plain, packed) in self._listing().items():
            for exists, path in ((plain, self.path(number)),
                                 (packed, self.path(number, compressed=True))):
                if exists:
                    with contextlib.suppress(OSError):
                        total += path.stat().st_size
        return total

    def chunks(self, upto: Position) -> Iterator[bytes]:
        """Yield the journal's bytes, oldest segment first, up to ``upto`` (whole lines).

        Reads lazily (from any thread); a segment compressed or dropped meanwhile is read
        compressed, or skipped.
        """
        numbers = sorted(n for n in self._listing() if n <= upto.segment)
        for number in numbers:
            limit = upto.offset if number == upto.segment else None
            try:
                file: IO[bytes] = self.path(number).open("rb")
            except FileNotFoundError:
                try:
                    file = cast(IO[bytes], gzip.open(  # noqa: SIM115
                        self.path(number, compressed=True), "rb"))
                except FileNotFoundError:
                    continue
            with file:
                left = limit
                while left is None or left > 0:
                    chunk = file.read(1 << 16 if left is None else min(1 << 16, left))
                    if not chunk:
                        break
                    if left is not None:
                        left -= len(chunk)
                    yield chunk


__all__ = ["TAIL_WINDOW", "Position", "Segments"]
