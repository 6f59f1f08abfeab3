"""Values the sandbox handle reads and returns: accounts, clock states, counterparties, rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from kalshi_sandbox.client.control import CONTROL_PREFIX, ControlPlaneError

Dollars = str | Decimal | int
"""A dollar amount: ``"12.50"``, ``Decimal("12.5")`` or ``12`` (never a float)."""
Seconds = float | int | Decimal | timedelta
"""A duration in seconds (a ``timedelta`` too)."""


@dataclass(frozen=True, slots=True)
class SandboxAccount:
    """A sandbox account with an API key whose private key is known (PEM text and file)."""

    name: str
    user_id: str
    communications_id: str
    key_id: str
    private_key_pem: str = field(repr=False)
    private_key_path: Path
    balance_dollars: str

    def env(self) -> dict[str, str]:
        """Return the usual credential variables (for a bot started as a subprocess)."""
        return {"KALSHI_API_KEY_ID": self.key_id,
                "KALSHI_PRIVATE_KEY_PATH": str(self.private_key_path)}


@dataclass(frozen=True, slots=True)
class ClockState:
    """Where the sandbox clock stands, as ``GET /sandbox/v1/clock`` reports it."""

    mode: str
    now: datetime
    pending_timers: int
    next_timer: datetime | None
    fired_timers: int | None = None
    speed: float | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClockState:
        """Read the control plane's clock answer."""
        next_timer = data.get("next_timer")
        return cls(mode=str(data["mode"]), now=parse_time(str(data["now"])),
                   pending_timers=int(data.get("pending_timers", 0)),
                   next_timer=None if next_timer is None else parse_time(str(next_timer)),
                   fired_timers=data.get("fired_timers"), speed=data.get("speed"),
                   raw=dict(data))


@dataclass(frozen=True, slots=True)
class Counterparty:
    """A built-in maker or requester, as the control plane describes it."""

    name: str
    kind: str
    user_id: str
    communications_id: str
    active: bool
    config: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counterparty:
        """Read one counterparty from the control plane's JSON."""
        return cls(name=str(data["name"]), kind=str(data["kind"]),
                   user_id=str(data.get("user_id", "")),
                   communications_id=str(data.get("communications_id", "")),
                   active=bool(data.get("active", True)), config=dict(data))


@dataclass(frozen=True, slots=True)
class LiquidityMaker:
    """A built-in liquidity maker, as the control plane describes it.

    ``fair_values`` maps each market it has quoted to its fair value (a ``Decimal`` in
    dollars); ``quotes`` to its best bid and ask, or None where it is not quoting.
    """

    name: str
    user_id: str
    active: bool
    fair_values: Mapping[str, Decimal]
    quotes: Mapping[str, tuple[Decimal, Decimal] | None]
    config: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LiquidityMaker:
        """Read one maker from the control plane's JSON."""
        state: Mapping[str, Any] = data.get("state") or {}
        return cls(
            name=str(data["name"]), user_id=str(data.get("user_id", "")),
            active=bool(data.get("active", True)),
            fair_values={t: Decimal(s["fair_value"]) for t, s in state.items()},
            quotes={t: (Decimal(s["yes_bid"]), Decimal(s["yes_ask"])) if s.get("quoting")
                    else None for t, s in state.items()},
            config=dict(data))


@dataclass(frozen=True, slots=True)
class FaultRule:
    """A fault-injection rule and how often it has struck."""

    id: str
    match: Mapping[str, Any]
    action: Mapping[str, Any]
    probability: float
    count: int | None
    remaining: int | None
    hits: int
    seed: int | None
    raw: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """Read one rule from the control plane's JSON."""
        return cls(id=str(data["id"]), match=dict(data.get("match") or {}),
                   action=dict(data.get("action") or {}),
                   probability=float(data.get("probability", 1.0)),
                   count=data.get("count"), remaining=data.get("remaining"),
                   hits=int(data.get("hits", 0)), seed=data.get("seed"), raw=dict(data))


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 instant (``...Z``) into an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(when: datetime | str) -> str:
    """Render an instant as RFC 3339 (a naive datetime is taken as UTC)."""
    if isinstance(when, str):
        return when
    if when.tzinfo is None:
        return when.isoformat() + "Z"
    return when.isoformat()


def seconds_text(seconds: Seconds) -> str:
    """Render a duration as the decimal seconds the control plane reads (0.0001 s steps)."""
    if isinstance(seconds, timedelta):
        value = Decimal(seconds.days * 86_400 + seconds.seconds) + (
            Decimal(seconds.microseconds) / 1_000_000)
    else:
        value = Decimal(str(seconds))
    return format(value.quantize(Decimal("0.0001")).normalize(), "f")


def dollars_text(value: Dollars) -> str:
    if isinstance(value, float):
        raise TypeError("give dollar amounts as str, Decimal or int, never float")
    return str(value)


def user_id_of(account: SandboxAccount | str) -> str:
    return account.user_id if isinstance(account, SandboxAccount) else account


def given(**fields: Any) -> dict[str, Any]:
    """Keep the fields that were given, so the server's defaults apply to the rest."""
    return {k: v for k, v in fields.items() if v is not None}


def seconds_number(value: Seconds | None) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    return value


__all__ = [
    "CONTROL_PREFIX",
    "ClockState",
    "ControlPlaneError",
    "Counterparty",
    "Dollars",
    "FaultRule",
    "LiquidityMaker",
    "SandboxAccount",
    "Seconds",
]
