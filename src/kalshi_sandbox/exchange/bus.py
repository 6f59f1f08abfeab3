"""Publishing committed events to whoever listens, through an interface.

The exchange hands each committed transaction's events to a ``Publisher``; front doors
(the WebSocket channel, the journal) listen to a ``Feed``. Today both are the in-process
``Hub``; a multi-instance deployment can put a database- or broker-backed one behind the
same interfaces, relaying batches committed by other instances.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from kalshi_sandbox.domain.events import Event

log = logging.getLogger(__name__)

Listener = Callable[[Sequence[Event]], None]


class Publisher(Protocol):
    """Where the exchange sends the events of each committed transaction, in commit order."""

    def publish(self, events: Sequence[Event]) -> None: ...


class Feed(Protocol):
    """A source of committed event batches.

    A feed calls each listener once per committed transaction with that transaction's
    events, batches in commit order, never for a transaction that rolled back. Listeners
    must return quickly (enqueue and return): they run on the publisher's path.
    """

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Start calling ``listener``; return a function that stops it."""
        ...


class Hub:
    """An in-process publisher that fans each batch out to its listeners synchronously.

    Listeners must not block: they enqueue and return. A failing listener is logged and
    does not stop the others.
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; return a function that removes it."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def publish(self, events: Sequence[Event]) -> None:
        if not events:
            return
        for listener in tuple(self._listeners):
            try:
                listener(events)
            except Exception:
                log.exception("event listener failed")


__all__ = ["Feed", "Hub", "Listener", "Publisher"]
