"""The ASGI middleware that applies fault rules and ``X-Sandbox-Fault`` to Kalshi's API."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from kalshi_sandbox.api.auth import scope_header
from kalshi_sandbox.api.http import error_body, json_response
from kalshi_sandbox.domain.errors import SandboxError
from kalshi_sandbox.powers.faults.registry import Caller, FaultRegistry
from kalshi_sandbox.powers.faults.rules import parse_header

KALSHI_PREFIX = "/trade-api/"
FAULT_HEADER = "x-sandbox-fault"
_FAULT_HEADER_BYTES = FAULT_HEADER.encode()


class FaultMiddleware:
    """ASGI middleware that applies fault rules and ``X-Sandbox-Fault`` to Kalshi's API.

    Only paths under ``/trade-api/`` are considered; everything else, the control plane
    included, passes straight through.
    """

    def __init__(self, app: ASGIApp, registry: FaultRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or not scope["path"].startswith(KALSHI_PREFIX):
            await self.app(scope, receive, send)
            return
        header = scope_header(scope, _FAULT_HEADER_BYTES)
        if header is None and not self.registry.requests_live:
            await self.app(scope, receive, send)
            return
        caller = Caller(self.registry, scope, receive)
        try:
            forced = parse_header(header) if header is not None else []
        except SandboxError as error:
            await self._answer(scope, receive, send, error)
            return
        plan = await self.registry.plan(caller, forced)
        if plan.delay > 0:
            await asyncio.sleep(plan.delay)
        if plan.answer is not None:
            await self._answer(scope, caller.receive(), send, plan.answer)
            return
        await self.app(scope, caller.receive(), send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send,
                      error: SandboxError) -> None:
        response = json_response(error_body(error), error.status)
        if scope["type"] == "http":
            await response(scope, receive, send)
            return
        # A refused WebSocket handshake is answered like a refused signature: an HTTP
        # response instead of the upgrade.
        websocket = WebSocket(scope, receive, send)
        try:
            await websocket.send_denial_response(response)
        except RuntimeError:
            await websocket.close(1008)


__all__ = ["FAULT_HEADER", "FaultMiddleware"]
