"""Refuses, when several instances share the database, the powers that need only one.

Each of these keeps state in one process's memory, or replaces the state under the other
instances' memory, so with several instances it would act on one of them at random
(docs/deploy.md, "What needs one instance"):

- the manual clock and the clock's speed: each instance reads its own clock;
- counterparties and liquidity: their configuration and reactions live in one process;
- fault rules: a rule would apply to the requests that happen to reach one instance
  (the per-request ``X-Sandbox-Fault`` header still works everywhere);
- journal replay: it replays one process's history through one instance;
- the journal (off with several instances): it records one process's requests.

Reading stays allowed everywhere. A refused request is answered 409 ``single_instance_only``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from kalshi_sandbox.api.http import error_response
from kalshi_sandbox.domain.errors import Conflict
from kalshi_sandbox.powers.guard import CONTROL_PREFIX

_ANY_WRITE = tuple(CONTROL_PREFIX + p for p in ("/counterparties", "/liquidity", "/faults"))
_POSTS = tuple(CONTROL_PREFIX + p for p in (
    "/clock/advance", "/clock/speed", "/journal/replay", "/journal/export"))


class SingleInstanceOnly(Conflict):
    """A power that needs the only instance of the sandbox was asked of one of several."""

    code = "single_instance_only"


def refused(method: str, path: str) -> bool:
    """Return whether a control-plane request needs the only instance."""
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    return path.startswith(_ANY_WRITE) or path in _POSTS


class SingleInstancePowers:
    """ASGI middleware answering 409 to the powers listed in the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and refused(scope["method"], scope["path"]):
            error = SingleInstanceOnly(
                f"{scope['method']} {scope['path']} needs the sandbox's only instance; "
                "several instances share this database (see docs/deploy.md)")
            await error_response(error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


__all__ = ["SingleInstanceOnly", "SingleInstancePowers", "refused"]
