"""Test your bot against a sandbox: the pytest fixture ``kalshi_sandbox`` and its parts.

The plugin (:mod:`kalshi_sandbox.testing.plugin`) is registered with pytest by installing the
package; a test asks for ``kalshi_sandbox`` and gets a :class:`KalshiSandbox`. Outside pytest,
:class:`SandboxServer` runs a sandbox in a thread and :meth:`KalshiSandbox.connect` drives any
running sandbox. Nothing in the server imports this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kalshi_sandbox.testing.control import Counterparties, Faults, SandboxClock
    from kalshi_sandbox.testing.models import (
        ClockState,
        ControlPlaneError,
        Counterparty,
        FaultRule,
        SandboxAccount,
    )
    from kalshi_sandbox.testing.sandbox import DEFAULT_BALANCE, DEFAULT_MARKETS, KalshiSandbox
    from kalshi_sandbox.testing.server import SandboxServer

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_MARKETS",
    "ClockState",
    "ControlPlaneError",
    "Counterparties",
    "Counterparty",
    "FaultRule",
    "Faults",
    "KalshiSandbox",
    "SandboxAccount",
    "SandboxClock",
    "SandboxServer",
]

_HOMES = {
    **dict.fromkeys(("DEFAULT_BALANCE", "DEFAULT_MARKETS", "KalshiSandbox"), "sandbox"),
    **dict.fromkeys(("Counterparties", "Faults", "SandboxClock"), "control"),
    **dict.fromkeys(("ClockState", "ControlPlaneError", "Counterparty", "FaultRule",
                     "SandboxAccount"), "models"),
    "SandboxServer": "server",
}


def __getattr__(name: str) -> Any:
    # pytest imports the plugin module (and so this package) in every run; the client and
    # server modules load only when a name is first used.
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
