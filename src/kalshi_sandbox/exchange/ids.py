"""Identifier generation, injectable so that replays and tests can be deterministic.

With a clock, ids are UUIDv7 (RFC 9562): the leading 48 bits are the clock's millisecond and
the next 12 a sequence within it, so ids sort by creation and every insert lands at the right
edge of an index instead of on a random page. A manual clock that stands still still gets
distinct, increasing ids: the sequence runs on, and past 4,095 ids in one millisecond the
millisecond field moves ahead of the clock. Without a clock, ids are UUIDv4.
"""

from __future__ import annotations

import os
import random

from kalshi_sandbox.domain.clock import Clock

_RAND_B_BITS = 62
_SEQ_LIMIT = 1 << 12
_V4 = (4 << 76) | (2 << 62)
_V7 = (7 << 76) | (2 << 62)
_VERSION_BITS = ~((0xF << 76) | (0x3 << 62))


def _format(value: int) -> str:
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class IdGenerator:
    """Hand out UUID strings: time-ordered with a clock, else random; seeded, repeatable."""

    def __init__(self, seed: int | None = None, clock: Clock | None = None) -> None:
        # Ids are names, not secrets (every read checks ownership), so a fast generator
        # seeded from the operating system will do.
        self._random = random.Random(seed if seed is not None else os.urandom(16))
        self._clock = clock
        self._last_ms = -1
        self._seq = 0

    def _bits(self, count: int) -> int:
        return self._random.getrandbits(count)

    def new(self) -> str:
        """Return a fresh UUID string."""
        if self._clock is None:
            return _format((self._bits(128) & _VERSION_BITS) | _V4)
        ms = self._clock.now() // 1000
        if ms > self._last_ms:
            self._last_ms, self._seq = ms, 0
        else:
            self._seq += 1
            if self._seq == _SEQ_LIMIT:
                self._last_ms, self._seq = self._last_ms + 1, 0
        return _format((self._last_ms << 80) | (self._seq << 64) | _V7
                       | self._bits(_RAND_B_BITS))

    def token(self, length: int = 8) -> str:
        """Return ``length`` random lowercase hex characters."""
        return f"{self._bits(4 * length):0{length}x}"
