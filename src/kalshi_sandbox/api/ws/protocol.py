"""uvicorn's WebSocket protocol with Kalshi's keep-alive: Ping frames carrying ``heartbeat``.

uvicorn already sends a Ping every ``ws_ping_interval`` seconds, closes a connection whose
Pong does not come back within ``ws_ping_timeout`` (close code 1011) and answers the client's
Pings; Kalshi's Pings carry the payload ``heartbeat`` (Kalshi's connection-keep-alive page,
https://docs.kalshi.com/websockets/connection-keep-alive). The other change:
a handshake refused with an HTTP response (a 401) counts as finished, so uvicorn does not
log it as an application that "returned without completing handshake".
"""

from __future__ import annotations

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

HEARTBEAT = b"heartbeat"


class KalshiWebSocketProtocol(WebSocketsSansIOProtocol):
    """Send keep-alive Pings with Kalshi's ``heartbeat`` payload."""

    def send_keepalive_ping(self) -> None:
        """Send one keep-alive Ping and arm the Pong deadline (as uvicorn does)."""
        self.ping_timer = None
        if self.close_sent or self.transport.is_closing():
            return
        self.pending_ping_payload = HEARTBEAT
        self.ping_sent_at = self.loop.time()
        self.conn.send_ping(HEARTBEAT)
        self.transport.write(b"".join(self.conn.data_to_send()))
        if self.ping_timeout is not None:
            self.pong_timer = self.loop.call_later(self.ping_timeout, self.keepalive_timeout)
        else:
            self.schedule_ping()

    async def send(self, message: ASGISendEvent) -> None:
        """Send as uvicorn does; a complete denial response ends the handshake."""
        await super().send(message)
        if (message["type"] == "websocket.http.response.body"
                and not message.get("more_body", False)):
            self.handshake_complete = True
