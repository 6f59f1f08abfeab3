"""Where front doors hear of committed changes: a feed of event batches, in commit order.

The WebSocket channel listens to a ``Feed`` rather than being called by the exchange, so the
feed can be swapped: today the in-process ``Hub`` (service/bus.py) that the exchange
publishes to; later one that relays batches committed by other server instances.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from kalshi_sandbox.service.bus import Listener


class Feed(Protocol):
    """A source of committed event batches.

    A feed calls each listener once per committed transaction with that transaction's
    events, batches in commit order, never for a transaction that rolled back. Listeners
    must return quickly (enqueue and return): they run on the publisher's path.
    """

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Start calling ``listener``; return a function that stops it."""
        ...


__all__ = ["Feed", "Listener"]
