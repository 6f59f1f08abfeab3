"""The exchange's schedule: standard hours and the maintenance windows set from the control plane.

Kalshi pauses trading in maintenance windows
(https://docs.kalshi.com/getting_started/maintenance_and_pauses): in a *trading pause* orders
cannot be placed or amended but may be cancelled; in an *exchange pause* nothing changes at
all. The windows are kept in the ``meta`` table, so they survive restarts and travel in
snapshots; this object holds them in memory for the per-request check
(docs/behaviour.md, "Maintenance").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kalshi_sandbox.domain.clock import Clock, Instant, format_instant
from kalshi_sandbox.domain.errors import Conflict, InvalidParameters
from kalshi_sandbox.exchange.ports import Store

META_KEY = "maintenance_windows"
KINDS = ("trading", "exchange")
MAX_WINDOWS = 100
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True, slots=True)
class Window:
    """A maintenance window: ``kind`` pause from ``start`` until ``end``."""

    start: Instant
    end: Instant
    kind: str

    def covers(self, now: Instant) -> bool:
        """Return True while the window is in force."""
        return self.start <= now < self.end


class ExchangePaused(Conflict):
    """A state-changing request during an exchange pause (nothing may change)."""

    code = "exchange_paused"
    default_message = "the exchange is paused for maintenance"


class TradingPaused(Conflict):
    """An order or quote placed during a trading pause (cancels are still allowed)."""

    code = "trading_paused"
    default_message = "trading is paused for maintenance"


class ExchangeSchedule:
    """Maintenance windows, durable in the store and held in memory."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.windows: tuple[Window, ...] = ()

    async def load(self) -> None:
        """Read the windows from the store (at start, and when the state is replaced)."""
        async with self.store.transaction() as tx:
            text = await tx.get_meta(META_KEY)
        self.windows = _decode(text)

    async def add(self, start: Instant, end: Instant, kind: str) -> Window:
        """Add a window; it may start now or later."""
        if kind not in KINDS:
            raise InvalidParameters(f"kind must be one of {', '.join(KINDS)}")
        if end <= start:
            raise InvalidParameters("end must come after start")
        window = Window(start, end, kind)
        windows = tuple(sorted((*self.pending(), window), key=lambda w: (w.start, w.end)))
        if len(windows) > MAX_WINDOWS:
            raise InvalidParameters(f"at most {MAX_WINDOWS} maintenance windows")
        await self._save(windows)
        return window

    async def clear(self) -> None:
        """Remove every window."""
        await self._save(())

    def pending(self) -> tuple[Window, ...]:
        """Return the windows not yet over."""
        now = self.clock.now()
        return tuple(w for w in self.windows if w.end > now)

    async def _save(self, windows: tuple[Window, ...]) -> None:
        async with self.store.transaction() as tx:
            await tx.set_meta(META_KEY, json.dumps([[w.start, w.end, w.kind] for w in windows]))
        self.windows = windows

    def current(self) -> Window | None:
        """Return the window in force now, the exchange pause first if two overlap."""
        now = self.clock.now()
        active = [w for w in self.windows if w.covers(now)]
        if not active:
            return None
        return max(active, key=lambda w: (w.kind == "exchange", w.end))

    def check(self, *, cancel: bool) -> None:
        """Raise if a state-changing request may not run now (``cancel``: it only cancels)."""
        window = self.current()
        if window is None:
            return
        if window.kind == "exchange":
            raise ExchangePaused(f"until {format_instant(window.end)}")
        if not cancel:
            raise TradingPaused(f"until {format_instant(window.end)}")

    def status(self) -> dict[str, Any]:
        """Render ``GET /exchange/status``."""
        window = self.current()
        data: dict[str, Any] = {
            "exchange_active": window is None or window.kind != "exchange",
            "trading_active": window is None,
            "intra_exchange_transfers_active": window is None or window.kind != "exchange",
        }
        if window is not None:
            data["exchange_estimated_resume_time"] = format_instant(window.end)
        return data

    def render(self) -> dict[str, Any]:
        """Render ``GET /exchange/schedule``: open around the clock, and the windows ahead."""
        session = [{"open_time": "00:00", "close_time": "24:00"}]
        return {
            "standard_hours": [{
                "start_time": "2020-01-01T00:00:00Z",
                "end_time": "2099-12-31T23:59:59Z",
                **dict.fromkeys(DAYS, session),
            }],
            "maintenance_windows": [
                {"start_datetime": format_instant(w.start),
                 "end_datetime": format_instant(w.end)}
                for w in self.pending()
            ],
        }


def _decode(text: str | None) -> tuple[Window, ...]:
    if not text:
        return ()
    return tuple(Window(int(a), int(b), str(k)) for a, b, k in json.loads(text))


__all__ = ["ExchangePaused", "ExchangeSchedule", "TradingPaused", "Window"]
