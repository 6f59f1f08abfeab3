"""Files a caller names on the control plane: inside the data directory, and nothing else.

Snapshot save and restore, journal export and replay may name a file on the server. The name
is read relative to the data directory (an absolute path only if it lies inside it), and:

* a ``..`` component, an empty name, a NUL byte or a name past ``MAX_NAME`` characters is
  refused before the file system is touched;
* the sandbox's own files (database, journal, demo keys and their manifest) are refused;
* every directory on the way is opened relative to the one before it with ``O_NOFOLLOW``
  (``openat``), so a symbolic link anywhere on the path is refused, and swapping a directory
  for a link after a check cannot redirect the open;
* a file is read only if it is a regular file (checked on the open descriptor, which was
  opened ``O_NONBLOCK`` so that a FIFO cannot hold the open), and only up to a size limit;
* a file is written to a new file beside the target (``O_EXCL``, mode 0600), flushed to disk
  and renamed over the target: a reader never sees half a file, and a rename replaces a link
  instead of following it; a target that exists and is not a regular file is refused.

Every refusal the file system causes reads the same (``NO_FILE``), whatever the reason (no
such file, a link, a FIFO, a directory, no permission), so an answer reveals nothing about
what lies where. All of it runs on a worker thread: a slow disk or a large file never stalls
the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath

from kalshi_sandbox.domain.errors import InvalidParameters

MAX_NAME = 255
"""Longest file name a caller may give, in characters."""
NO_FILE = "no readable regular file of that name in the data directory"
BAD_NAME = ("path must name a file inside the data directory (relative to it, without '..'"
            " or links)")
RESERVED = "that name belongs to the sandbox's own files; choose another"
CHUNK = 1 << 20

_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class FileRefused(InvalidParameters):
    """A file name or file the control plane will not use (400, in Kalshi's shape)."""


class TooLarge(InvalidParameters):
    """A file or body past the size limit."""


class DataDir:
    """The data directory, as the place every caller-named file must lie in.

    ``reserved`` holds the first components (or their prefixes, ending in ``*``) of the
    sandbox's own files, which no caller may name.
    """

    def __init__(self, root: Path, reserved: Iterable[str] = (), *,
                 limit: int = 512 << 20) -> None:
        self.root = root
        self.reserved = tuple(reserved)
        self.limit = limit

    # Names --------------------------------------------------------------------------------

    def parts(self, name: object, *, own: bool = False) -> tuple[str, ...]:
        """Return the components of ``name`` below the data directory, or refuse it."""
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME \
                or "\x00" in name:
            raise FileRefused(BAD_NAME)
        path = PurePosixPath(name)
        if path.is_absolute():
            root = PurePosixPath(os.path.abspath(self.root))
            try:
                path = path.relative_to(root)
            except ValueError:
                raise FileRefused(BAD_NAME) from None
        parts = tuple(p for p in path.parts if p != ".")
        if not parts or any(p in ("..", "") for p in parts):
            raise FileRefused(BAD_NAME)
        if not own and self.is_reserved(parts[0]):
            raise FileRefused(RESERVED)
        return parts

    def is_reserved(self, first: str) -> bool:
        """Whether a top-level name is one of the sandbox's own files."""
        for item in self.reserved:
            if (item.endswith("*") and first.startswith(item[:-1])) or first == item:
                return True
        return False

    # File work, on a thread --------------------------------------------------------------

    async def read(self, name: object, limit: int | None = None) -> bytes:
        """Return the bytes of the regular file ``name`` names (at most ``limit``)."""
        parts = self.parts(name)
        return await asyncio.to_thread(self.read_parts, parts, limit or self.limit)

    async def write(self, name: object, data: bytes | Callable[[], Iterable[bytes]]) -> str:
        """Write ``data`` (bytes, or a function returning chunks) to ``name``; return the
        name as stored, relative to the data directory."""
        parts = self.parts(name)
        await asyncio.to_thread(self.write_parts, parts, data)
        return "/".join(parts)

    def read_parts(self, parts: tuple[str, ...], limit: int) -> bytes:
        """Read a file below the root (blocking; see ``read``)."""
        with self._directory(parts[:-1], create=False) as folder:
            try:
                fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
                             | getattr(os, "O_CLOEXEC", 0), dir_fd=folder)
            except OSError:
                raise FileRefused(NO_FILE) from None
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    raise FileRefused(NO_FILE)
                if info.st_size > limit:
                    raise TooLarge(f"the file is larger than the limit of {limit} bytes")
                chunks: list[bytes] = []
                size = 0
                while chunk := _read_some(fd, min(CHUNK, limit + 1 - size)):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(f"the file is larger than the limit of {limit} bytes")
                return b"".join(chunks)
            finally:
                os.close(fd)

    def write_parts(self, parts: tuple[str, ...],
                    data: bytes | Callable[[], Iterable[bytes]]) -> None:
        """Write a file below the root, atomically (blocking; see ``write``)."""
        with self._directory(parts[:-1], create=True) as folder:
            name = parts[-1]
            try:
                existing = os.stat(name, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                existing = None
            except OSError:
                raise FileRefused(NO_FILE) from None
            if existing is not None and not stat.S_ISREG(existing.st_mode):
                raise FileRefused(NO_FILE)
            if existing is not None and not os.access(name, os.W_OK, dir_fd=folder,
                                                      follow_symlinks=False):
                raise FileRefused("cannot write the file: it is read-only")
            partial = f".{name[:200]}.{secrets.token_hex(4)}.partial"
            try:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
                             | getattr(os, "O_CLOEXEC", 0), 0o600, dir_fd=folder)
            except OSError:
                raise FileRefused(NO_FILE) from None
            try:
                try:
                    with os.fdopen(fd, "wb", closefd=True) as file:
                        for chunk in ([data] if isinstance(data, bytes) else data()):
                            file.write(chunk)
                        file.flush()
                        os.fsync(file.fileno())
                    os.replace(partial, name, src_dir_fd=folder, dst_dir_fd=folder)
                except OSError as exc:
                    raise FileRefused("cannot write the file: "
                                      + (os.strerror(exc.errno) if exc.errno in
                                         (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
                                         else "the data directory refused it")) from None
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(partial, dir_fd=folder)

    @contextlib.contextmanager
    def _directory(self, parts: tuple[str, ...], *, create: bool) -> Iterator[int]:
        """Open the directory ``parts`` names below the root, following no link."""
        try:
            if create:
                self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY
                         | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            raise FileRefused(NO_FILE) from None
        try:
            for part in parts:
                try:
                    if create:
                        with contextlib.suppress(FileExistsError):
                            os.mkdir(part, 0o700, dir_fd=fd)
                    inner = os.open(part, _DIRECTORY, dir_fd=fd)
                except OSError:
                    raise FileRefused(NO_FILE) from None
                os.close(fd)
                fd = inner
            yield fd
        finally:
            os.close(fd)


def _read_some(fd: int, size: int) -> bytes:
    try:
        return os.read(fd, max(size, 1))
    except BlockingIOError:
        raise FileRefused(NO_FILE) from None


__all__ = ["BAD_NAME", "NO_FILE", "DataDir", "FileRefused", "TooLarge"]
