"""The WebSocket front door: a signed handshake, then a ``Session`` per connection."""

from __future__ import annotations

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from kalshi_sandbox.api.auth import Authenticator
from kalshi_sandbox.api.http import error_response
from kalshi_sandbox.api.ws.fanout import Fanout, MessageFaults
from kalshi_sandbox.api.ws.session import Flusher, Session
from kalshi_sandbox.domain.clock import Clock
from kalshi_sandbox.domain.errors import SandboxError
from kalshi_sandbox.exchange.bus import Feed

WS_PATH = "/trade-api/ws/v2"
POLICY_VIOLATION = 1008


class WebSocketApi:
    """Kalshi's WebSocket endpoint bound to a feed of committed events.

    An instance is the ASGI app of the route: sessions write through the server's own
    ``send``, without a per-message wrapper.
    """

    def __init__(self, feed: Feed, authenticator: Authenticator, clock: Clock, *,
                 queue_limit: int, faults: MessageFaults | None = None) -> None:
        self.auth = authenticator
        self.queue_limit = queue_limit
        self.fanout = Fanout(clock, faults)
        self.fanout.attach(feed)
        self.flusher = Flusher()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Authenticate the upgrade request, then serve the connection.

        The handshake is signed like a REST GET of the WebSocket path (Kalshi's
        websocket-connection page); a failure is answered with HTTP 401 and Kalshi's error
        body, without upgrading (docs/behaviour.md, "WebSocket").
        """
        websocket = WebSocket(scope, receive, send)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        try:
            actor = await self.auth.authenticate(
                websocket.headers, "GET", raw_path.decode("latin-1"),
                scope["query_string"].decode("latin-1"),
            )
        except SandboxError as error:
            try:
                await websocket.send_denial_response(error_response(error))
            except RuntimeError:
                # A server without the denial-response extension can only refuse (403).
                await websocket.close(POLICY_VIOLATION)
            return
        await websocket.accept()
        session = Session(send, receive, actor, self.fanout, self.flusher, self.queue_limit)
        await session.run()

    def routes(self) -> list[BaseRoute]:
        """Return the WebSocket route."""
        return [WebSocketRoute(WS_PATH, self)]
