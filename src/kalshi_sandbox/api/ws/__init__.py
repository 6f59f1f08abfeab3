"""Kalshi's WebSocket API at ``/trade-api/ws/v2``: the ``communications``, ``fill`` and
``user_orders`` channels (reference §6), fed by committed events through a ``Feed``."""

from __future__ import annotations

from kalshi_sandbox.api.ws.endpoint import WS_PATH, WebSocketApi
from kalshi_sandbox.api.ws.fanout import Fanout, Subscription

__all__ = ["WS_PATH", "Fanout", "Subscription", "WebSocketApi"]
