"""Background tasks: the one way a part stops the task it started (standard library only, so
storage may use it too)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel ``task`` (if any) and wait until it has ended."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


__all__ = ["cancel_task"]
