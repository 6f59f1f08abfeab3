"""Refuse state-changing Trade API requests during a maintenance window.

In a trading pause only cancels (``DELETE``) pass; in an exchange pause nothing that changes
state does (https://docs.kalshi.com/getting_started/maintenance_and_pauses). Reads always
pass. The refusal is Kalshi's error body (docs/behaviour.md, "Maintenance").
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from kalshi_sandbox.api.http import error_response
from kalshi_sandbox.api.routes import PREFIX
from kalshi_sandbox.domain.errors import SandboxError
from kalshi_sandbox.exchange.schedule import ExchangeSchedule

READS = frozenset({"GET", "HEAD", "OPTIONS"})


class MaintenanceGate:
    """ASGI middleware applying the exchange schedule's maintenance windows."""

    def __init__(self, app: ASGIApp, schedule: ExchangeSchedule) -> None:
        self.app = app
        self.schedule = schedule

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and self.schedule.windows
                and scope["method"] not in READS and scope["path"].startswith(PREFIX)):
            try:
                self.schedule.check(cancel=scope["method"] == "DELETE")
            except SandboxError as error:
                await error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)


__all__ = ["MaintenanceGate"]
