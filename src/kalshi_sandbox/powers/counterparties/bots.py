"""A built-in counterparty as it runs: its configuration, account, timers and activity."""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from kalshi_sandbox.domain.clock import MICROS, Instant, format_instant
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.powers.counterparties.config import Config, config_json

ACTIVITY_LIMIT = 50
"""How many recent actions each counterparty remembers for the control plane."""


@dataclass(slots=True)
class Reaction:
    """A pending counterparty action, waiting for its timer."""

    bot: str
    action: str
    subject: str


@dataclass(eq=False)
class Bot:
    """One counterparty as it runs: its configuration, account and recent activity."""

    kind: str
    config: Config
    user_id: str
    communications_id: str
    active: bool
    rng: random.Random = field(init=False)
    timers: set[int] = field(default_factory=set)
    tick: int | None = None
    """The timer id of an auto-requester's next interval RFQ."""
    deciding: dict[str, int] = field(default_factory=dict)
    """RFQ id -> timer id of an auto-requester's pending accept-or-delete decision."""
    cursor: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    activity: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=ACTIVITY_LIMIT))

    def __post_init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        """Start the random draws again from the configured seed, or from the account's id.

        The user id is random, so unseeded draws are unpredictable, yet a journal replay
        (which repeats the ids) repeats them too.
        """
        seed = self.config.seed
        self.rng = random.Random(seed if seed is not None else self.user_id)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.communications_id)

    def record(self, now: Instant, action: str, outcome: str = "ok", **detail: Any) -> None:
        """Remember an action and its outcome (``ok`` or a Kalshi error code)."""
        self.counts[action if outcome == "ok" else f"{action}_{outcome}"] += 1
        self.activity.append({"at": format_instant(now), "action": action, "outcome": outcome,
                              **{k: v for k, v in detail.items() if v is not None}})

    def stored(self) -> dict[str, Any]:
        """Return what the database keeps of this counterparty."""
        return {"kind": self.kind, "user_id": self.user_id,
                "communications_id": self.communications_id, "active": self.active,
                "config": config_json(self.config)}

    def describe(self) -> dict[str, Any]:
        """Render this counterparty for the control plane."""
        return {"name": self.name, "kind": self.kind, "user_id": self.user_id,
                "communications_id": self.communications_id, "active": self.active,
                **config_json(self.config), "stats": dict(sorted(self.counts.items())),
                "activity": list(self.activity)}


@dataclass(frozen=True, slots=True)
class Defaults:
    """The counterparties ``serve --makers N --requesters N`` keeps in existence."""

    makers: int = 0
    requesters: int = 0
    requester_interval: int = 30 * MICROS


__all__ = ["ACTIVITY_LIMIT", "Bot", "Defaults", "Reaction"]
