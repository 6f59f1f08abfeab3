"""Kalshi's WebSocket API at ``/trade-api/ws/v2``: the ``communications``, ``fill`` and
``user_orders`` channels, fed by committed events through a ``Feed``.

See https://docs.kalshi.com/websockets/communications.
"""

from __future__ import annotations

from kalshi_sandbox.api.ws.endpoint import WS_PATH, WebSocketApi
from kalshi_sandbox.api.ws.fanout import Fanout, Subscription

__all__ = ["WS_PATH", "Fanout", "Subscription", "WebSocketApi"]
