"""A liquidity maker as it runs: its configuration, account, fair values and activity."""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kalshi_sandbox.domain.clock import Instant, format_instant, parse_instant
from kalshi_sandbox.domain.money import format_price, parse_price
from kalshi_sandbox.exchange.commands import Actor
from kalshi_sandbox.powers.liquidity.config import (
    LiquidityConfig,
    config_json,
    format_seconds,
    parse_fair,
    parse_path,
    stored_config,
)

ACTIVITY_LIMIT = 50
"""How many recent actions each maker remembers for the control plane."""


@dataclass(slots=True)
class MarketState:
    """Where one market's fair value stands, and the path it follows (if one is set)."""

    fair: int
    path: tuple[tuple[int, int], ...] | None = None
    path_start: Instant = 0
    quoted: tuple[int, int] | None = None
    """The best bid and ask of the last ladder placed (None: not quoting)."""

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {"fair_value": format_price(self.fair)}
        if self.path is not None:
            data["path"] = [[format_seconds(offset), format_price(p)] for offset, p in self.path]
            data["path_start"] = format_instant(self.path_start)
        data["quoting"] = self.quoted is not None
        if self.quoted is not None:
            data["yes_bid"], data["yes_ask"] = (format_price(p) for p in self.quoted)
        return data


@dataclass(eq=False)
class Maker:
    """One liquidity maker as it runs."""

    config: LiquidityConfig
    user_id: str
    communications_id: str
    active: bool
    markets: dict[str, MarketState] = field(default_factory=dict)
    rng: random.Random = field(init=False)
    tick: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    activity: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=ACTIVITY_LIMIT))

    def __post_init__(self) -> None:
        self.reseed()

    def reseed(self) -> None:
        """Start the walk's draws again from the seed, or from the account's id (which a
        journal replay repeats)."""
        seed = self.config.seed
        self.rng = random.Random(seed if seed is not None else self.user_id)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.communications_id)

    def record(self, now: Instant, action: str, outcome: str = "ok", **detail: Any) -> None:
        self.counts[action if outcome == "ok" else f"{action}_{outcome}"] += 1
        self.activity.append({"at": format_instant(now), "action": action, "outcome": outcome,
                              **{k: v for k, v in detail.items() if v is not None}})

    def stored(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "communications_id": self.communications_id,
                "active": self.active, "config": config_json(self.config),
                "markets": {t: s.describe() for t, s in sorted(self.markets.items())}}

    def describe(self) -> dict[str, Any]:
        return {**config_json(self.config), "user_id": self.user_id,
                "communications_id": self.communications_id, "active": self.active,
                "state": {t: s.describe() for t, s in sorted(self.markets.items())},
                "stats": dict(sorted(self.counts.items())), "activity": list(self.activity)}


def stored_maker(item: Mapping[str, Any]) -> Maker:
    """Read a maker back from the database."""
    maker = Maker(stored_config(item["config"]), str(item["user_id"]),
                  str(item["communications_id"]), bool(item["active"]))
    for ticker, data in (item.get("markets") or {}).items():
        path = data.get("path")
        maker.markets[str(ticker)] = MarketState(
            parse_fair(data["fair_value"]),
            parse_path(path) if path is not None else None,
            parse_instant(data["path_start"]) if path is not None else 0,
            (parse_price(data["yes_bid"]), parse_price(data["yes_ask"]))
            if data.get("quoting") else None)
    return maker


__all__ = ["ACTIVITY_LIMIT", "Maker", "MarketState", "stored_maker"]
