"""The operator's reset: delete every row, then let every part reload what it keeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.powers import Cause

Reload = Callable[[Cause], Awaitable[None]]


async def _nothing(cause: Cause) -> None:
    return None


class Admin:
    """Resets the sandbox; ``reload`` (set when the sandbox is wired) refreshes its parts."""

    def __init__(self, store: Store, reload: Reload = _nothing) -> None:
        self.store = store
        self.reload = reload

    async def reset(self) -> None:
        """Delete every account, market, RFQ, quote, order and timer."""
        await self.store.wipe()
        await self.reload(Cause.RESET)


__all__ = ["Admin", "Reload"]
