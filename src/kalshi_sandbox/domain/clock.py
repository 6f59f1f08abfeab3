"""The clock seam: the only way any code in the sandbox learns the time.

Instants are integers: microseconds since the Unix epoch (UTC). ``SystemClock`` reads the
wall clock; ``ManualClock`` only moves when told to, so tests drive 30-second windows in
microseconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

Instant = int
"""Microseconds since the Unix epoch, UTC."""

MICROS = 1_000_000

MIN_INSTANT: Instant = 0
"""1970-01-01T00:00:00Z: the clock never reads earlier."""
MAX_INSTANT: Instant = 253_402_300_800 * MICROS - 1
"""9999-12-31T23:59:59.999999Z: the clock never reads later, so every instant has a four-digit
year and fits the 48-bit millisecond field of the ids drawn from it."""


def in_range(instant: Instant) -> bool:
    """Return True if ``instant`` lies in the years 1970 to 9999, where the clock may be."""
    return MIN_INSTANT <= instant <= MAX_INSTANT


class Clock(Protocol):
    """A source of the current instant."""

    @property
    def manual(self) -> bool:
        """Return True if the clock only moves when advanced explicitly."""
        ...

    def now(self) -> Instant:
        """Return the current instant in microseconds since the epoch."""
        ...


class SystemClock:
    """The wall clock, optionally running ``speed`` times faster than real time.

    With a speed factor the clock starts at the real current time and then runs faster, so
    timers (30 s windows, say) elapse sooner in real time while timestamps stay plausible.
    """

    manual = False

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        self.speed = speed
        self._origin_real = time.time_ns() // 1000
        self._origin = self._origin_real

    def now(self) -> Instant:
        real = time.time_ns() // 1000
        # After running faster, speed 1 keeps the lead it gained: time never jumps back.
        if self.speed == 1.0 and self._origin == self._origin_real:
            return real
        return min(self._origin + int((real - self._origin_real) * self.speed), MAX_INSTANT)

    def set_speed(self, speed: float) -> None:
        """Change the speed factor without a jump in the current instant."""
        if speed <= 0:
            raise ValueError("clock speed must be positive")
        now = self.now()
        self._origin_real = time.time_ns() // 1000
        self._origin = now
        self.speed = speed

    def real_delay(self, until: Instant) -> float:
        """Return how many real seconds remain until the clock reads ``until``."""
        return max(0.0, (until - self.now()) / MICROS / self.speed)


class ManualClock:
    """A clock that stands still until advanced; it never goes backwards, save by ``rewind``."""

    manual = True

    def __init__(self, start: Instant | None = None) -> None:
        self._now = start if start is not None else time.time_ns() // 1000

    def now(self) -> Instant:
        return self._now

    def set(self, instant: Instant) -> None:
        """Move the clock to ``instant``; moving backwards is an error."""
        if instant < self._now:
            raise ValueError("a manual clock cannot move backwards")
        if instant > MAX_INSTANT:
            raise ValueError("a manual clock cannot move past the year 9999")
        self._now = instant

    def rewind(self, instant: Instant) -> None:
        """Put the clock at ``instant``, earlier or later.

        Only for when the whole state moves with it (restoring a snapshot, starting a replay
        on an empty sandbox): everything stored must be consistent with the new instant.
        """
        self._now = instant


def to_datetime(instant: Instant) -> datetime:
    """Convert an instant to an aware UTC datetime."""
    return datetime.fromtimestamp(instant // MICROS, tz=UTC).replace(
        microsecond=instant % MICROS
    )


def format_instant(instant: Instant) -> str:
    """Render an instant as RFC 3339 in UTC, trimming trailing zeros like Go's RFC3339Nano."""
    seconds, micros = divmod(instant, MICROS)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    if micros == 0:
        return base + "Z"
    return f"{base}.{micros:06d}".rstrip("0") + "Z"


def parse_instant(text: str) -> Instant:
    """Parse an RFC 3339 timestamp (``Z`` or offset) into an instant."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * MICROS + delta.microseconds
