"""The clock power's control-plane endpoints: read the clock, move a manual clock, speed up
the system clock.

* ``GET /sandbox/v1/clock``: the mode, the instant, the next timer and how many are pending.
* ``POST /sandbox/v1/clock/advance`` ``{"seconds"}`` or ``{"to"}``: move a manual clock,
  firing every timer that falls due, in order, each at its own instant; never past
  9999-12-31T23:59:59.999999Z.
* ``POST /sandbox/v1/clock/speed`` ``{"speed"}``: run the system clock faster (0.001 to
  1000 times real time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from kalshi_sandbox.api.http import json_response
from kalshi_sandbox.domain.clock import (
    MAX_INSTANT,
    MICROS,
    Clock,
    ManualClock,
    SystemClock,
    format_instant,
)
from kalshi_sandbox.domain.errors import InvalidParameters
from kalshi_sandbox.domain.money import parse_price
from kalshi_sandbox.exchange.scheduler import Scheduler
from kalshi_sandbox.powers.admin.routes import parse_instant_field
from kalshi_sandbox.powers.bounds import read_control_json
from kalshi_sandbox.powers.guard import CONTROL_PREFIX, Handler
from kalshi_sandbox.settings import MAX_CLOCK_SPEED, MIN_CLOCK_SPEED

Guard = Callable[[Handler], Handler]
"""Wraps a handler in the control plane's check (powers/guard.py)."""


class ClockApi:
    """Handlers of the clock endpoints."""

    def __init__(self, clock: Clock, scheduler: Scheduler, guard: Guard) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self.guard = guard

    async def get_clock(self, request: Request) -> Response:
        return json_response(self._clock_state())

    def _clock_state(self) -> dict[str, Any]:
        clock = self.clock
        due = self.scheduler.next_due()
        state: dict[str, Any] = {
            "mode": "manual" if clock.manual else "system",
            "now": format_instant(clock.now()),
            "now_ms": clock.now() // 1000,
            "next_timer": None if due is None else format_instant(due),
            "pending_timers": len(self.scheduler),
        }
        if isinstance(clock, SystemClock):
            state["speed"] = clock.speed
        return state

    async def advance_clock(self, request: Request) -> Response:
        clock = self.clock
        if not isinstance(clock, ManualClock):
            raise InvalidParameters("the clock is not manual; start the server with "
                                    "--clock manual to advance it")
        data = await read_control_json(request, "AdvanceClockRequest")
        seconds, to = data.get("seconds"), data.get("to")
        if (seconds is None) == (to is None):
            raise InvalidParameters("give exactly one of seconds or to")
        if seconds is not None:
            if isinstance(seconds, bool) or not isinstance(seconds, int | float | str):
                raise InvalidParameters("seconds must be a number")
            micros = parse_price(str(seconds), what="seconds") * (MICROS // 10_000)
            target = clock.now() + micros
        else:
            if not isinstance(to, str):
                raise InvalidParameters("to must be an RFC 3339 timestamp")
            target = parse_instant_field(to) or 0
            if target < clock.now():
                raise InvalidParameters("the clock cannot move backwards")
        if target > MAX_INSTANT:
            raise InvalidParameters(f"the clock cannot move past {format_instant(MAX_INSTANT)}")
        fired = await self.scheduler.advance_to(target)
        return json_response({**self._clock_state(), "fired_timers": fired})

    async def set_speed(self, request: Request) -> Response:
        clock = self.clock
        if not isinstance(clock, SystemClock):
            raise InvalidParameters("the speed factor applies to the system clock only")
        data = await read_control_json(request, "ClockSpeedRequest")
        speed = data.get("speed")
        if (isinstance(speed, bool) or not isinstance(speed, int | float)
                or not MIN_CLOCK_SPEED <= speed <= MAX_CLOCK_SPEED):
            raise InvalidParameters(f"speed must be a number from {MIN_CLOCK_SPEED:g} to "
                                    f"{MAX_CLOCK_SPEED:g}")
        clock.set_speed(float(speed))
        self.scheduler.add(())
        return json_response(self._clock_state())

    def routes(self) -> list[BaseRoute]:
        """Return the clock routes, each behind the guard."""
        g, p = self.guard, CONTROL_PREFIX
        return [
            Route(p + "/clock", g(self.get_clock), methods=["GET"]),
            Route(p + "/clock/advance", g(self.advance_clock), methods=["POST"]),
            Route(p + "/clock/speed", g(self.set_speed), methods=["POST"]),
        ]


__all__ = ["ClockApi"]
