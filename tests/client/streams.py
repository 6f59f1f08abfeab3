"""Read a subscription in the background and wait for particular events, with deadlines."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

from kalshi_sandbox.client import StreamEvent, Subscription

E = TypeVar("E")
TIMEOUT = 15.0


class Collector:
    """Drain a subscription into a queue from a task; ``expect`` pops up to an event type."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.queue: asyncio.Queue[StreamEvent | BaseException] = asyncio.Queue()
        self.seen: list[StreamEvent] = []
        self.backlog: list[StreamEvent] = []
        self.task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            async for event in self.subscription:
                self.seen.append(event)
                await self.queue.put(event)
        except Exception as exc:
            await self.queue.put(exc)

    async def expect(self, kind: type[E], **fields: Any) -> E:
        """Return the first not yet expected event of ``kind`` whose attributes equal ``fields``.

        Events passed over stay available to later calls, so independent messages (an
        ``rfq_deleted`` and a ``quote_executed``, say) may be expected in either order.
        """
        def matches(event: object) -> bool:
            return isinstance(event, kind) and all(getattr(event, k) == v
                                                   for k, v in fields.items())

        for index, event in enumerate(self.backlog):
            if matches(event):
                del self.backlog[index]
                return event  # type: ignore[return-value]
        try:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    item = await self.queue.get()
                    if isinstance(item, BaseException):
                        raise item
                    if matches(item):
                        return item  # type: ignore[return-value]
                    self.backlog.append(item)
        except TimeoutError:
            raise AssertionError(f"no {kind.__name__} {fields} within {TIMEOUT}s; "
                                 f"seen: {self.seen}") from None

    async def close(self) -> None:
        """Close the subscription and wait for the reader to stop."""
        await self.subscription.close()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
