"""Rate limits per user: each account's usage tier, and its Read and Write token buckets.

The buckets live in memory only: a restart, a reset or a restored snapshot starts everyone
with full buckets. The tiers the operator gives accounts are stored (one ``meta`` entry
mapping user ids to tier names), so they survive restarts and travel with snapshots;
accounts without one follow the server's default tier.

``allow`` is the whole per-request cost: one dictionary lookup, one clock reading and a few
integer operations, with nothing read from the database.

When several instances share one database (docs/deploy.md) the buckets must be shared too:
``shared`` is then set, ``charge`` pays from a bucket row in the database (one statement)
instead, and the tiers are re-read now and then (``refresh_tiers``) to follow changes made
through another instance.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from kalshi_sandbox.domain.clock import Clock, Instant
from kalshi_sandbox.domain.errors import InvalidParameters, NotFound
from kalshi_sandbox.domain.limits import TIERS, Buckets, Cost, Limit, Tier, tier_named
from kalshi_sandbox.exchange.ports import Store
from kalshi_sandbox.settings import RATE_LIMIT_OFF, Settings

SharedCharge = Callable[[str, str, Limit, int, Instant], Awaitable[bool]]
"""Pays ``micro_tokens`` from the shared bucket (user id, bucket name) of budget ``limit`` at
an instant; returns False, taking nothing, if it holds too few."""

TIERS_KEY = "usage_tiers"
"""The ``meta`` entry holding ``{user_id: tier name}`` for accounts given a tier."""


class RateLimits:
    """Every user's tier and token buckets, against the sandbox clock."""

    def __init__(self, store: Store, clock: Clock, default_tier: str = "basic", *,
                 enforced: bool = True) -> None:
        self.store = store
        self.clock = clock
        self.default = tier_named(default_tier)
        """The tier of accounts the operator has not given one."""
        self.enforced = enforced
        """Whether requests are refused when their bucket is empty (else never)."""
        self._tiers: dict[str, Tier] = {}
        self._buckets: dict[str, Buckets] = {}
        self.shared: SharedCharge | None = None
        """Set when instances share the database: buckets live there (``charge``)."""
        self.forget_shared: Callable[[str | None], Awaitable[None]] | None = None
        """Empties the shared buckets of one user (or of everyone), so they start full."""

    @classmethod
    def from_settings(cls, store: Store, clock: Clock, settings: Settings) -> RateLimits:
        """Return the limits ``settings.rate_limit`` asks for: a default tier, or ``off``."""
        if settings.rate_limit == RATE_LIMIT_OFF:
            return cls(store, clock, enforced=False)
        return cls(store, clock, settings.rate_limit)

    def allow(self, user_id: str, cost: Cost) -> bool:
        """Charge ``cost`` to the user's bucket; return False, charging nothing, if it is short."""
        now = self.clock.now()
        buckets = self._buckets.get(user_id)
        if buckets is None:
            buckets = self._buckets[user_id] = Buckets(self._tiers.get(user_id, self.default),
                                                       now)
        # Buckets.take, inlined: this runs on every authenticated request.
        return (buckets.write if cost.write else buckets.read).take(cost.micro_tokens, now)

    async def charge(self, user_id: str, cost: Cost) -> bool:
        """``allow``, against the buckets shared by every instance (``shared`` must be set)."""
        shared = self.shared
        assert shared is not None
        tier = self._tiers.get(user_id, self.default)
        return await shared(user_id, cost.bucket.value, tier.limit(cost.bucket),
                            cost.micro_tokens, self.clock.now())

    def tier_of(self, user_id: str) -> Tier:
        """Return the tier a user's requests are limited by."""
        return self._tiers.get(user_id, self.default)

    def buckets_of(self, user_id: str) -> Buckets:
        """Return a user's buckets (full ones, if the user has sent nothing yet)."""
        buckets = self._buckets.get(user_id)
        if buckets is None:
            buckets = Buckets(self.tier_of(user_id), self.clock.now())
        return buckets

    async def set_tier(self, user_id: str, name: str) -> Tier:
        """Give an account a tier; its buckets start again, full, at the tier's budgets."""
        tier = parse_tier(name)
        async with self.store.transaction() as tx:
            if await tx.get_account(user_id) is None:
                raise NotFound(f"account {user_id} not found")
            stored = _decode(await tx.get_meta(TIERS_KEY))
            stored[user_id] = tier.name
            await tx.set_meta(TIERS_KEY, json.dumps(stored, sort_keys=True))
        self._tiers[user_id] = tier
        self._buckets.pop(user_id, None)
        if self.forget_shared is not None:
            await self.forget_shared(user_id)
        return tier

    async def load(self) -> None:
        """Read the accounts' tiers from the database and refill every bucket.

        At start-up, and after a reset or a restored snapshot changed the accounts.
        """
        async with self.store.transaction() as tx:
            stored = _decode(await tx.get_meta(TIERS_KEY))
        self._tiers = {user_id: TIERS[name] for user_id, name in stored.items()
                       if name in TIERS}
        self._buckets.clear()
        if self.forget_shared is not None:
            await self.forget_shared(None)

    async def refresh_tiers(self) -> None:
        """Re-read the accounts' tiers (changed through another instance), keeping buckets."""
        async with self.store.transaction() as tx:
            stored = _decode(await tx.get_meta(TIERS_KEY))
        self._tiers = {user_id: TIERS[name] for user_id, name in stored.items()
                       if name in TIERS}


def parse_tier(name: Any) -> Tier:
    """Return the tier called ``name``, or raise ``InvalidParameters`` naming the known ones."""
    if not isinstance(name, str):
        raise InvalidParameters(f"usage_tier must be one of {', '.join(TIERS)}")
    try:
        return tier_named(name)
    except ValueError as exc:
        raise InvalidParameters(str(exc)) from None


def _decode(text: str | None) -> dict[str, str]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


__all__ = ["TIERS_KEY", "RateLimits", "parse_tier"]
