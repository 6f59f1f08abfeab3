"""Kalshi's rate limits: usage tiers, token costs and token buckets (https://docs.kalshi.com/getting_started/rate_limits).

Every authenticated request costs tokens (10 unless its endpoint says otherwise) from one of
two buckets per user, Read or Write. A tier gives each bucket a refill rate in tokens per
second and a capacity; a bucket refills continuously, and a request it cannot pay for is
refused without taking anything.

Buckets count in micro-tokens against instants in microseconds, so a refill rate of ``r``
tokens per second is exactly ``r`` micro-tokens per microsecond: integer arithmetic, no
rounding, the same answer on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kalshi_sandbox.domain.clock import Instant

MICRO_TOKENS = 1_000_000
"""Micro-tokens in one token."""

DEFAULT_COST = 10
"""Tokens a request costs unless its endpoint is listed as costing otherwise."""


class Bucket(StrEnum):
    """The two budgets of a user: reads, and the order and RFQ flow's writes."""

    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class Cost:
    """What one request to an endpoint costs, and from which bucket."""

    bucket: Bucket
    tokens: int = DEFAULT_COST
    write: bool = field(init=False, compare=False)
    """True if the Write bucket pays (worked out once: every request asks)."""
    micro_tokens: int = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "write", self.bucket is Bucket.WRITE)
        object.__setattr__(self, "micro_tokens", self.tokens * MICRO_TOKENS)


READ = Cost(Bucket.READ)
WRITE = Cost(Bucket.WRITE)


@dataclass(frozen=True, slots=True)
class Limit:
    """One bucket's budget: ``refill_rate`` tokens per second, at most ``capacity`` held."""

    refill_rate: int
    capacity: int


@dataclass(frozen=True, slots=True)
class Tier:
    """A usage tier: the budgets of its Read and Write buckets."""

    name: str
    read: Limit
    write: Limit

    def limit(self, bucket: Bucket) -> Limit:
        """Return the budget of ``bucket``."""
        return self.write if bucket is Bucket.WRITE else self.read


def _tier(name: str, read: int, write: int, read_seconds: int, write_seconds: int) -> Tier:
    return Tier(name, Limit(read, read * read_seconds), Limit(write, write * write_seconds))


TIERS: dict[str, Tier] = {tier.name: tier for tier in (
    # Per-second budgets in tokens; capacities hold 2 s of budget for Basic and Advanced
    # reads and for every Write bucket above Basic, 1 s otherwise.
    _tier("basic", 200, 100, 2, 1),
    _tier("advanced", 300, 300, 2, 2),
    _tier("expert", 600, 600, 1, 2),
    _tier("premier", 1_000, 1_000, 1, 2),
    _tier("paragon", 2_000, 2_000, 1, 2),
    _tier("prime", 4_000, 4_000, 1, 2),
    _tier("prestige", 10_000, 8_000, 1, 2),
)}
"""Kalshi's public usage tiers, lowest first, by the name ``GET /account/limits`` reports."""


def tier_named(name: str) -> Tier:
    """Return the tier called ``name``; raise ``ValueError`` naming the known ones if none is."""
    tier = TIERS.get(name)
    if tier is None:
        raise ValueError(f"unknown usage tier {name!r}; use one of {', '.join(TIERS)}")
    return tier


class TokenBucket:
    """A bucket that refills continuously at its rate up to its capacity.

    It starts full. ``take`` refills it up to ``now`` and then takes the cost if it holds
    enough; if it does not, it takes nothing. A clock that moved backwards refills nothing.
    """

    __slots__ = ("capacity", "level", "rate", "updated")

    def __init__(self, limit: Limit, now: Instant) -> None:
        self.rate = limit.refill_rate
        """Tokens per second, which is micro-tokens per microsecond."""
        self.capacity = limit.capacity * MICRO_TOKENS
        self.level = self.capacity
        """Micro-tokens held at ``updated``."""
        self.updated = now

    def level_at(self, now: Instant) -> int:
        """Return the micro-tokens the bucket holds at ``now`` (without changing it)."""
        elapsed = now - self.updated
        if elapsed <= 0:
            return self.level
        return min(self.capacity, self.level + elapsed * self.rate)

    def take(self, micro_tokens: int, now: Instant) -> bool:
        """Take ``micro_tokens`` if the bucket holds them at ``now``; return whether it did."""
        level = self.level
        elapsed = now - self.updated
        if elapsed > 0:
            level += elapsed * self.rate
            if level > self.capacity:
                level = self.capacity
        self.updated = now
        if level < micro_tokens:
            self.level = level
            return False
        self.level = level - micro_tokens
        return True


class Buckets:
    """One user's Read and Write buckets, at the budgets of their tier."""

    __slots__ = ("read", "tier", "write")

    def __init__(self, tier: Tier, now: Instant) -> None:
        self.tier = tier
        self.read = TokenBucket(tier.read, now)
        self.write = TokenBucket(tier.write, now)

    def bucket(self, which: Bucket) -> TokenBucket:
        """Return the bucket ``which``."""
        return self.write if which is Bucket.WRITE else self.read

    def take(self, cost: Cost, now: Instant) -> bool:
        """Pay ``cost`` from its bucket at ``now``; return False, taking nothing, if it cannot."""
        return (self.write if cost.write else self.read).take(cost.micro_tokens, now)
