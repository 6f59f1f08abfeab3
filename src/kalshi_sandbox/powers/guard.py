"""Who may call the control plane (``/sandbox/v1``): loopback callers, or holders of the token.

Every power's routes are wrapped in one ``ControlGuard``. With an admin token configured,
every caller must send ``Authorization: Bearer <token>`` (and may then come from anywhere);
without one, only loopback callers get in. See docs/security.md.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from kalshi_sandbox.domain.errors import Forbidden, Unauthorized

CONTROL_PREFIX = "/sandbox/v1"
LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}

Handler = Callable[[Request], Awaitable[Response]]


class ControlGuard:
    """Wraps control-plane handlers with the loopback or token check."""

    def __init__(self, admin_token: str) -> None:
        self.token = admin_token

    def __call__(self, handler: Handler) -> Handler:
        """Return ``handler`` behind the check."""

        async def guarded(request: Request) -> Response:
            if self.token:
                header = request.headers.get("authorization", "")
                if not hmac.compare_digest(header, f"Bearer {self.token}"):
                    raise Unauthorized("the control plane needs 'Authorization: Bearer <token>'",
                                       code="unauthorized", message="unauthorized")
            elif request.client is None or request.client.host not in LOOPBACK:
                raise Forbidden("the control plane is open to loopback callers only; "
                                "set an admin token to allow remote callers")
            return await handler(request)

        return guarded


__all__ = ["CONTROL_PREFIX", "ControlGuard", "Handler"]
