"""The tester's powers: what kalshi-sandbox gives beyond Kalshi's API, one folder each.

Each power keeps its service, its control-plane routes (under ``/sandbox/v1``) and its CLI
sub-command together: ``admin`` (accounts, markets, reset, the demo seed), ``clock``,
``counterparties``, ``faults`` and ``state`` (journal, replay, snapshots). A power acts on the
exchange through its use cases and ports, as any caller does; the exchange never imports a
power.

When the whole state is replaced under them, by a reset or a restored snapshot, every power
whose memory mirrors the database reloads it (``Reloadable``), after the exchange's own.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class Cause(StrEnum):
    """Why the state was replaced."""

    RESET = "reset"
    """Everything was deleted (``POST /sandbox/v1/reset``)."""
    RESTORE = "restore"
    """A snapshot replaced everything (``POST /sandbox/v1/snapshots/restore``)."""


class Reloadable(Protocol):
    """A part that keeps state in memory beside the database."""

    async def reload(self, cause: Cause) -> None:
        """Bring what is kept in memory back in line with the database."""
        ...


__all__ = ["Cause", "Reloadable"]
